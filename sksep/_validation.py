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
