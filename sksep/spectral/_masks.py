"""Ideal (oracle) time-frequency masks: the ceiling of mask-based separation."""

import numpy as np
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params

from .._dsp import SPEECH_8K
from .._validation import check_audio


@validate_params(
    {"sources": ["array-like"], "kind": [StrOptions({"irm", "ibm", "psm"})],
     "stft": [HasMethods(["fit", "transform", "inverse_transform"]), None]},
    prefer_skip_nested_validation=True)
def ideal_mask_separation(sources, *, kind="irm", stft=None):
    """Separate mixtures with an ideal mask computed from the true sources.

    The mixture is ``sources.sum(axis=1)``; each source's mask is computed
    from the true sources' STFTs and applied to the mixture's STFT, which is
    inverted with the mixture's phase. No method that masks the same STFT
    can do better than the best of these on average, so trained separators
    are reported as a fraction of them.

    Parameters
    ----------
    sources : array-like of shape (n_clips, n_sources, n_times)
        True sources.
    kind : {'irm', 'ibm', 'psm'}, default='irm'
        Ideal ratio mask ``|S_i| / sum_j |S_j|``, ideal binary mask (1 where
        source ``i`` is the loudest) or phase-sensitive mask
        ``|S_i| cos(angle S_i - angle X) / |X|`` truncated to [0, 1].
    stft : STFTTransformer, default=None
        The STFT to mask; None uses ``STFTTransformer(n_fft=256,
        hop_length=64)``. Its ``output`` is ignored (complex is used).

    Returns
    -------
    estimates : ndarray of shape (n_clips, n_sources, n_times)

    See Also
    --------
    STFTTransformer : The STFT the masks live on.
    sksep.neural.MaskEstimator : A learnt estimate of such masks.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.spectral import ideal_mask_separation
    >>> from sksep.metrics import si_sdr
    >>> t = np.arange(8000) / 8000
    >>> S = np.stack([[np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 2000 * t)]])
    >>> est = ideal_mask_separation(S, kind="ibm")
    >>> bool(np.all(si_sdr(S, est) > 30))
    True
    """
    from sklearn.base import clone

    from ._stft import STFTTransformer

    S = check_audio(sources, "sources", ndims=(3,),
                    shapes="(n_clips, n_sources, n_times) array")
    n_clips, n_src, n_times = S.shape
    dtype = np.float64 if S.dtype == np.float64 else np.float32
    S = S.astype(dtype, copy=False)
    base = STFTTransformer(**SPEECH_8K) if stft is None else stft
    tf = clone(base).set_params(output="complex").fit(S[:, 0])
    spec = tf.to_spectrogram(tf.transform(S.reshape(-1, n_times)))
    spec = spec.reshape(n_clips, n_src, *spec.shape[1:])
    mix = spec.sum(axis=1, keepdims=True)
    mag = np.abs(spec)
    tiny = np.finfo(dtype).tiny
    if kind == "irm":
        masks = mag / np.maximum(mag.sum(axis=1, keepdims=True), tiny)
    elif kind == "ibm":
        masks = (mag == mag.max(axis=1, keepdims=True)).astype(dtype)
    else:
        cos = np.cos(np.angle(spec) - np.angle(mix))
        masks = np.clip(mag * cos / np.maximum(np.abs(mix), tiny), 0, 1)
    est = tf.inverse_transform(tf.from_spectrogram((masks * mix).reshape(
        n_clips * n_src, *spec.shape[2:])))
    return est.reshape(n_clips, n_src, n_times)
