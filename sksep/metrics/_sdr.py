"""Scale-invariant SDR and permutation solving (numpy and scipy only)."""

import warnings
from numbers import Integral

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils._param_validation import validate_params

from .._audio_checks import looks_like_channels
from .._validation import check_audio

# the constraints every function of signals shares
_SIGNALS = {"reference": ["array-like"], "estimate": ["array-like"],
            "axis": [Integral], "zero_mean": ["boolean"]}


def _as_signals(name, x, axis):
    """``x`` as float64 with time on the last axis: real, finite, and not
    empty along time (leading axes may be empty)."""
    x = check_audio(x, name, ndims=None, shapes="(..., n_times) array",
                    allow_empty=True)
    shape = x.shape
    x = np.moveaxis(x, axis, -1).astype(np.float64, copy=False)
    if x.shape[-1] == 0:
        raise ValueError(f"{name} is empty along its time axis.")
    n_times = x.shape[-1]
    if x.ndim >= 2 and looks_like_channels(x.shape[-2], n_times):
        # (n_samples, n_sources) read as n_samples signals of n_sources
        # samples: pairwise scores would need n_samples^2 memory
        raise ValueError(
            f"{name} has shape {shape}: read with time along axis={axis}, that is "
            f"{x.shape[-2]} signals of {n_times} samples each. The metrics take "
            "(n_sources, n_times); for (n_samples, n_sources), as FastICASeparator "
            "and IVASeparator return, pass axis=0 (or the transpose); for a batch "
            "of signals that short, give it a sources axis, (n, 1, n_times).")
    return x


def _check_pair(reference, estimate, axis):
    reference = _as_signals("reference", reference, axis)
    estimate = _as_signals("estimate", estimate, axis)
    if reference.shape[-1] != estimate.shape[-1]:
        raise ValueError(
            f"reference and estimate differ in length along the time axis: "
            f"{reference.shape[-1]} != {estimate.shape[-1]} samples. Trim or "
            "pad them to the same length first."
        )
    return reference, estimate


def _si_sdr(reference, estimate):
    """SI-SDR in dB on float64 arrays with time on the last axis, no checks."""
    ref_energy = np.einsum("...t,...t->...", reference, reference)
    dot = np.einsum("...t,...t->...", reference, estimate)
    est_energy = np.einsum("...t,...t->...", estimate, estimate)
    # ||alpha s||^2 and ||alpha s - s_hat||^2 with alpha = <s, s_hat> / ||s||^2,
    # written without forming the projection (one pass, any batch shape).
    with np.errstate(divide="ignore", invalid="ignore"):
        target = dot**2 / ref_energy
        noise = np.maximum(est_energy - target, 0.0)
        return 10.0 * np.log10(target / noise)


@validate_params(_SIGNALS, prefer_skip_nested_validation=True)
def si_sdr(reference, estimate, *, axis=-1, zero_mean=False):
    """Scale-invariant signal-to-distortion ratio in dB.

    ``SI-SDR = 10 log10(||a s||^2 / ||a s - s_hat||^2)`` with
    ``a = <s, s_hat> / ||s||^2`` (Le Roux et al., 2019): the estimate may be
    any rescaled version of the reference without penalty. Computed over the
    time axis and vectorised over every other axis.

    Parameters
    ----------
    reference : array-like [shape=(..., n_times)]
        True signals. Any leading axes (clips, sources) are kept.
    estimate : array-like [shape=(..., n_times)]
        Estimated signals, broadcastable against ``reference`` on the
        leading axes and of the same length.
    axis : int, default=-1
        Time axis of both arrays; ``axis=0`` for ICA's
        ``(n_samples, n_sources)`` layout.
    zero_mean : bool, default=False
        Subtract each signal's mean first, so that a DC offset (which ICA,
        for one, cannot recover) does not count as distortion.

    Returns
    -------
    score : ndarray or float
        SI-SDR in dB, of the broadcast leading shape (a float for 1-D input).
        ``+inf`` for a perfect estimate.

    Raises
    ------
    ValueError
        When the lengths differ, a signal is empty, contains NaN or inf, or a
        reference is silent (zero energy: SI-SDR is undefined for it).

    Warns
    -----
    RuntimeWarning
        When an estimate is silent or orthogonal to its reference; its score
        is ``-inf``.

    See Also
    --------
    si_sdr_improvement : The gain over the unprocessed mixture.
    pit_si_sdr : When the estimates are in unknown order.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import si_sdr
    >>> s = np.sin(np.linspace(0, 100, 8000))
    >>> noise = np.random.default_rng(0).standard_normal(8000)
    >>> round(float(si_sdr(s, 3 * s + 0.1 * noise)), 1)  # scaling is free
    26.5
    """
    reference, estimate = _check_pair(reference, estimate, axis)
    if zero_mean:
        reference = reference - reference.mean(axis=-1, keepdims=True)
        estimate = estimate - estimate.mean(axis=-1, keepdims=True)
    silent = np.einsum("...t,...t->...", reference, reference) == 0
    if np.any(silent):
        raise ValueError(
            f"{int(np.sum(silent))} reference signal(s) are silent (all zeros): "
            "SI-SDR is undefined for a silent reference. Drop them first."
        )
    score = _si_sdr(reference, estimate)
    if np.any(np.isneginf(score)) or np.any(np.isnan(score)):
        n_bad = int(np.sum(~np.isfinite(score) & ~np.isposinf(score)))
        warnings.warn(
            f"{n_bad} estimate(s) are silent or orthogonal to their reference; "
            "their SI-SDR is -inf.",
            RuntimeWarning,
            stacklevel=2,
        )
        score = np.where(np.isnan(score), -np.inf, score)
    return score[()] if score.ndim == 0 else score


@validate_params({**_SIGNALS, "mixture": ["array-like"]},
                 prefer_skip_nested_validation=True)
def si_sdr_improvement(reference, estimate, mixture, *, axis=-1):
    """SI-SDR of the estimate minus SI-SDR of the unprocessed mixture, in dB.

    Parameters
    ----------
    reference : array-like [shape=(..., n_sources, n_times)]
        True sources.
    estimate : array-like [shape=(..., n_sources, n_times)]
        Estimated sources, in the order of ``reference``.
    mixture : array-like [shape=(..., n_times)] or same shape as reference
        The mixture each source was separated from; it is broadcast against
        the sources (a ``(..., n_times)`` mixture serves every source).
    axis : int, default=-1
        Time axis of all three arrays.

    Returns
    -------
    improvement : ndarray or float
        SI-SDRi in dB, of the shape of :func:`si_sdr`'s result.

    See Also
    --------
    si_sdr : The underlying metric.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import si_sdr_improvement
    >>> rng = np.random.default_rng(0)
    >>> S = rng.standard_normal((2, 8000))
    >>> x = S.sum(axis=0)
    >>> np.round(si_sdr_improvement(S, S + 0.01 * x, x), 1)
    array([40., 40.])
    """
    reference = _as_signals("reference", reference, axis)
    mixture = _as_signals("mixture", mixture, axis)
    estimate = _as_signals("estimate", estimate, axis)
    if mixture.ndim == reference.ndim - 1:
        mixture = mixture[..., None, :]
    try:
        np.broadcast_shapes(mixture.shape, reference.shape)
    except ValueError:
        raise ValueError(
            f"mixture of shape {mixture.shape} (time last) does not match the "
            f"references of shape {reference.shape}: give one mixture per item, "
            "(..., n_times), or one per source."
        ) from None
    return si_sdr(reference, estimate) - si_sdr(
        reference, np.broadcast_to(mixture, np.broadcast_shapes(
            mixture.shape, reference.shape))
    )


@validate_params({"scores": ["array-like"], "maximize": ["boolean"]},
                 prefer_skip_nested_validation=True)
def solve_permutation(scores, *, maximize=True):
    """Best one-to-one assignment of estimates to references.

    Parameters
    ----------
    scores : array-like of shape (n_references, n_estimates)
        ``scores[i, j]`` is how well estimate ``j`` matches reference ``i``
        (for example a pairwise SI-SDR). ``n_estimates >= n_references``.
    maximize : bool, default=True
        Whether larger scores are better (False for losses or distances).

    Returns
    -------
    perm : ndarray of shape (n_references,)
        ``estimate[perm]`` is in the order of the references. Found with
        :func:`scipy.optimize.linear_sum_assignment` (Hungarian algorithm),
        so any number of sources is solved exactly in polynomial time.

    See Also
    --------
    pit_si_sdr : Applies it to SI-SDR scores.

    Examples
    --------
    >>> from sksep.metrics import solve_permutation
    >>> solve_permutation([[0.1, 9.0], [8.0, 0.2]])
    array([1, 0])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] > scores.shape[1]:
        raise ValueError(
            "scores must have shape (n_references, n_estimates) with "
            f"n_estimates >= n_references, got {scores.shape}."
        )
    if np.any(np.isnan(scores)):
        raise ValueError("scores contains NaN.")
    # linear_sum_assignment rejects infinities: map them to finite extremes.
    finite = np.nan_to_num(scores, posinf=np.finfo(float).max / (2 * scores.size),
                           neginf=-np.finfo(float).max / (2 * scores.size))
    rows, cols = linear_sum_assignment(finite, maximize=maximize)
    perm = np.empty(scores.shape[0], dtype=np.intp)
    perm[rows] = cols
    return perm


@validate_params(_SIGNALS, prefer_skip_nested_validation=True)
def pairwise_si_sdr(reference, estimate, *, axis=-1, zero_mean=False):
    """SI-SDR of every estimate against every reference.

    Parameters
    ----------
    reference : array-like [shape=(..., n_references, n_times)]
    estimate : array-like [shape=(..., n_estimates, n_times)]
    axis : int, default=-1
        Time axis of both arrays. With ``axis=0`` the source axis is the last
        one, as in ICA's ``(n_samples, n_sources)`` layout.
    zero_mean : bool, default=False
        See :func:`si_sdr`.

    Returns
    -------
    scores : ndarray [shape=(..., n_references, n_estimates)]
        SI-SDR in dB.

    See Also
    --------
    pit_si_sdr : The best one-to-one assignment of these scores.
    solve_permutation : Assignment from any score matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import pairwise_si_sdr
    >>> S = np.random.default_rng(0).standard_normal((2, 1000))
    >>> np.argmax(pairwise_si_sdr(S, S[::-1]), axis=1)
    array([1, 0])
    """
    reference, estimate = _check_pair(reference, estimate, axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return si_sdr(reference[..., :, None, :], estimate[..., None, :, :],
                      zero_mean=zero_mean)


@validate_params(_SIGNALS, prefer_skip_nested_validation=True)
def pit_si_sdr(reference, estimate, *, axis=-1, zero_mean=False):
    """SI-SDR per source after the best permutation of the estimates.

    Parameters
    ----------
    reference : array-like [shape=(..., n_sources, n_times)]
        True sources; leading axes are a batch, each item solved on its own.
    estimate : array-like [shape=(..., n_estimates, n_times)]
        Estimated sources in any order, ``n_estimates >= n_sources``.
    axis : int, default=-1
        Time axis of both arrays (``axis=0`` for ``(n_samples, n_sources)``).
    zero_mean : bool, default=False
        See :func:`si_sdr`.

    Returns
    -------
    scores : ndarray [shape=(..., n_sources)]
        SI-SDR in dB of the estimate assigned to each reference.
    perm : ndarray [shape=(..., n_sources)]
        Index of the estimate assigned to each reference (maximising the sum
        of SI-SDR, found by :func:`solve_permutation`).

    See Also
    --------
    pairwise_si_sdr : All reference-estimate scores.
    bss_eval : SDR, SIR and SAR with the same matching.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import pit_si_sdr
    >>> S = np.random.default_rng(0).standard_normal((3, 1000))
    >>> scores, perm = pit_si_sdr(S, S[[2, 0, 1]] * 2)
    >>> perm
    array([1, 2, 0])
    """
    for name, x in (("reference", reference), ("estimate", estimate)):
        if np.ndim(x) < 2:
            raise ValueError(
                f"{name} must have shape (..., n_sources, n_times), got "
                f"{np.shape(x)}: permutations need a sources axis."
            )
    pair = pairwise_si_sdr(reference, estimate, axis=axis, zero_mean=zero_mean)
    batch = pair.shape[:-2]
    flat = pair.reshape(-1, *pair.shape[-2:])
    perms = np.stack([solve_permutation(p) for p in flat])
    scores = np.take_along_axis(flat, perms[:, :, None], axis=2)[:, :, 0]
    return scores.reshape(*batch, -1), perms.reshape(*batch, -1)

