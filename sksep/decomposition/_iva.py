"""IVASeparator: frequency-domain blind source separation for real rooms.

The estimator: validation, the STFT of the recording (through
:mod:`sksep._dsp`), per-frequency whitening, then IVA or FDICA from
:mod:`._iva_core`, output ordering and projection back to the reference
microphone; its streamer runs :mod:`._iva_online`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from .. import _dsp
from .._defaults import FORGETTING, WARM_START_SECONDS
from .._dsp import _torch as torch_dsp
from .._persistence import VersionedPickleMixin
from .._validation import DefaultSTFTParamsMixin, reject_bool, validate_audio
from ._core import _single_threaded_blas
from ._iva_core import (
    _EPS,
    _live_frequencies,
    _power,
    _whitening,
    auxiva,
    fdica,
)
from ._iva_online import online_stream


def default_stft(sample_rate=None):
    """The STFT that :class:`IVASeparator` uses when ``stft=None``.

    The room preset of :mod:`sksep._dsp`: windows of 256 ms rounded to the
    nearest power of two samples (2048 at 8 kHz), hop a quarter window; the
    command line's default too.

    Parameters
    ----------
    sample_rate : float, default=None
        Sampling rate of the recording in Hz; None assumes 8 kHz.

    Returns
    -------
    stft : STFTTransformer
        Unfitted.

    Examples
    --------
    >>> from sksep.decomposition._iva import default_stft
    >>> default_stft(16000).n_fft, default_stft(16000).hop_length
    (4096, 1024)
    """
    from ..spectral import STFTTransformer

    return STFTTransformer(**_dsp.room(sample_rate))


# -- the STFT of multichannel recordings -------------------------------------------
# The cores use the layout (n_freqs, n_channels, n_frames): per frequency a
# (channels x frames) matrix, so every product is one batched BLAS matmul.

def _geometry(st, n_samples):
    """Frames of a recording of ``n_samples`` under the fitted STFT ``st``."""
    return _dsp.geometry(st.n_fft, st.hop_length_, st.center, st.pad_mode, n_samples)


def _spectrogram(st, X):
    """``X (n_samples, n_channels)`` -> ``(F, M, T)`` complex128."""
    S = torch_dsp.spectrogram(np.ascontiguousarray(X.T), _geometry(st, X.shape[0]),
                              st.window_, n_jobs=st.n_jobs)              # (M, F, T)
    return np.ascontiguousarray(S.transpose(1, 0, 2), dtype=np.complex128)


def _waveform(st, Y, n_samples, dtype):
    """``Y (F, K, T)`` complex -> ``(n_samples, K)`` of ``dtype``."""
    cdt = np.complex64 if dtype == np.float32 else np.complex128
    spec = np.ascontiguousarray(Y.transpose(1, 0, 2), dtype=cdt)         # (K, F, T)
    y = torch_dsp.waveform(spec, _geometry(st, n_samples), st.window_, n_jobs=st.n_jobs)
    return y.T.astype(dtype, copy=False)


# -- the estimator ----------------------------------------------------------------

class IVASeparator(DefaultSTFTParamsMixin, VersionedPickleMixin,
                   ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Separate voices recorded by several microphones in a reverberant room.

    One demixing matrix per frequency of the recording's whitened STFT, by
    independent vector analysis (AuxIVA; ILRMA with ``source_model='nmf'``)
    or by FastICA per frequency (``algorithm='fdica'``); every output is
    projected back to the reference microphone. Unlike
    :class:`FastICASeparator`, this handles a room's delays and echoes
    (the user guide's page on rooms explains how).

    Parameters
    ----------
    n_components : int, default=None
        Sources to separate, at most the number of microphones; None
        separates as many as there are microphones (fewer: each
        frequency's principal subspace is kept).
    stft : STFTTransformer, default=None
        Time-frequency front end; None uses ``default_stft(sample_rate)``
        (about 256 ms, hop a quarter window), the command line's default
        too. Tunable as ``stft__n_fft``; the user guide's page on rooms
        says how to choose it.
    sample_rate : float, default=None
        Sampling rate of the recordings in Hz: scales the default window to
        256 ms (not a given ``stft``) and gives the streamer's
        ``latency_ms_``. None assumes 8 kHz: give the rate of other ones.
    algorithm : {'iva', 'fdica'}, default='iva'
        Independent vector analysis (frequencies tied by the source model;
        no permutation problem), or FastICA per frequency with permutations
        aligned by the correlation of activity envelopes.
    source_model : {'laplace', 'gauss', 'nmf'}, default='gauss'
        IVA's source model: spherical Laplace (AuxIVA, Ono 2011),
        time-varying Gaussian (Ono 2012), or a low-rank NMF variance (ILRMA,
        Kitamura et al. 2016); the user guide's page on rooms compares them.
    update : {'ip', 'iss'}, default='ip'
        Iterative projection (closed-form rows) or iterative source
        steering (rank-1 updates of the outputs, no matrix inversion;
        Scheibler and Ono 2020).
    max_iter : int, default=30
        Most iterations of the updates. A ConvergenceWarning is raised when
        they end before ``tol`` is reached.
    tol : float, default=1e-5
        Convergence threshold: the iterations stop when one turns the
        demixing rows by less than ``tol`` (the mean over frequencies and
        sources of ``1 - |cos a|``, ``a`` a row's angle before and after;
        scale and phase do not count; 1e-5 is about a quarter of a degree).
        ``tol=0`` runs exactly ``max_iter`` iterations, without a warning;
        the user guide's page on rooms says how many each algorithm needs.
    n_basis : int, default=2
        NMF bases per source (``source_model='nmf'``).
    ref_channel : int, default=0
        Microphone whose image of each source is returned.
    random_state : int, RandomState instance or None, default=None
        Seeds the NMF and FastICA initialisations (AuxIVA starts from the
        identity and is deterministic).
    precision : {'double', 'single'}, default='double'
        Arithmetic of the iterations: complex128, or complex64 (faster;
        whitening, projection back and the outputs stay in double), run
        again in double with a RuntimeWarning if it goes singular or
        overflows to non-finite values (a near-empty band can).
        Frequencies 100 dB or more below the loudest are left out of the
        iterations and keep their whitening only.

    Attributes
    ----------
    demixing_ : ndarray of shape (n_freqs, n_components, n_channels)
        Demixing matrix of every frequency (whitening included), in output
        order.
    mixing_ : ndarray of shape (n_freqs, n_channels, n_components)
        Its pseudo-inverse: each source's transfer function to every
        microphone (up to scale).
    stft_ : STFTTransformer
        The front end, as used.
    n_components_ : int
        Number of separated sources.
    n_iter_ : int
        Iterations run: fewer than ``max_iter`` when ``tol`` was reached.
    n_features_in_ : int
        Number of microphones seen in ``fit``.

    See Also
    --------
    FastICASeparator : Instantaneous mixtures (no delays, no echoes).
    sksep.datasets.make_room_mixture : Simulated rooms to test it on.
    sksep.metrics.image_scores : Scores against the reference microphone's
        source images.

    Notes
    -----
    Output order is deterministic: loudest first, by the power of each
    output at the reference microphone.

    ``fit``, ``transform`` and ``inverse_transform`` limit BLAS to one
    thread while they run: their many small batched products (one per
    frequency) are slower with thread start-ups than without.

    References
    ----------
    - N. Ono, "Stable and fast update rules for independent vector analysis
      based on auxiliary function technique", WASPAA 2011.
    - D. Kitamura, N. Ono, H. Sawada, H. Kameoka and H. Saruwatari,
      "Determined blind source separation unifying independent vector
      analysis and nonnegative matrix factorization", IEEE/ACM TASLP 24(9),
      2016.
    - R. Scheibler and N. Ono, "Fast and stable blind source separation with
      rank-1 updates", ICASSP 2020.
    - E. Bingham and A. Hyvarinen, "A fast fixed-point algorithm for
      independent component analysis of complex valued signals", Int. J.
      Neural Systems 10(1), 2000.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import IVASeparator
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(16000, 2))                 # two sources
    >>> X = np.stack([S[:, 0] + 0.6 * np.roll(S[:, 1], 3),
    ...               0.5 * np.roll(S[:, 0], 2) + S[:, 1]], axis=1)
    >>> iva = IVASeparator(sample_rate=16000, random_state=0)
    >>> iva.fit_transform(X).shape
    (16000, 2)
    >>> iva.stft_.n_fft                                  # 256 ms at 16 kHz
    4096
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "stft": [None, BaseEstimator],
        "sample_rate": [Interval(Real, 0, None, closed="neither"), None],
        "algorithm": [StrOptions({"iva", "fdica"})],
        "source_model": [StrOptions({"laplace", "gauss", "nmf"})],
        "update": [StrOptions({"ip", "iss"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_basis": [Interval(Integral, 1, None, closed="left")],
        "ref_channel": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "precision": [StrOptions({"double", "single"})],
    }

    def __init__(self, n_components=None, *, stft=None, sample_rate=None,
                 algorithm="iva", source_model="gauss", update="ip", max_iter=30,
                 tol=1e-5, n_basis=2, ref_channel=0, random_state=None,
                 precision="double"):
        self.n_components = n_components
        self.stft = stft
        self.sample_rate = sample_rate
        self.algorithm = algorithm
        self.source_model = source_model
        self.update = update
        self.max_iter = max_iter
        self.tol = tol
        self.n_basis = n_basis
        self.ref_channel = ref_channel
        self.random_state = random_state
        self.precision = precision

    def _check(self, X, reset):
        return validate_audio(self, X, reset=reset,
                              ensure_min_samples=2 if reset else 1)

    def _default_stft(self):
        """The front end ``fit`` uses for ``stft=None``."""
        return default_stft(self.sample_rate)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate the demixing matrices of every frequency.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels)
            Recording, one column per microphone.
        y : Ignored

        Returns
        -------
        self
        """
        X = self._check(X, reset=True)
        k = self._n_sources(X)
        stft = self.stft if self.stft is not None else default_stft(self.sample_rate)
        if X.shape[0] < stft.n_fft:
            raise ValueError(
                f"X has {X.shape[0]} samples, fewer than the STFT's "
                f"n_fft={stft.n_fft}: too short to separate (give a longer "
                "recording or a shorter stft)."
            )
        with _single_threaded_blas():
            st = clone(stft).set_params(output="complex").fit(X.T[:1])
            spec = _spectrogram(st, X)
            demix, info = self._demixing(spec, k)
            self.n_iter_ = info["n_iter"]
            mixing = np.linalg.pinv(demix)
            # loudest first at the reference microphone
            out = (demix @ spec) * mixing[:, self.ref_channel, :, None]
            order = np.argsort(-_power(out).mean(axis=(0, 2)), kind="stable")
        if not info["converged"] and self.tol > 0:
            warnings.warn(
                f"{self.algorithm.upper()} did not converge in max_iter="
                f"{self.max_iter} iterations (tol={self.tol}). Increase max_iter "
                "or tol.", ConvergenceWarning,
            )
        self.demixing_ = demix[:, order]
        self.mixing_ = mixing[:, :, order]
        self.stft_ = st
        self.n_components_ = k
        return self

    def _n_sources(self, X):
        """Sources to separate from ``X``, after checking its channels."""
        n_channels = X.shape[1]
        k = n_channels if self.n_components is None else self.n_components
        if k > n_channels:
            raise ValueError(
                f"n_components={k} sources cannot be separated from "
                f"{n_channels} channel(s): set n_components <= {n_channels}."
            )
        if self.ref_channel >= n_channels:
            raise ValueError(
                f"ref_channel={self.ref_channel} but X has {n_channels} channels."
            )
        power = np.mean(X.astype(np.float64) ** 2, axis=0)
        if np.any(power == 0) and n_channels > 1:
            raise ValueError(
                f"Channel(s) {np.flatnonzero(power == 0).tolist()} of X are silent: "
                "every microphone must record the sources."
            )
        return k

    def _demixing(self, spec, k):
        """Whitening then IVA or FDICA on the frequencies with energy:
        ``(demixing (F, K, M), info)``."""
        P = _whitening(spec, k)
        live = _live_frequencies(spec)
        Z = (P @ spec)[live]
        if self.precision == "single":
            try:
                W_live, info = self._iterate(Z.astype(np.complex64))
                if not np.all(np.isfinite(W_live)):    # overflowed without a zero pivot
                    raise np.linalg.LinAlgError("non-finite demixing matrices")
            except np.linalg.LinAlgError:
                warnings.warn(
                    "IVA in single precision went singular or overflowed (a "
                    "near-empty band); ran it again in double precision.",
                    RuntimeWarning)
                W_live, info = self._iterate(Z)
        else:
            W_live, info = self._iterate(Z)
        W = np.tile(np.eye(k, dtype=np.complex128), (spec.shape[0], 1, 1))
        W[live] = W_live
        return W @ P, info

    def _iterate(self, Z):
        if self.algorithm == "iva":
            return auxiva(Z, source_model=self.source_model, update=self.update,
                          n_iter=self.max_iter, tol=self.tol, n_basis=self.n_basis,
                          random_state=self.random_state)
        return fdica(Z, n_iter=self.max_iter, tol=self.tol,
                     random_state=self.random_state)

    def transform(self, X):
        """Separate a recording: each source's image at the reference microphone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_channels)
            A recording with the fitted microphones (any length).

        Returns
        -------
        S : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._check(X, reset=False)
        with _single_threaded_blas():
            spec = _spectrogram(self.stft_, X)
            gain = self.mixing_[:, self.ref_channel, :, None]        # (F, K, 1)
            return _waveform(self.stft_, (self.demixing_ @ spec) * gain, X.shape[0],
                             X.dtype)

    def inverse_transform(self, X):
        """Map separated sources back to the microphones.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Outputs of :meth:`transform` (images at the reference microphone).

        Returns
        -------
        X_mics : ndarray of shape (n_samples, n_channels)
            Each source's contribution at every microphone, summed. Exact at
            the reference microphone; at the others the estimated transfer
            functions act on the STFT of the resynthesised outputs, which
            differs slightly from their own (see the user guide's page on rooms).
        """
        check_is_fitted(self)
        reject_bool(X)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} columns, but this IVASeparator separates "
                f"{self.n_components_} sources."
            )
        with _single_threaded_blas():
            spec = _spectrogram(self.stft_, X)
            gain = self.mixing_[:, self.ref_channel, :, None]
            safe = np.where(np.abs(gain) > _EPS, gain, _EPS)
            return _waveform(self.stft_, self.mixing_ @ (spec / safe), X.shape[0],
                             X.dtype)

    def streamer(self, n_channels=None, *, forgetting=FORGETTING,
                 warm_start=WARM_START_SECONDS, sample_rate=None):
        """Online AuxIVA, block by block (Taniguchi et al., 2014).

        The demixing matrices are updated at every STFT frame from
        covariances that forget the past exponentially, so the separation
        follows a changing scene (how fast: the user guide's page on
        latency). A fitted estimator starts from its fitted filters (as
        many sources as microphones); an unfitted one from the identity,
        with ``n_channels`` microphones. Uses ``stft`` (or the default
        window at ``sample_rate``), ``source_model`` ('laplace' or
        'gauss'), ``ref_channel`` and projection back at every frame.

        Parameters
        ----------
        n_channels : int, default=None
            Microphones, when the estimator is not fitted.
        forgetting : float, default=0.97
            Weight of the past per frame (0.97 at 64 ms hops: a memory of
            about 2 s).
        warm_start : float or None, default=2.0
            An unfitted start only: for this many seconds every output is
            the reference microphone divided by the number of outputs (they
            sum to it: never worse than the microphone); then offline AuxIVA
            runs once on them (a compute burst of one block) and the online
            updates continue from its demixing matrices and weighted
            covariances. 0 or None: online from the identity at once, the
            covariances a running mean until ``forgetting`` takes over.
        sample_rate : float, default=None
            For ``latency_ms_``; None uses the estimator's ``sample_rate``.

        Returns
        -------
        stream : sksep.streaming.BlockStreamer
            ``process(block (n, n_channels)) -> (n, n_channels)`` separated
            samples, ``latency_ = n_fft - 1`` samples late; ``flush()``;
            ``converged_at_``: when the separation replaced the
            pass-through (seconds of input; 0.0 for a fitted start, None
            before).
        """
        return online_stream(self, n_channels, forgetting=forgetting,
                             warm_start=warm_start, sample_rate=sample_rate)

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
