"""scikit-learn scorers for separation quality."""

import warnings

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._validation import SampleRate
from ._quality import _require, stoi
from ._sdr import pit_si_sdr, solve_permutation

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
    y, S_hat = _true_and_estimated("pit_si_sdr_scorer", "SI-SDR", estimator, X, y)
    if y is None:
        return float("nan")
    scores, _ = pit_si_sdr(y, S_hat, axis=0, zero_mean=True)
    return float(np.mean(scores))


def _true_and_estimated(name, score, estimator, X, y):
    """The audible true sources (means removed) and the estimates of ``X``,
    both ``(n_samples, n_sources)``; ``(None, None)`` when all are silent.
    Silent sources are left out with one warning."""
    if y is None:
        raise ValueError(
            f"{name} needs the true sources as y, of shape "
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
                      UserWarning, stacklevel=3)
        return None, None
    if np.any(silent):
        warnings.warn(
            f"True source(s) {np.flatnonzero(silent).tolist()} are silent in this "
            f"fold; they are left out of its mean {score}.",
            UserWarning, stacklevel=3)
        y = y[:, ~silent]
    return y, S_hat


class _STOIScorer:
    """Mean STOI of a separator's sources after the best permutation."""

    def __init__(self, sr, extended):
        self.sr = sr
        self.extended = extended

    def __call__(self, estimator, X, y):
        y, S_hat = _true_and_estimated("make_stoi_scorer's scorer", "STOI",
                                       estimator, X, y)
        if y is None:
            return float("nan")
        S_hat = S_hat - S_hat.mean(axis=0)
        pair = stoi(y.T[:, None, :], S_hat.T[None, :, :], self.sr,
                    extended=self.extended)
        perm = solve_permutation(pair)
        return float(np.mean(pair[np.arange(len(perm)), perm]))

    def __repr__(self):
        return f"make_stoi_scorer(sr={self.sr}, extended={self.extended})"


@validate_params({"sr": [SampleRate()], "extended": ["boolean"]},
                 prefer_skip_nested_validation=True)
def make_stoi_scorer(sr, *, extended=False):
    """A scorer of the mean STOI of a fitted multichannel separator's sources.

    The scorer has scikit-learn's ``scorer(estimator, X, y)`` signature,
    for ``GridSearchCV(..., scoring=make_stoi_scorer(sr))`` and
    :func:`~sklearn.model_selection.cross_val_score`, like
    :func:`pit_si_sdr_scorer`: ``estimator.transform`` separates ``X`` and
    each true source in ``y`` is matched to the estimate that maximises the
    sum of STOI (:func:`solve_permutation`); means are removed first. STOI
    needs the sample rate, hence a factory. Greater is better. Needs the
    optional ``pystoi`` package (``pip install 'sksep[quality]'``).

    Parameters
    ----------
    sr : int
        Sample rate of the recordings in Hz.
    extended : bool, default=False
        Score with extended STOI (see :func:`stoi`).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, with ``X`` of shape
        ``(n_samples, n_channels)`` (a fold of a recording) and ``y`` the
        true sources of the same samples, ``(n_samples, n_sources)``; it
        returns the mean over true sources of their STOI. Silent true
        sources are left out with one :class:`UserWarning` (NaN when all
        are). Folds shorter than about 0.4 s of speech score 1e-5 (pystoi
        warns).

    Raises
    ------
    ImportError
        When ``pystoi`` is not installed; the message says how to install
        it.
    ValueError
        When ``sr`` is not a positive integer.

    See Also
    --------
    stoi : The metric it averages.
    pit_si_sdr_scorer : The same with SI-SDR; needs no sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from sksep import FastICASeparator
    >>> from sksep.datasets import load_speech_demo
    >>> from sksep.metrics import make_stoi_scorer
    >>> voices = load_speech_demo().waveforms
    >>> S = np.stack([voices[0][:24000], voices[2][:24000]], axis=1)
    >>> X = S @ np.array([[1.0, 0.6], [0.5, 1.0]]).T
    >>> search = GridSearchCV(FastICASeparator(random_state=0),
    ...                       {"fun": ["logcosh", "cube"]}, cv=KFold(2),
    ...                       scoring=make_stoi_scorer(8000)).fit(X, S)
    >>> bool(search.best_score_ > 0.95)
    True
    """
    _require("pystoi", "make_stoi_scorer")
    return _STOIScorer(int(sr), bool(extended))
