"""Input checks of the deep separators: clean clips and their labels for
training and scoring, mixtures for separating, and the ranges that
parameter constraints cannot state."""


import numpy as np
from sklearn.utils.validation import validate_data

from .._validation import (
    check_finite,
    check_signal,
    pcm_to_float,
    reject_bool,
    validate_audio,
)


def check_clips(est, X, y, *, reset, name="X"):
    """Clean clips ``X`` and labels ``y`` for ``est``: a 2-D float array of
    equal-length clips (``n_features_in_`` checked, or set with ``reset``),
    or with ``segment_length`` set an object array of 1-D clips of any
    lengths."""
    if est.segment_length is not None:
        X, y = _check_ragged(X, y, name)
        if reset:
            est.n_features_in_ = int(est.segment_length)
        return _check_labels(est, X, y)
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray)
                                        and X.dtype == object):
        lengths = sorted({np.shape(c)[0] if np.ndim(c) == 1 else -1 for c in X})
        if len(lengths) > 1 and lengths[0] > 0:
            raise ValueError(
                f"{name} holds clips of different lengths ({lengths[0]} to "
                f"{lengths[-1]} samples); set segment_length to train on "
                "random segments of that many samples, or cut the clips "
                "to one length (sksep.datasets.fix_length)."
            )
    if y is None:
        X = validate_audio(est, X, reset=reset, dtype=[np.float32, np.float64])
    else:  # check_X_y checks the labels too (their length against the clips')
        reject_bool(X)
        X, y = validate_data(est, X, y, reset=reset,
                             dtype=[np.float32, np.float64], ensure_2d=True)
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(
                f"y must be one label per clip, shape (n_clips,), got {y.shape}."
            )
    return _check_labels(est, X, y)


def _check_ragged(X, y, name):
    """Clips of any lengths: an object array of float32 waveforms."""
    if not isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim != 2:
        raise ValueError(
            f"{name} must be clips (n_clips, n_times) or a list of 1-D "
            f"waveforms, got shape {X.shape}."
        )
    clips = np.empty(len(X), dtype=object)
    for i, clip in enumerate(X):
        clip = pcm_to_float(check_signal(clip, f"{name}[{i}]", "1-D waveform",
                                         ndims=(1,)))
        clip = np.asarray(clip, dtype=np.float32)
        check_finite(clip, f"{name}[{i}]")
        clips[i] = clip
    if len(clips) == 0:
        raise ValueError(f"{name} holds no clip.")
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(clips):
            raise ValueError(
                f"y must be one label per clip, shape ({len(clips)},), got "
                f"{y.shape}."
            )
    return clips, y


def _check_labels(est, X, y):
    if y is None and not est.permutation_invariant:
        raise ValueError(
            f"{type(est).__name__} requires y to be passed, but the target "
            "y is None: a class-fixed separator learns one output per label "
            "(pass permutation_invariant=True to train without labels)."
        )
    return X, y


def check_validation(est, validation):
    """``fit``'s ``validation=(X_valid, y_valid)``, checked as clips."""
    if validation is None:
        return None
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        raise ValueError(
            "validation must be a pair (X_valid, y_valid) of clean clips and "
            f"their labels (y_valid may be None), got {type(validation).__name__}."
        )
    return check_clips(est, *validation, reset=False, name="X_valid")


def encode(y, classes=None):
    """Labels as integer codes: a class-fixed separator's output index in
    ``classes``, or (``classes`` None) any code per distinct label."""
    if y is None:
        return None
    if classes is not None:
        lookup = {c: k for k, c in enumerate(classes.tolist())}
        unknown = set(np.unique(y).tolist()) - set(lookup)
        if unknown:
            raise ValueError(f"y has labels unseen in fit: {sorted(unknown)[:5]}.")
        return np.array([lookup[v] for v in y.tolist()])
    return np.unique(y, return_inverse=True)[1]


def check_every_class(codes, classes, what):
    """Class-fixed mixtures need a clip of every class in ``classes``."""
    missing = sorted(set(range(len(classes))) - set(np.unique(codes).tolist()))
    if missing:
        names = [classes.tolist()[k] for k in missing]
        raise ValueError(
            f"The {what} clips hold no clip of class(es) {names}: every "
            "mixture of a class-fixed separator mixes one clip of each class "
            f"in classes_ {classes.tolist()}.")


def check_snr_range(snr_db):
    if len(snr_db) != 2 or not snr_db[0] <= snr_db[1]:
        raise ValueError(f"snr_db must be a (low, high) range, got {snr_db!r}.")


def speed_range(speed_perturb):
    """``speed_perturb`` as a (low, high) pair of floats, or None."""
    if speed_perturb is None:
        return None
    if len(speed_perturb) != 2 or not 0 < speed_perturb[0] <= speed_perturb[1]:
        raise ValueError(
            "speed_perturb must be None or a (low, high) range of speeds "
            f"with 0 < low <= high, got {speed_perturb!r}."
        )
    return tuple(float(v) for v in speed_perturb)
