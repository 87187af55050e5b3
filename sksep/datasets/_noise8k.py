"""Background noise: a loader of a local copy of noise8k (never downloads) and
speech-in-noise mixtures at an exact SNR."""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_params

from .._validation import check_audio, pcm_to_float
from ._fsdd import _DTYPE, _FOLDER
from ._local import as_set, indexed_folder, load_indexed, read_index

_NOISE8K_SPLITS = ("train", "valid", "test")
_HOW_TO_GET = (
    "noise8k is the 8 kHz corpus of everyday background noise described in its "
    "README (CC0 and CC BY ESC-50 clips, Speech Commands and Arabic Speech "
    "Commands background noise, split by Freesound uploader); pass its folder "
    "(the one holding files.csv) as data_home or set the SKSEP_NOISE8K "
    "environment variable to it. Nothing is downloaded."
)


@validate_params({"data_home": _FOLDER, "speechlike": ["boolean", None],
                  "dtype": _DTYPE}, prefer_skip_nested_validation=True)
def load_noise8k(data_home=None, *, split=None, category=None, speechlike=None,
                 dtype="float32"):
    """Load everyday background noise at 8 kHz from a local folder.

    The noise8k corpus: 390 mono 8 kHz recordings (about 42 minutes) of
    environmental sounds, 382 five-second ESC-50 clips of 50 classes (animals,
    water and weather, human non-speech sounds, domestic and urban sounds)
    and 8 longer recordings (1 to 1.7 min: running tap, washing machine,
    white and pink noise, ...), split by Freesound uploader into ``train``
    (274 files), ``valid`` (57) and ``test`` (59): clips of one source
    recording are never in two splits. Mix it with speech to train and test
    separators in noise (:func:`make_noisy_mixture`). Nothing is downloaded:
    the folder must exist locally.

    Levels are as recorded (they vary widely) and ESC-50 clips are padded
    with digital silence to 5 s; see ``DESCR``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``files.csv`` and the FLAC files (or its parent).
        None reads the ``SKSEP_NOISE8K`` environment variable.
    split : {'train', 'valid', 'test'} or list of them, default=None
        Splits to keep; None keeps all.
    category : str or list of str, default=None
        Categories to keep: ESC-50 classes (``'dog'``, ``'rain'``, ...) or,
        for the longer recordings, their names (``'running_tap'``,
        ``'white_noise'``, ...). None keeps all.
    speechlike : bool, default=None
        True keeps only human vocal sounds that a separator may take for a
        voice (crying baby, laughing, coughing, sneezing, breathing,
        snoring, drinking, a man miaowing); False leaves them out (noise
        that holds no voice); None keeps both.
    dtype : {'float32', 'float64'}, default='float32'
        dtype of the waveforms.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``waveforms`` (list of 1-D arrays of varying length, in [-1, 1]),
        ``category``, ``split``, ``source`` (``'esc50'``,
        ``'speech_commands'`` or ``'arabic_speech_commands'``),
        ``speechlike`` (bool), ``license`` and ``attribution`` (arrays, one
        entry per waveform), ``filenames``, ``sr`` (8000) and ``DESCR``
        (the corpus README, with its sources and licenses), in index order.
        CC BY files require the credit line given in ``attribution``.

    Raises
    ------
    FileNotFoundError
        When the folder or its index is missing, or a listed file is
        absent; the message says what the folder must hold.
    ValueError
        For an unknown split or category (the message lists the known
        ones), a ``speechlike`` that is not True, False or None, or filters
        that keep no file.

    See Also
    --------
    make_noisy_mixture : Mix speech and noise at a given SNR.
    load_speech8k : Read speech of 501 speakers at 8 kHz.

    Examples
    --------
    >>> from sksep.datasets import load_noise8k
    >>> noise = load_noise8k("../shared/data/noise8k", split="test",
    ...                      speechlike=False)  # doctest: +SKIP
    >>> len(noise.waveforms), noise.sr  # doctest: +SKIP
    (51, 8000)
    """
    keep_split = as_set(split, "split", _NOISE8K_SPLITS)
    folder = indexed_folder(data_home, "SKSEP_NOISE8K", "noise8k", _HOW_TO_GET)
    rows = read_index(folder)
    keep_category = as_set(category, "category",
                            sorted({row["category"] for row in rows}))
    kept = [
        row for row in rows
        if (keep_split is None or row["split"] in keep_split)
        and (keep_category is None or row["category"] in keep_category)
        and (speechlike is None or (row["speechlike"] == "1") == bool(speechlike))
    ]
    if not kept:
        raise ValueError(
            f"No noise8k recording matches split={split!r}, category={category!r}, "
            f"speechlike={speechlike!r}."
        )
    data = load_indexed(folder, kept, "noise8k",
                        ("category", "split", "source", "speechlike", "license",
                         "attribution"), dtype)
    data.speechlike = data.speechlike == "1"
    return data


def _as_float(x, name, shapes, ndims):
    """Audio as float64, integer PCM scaled to [-1, 1)."""
    return pcm_to_float(check_audio(x, name, ndims=ndims, shapes=shapes),
                        np.float64).astype(np.float64, copy=False)


def _snr_range(snr_db):
    if isinstance(snr_db, (bool, np.bool_)):
        low = high = np.nan
    elif isinstance(snr_db, numbers.Real):
        low = high = float(snr_db)
    else:
        try:
            low, high = (float(v) for v in snr_db)
        except (TypeError, ValueError):
            low = high = np.nan
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(
            f"snr_db must be a finite number of dB or a (low, high) range with "
            f"low <= high, got {snr_db!r}."
        )
    return low, high


def _draw_start(noise, n_times, rng, name):
    """A random start of a window of ``n_times`` samples of ``noise`` (taken
    cyclically) that is not silent: no more than 100 dB below the loudest."""
    n_starts = noise.size - n_times + 1 if noise.size >= n_times else noise.size
    ext = noise[np.arange(n_starts + n_times - 1) % noise.size]
    cumulative = np.concatenate([[0.0], np.cumsum(ext**2)])
    energies = cumulative[n_times:] - cumulative[:-n_times]
    audible = np.flatnonzero(energies > np.max(energies) * 1e-10)
    if np.max(energies) <= 0 or audible.size == 0:
        raise ValueError(f"{name} is silent: the SNR is undefined.")
    return int(audible[rng.randint(audible.size)])


def _as_noises(noise, n_clips):
    """One 1-D float64 noise per clip (the same array repeated for one noise)."""
    if isinstance(noise, np.ndarray) and noise.ndim != 1:
        noise = list(noise) if noise.ndim == 2 else noise
    elif not isinstance(noise, np.ndarray) and all(np.ndim(v) == 0 for v in noise):
        noise = np.asarray(noise)
    if isinstance(noise, np.ndarray):
        return [_as_float(noise, "noise", "1-D recording", (1,))] * n_clips
    noises = [_as_float(n, f"noise[{i}]", "1-D recording", (1,))
              for i, n in enumerate(noise)]
    if len(noises) != n_clips:
        raise ValueError(
            f"{len(noises)} noises for {n_clips} speech clip(s): give one noise "
            "recording, or one per clip."
        )
    return noises


@validate_params({"speech": ["array-like"], "random_state": ["random_state"]},
                 prefer_skip_nested_validation=True)
def make_noisy_mixture(speech, noise, snr_db, *, random_state=None):
    """Add noise to speech at an exact signal-to-noise ratio.

    A window of the noise as long as the speech starts at a random offset
    (noise shorter than the speech is repeated end to end from a random
    offset: a seam may be audible where it restarts; windows of digital
    silence, such as the padding of ESC-50 clips, are never drawn) and is
    scaled so that
    ``10 log10(sum(speech**2) / sum(noise**2)) == snr_db`` over the whole
    clip, then added to the speech.

    Parameters
    ----------
    speech : array-like [shape=(n_times,) or (n_clips, n_times)]
        Clean speech: one clip or a batch of clips of one length. Integer
        PCM is scaled to [-1, 1) as when read from a file.
    noise : array-like [shape=(n_noise,)] or sequence of them
        One noise recording of any length (a new window of it for each
        clip of a batch), or one recording per clip (``n_clips`` of them,
        of any lengths).
    snr_db : float or (float, float)
        Speech-to-noise ratio in dB, or a ``(low, high)`` range to draw it
        from uniformly (once per clip).
    random_state : int, RandomState instance or None, default=None
        Seed of the noise offsets and of the SNRs drawn from a range.

    Returns
    -------
    mixture : ndarray [shape=(n_times,) or (n_clips, n_times)]
        ``speech + noise``, exactly. All three arrays have the dtype of
        ``speech`` if it is float32 or float64, else float64.
    speech : ndarray [shape=(n_times,) or (n_clips, n_times)]
        The clean speech, unchanged: the reference for scoring.
    noise : ndarray [shape=(n_times,) or (n_clips, n_times)]
        The scaled noise as it is in the mixture; its SNR against
        ``speech`` is exact to rounding (about 1e-6 dB in float32).

    Raises
    ------
    ValueError
        When ``speech`` is not a non-empty 1-D or 2-D real array, a clip
        or a whole noise is silent (the SNR is then undefined), a signal
        holds NaN or infinity, the number of noises does not match the
        number of clips, or ``snr_db`` is not a finite number or a range
        with ``low <= high``.

    See Also
    --------
    load_noise8k : Real background noise at 8 kHz.
    make_clip_mixtures : Mixtures of several voices.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_noisy_mixture
    >>> rng = np.random.default_rng(0)
    >>> speech = rng.standard_normal(8000)
    >>> noise = rng.uniform(-1, 1, 20000)
    >>> mix, clean, scaled = make_noisy_mixture(speech, noise, 5.0, random_state=0)
    >>> mix.shape, bool(np.array_equal(mix, clean + scaled))
    ((8000,), True)
    >>> round(float(10 * np.log10(np.sum(clean**2) / np.sum(scaled**2))), 2)
    5.0
    """
    given = np.asarray(speech).dtype
    dtype = given if given in (np.float32, np.float64) else np.dtype(np.float64)
    speech = _as_float(speech, "speech", "1-D clip or 2-D batch (n_clips, n_times)",
                       (1, 2))
    one = speech.ndim == 1
    clips = speech[None] if one else speech
    noises = _as_noises(noise, len(clips))
    low, high = _snr_range(snr_db)
    power = np.einsum("ct,ct->c", clips, clips)
    if np.any(power == 0):
        raise ValueError(
            f"speech clip(s) {np.flatnonzero(power == 0).tolist()} are silent: "
            "the SNR of noise against silence is undefined."
        )
    rng = check_random_state(random_state)
    n_times = clips.shape[1]
    scaled = np.empty(clips.shape, dtype=np.float64)
    for c, n in enumerate(noises):
        start = _draw_start(n, n_times, rng, "noise" if one else f"noise[{c}]")
        window = n[(start + np.arange(n_times)) % n.size]
        energy = window @ window
        snr = low if low == high else rng.uniform(low, high)
        scaled[c] = window * np.sqrt(power[c] / energy * 10 ** (-snr / 10))
    clean = clips.astype(dtype)
    scaled = scaled.astype(dtype)
    mixture = clean + scaled
    if one:
        return mixture[0], clean[0], scaled[0]
    return mixture, clean, scaled
