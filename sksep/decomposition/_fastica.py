"""FastICASeparator: FastICA for instantaneous multi-microphone mixtures."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from .._persistence import VersionedPickleMixin
from .._validation import validate_audio
from . import _core

_AUTO_WARMUP = 32_768  # samples of the warm-up stage when n_warmup_samples="auto"


class FastICASeparator(VersionedPickleMixin, ClassNamePrefixFeaturesOutMixin,
                       TransformerMixin, BaseEstimator):
    """Separate an instantaneous multi-microphone mixture with FastICA.

    FastICA written from scratch on numpy and scipy, with scikit-learn's
    :class:`~sklearn.decomposition.FastICA` parameters and attributes, plus
    what a separation user needs: sources in a deterministic order (loudest
    first) and sign, optional projection back to a reference microphone, and
    a fast solver (single-precision fixed-point iterations that converge on a
    subsample before finishing on all samples).

    ``X`` is a recording of shape ``(n_samples, n_channels)``: time on rows,
    microphones on columns, as :func:`soundfile.read` returns it. The model
    assumes ``X = S @ A.T``: ``n_components`` independent, non-Gaussian
    sources mixed without delays or echoes by a fixed matrix ``A``.

    Parameters
    ----------
    n_components : int, default=None
        Number of sources to extract, at most the number of channels. None
        extracts as many sources as there are channels. Ignored (with a
        warning) when ``whiten=False``.

    algorithm : {'parallel', 'deflation'}, default='parallel'
        'parallel' updates all unmixing rows at once with symmetric
        decorrelation; 'deflation' extracts one source at a time.

    whiten : {'unit-variance', 'arbitrary-variance'} or False, \
default='unit-variance'
        'unit-variance' centres and whitens ``X`` and rescales every source to
        unit variance; 'arbitrary-variance' centres and whitens without that
        guarantee; False assumes ``X`` is already white and centred.

    fun : {'logcosh', 'exp', 'cube'} or callable, default='logcosh'
        Contrast function ``G`` approximating neg-entropy (through its
        derivative ``g``). A callable ``fun(x, **fun_args)`` returns ``g(x)``
        and ``g'(x)`` averaged over the last axis, as in scikit-learn.

    fun_args : dict, default=None
        Arguments of ``fun``; 'logcosh' accepts ``{'alpha': a}`` with
        ``1 <= a <= 2`` (default 1.0).

    max_iter : int, default=200
        Maximum number of fixed-point iterations on all samples (the warm-up
        stage on a subsample has the same budget of its own).

    tol : float, default=1e-4
        Convergence tolerance on ``max |1 - |<w_new, w_old>|||``.

    w_init : array-like of shape (n_components, n_components), default=None
        Initial unmixing matrix; None draws it from a standard normal
        distribution with ``random_state``.

    whiten_solver : {'eigh', 'svd'}, default='svd'
        'eigh' diagonalises the channel covariance (fastest when there are
        many more samples than channels); 'svd' takes the SVD of the R factor
        of a QR decomposition of the centred data (more accurate when the
        channels are nearly dependent).

    n_warmup_samples : int, 'auto' or None, default='auto'
        Number of samples, taken at a regular stride over the whole recording,
        on which the iteration first converges before it finishes on all
        samples. This makes long recordings several times faster with the
        same fixed point. 'auto' uses 32768; the warm-up is skipped when the
        recording has fewer than four times that many samples; None always
        iterates on all samples, as scikit-learn does.

    ref_channel : int, default=None
        If given, rescale each source to its image at this microphone
        (projection back): the sources then have the loudness and sign they
        have in that channel and sum to it (minus its mean). None keeps the
        scaling chosen by ``whiten``.

    random_state : int, RandomState instance or None, default=None
        Seeds ``w_init`` when it is None. The same seed gives the same
        result.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_channels)
        Unmixing matrix: ``transform(X) == (X - mean_) @ components_.T``.

    mixing_ : ndarray of shape (n_channels, n_components)
        Pseudo-inverse of ``components_``: column ``i`` is how source ``i``
        reaches each microphone.

    mean_ : ndarray of shape (n_channels,)
        Mean of each channel (zeros when ``whiten=False``).

    whitening_ : ndarray of shape (n_components, n_channels)
        Whitening matrix: ``(X - mean_) @ whitening_.T`` has identity
        covariance on the training data. Only set when ``whiten`` is not
        False.

    n_iter_ : int
        Number of fixed-point iterations run, warm-up included (for
        'deflation', the largest number over components), and those run
        after the saddle-point test (Tichavsky, Koldovsky and Oja, 2006)
        rotated a pair of sources stopped half mixed.

    n_features_in_ : int
        Number of channels seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the channels seen during ``fit``, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.decomposition.FastICA : The scikit-learn implementation this
        estimator mirrors.
    sksep.metrics.amari_distance : How close ``components_ @ A`` is to a
        scaled permutation.

    Notes
    -----
    Output order and sign: sources are sorted by decreasing energy in the
    recording, ``var(s_i) * ||mixing_[:, i]||^2``, and each source's sign
    makes the largest-magnitude entry of its ``mixing_`` column positive.
    Both are properties of the separated sources, not of the random start,
    so two seeds that converge to the same separation give the same output.

    The fixed-point iterations run in float32 whatever the input dtype (they
    are limited by ``tol``, not by precision); centring, whitening, the
    fitted matrices and the returned sources keep the input dtype
    (float32 or float64).

    Errors: ``X`` with NaN or inf, complex or non-numeric values, fewer than
    two samples, fewer samples than channels, ``n_components`` larger than
    the number of channels, a constant (silent) channel, or channels that
    span fewer than ``n_components`` dimensions (two identical microphones)
    raise a ValueError that names the problem. A ConvergenceWarning is
    emitted when ``max_iter`` iterations on all samples do not reach ``tol``.

    References
    ----------
    - A. Hyvarinen and E. Oja, "Independent Component Analysis:
      Algorithms and Applications", Neural Networks 13(4-5), 2000.
    - N. Murata, S. Ikeda and A. Ziehe, "An approach to blind source
      separation based on temporal structure of speech signals",
      Neurocomputing 41, 2001 (projection back).

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import FastICASeparator
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(8000, 2))           # two independent sources
    >>> A = np.array([[1.0, 0.5], [0.4, 1.0]])    # two microphones
    >>> X = S @ A.T
    >>> ica = FastICASeparator(random_state=0)
    >>> S_hat = ica.fit_transform(X)
    >>> S_hat.shape
    (8000, 2)
    >>> bool(np.allclose(ica.inverse_transform(S_hat), X))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "algorithm": [StrOptions({"parallel", "deflation"})],
        "whiten": [
            StrOptions({"arbitrary-variance", "unit-variance"}),
            Options(bool, {False}),
        ],
        "fun": [StrOptions({"logcosh", "exp", "cube"}), callable],
        "fun_args": [dict, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "w_init": ["array-like", None],
        "whiten_solver": [StrOptions({"eigh", "svd"})],
        "n_warmup_samples": [
            Interval(Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "ref_channel": [Interval(Integral, 0, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        algorithm="parallel",
        whiten="unit-variance",
        fun="logcosh",
        fun_args=None,
        max_iter=200,
        tol=1e-4,
        w_init=None,
        whiten_solver="svd",
        n_warmup_samples="auto",
        ref_channel=None,
        random_state=None,
    ):
        self.n_components = n_components
        self.algorithm = algorithm
        self.whiten = whiten
        self.fun = fun
        self.fun_args = fun_args
        self.max_iter = max_iter
        self.tol = tol
        self.w_init = w_init
        self.whiten_solver = whiten_solver
        self.n_warmup_samples = n_warmup_samples
        self.ref_channel = ref_channel
        self.random_state = random_state

    # -- fitting ----------------------------------------------------------

    def _n_sources(self, n_samples, n_channels):
        if not self.whiten:
            if self.n_components is not None:
                warnings.warn(
                    "Ignoring n_components with whiten=False: the number of "
                    "sources is the number of channels.",
                    UserWarning,
                )
            return n_channels
        k = n_channels if self.n_components is None else self.n_components
        if k > n_channels:
            raise ValueError(
                f"n_components={k} is larger than the number of channels "
                f"({n_channels}): instantaneous ICA separates at most as many "
                "sources as there are microphones."
            )
        return k

    def _initial_unmixing(self, k):
        if self.w_init is None:
            rng = check_random_state(self.random_state)
            return rng.standard_normal(size=(k, k))
        w_init = check_array(self.w_init, dtype=np.float64, input_name="w_init")
        if w_init.shape != (k, k):
            raise ValueError(
                f"w_init has shape {w_init.shape}; it must be (n_components, "
                f"n_components) = {(k, k)}."
            )
        return w_init

    def _fit_transform(self, X, compute_sources):
        X = validate_audio(self, X, ensure_min_samples=2)
        n_samples, n_channels = X.shape
        if n_samples < n_channels:
            raise ValueError(
                f"X has {n_samples} samples and {n_channels} channels: it needs "
                "at least as many samples as channels. Is it transposed? "
                "Pass (n_samples, n_channels)."
            )
        if self.ref_channel is not None and self.ref_channel >= n_channels:
            raise ValueError(
                f"ref_channel={self.ref_channel} but X has only {n_channels} "
                "channels."
            )
        k = self._n_sources(n_samples, n_channels)
        g = _core.make_contrast(self.fun, self.fun_args)
        w_init = self._initial_unmixing(k)

        mean, cov = _core._moments(X, center=bool(self.whiten))
        if self.whiten:
            K = _core._whitening(X, mean, cov, k, self.whiten_solver)
        else:
            K = np.eye(n_channels)
        X1 = _core._project(X, mean, K).astype(np.float32, copy=False)

        n_warmup = _AUTO_WARMUP if self.n_warmup_samples == "auto" else (
            self.n_warmup_samples
        )
        with _core._single_threaded_blas():
            W, self.n_iter_, converged = _core._fixed_point(
                X1, w_init, g, algorithm=self.algorithm, tol=self.tol,
                max_iter=self.max_iter, n_warmup=n_warmup,
            )
        del X1
        if not converged:
            warnings.warn(
                f"FastICA did not converge in max_iter={self.max_iter} "
                f"iterations (tol={self.tol}). Increase max_iter or tol.",
                ConvergenceWarning,
            )
        self._set_matrices(W @ K, cov, mean.astype(X.dtype))
        if self.whiten:
            self.whitening_ = K.astype(X.dtype)
        if compute_sources:
            return _core._project(X, self.mean_, self.components_).T
        return None

    def _set_matrices(self, components, cov, mean):
        """Scale, order and sign the unmixing matrix, then store it."""
        source_var = np.einsum("ij,jk,ik->i", components, cov, components)
        if self.whiten == "unit-variance":
            components = components / np.sqrt(source_var)[:, None]
            source_var = np.ones_like(source_var)
        mixing = linalg.pinv(components)
        components, mixing = _core._canonical_order(components, mixing, source_var)
        if self.ref_channel is not None:
            gain = mixing[self.ref_channel].copy()
            weak = np.abs(gain) < 1e-6 * np.max(np.abs(mixing), axis=0)
            if np.any(weak):
                warnings.warn(
                    f"Source(s) {np.flatnonzero(weak).tolist()} barely reach "
                    f"ref_channel={self.ref_channel}; their projection back is "
                    "near zero. Choose another reference microphone.",
                    UserWarning,
                )
            gain[gain == 0] = 1.0
            components = components * gain[:, None]
            mixing = mixing / gain
        dtype = mean.dtype
        self.components_ = components.astype(dtype)
        self.mixing_ = mixing.astype(dtype)
        self.mean_ = mean

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate the unmixing matrix from a recording.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels)
            Multi-microphone recording.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : FastICASeparator
            The fitted estimator.
        """
        self._fit_transform(X, compute_sources=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit the model and return the separated sources of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels)
            Multi-microphone recording.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        S : ndarray of shape (n_samples, n_components)
            Separated sources, in the order and scale described in Notes.
        """
        return self._fit_transform(X, compute_sources=True)

    # -- applying ---------------------------------------------------------

    def transform(self, X):
        """Separate a recording with the fitted unmixing matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels)
            Recording from the same microphones as in :meth:`fit`.

        Returns
        -------
        S : ndarray of shape (n_samples, n_components)
            Separated sources.
        """
        check_is_fitted(self)
        X = validate_audio(self, X, reset=False)
        return _core._project(X, self.mean_, self.components_).T

    def inverse_transform(self, X):
        """Mix sources back into the microphone channels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Sources, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_channels)
            The recording the sources explain: ``X @ mixing_.T + mean_``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        k = self.components_.shape[0]
        if X.shape[1] != k:
            raise ValueError(
                f"X has {X.shape[1]} columns but this separator extracts {k} "
                "sources; inverse_transform takes (n_samples, n_components)."
            )
        X_orig = X @ self.mixing_.astype(X.dtype, copy=False).T
        X_orig += self.mean_.astype(X.dtype)
        return X_orig

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
