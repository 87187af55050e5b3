"""Audio checks that need numpy alone.

The one audio check of the public functions (:func:`check_audio`), the
finiteness check, the refusal of booleans and the PCM scaling. They import
no scikit-learn, so the light inference path (``sksep separate`` with a
shipped model) uses them without importing it; :mod:`sksep._validation`
adds the scikit-learn side (parameter constraints, estimator input) and
re-exports these.
"""

import numpy as np

#: More signals than this per row are clips, never a recording's channels.
MAX_CHANNELS = 32


def looks_like_channels(n_rows, n_cols):
    """Whether ``n_rows`` signals of ``n_cols`` samples are rather one
    recording ``(n_samples, n_channels)``, as read_audio and soundfile
    return it: at most :data:`MAX_CHANNELS` columns, and at least 50 times
    as many rows as columns. The one heuristic behind the refusals of that
    layout by ``separate``, ``STFTTransformer`` and the metrics."""
    return n_cols <= MAX_CHANNELS and n_rows >= 50 * n_cols


class AudioTypeError(TypeError, ValueError):
    """Audio that is not real numbers (boolean, complex, text, objects).

    Both a TypeError and a ValueError, like scikit-learn's
    ``InvalidParameterError``: sksep's functions raised one or the other.
    """


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


def _check_dtype(dtype, name):
    kind = np.dtype(dtype).kind
    if kind == "b":
        raise AudioTypeError(
            f"Input {name} has boolean dtype; sksep expects audio samples as "
            "real numbers (floats, or integer PCM)."
        )
    if kind not in "fiu":
        raise AudioTypeError(
            f"{name} must be real numbers (floats, or integer PCM), got dtype "
            f"{np.dtype(dtype)}."
        )


def _check_layout(x, name, shapes, time_axis):
    """A 2-D ``x`` with time on ``time_axis`` must be longer in time than it
    is wide: otherwise it is almost surely transposed."""
    n_times, n_other = x.shape[time_axis], x.shape[1 - time_axis]
    if n_times < n_other:
        raise ValueError(
            f"{name} has shape {x.shape}: {n_times} sample(s) in time but "
            f"{n_other} signals. Is it transposed? Pass {shapes}."
        )


def check_audio(x, name="x", *, ndims=(1, 2), shapes=None, time_axis=None,
                allow_empty=False, finite=True):
    """``np.asarray(x)``, checked to be audio that sksep's functions accept.

    The one audio check of the public functions, in this order:

    1. dtype: real numbers, floats or integer PCM; boolean, complex, text
       and object arrays raise :class:`AudioTypeError`;
    2. shape: ``ndims`` dimensions (None: at least one) and, unless
       ``allow_empty``, at least one sample; ``shapes`` names the accepted
       shapes in the message (``"(n_samples,) or (n_samples, n_channels)
       array"``);
    3. layout: with ``time_axis`` (0: time on rows, as in a recording
       ``(n_samples, n_channels)``; 1: on columns, as in sources
       ``(n_sources, n_times)``), a 2-D array with fewer samples than
       signals is refused with a hint that it looks transposed;
    4. with ``finite``, NaN and infinity (named apart) raise a ValueError.

    Integers are returned as they are (no PCM scaling: see
    :func:`pcm_to_float`).
    """
    x = np.asarray(x)
    _check_dtype(x.dtype, name)
    if shapes is None:
        shapes = ("array" if ndims is None
                  else f"{'-D or '.join(map(str, ndims))}-D array")
    if (x.ndim < 1 if ndims is None else x.ndim not in ndims) or (
            x.size == 0 and not allow_empty):
        raise ValueError(f"{name} must be a non-empty {shapes}, got shape {x.shape}.")
    if time_axis is not None and x.ndim == 2:
        _check_layout(x, name, shapes, time_axis)
    if finite and x.dtype.kind == "f":
        check_finite(x, name)
    return x


def check_signal(x, name, shapes, ndims=(1, 2)):
    """``np.asarray(x)``, checked to be a non-empty real array of ``ndims``
    dimensions; ``shapes`` describes the accepted shapes in the message.
    :func:`check_audio` without its finiteness check."""
    return check_audio(x, name, ndims=ndims, shapes=shapes, finite=False)


def reject_bool(X, name="X"):
    """Raise a ValueError for boolean arrays: they are not audio.

    scikit-learn would convert them to 0/1 floats silently.
    """
    dtype = getattr(X, "dtype", None)
    if dtype is None and isinstance(X, (list, tuple)):
        dtype = np.asarray(X).dtype
    if dtype is not None and np.dtype(dtype).kind == "b":
        _check_dtype(dtype, name)


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
