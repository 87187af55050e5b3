"""scikit-learn scorers for separation quality."""

import warnings

import numpy as np

from ._sdr import pit_si_sdr

_SILENT_DB = -100.0  # a source this far below the loudest one counts as silent


def pit_si_sdr_scorer(estimator, X, y):
    """Mean SI-SDR (dB) of a fitted multichannel separator's sources.

    A scorer callable with scikit-learn's ``scorer(estimator, X, y)``
    signature, for ``GridSearchCV(..., scoring=pit_si_sdr_scorer)`` and
    :func:`~sklearn.model_selection.cross_val_score`. ``estimator.transform``
    (a separator or a Pipeline ending in one) separates ``X`` and each true
    source in ``y`` is matched to its best estimate
    (:func:`~sksep.metrics.pit_si_sdr`). Means are removed first (ICA cannot
    recover a DC offset, and it is inaudible). Greater is better.

    Parameters
    ----------
    estimator : fitted estimator with ``transform``
        Returns sources of shape ``(n_samples, n_components)``.
    X : array-like of shape (n_samples, n_channels)
        Recording (a cross-validation fold of it).
    y : array-like of shape (n_samples, n_sources)
        True sources of the same samples, ``n_sources <= n_components``.

    Returns
    -------
    score : float
        Mean over true sources of the SI-SDR in dB. A true source that is
        silent in this fold (for example the silent tail of a shorter
        voice: no energy after its mean is removed, or more than 100 dB
        below the loudest source) has no SI-SDR; it is left out of the
        fold's mean and one :class:`UserWarning` says so; the audible sources
        are matched to distinct estimates as usual. NaN only when every
        source is silent.

    See Also
    --------
    pit_si_sdr : The metric it averages.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from sksep import FastICASeparator
    >>> from sksep.metrics import pit_si_sdr_scorer
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(6000, 2))
    >>> X = S @ np.array([[1.0, 0.6], [0.5, 1.0]]).T
    >>> search = GridSearchCV(FastICASeparator(random_state=0),
    ...                       {"fun": ["logcosh", "cube"]}, cv=KFold(3),
    ...                       scoring=pit_si_sdr_scorer).fit(X, S)
    >>> bool(search.best_score_ > 30)
    True
    """
    if y is None:
        raise ValueError(
            "pit_si_sdr_scorer needs the true sources as y, of shape "
            "(n_samples, n_sources); got y=None."
        )
    y = np.asarray(y)
    if y.ndim == 1:
        y = y[:, None]
    S_hat = np.asarray(estimator.transform(X))
    if S_hat.shape[0] != y.shape[0]:
        raise ValueError(
            f"y has {y.shape[0]} samples but the separator returned "
            f"{S_hat.shape[0]}; y must hold the true sources of X's samples."
        )
    if y.shape[1] > S_hat.shape[1]:
        raise ValueError(
            f"y holds {y.shape[1]} sources but the separator extracts only "
            f"{S_hat.shape[1]}."
        )
    y = y - y.mean(axis=0)
    energy = np.einsum("ts,ts->s", y, y)
    silent = energy <= np.max(energy, initial=0.0) * 10 ** (_SILENT_DB / 10)
    if np.all(silent):
        warnings.warn("Every true source is silent in this fold; its score is NaN.",
                      UserWarning, stacklevel=2)
        return float("nan")
    if np.any(silent):
        warnings.warn(
            f"True source(s) {np.flatnonzero(silent).tolist()} are silent in this "
            "fold; they are left out of its mean SI-SDR.", UserWarning, stacklevel=2)
        y = y[:, ~silent]
    scores, _ = pit_si_sdr(y, S_hat, axis=0, zero_mean=True)
    return float(np.mean(scores))
