"""Input checks shared by sksep's estimators."""

import numpy as np


def check_finite(X, name="X"):
    """Raise a ValueError naming NaN or infinity in a float array ``X``.

    One BLAS matrix-vector product decides the common all-finite case (NaN
    and inf propagate through it), about five times faster than
    scikit-learn's summation check; the exact element-wise test runs only
    when that product is not finite (which an overflow alone can cause).
    """
    flat = X.reshape(X.shape[0], -1) if X.ndim > 1 else X.reshape(1, -1)
    if flat.size == 0 or np.isfinite((flat @ np.ones(flat.shape[1], X.dtype)).sum()):
        return
    if np.isnan(X).any():
        raise ValueError(f"Input {name} contains NaN.")
    if np.isinf(X).any():
        raise ValueError(f"Input {name} contains infinity.")


def check_signal(x, name, shapes, ndims=(1, 2)):
    """``np.asarray(x)``, checked to be a non-empty real array of ``ndims``
    dimensions; ``shapes`` describes the accepted shapes in the message."""
    x = np.asarray(x)
    if x.dtype == object or x.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be real numbers, got dtype {x.dtype}.")
    if x.ndim not in ndims or x.size == 0:
        raise ValueError(f"{name} must be a non-empty {shapes}, got shape {x.shape}.")
    return x


def reject_bool(X, name="X"):
    """Raise a ValueError for boolean arrays: they are not audio.

    scikit-learn would convert them to 0/1 floats silently.
    """
    dtype = getattr(X, "dtype", None)
    if dtype is None and isinstance(X, (list, tuple)):
        dtype = np.asarray(X).dtype
    if dtype is not None and np.dtype(dtype).kind == "b":
        raise ValueError(
            f"Input {name} has boolean dtype; sksep expects audio samples as "
            "real numbers (floats, or integer PCM)."
        )


def pcm_to_float(x, dtype=np.float32):
    """Integer PCM (int8/16/32, uint8) as floats in [-1, 1); floats unchanged.

    Each integer type is scaled by its full range, the way soundfile and
    librosa read PCM files (uint8 is offset binary, centred on 128).
    """
    x = np.asarray(x)
    if x.dtype.kind == "u" and x.dtype.itemsize == 1:
        return ((x.astype(dtype) - 128) / 128).astype(dtype, copy=False)
    if x.dtype.kind in "iu":
        scale = float(2 ** (8 * x.dtype.itemsize - 1))
        return (x.astype(np.float64) / scale).astype(dtype, copy=False)
    return x
