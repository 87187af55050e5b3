"""BSS Eval (SDR, SIR, SAR), delegated to fast_bss_eval."""

from collections import namedtuple

import numpy as np

from ._sdr import _check_pair

BSSEvalResult = namedtuple("BSSEvalResult", ["sdr", "sir", "sar", "perm"])


def bss_eval(reference, estimate, *, axis=-1, filter_length=512,
             compute_permutation=True):
    """BSS Eval v4 source metrics: SDR, SIR and SAR in dB.

    The decomposition of Vincent et al. (2006) with time-invariant
    distortion filters of ``filter_length`` taps, computed by
    `fast_bss_eval <https://github.com/fakufaku/fast_bss_eval>`_, which
    matches ``mir_eval.separation.bss_eval_sources`` (the reference
    implementation, deprecated in mir_eval 0.8) to within 0.01 dB at about
    ten times its speed.

    Parameters
    ----------
    reference : array-like [shape=(..., n_sources, n_times)]
        True sources; leading axes are a batch.
    estimate : array-like [shape=(..., n_sources, n_times)]
        Estimated sources.
    axis : int, default=-1
        Time axis of both arrays (``axis=0`` for ``(n_samples, n_sources)``).
    filter_length : int, default=512
        Taps of the allowed distortion filter.
    compute_permutation : bool, default=True
        Match estimates to references by the best mean SIR; otherwise
        estimate ``i`` is scored against reference ``i``.

    Returns
    -------
    result : BSSEvalResult
        Named tuple ``(sdr, sir, sar, perm)`` of arrays of shape
        ``(..., n_sources)``; ``perm[i]`` is the estimate matched to
        reference ``i`` and the scores are in reference order.

    Raises
    ------
    ValueError
        When the shapes or lengths differ, a signal contains NaN or inf, or
        a reference is silent (the metrics are undefined for it).

    See Also
    --------
    si_sdr : The scale-invariant SDR, without a distortion filter.
    pit_si_sdr : SI-SDR after the best permutation.

    References
    ----------
    - E. Vincent, R. Gribonval and C. Fevotte, "Performance measurement
      in blind audio source separation", IEEE TASLP 14(4), 2006.
    - R. Scheibler, "SDR - Medium rare with fast computations", ICASSP
      2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import bss_eval
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((2, 8000))
    >>> est = S[::-1] + 0.01 * rng.standard_normal((2, 8000))
    >>> res = bss_eval(S, est)
    >>> res.perm
    array([1, 0])
    >>> bool(np.all(res.sdr > 35))
    True
    """
    reference, estimate = _check_pair(reference, estimate, axis)
    if reference.shape != estimate.shape or reference.ndim < 2:
        raise ValueError(
            "reference and estimate must both have shape (..., n_sources, "
            f"n_times); got {reference.shape} and {estimate.shape}."
        )
    if np.any(np.einsum("...t,...t->...", reference, reference) == 0):
        raise ValueError(
            "A reference source is silent (all zeros): BSS Eval is undefined "
            "for it."
        )
    if not (isinstance(filter_length, (int, np.integer)) and filter_length >= 1):
        raise ValueError(f"filter_length must be a positive integer, got {filter_length!r}.")
    if filter_length > reference.shape[-1]:
        raise ValueError(
            f"filter_length={filter_length} is longer than the signals "
            f"({reference.shape[-1]} samples)."
        )
    import fast_bss_eval

    if compute_permutation:
        out = fast_bss_eval.bss_eval_sources(
            reference, estimate, filter_length=filter_length,
            compute_permutation=True, clamp_db=None,
        )
        sdr, sir, sar = (np.asarray(v) for v in out[:3])
        perm = np.asarray(out[3])
    else:
        # fast_bss_eval's own non-pairwise path fails under NumPy 2 (its
        # np.linalg.solve call relies on NumPy 1 broadcasting), so take the
        # diagonal of the pairwise coherences instead.
        from fast_bss_eval.numpy.metrics import square_cosine_metrics

        coh_sdr, coh_sar = square_cosine_metrics(
            reference, estimate, filter_length=filter_length, pairwise=True)
        idx = np.arange(reference.shape[-2])
        coh_sdr, coh_sar = coh_sdr[..., idx, idx], coh_sar[..., idx, idx]
        sdr, sir, sar = (_coherence_db(c) for c in (coh_sdr, coh_sdr / coh_sar, coh_sar))
        perm = np.broadcast_to(idx, sdr.shape).copy()
    return BSSEvalResult(sdr, sir, sar, perm)


def _coherence_db(coherence):
    """The BSS Eval ratio 10 log10(c / (1 - c)) of a squared coherence c."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(coherence / (1.0 - coherence))
