"""Perceptual speech quality and intelligibility (STOI, PESQ) through the
maintained pystoi and pesq packages, an optional extra."""

import importlib
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from .._validation import SampleRate
from ._sdr import _check_pair

_EXTRA = "pip install 'sksep[quality]'"
_PESQ_MODES = {8000: ("nb",), 16000: ("wb", "nb")}


def _require(module, function):
    """Import an optional package, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"sksep.metrics.{function} needs the '{module}' package, an optional "
            f"dependency: {_EXTRA} (or pip install {module})."
        ) from exc


# the constraints stoi and pesq share
_SCORED = {"reference": ["array-like"], "estimate": ["array-like"],
           "sr": [SampleRate()], "axis": [Integral]}


def _pairs(reference, estimate, axis):
    """Reference and estimate broadcast on their leading axes, flattened to
    ``(n_pairs, n_times)``, with the leading shape; silent references refused."""
    reference, estimate = _check_pair(reference, estimate, axis)
    try:
        shape = np.broadcast_shapes(reference.shape[:-1], estimate.shape[:-1])
    except ValueError:
        raise ValueError(
            f"reference of shape {reference.shape} and estimate of shape "
            f"{estimate.shape} (time last) do not broadcast on their leading axes."
        ) from None
    n_times = reference.shape[-1]
    reference = np.broadcast_to(reference, (*shape, n_times)).reshape(-1, n_times)
    estimate = np.broadcast_to(estimate, (*shape, n_times)).reshape(-1, n_times)
    silent = ~np.any(reference != 0, axis=-1)
    if np.any(silent):
        raise ValueError(
            f"{int(np.sum(silent))} reference signal(s) are silent (all zeros): "
            "the score is undefined for a silent reference. Drop them first."
        )
    return reference, estimate, shape


def _shaped(scores, shape):
    scores = np.asarray(scores, dtype=np.float64).reshape(shape)
    return scores[()] if scores.ndim == 0 else scores


@validate_params({**_SCORED, "extended": ["boolean"]},
                 prefer_skip_nested_validation=True)
def stoi(reference, estimate, sr, *, extended=False, axis=-1):
    """Short-time objective intelligibility of an estimate of clean speech.

    STOI (Taal et al., 2011) correlates the short-time envelopes of the
    reference and the estimate in one-third octave bands up to 4.3 kHz,
    after resampling to 10 kHz and dropping the frames in which the
    reference is more than 40 dB below its loudest frame; it predicts the
    fraction of words a listener understands. Extended STOI (Jensen and
    Taal, 2016) also suits noise that fluctuates. Computed by the
    maintained ``pystoi`` package (an optional dependency:
    ``pip install 'sksep[quality]'``), vectorised over the leading axes.

    Parameters
    ----------
    reference : array-like [shape=(..., n_times)]
        Clean speech. Any leading axes (clips, sources) are kept.
    estimate : array-like [shape=(..., n_times)]
        Estimated (separated, enhanced or noisy) speech, broadcastable
        against ``reference`` on the leading axes, of the same length.
    sr : int
        Sample rate of both signals in Hz (any rate; 8000 for sksep's
        corpora).
    extended : bool, default=False
        Compute extended STOI instead of STOI.
    axis : int, default=-1
        Time axis of both arrays.

    Returns
    -------
    score : ndarray or float
        STOI of the broadcast leading shape (a float for 1-D input), about
        1 for a clean estimate and lower as the estimate is less
        intelligible: from about 0.4 (STOI; extended STOI reaches 0) for
        noise alone. Insensitive to the estimate's gain.

    Raises
    ------
    ImportError
        When ``pystoi`` is not installed; the message says how to install
        it.
    ValueError
        When the lengths differ, a signal is empty, holds NaN or inf, a
        reference is silent, or ``sr`` is not a positive integer.

    Warns
    -----
    RuntimeWarning
        From pystoi when fewer than 30 frames (about 0.4 s) of the
        reference are left after dropping its silent frames; the score is
        then 1e-5.

    See Also
    --------
    pesq : Perceptual quality of the speech.
    si_sdr : Signal-to-distortion ratio of any signal.
    make_stoi_scorer : STOI for GridSearchCV.

    References
    ----------
    C. H. Taal, R. C. Hendriks, R. Heusdens and J. Jensen, "An Algorithm for
    Intelligibility Prediction of Time-Frequency Weighted Noisy Speech",
    IEEE Trans. Audio, Speech, Lang. Process. 19(7), 2011.

    J. Jensen and C. H. Taal, "An Algorithm for Predicting the
    Intelligibility of Speech Masked by Modulated Noise Maskers", IEEE/ACM
    Trans. Audio, Speech, Lang. Process. 24(11), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import stoi
    >>> from sksep.datasets import load_speech_demo
    >>> speech = load_speech_demo().waveforms[0][:24000]  # 3 s at 8 kHz
    >>> noise = np.random.default_rng(0).standard_normal(24000) * speech.std()
    >>> scores = stoi(speech, [speech, speech + noise], 8000)
    >>> bool(scores[0] > 0.99), bool(scores[1] < 0.9)
    (True, True)
    """
    sr = int(sr)
    reference, estimate, shape = _pairs(reference, estimate, axis)
    pystoi = _require("pystoi", "stoi")
    scores = [pystoi.stoi(r, e, sr, extended=extended)
              for r, e in zip(reference, estimate)]
    return _shaped(scores, shape)


@validate_params({**_SCORED, "mode": [StrOptions({"nb", "wb"}), None]},
                 prefer_skip_nested_validation=True)
def pesq(reference, estimate, sr, *, mode=None, axis=-1):
    """Perceptual evaluation of speech quality (ITU-T P.862) of an estimate.

    PESQ compares the loudness spectra of the reference and the estimate on
    a model of hearing, after aligning them in time, and maps the
    disturbance to a mean opinion score (MOS-LQO): about 4.5 for a clean
    estimate (4.64 wide band), down to about 1 for a bad one. Narrow band
    (P.862.1) is for telephone speech at 8 kHz, wide band (P.862.2) for
    16 kHz. Computed by the maintained ``pesq`` package, the ITU reference
    C code (an optional dependency: ``pip install 'sksep[quality]'``),
    vectorised over the leading axes.

    Parameters
    ----------
    reference : array-like [shape=(..., n_times)]
        Clean speech. Any leading axes (clips, sources) are kept.
    estimate : array-like [shape=(..., n_times)]
        Estimated speech, broadcastable against ``reference`` on the
        leading axes, of the same length.
    sr : {8000, 16000}
        Sample rate of both signals in Hz; PESQ is defined only at these
        two rates (resample others, e.g. with :func:`librosa.resample`).
    mode : {'nb', 'wb'}, default=None
        Narrow or wide band; None chooses narrow band at 8 kHz and wide
        band at 16 kHz. Wide band needs 16 kHz.
    axis : int, default=-1
        Time axis of both arrays.

    Returns
    -------
    score : ndarray or float
        MOS-LQO of the broadcast leading shape (a float for 1-D input).
        Both signals are scaled together by their joint peak first, as the
        ``pesq`` package does.

    Raises
    ------
    ImportError
        When ``pesq`` is not installed; the message says how to install it.
    ValueError
        When the lengths differ, a signal is empty, holds NaN or inf, a
        reference is silent, ``sr`` is not 8000 or 16000, ``mode`` is
        unknown or 'wb' at 8 kHz, or PESQ finds no speech (an utterance
        shorter than about 0.25 s, for example).

    See Also
    --------
    stoi : Intelligibility of the speech.
    si_sdr : Signal-to-distortion ratio of any signal.

    References
    ----------
    ITU-T Recommendation P.862 (2001), P.862.1 (2003) and P.862.2 (2007).

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import pesq
    >>> from sksep.datasets import load_speech_demo
    >>> speech = load_speech_demo().waveforms[0][:24000]  # 3 s at 8 kHz
    >>> noise = np.random.default_rng(0).standard_normal(24000) * speech.std()
    >>> clean, noisy = pesq(speech, [speech, speech + 0.3 * noise], 8000)
    >>> bool(clean > 4), bool(noisy < clean - 1)
    (True, True)
    """
    sr = int(sr)
    if sr not in _PESQ_MODES:
        raise ValueError(
            f"PESQ is defined at 8000 Hz (narrow band) and 16000 Hz (wide band) "
            f"only, got sr={sr}; resample first (librosa.resample)."
        )
    if mode is None:
        mode = _PESQ_MODES[sr][0]
    if mode not in _PESQ_MODES[sr]:
        raise ValueError("Wide band PESQ (mode='wb') needs sr=16000; at 8000 Hz "
                         "use mode='nb'.")
    reference, estimate, shape = _pairs(reference, estimate, axis)
    library = _require("pesq", "pesq")
    scores = []
    for r, e in zip(reference, estimate):
        try:
            scores.append(library.pesq(sr, r, e, mode))
        except library.PesqError as exc:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode(errors="replace")
            raise ValueError(
                f"PESQ failed on pair {len(scores)}: {reason} ({type(exc).__name__}; "
                "PESQ needs at least about 0.25 s of speech in the reference)."
            ) from exc
    return _shaped(scores, shape)
