"""Synthetic mixtures of real sources."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._validation import check_audio

_POSITIVE = Interval(Integral, 1, None, closed="left")


@validate_params(
    {"n_channels": [_POSITIVE], "n_sources": [_POSITIVE],
     "max_condition": [Interval(Real, 1, None, closed="left")],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True)
def random_mixing_matrix(n_channels, n_sources, *, max_condition=10.0,
                         random_state=None):
    """Draw a Gaussian mixing matrix whose condition number is bounded.

    Parameters
    ----------
    n_channels, n_sources : int
        Shape of the matrix, ``n_channels >= n_sources``.
    max_condition : float, default=10.0
        Largest accepted ratio of extreme singular values; matrices are
        redrawn until one qualifies.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    A : ndarray of shape (n_channels, n_sources)

    See Also
    --------
    make_instantaneous_mixture : Mix sources with such a matrix.
    sksep.metrics.amari_distance : Compare an unmixing matrix with it.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import random_mixing_matrix
    >>> A = random_mixing_matrix(3, 2, max_condition=5.0, random_state=0)
    >>> A.shape, bool(np.linalg.cond(A) <= 5.0)
    ((3, 2), True)
    """
    if n_channels < n_sources:
        raise ValueError(
            f"n_channels={n_channels} < n_sources={n_sources}: an "
            "instantaneous mixture needs at least as many channels as sources."
        )
    rng = check_random_state(random_state)
    for _ in range(10_000):
        A = rng.standard_normal((n_channels, n_sources))
        if np.linalg.cond(A) <= max_condition:
            return A
    raise RuntimeError(
        f"No {n_channels}x{n_sources} Gaussian matrix with condition number "
        f"<= {max_condition} found in 10000 draws; raise max_condition."
    )


@validate_params(
    {"sources": ["array-like"], "n_channels": [_POSITIVE, None],
     "mixing": ["array-like", None], "random_state": ["random_state"]},
    prefer_skip_nested_validation=True)
def make_instantaneous_mixture(sources, *, n_channels=None, mixing=None,
                               random_state=None):
    """Mix sources instantaneously into a multi-microphone recording.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources)
        Source signals, one per column.
    n_channels : int, default=None
        Number of microphones; None gives one per source. Ignored when
        ``mixing`` is given.
    mixing : array-like of shape (n_channels, n_sources), default=None
        Mixing matrix. None draws a Gaussian matrix with condition number at
        most 10 (:func:`random_mixing_matrix`).
    random_state : int, RandomState instance or None, default=None
        Seed of the drawn mixing matrix.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels)
        The recording ``sources @ mixing.T``, in the dtype of ``sources``.
    mixing : ndarray of shape (n_channels, n_sources)
        The mixing matrix used.

    See Also
    --------
    random_mixing_matrix : The mixing matrices drawn here.
    sksep.decomposition.FastICASeparator : Separate such mixtures.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_instantaneous_mixture
    >>> S = np.random.default_rng(0).laplace(size=(1000, 3))
    >>> X, A = make_instantaneous_mixture(S, random_state=0)
    >>> X.shape, A.shape
    ((1000, 3), (3, 3))
    >>> bool(np.allclose(X, S @ A.T))
    True
    """
    S = check_audio(sources, "sources", ndims=(2,),
                    shapes="array (n_samples, n_sources)", time_axis=0)
    if S.dtype not in (np.float32, np.float64):
        S = S.astype(np.float64)
    n_sources = S.shape[1]
    if mixing is None:
        A = random_mixing_matrix(
            n_sources if n_channels is None else n_channels, n_sources,
            random_state=random_state,
        )
    else:
        A = check_audio(mixing, "mixing", ndims=(2,),
                        shapes="matrix (n_channels, n_sources)").astype(np.float64)
        if A.shape[1] != n_sources:
            raise ValueError(
                f"mixing has {A.shape[1]} columns but there are {n_sources} "
                "sources."
            )
    return (S @ A.T.astype(S.dtype)), A


def _as_utterances(utterances):
    if isinstance(utterances, np.ndarray) and utterances.ndim == 2:
        utterances = list(utterances)
    return [check_audio(u, f"utterances[{i}]", ndims=(1,), shapes="1-D waveform")
            for i, u in enumerate(utterances)]


@validate_params(
    {"n_sources": [_POSITIVE], "n_times": [_POSITIVE], "labels": ["array-like", None],
     "n_mixtures": [_POSITIVE, None], "random_state": ["random_state"]},
    prefer_skip_nested_validation=True)
def make_clip_mixtures(utterances, *, n_sources=2, n_times, labels=None,
                       n_mixtures=None, snr_db=0.0, random_state=None,
                       dtype="float32"):
    """Mix single-speaker utterances into fixed-length single-channel clips.

    Every mixture takes ``n_sources`` utterances (of pairwise different
    labels when ``labels`` is given, for example different speakers), places
    each at a random offset in a clip of ``n_times`` samples (a random
    excerpt when the utterance is longer), sets their levels relative to the
    first source and sums them.

    Parameters
    ----------
    utterances : list of 1-D arrays or array of shape (n_utterances, n)
        Clean single-source recordings.
    n_sources : int, default=2
        Sources per mixture.
    n_times : int
        Length of every mixture in samples.
    labels : array-like of shape (n_utterances,), default=None
        Speaker (or class) of every utterance; the sources of one mixture
        then have different labels. None draws utterances without
        replacement within a mixture.
    n_mixtures : int, default=None
        Number of mixtures; None gives ``len(utterances) // n_sources``.
    snr_db : float or (low, high), default=0.0
        Level of the first source over each other source in dB, fixed or
        drawn uniformly per source from the range.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    dtype : {'float32', 'float64'}, default='float32'

    Returns
    -------
    X : ndarray of shape (n_mixtures, n_times)
        The mixtures, exactly ``Y.sum(axis=1)``.
    Y : ndarray of shape (n_mixtures, n_sources, n_times)
        The sources as they appear in the mixtures.

    See Also
    --------
    fix_length : Crop or pad utterances to one length.
    make_instantaneous_mixture : Multichannel mixtures for ICA.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_clip_mixtures
    >>> rng = np.random.default_rng(0)
    >>> utts = [rng.standard_normal(rng.integers(500, 900)) for _ in range(8)]
    >>> X, Y = make_clip_mixtures(utts, n_times=1000, labels=[0, 1] * 4,
    ...                           snr_db=(-5, 5), random_state=0)
    >>> X.shape, Y.shape
    ((4, 1000), (4, 2, 1000))
    >>> bool(np.array_equal(X, Y.sum(axis=1)))
    True
    """
    utts = _as_utterances(utterances)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(utts),):
            raise ValueError(
                f"labels has shape {labels.shape} but there are {len(utts)} "
                "utterances; give one label per utterance."
            )
        n_labels = len(np.unique(labels))
        if n_labels < n_sources:
            raise ValueError(
                f"n_sources={n_sources} sources of different labels are asked "
                f"for, but the utterances have only {n_labels} distinct labels."
            )
    elif len(utts) < n_sources:
        raise ValueError(
            f"n_sources={n_sources} but only {len(utts)} utterances are given."
        )
    low, high = (snr_db, snr_db) if np.isscalar(snr_db) else snr_db
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"snr_db must be a number or a (low, high) range, got {snr_db!r}.")
    if n_mixtures is None:
        n_mixtures = max(len(utts) // n_sources, 1)
    rng = check_random_state(random_state)
    Y = np.zeros((n_mixtures, n_sources, n_times), dtype=dtype)
    for m in range(n_mixtures):
        if labels is None:
            group = rng.choice(len(utts), size=n_sources, replace=False)
        else:
            chosen = rng.choice(np.unique(labels), size=n_sources, replace=False)
            group = [rng.choice(np.flatnonzero(labels == c)) for c in chosen]
        for j, idx in enumerate(group):
            u = utts[idx].astype(np.float64)
            if u.size > n_times:
                start = rng.randint(0, u.size - n_times + 1)
                u = u[start:start + n_times]
            offset = rng.randint(0, n_times - u.size + 1)
            Y[m, j, offset:offset + u.size] = u
        Y[m] = _set_levels(Y[m], rng.uniform(low, high, size=n_sources - 1))
    return Y.sum(axis=1), Y


def _set_levels(sources, snrs_db):
    """Scale sources 1.. so that source 0 is ``snr`` dB above each."""
    power = np.mean(sources.astype(np.float64) ** 2, axis=1)
    if power[0] == 0:
        return sources
    out = sources.copy()
    for j, snr in enumerate(snrs_db, start=1):
        if power[j] > 0:
            out[j] *= np.sqrt(power[0] / power[j] * 10 ** (-snr / 10))
    return out


@validate_params({"n_times": [_POSITIVE]}, prefer_skip_nested_validation=True)
def fix_length(waveforms, n_times, *, dtype="float32"):
    """Stack waveforms into equal-length clips, zero-padding or cropping the
    end of each.

    Parameters
    ----------
    waveforms : list of 1-D arrays
        Clips of any lengths (as :func:`load_fsdd` returns them).
    n_times : int
        Length of every clip in samples.
    dtype : {'float32', 'float64'}, default='float32'

    Returns
    -------
    clips : ndarray of shape (n_clips, n_times)

    See Also
    --------
    make_clip_mixtures : Mix clips of one length into training mixtures.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import fix_length
    >>> fix_length([np.ones(3), np.ones(6)], 4)
    array([[1., 1., 1., 0.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    waves = _as_utterances(waveforms)
    clips = np.zeros((len(waves), n_times), dtype=dtype)
    for i, w in enumerate(waves):
        clips[i, :min(len(w), n_times)] = w[:n_times]
    return clips


@validate_params({"n_times": [_POSITIVE], "random_state": ["random_state"]},
                 prefer_skip_nested_validation=True)
def make_conversation(utterances, *, n_times, pauses=(2400, 20000), snr_db=0.0,
                      random_state=None, dtype="float32"):
    """Build a long single-channel conversation from speakers' utterances.

    Each speaker's track starts at a random time within the longest pause
    and plays that speaker's utterances one after another (in a random
    order, again from the start when they run out), separated by random
    pauses; the tracks are summed. The voices therefore overlap for part of
    the time and speak alone for the rest, as people do in a conversation,
    which is what long-recording separation has to handle: each output must
    stay on one voice from start to end.

    Parameters
    ----------
    utterances : list of lists of 1-D arrays
        One list of recordings per speaker (at least 2 speakers).
    n_times : int
        Length of the conversation in samples.
    pauses : (int, int), default=(2400, 20000)
        Range of the pause after each utterance, in samples (0.3 to 2.5 s
        at 8 kHz).
    snr_db : float or (float, float), default=0.0
        Level of the first speaker's track over each other speaker's (dB),
        or a range to draw it from.
    random_state : int, RandomState instance or None, default=None
    dtype : {'float32', 'float64'}, default='float32'

    Returns
    -------
    mixture : ndarray of shape (n_times,)
        The sum of the tracks (exactly).
    sources : ndarray of shape (n_speakers, n_times)
        Each speaker's track: the references for scoring.

    See Also
    --------
    make_clip_mixtures : Short mixtures of single utterances.
    load_speech_demo : Recordings of four unseen voices shipped with sksep.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_conversation
    >>> rng = np.random.default_rng(0)
    >>> a = [rng.normal(size=800) for _ in range(3)]
    >>> b = [rng.normal(size=1200) for _ in range(2)]
    >>> mix, sources = make_conversation([a, b], n_times=8000, random_state=0)
    >>> mix.shape, sources.shape, bool(np.allclose(mix, sources.sum(0)))
    ((8000,), (2, 8000), True)
    """
    if not isinstance(utterances, (list, tuple)) or len(utterances) < 2:
        raise ValueError(
            "utterances must be a list of at least 2 speakers' lists of "
            f"recordings, got {type(utterances).__name__} of length "
            f"{len(utterances) if hasattr(utterances, '__len__') else '?'}."
        )
    speakers = []
    for k, spk in enumerate(utterances):
        if isinstance(spk, np.ndarray) and spk.ndim == 1:
            spk = [spk]
        waves = _as_utterances(spk)
        if not waves:
            raise ValueError(f"utterances[{k}] holds no recording.")
        speakers.append(waves)
    low, high = (int(pauses[0]), int(pauses[1]))
    if not 0 <= low <= high:
        raise ValueError(f"pauses must be a (low, high) range of samples, got {pauses!r}.")
    rng = check_random_state(random_state)
    tracks = np.zeros((len(speakers), n_times), dtype=np.float64)
    for k, waves in enumerate(speakers):
        t = int(rng.randint(0, high + 1))
        order = rng.permutation(len(waves))
        i = 0
        while t < n_times:
            w = waves[order[i % len(waves)]]
            i += 1
            stop = min(n_times, t + w.size)
            tracks[k, t:stop] = w[:stop - t]
            t = stop + int(rng.randint(low, high + 1))
    snr = snr_db if np.ndim(snr_db) == 0 else rng.uniform(*snr_db)
    tracks = _set_levels(tracks, [float(snr)] * (len(speakers) - 1)).astype(dtype)
    return tracks.sum(axis=0), tracks
