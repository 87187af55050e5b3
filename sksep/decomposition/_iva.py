"""Frequency-domain blind source separation for real rooms: IVA and FDICA.

In a room every voice reaches each microphone through its own filter, so a
recording is a *convolutive* mixture. In the STFT domain it becomes, to a
good approximation, one instantaneous mixture per frequency,
``x(f, t) = A(f) s(f, t)``, and separation means one demixing matrix
``W(f)`` per frequency. Independent vector analysis (IVA) estimates all of
them jointly with a source model that ties the frequencies of one source
together, so the outputs come out aligned across frequencies; ICA per
frequency (FDICA) separates each frequency alone and must then align the
permutations afterwards.

The cores work on a complex STFT ``X`` of shape ``(n_freqs, n_channels,
n_frames)``, whitened per frequency, and return the demixing matrices.
"""

import itertools
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._persistence import VersionedPickleMixin
from .._validation import check_finite, reject_bool
from ..streaming import BlockStreamer
from ._fastica import _single_threaded_blas

_EPS = 1e-10

#: Length of :class:`IVASeparator`'s default STFT window, in seconds: longer
#: than most of a room's reverberation (``benchmarks/README.md``).
DEFAULT_WINDOW_SECONDS = 0.256
#: The rate assumed when no ``sample_rate`` is given (sksep's corpora are at
#: 8 kHz): the default window is then 2048 samples, as before the rate was known.
DEFAULT_SAMPLE_RATE = 8000


def default_stft(sample_rate=None):
    """The STFT that :class:`IVASeparator` uses when ``stft=None``.

    Windows of ``DEFAULT_WINDOW_SECONDS`` (256 ms) rounded to the nearest
    power of two samples, hop a quarter of the window: 2048 samples at
    8 kHz, 4096 at 16 kHz, 8192 (186 ms) at 44.1 kHz, 16384 (341 ms) at
    48 kHz. The command line builds its separators with the same default.

    Parameters
    ----------
    sample_rate : float, default=None
        Sampling rate of the recording in Hz; None assumes
        ``DEFAULT_SAMPLE_RATE`` (8 kHz).

    Returns
    -------
    stft : STFTTransformer
        Unfitted, complex output.

    Examples
    --------
    >>> from sksep.decomposition._iva import default_stft
    >>> default_stft(16000).n_fft, default_stft(16000).hop_length
    (4096, 1024)
    """
    from ..spectral import STFTTransformer

    rate = DEFAULT_SAMPLE_RATE if sample_rate is None else sample_rate
    n_fft = 1 << max(6, int(round(np.log2(DEFAULT_WINDOW_SECONDS * rate))))
    return STFTTransformer(n_fft=n_fft, hop_length=n_fft // 4)


# -- STFT of multichannel recordings ---------------------------------------------
# The cores use the layout (n_freqs, n_channels, n_frames): per frequency a
# (channels x frames) matrix, so every product is one batched BLAS matmul.

def _stft(stft, X):
    """``X (n_samples, n_channels)`` -> fitted STFT, ``(F, M, T)`` complex128."""
    st = clone(stft).set_params(output="complex").fit(X.T[:1])
    S = st.to_spectrogram(st.transform(np.ascontiguousarray(X.T)))   # (M, F, T)
    return st, np.ascontiguousarray(S.transpose(1, 0, 2), dtype=np.complex128)


def _istft(st, Y, dtype):
    """``Y (F, K, T)`` complex -> ``(n_samples, K)`` of ``dtype``."""
    cdt = np.complex64 if dtype == np.float32 else np.complex128
    spec = np.ascontiguousarray(Y.transpose(1, 0, 2), dtype=cdt)      # (K, F, T)
    return st.inverse_transform(st.from_spectrogram(spec)).T.astype(dtype, copy=False)


def _herm(A):
    return A.conj().swapaxes(-1, -2)


def _power(Y):
    return Y.real**2 + Y.imag**2


def _row_change(W, W_old):
    """Mean over frequencies and outputs of ``1 - |cos(angle)|`` between every
    demixing row before and after an iteration: the change that matters
    after projection back, which undoes each row's scale and phase."""
    dot = np.abs(np.einsum("fkm,fkm->fk", W.conj(), W_old))
    norms = np.linalg.norm(W, axis=2) * np.linalg.norm(W_old, axis=2)
    return float(np.mean(1 - dot / np.maximum(norms, _EPS)))


# -- per-frequency whitening -------------------------------------------------------

def _whitening(X, n_components):
    """Principal subspace per frequency, whitened: ``P (F, K, M)`` such that
    ``P x`` has identity covariance (up to a floor for silent bins)."""
    C = X @ _herm(X) / X.shape[2]
    vals, vecs = np.linalg.eigh(C)                     # ascending
    vals, vecs = vals[:, ::-1][:, :n_components], vecs[:, :, ::-1][:, :, :n_components]
    floor = _EPS * np.maximum(vals[:, :1], _EPS)
    return _herm(vecs / np.sqrt(np.maximum(vals, floor))[:, None, :])


# -- source models: weights of the auxiliary function -------------------------------

def _weights(power, model, nmf_state):
    """``phi (F or 1, K, T)``: the auxiliary-function weights of each source,
    from the outputs' power ``(F, K, T)``."""
    if model == "laplace":                             # spherical Laplace: 1 / r
        r = np.sqrt(power.sum(axis=0, keepdims=True))
        return 1.0 / np.maximum(r, _EPS)
    if model == "gauss":                               # time-varying Gaussian: 1 / var
        var = power.mean(axis=0, keepdims=True)
        return 1.0 / np.maximum(var, _EPS)
    basis, act = nmf_state                             # ILRMA: low-rank variances
    _nmf_update(power.transpose(1, 0, 2), basis, act)
    return 1.0 / np.maximum(basis @ act, _EPS).transpose(1, 0, 2)


def _nmf_update(power, basis, act):
    """One multiplicative Itakura-Saito NMF update of ``power (K, F, T) ~
    basis @ act`` for every source, in place (Kitamura et al., 2016)."""
    model = np.maximum(basis @ act, _EPS)
    basis *= np.sqrt(((power / model**2) @ act.swapaxes(1, 2))
                     / np.maximum((1 / model) @ act.swapaxes(1, 2), _EPS))
    model = np.maximum(basis @ act, _EPS)
    act *= np.sqrt((basis.swapaxes(1, 2) @ (power / model**2))
                   / np.maximum(basis.swapaxes(1, 2) @ (1 / model), _EPS))


# -- AuxIVA updates ---------------------------------------------------------------

def _outer(Z):
    """``z z^H`` of every frame: ``(F, K, K, T)``, fixed across iterations."""
    return Z[:, :, None, :] * Z.conj()[:, None, :, :]


def _ip_step(W, ZZ, phi):
    """Iterative projection (Ono, 2011): each demixing row in closed form,
    from the weighted covariances ``V_k = mean_t phi_k(t) z z^H``."""
    n_freqs, n_src, _, n_frames = ZZ.shape
    flat = ZZ.reshape(-1, n_frames)
    for k in range(n_src):
        if phi.shape[0] == 1:       # one weight per frame: one matrix-vector product
            V = (flat @ phi[0, k].astype(ZZ.dtype)).reshape(n_freqs, n_src, n_src)
        else:
            V = (ZZ * phi[:, k, None, None, :]).sum(axis=3)
        V /= n_frames
        w = np.linalg.solve(W @ V, np.broadcast_to(
            np.eye(n_src)[:, k, None], (n_freqs, n_src, 1)))[..., 0]
        norm = np.sqrt(np.maximum(
            np.einsum("fm,fm->f", w.conj(), (V @ w[..., None])[..., 0]).real, _EPS))
        W[:, k, :] = (w / norm[:, None]).conj()
    return W


def _iss_step(W, Y, phi):
    """Iterative source steering (Scheibler and Ono, 2020): rank-1 updates of
    the outputs, no matrix inversion."""
    n_frames = Y.shape[2]
    for k in range(Y.shape[1]):
        yk = Y[:, k, :]                                            # (F, T)
        d = (phi * _power(yk)[:, None, :]).sum(axis=2) / n_frames  # (F, K)
        u = ((phi * Y) @ yk.conj()[:, :, None])[..., 0] / n_frames  # (F, K)
        v = u / np.maximum(d, _EPS)
        v[:, k] = 1 - 1 / np.sqrt(np.maximum(d[:, k], _EPS))
        Y -= v[:, :, None] * yk[:, None, :]
        W -= v[:, :, None] * W[:, k, None, :]
    return W, Y


def _normalise(W, Y, nmf_state):
    """Unit output power per source (keeps the NMF model on the same scale);
    returns the outputs' power after scaling, for the next weights."""
    power = _power(Y)
    scale = np.sqrt(np.maximum(power.mean(axis=(0, 2)), _EPS))       # (K,)
    W /= scale[None, :, None]
    Y /= scale[None, :, None]
    if nmf_state is not None:
        nmf_state[0] /= scale[:, None, None] ** 2
    return power / scale[None, :, None] ** 2


def auxiva(Z, *, source_model="gauss", update="ip", n_iter=30, tol=0.0, n_basis=2,
           random_state=None):
    """AuxIVA on a whitened STFT ``Z (F, K, T)``.

    ``source_model='nmf'`` is ILRMA: each source's variance is a
    rank-``n_basis`` nonnegative matrix factorisation. Stops early when an
    iteration changes the demixing rows by less than ``tol``
    (:func:`_row_change`; ``tol=0`` runs ``n_iter`` iterations). Returns
    ``W (F, K, K)``, the iterations run and whether ``tol`` was reached.
    """
    n_freqs, n_src, n_frames = Z.shape
    W = np.tile(np.eye(n_src, dtype=np.complex128), (n_freqs, 1, 1))
    Y = Z.copy()
    nmf_state = None
    if source_model == "nmf":
        rng = check_random_state(random_state)
        nmf_state = [rng.uniform(0.1, 1.0, (n_src, n_freqs, n_basis)),
                     rng.uniform(0.1, 1.0, (n_src, n_basis, n_frames))]
    ZZ = _outer(Z) if update == "ip" else None
    power = _power(Y)
    for it in range(1, n_iter + 1):
        W_old = W.copy()
        phi = _weights(power, source_model, nmf_state)
        if update == "ip":
            W = _ip_step(W, ZZ, phi)
            Y = W @ Z
        else:
            W, Y = _iss_step(W, Y, phi)
        power = _normalise(W, Y, nmf_state)
        if tol > 0 and _row_change(W, W_old) < tol:
            return W, it, True
    return W, n_iter, False


# -- FDICA: complex FastICA per frequency, then permutation alignment ------------------

def _sym_decorrelation(W):
    """``(W W^H)^(-1/2) W`` for every frequency."""
    vals, vecs = np.linalg.eigh(W @ _herm(W))
    inv_sqrt = (vecs / np.sqrt(np.maximum(vals, _EPS))[:, None, :]) @ _herm(vecs)
    return inv_sqrt @ W


def fdica(Z, *, n_iter=100, tol=0.0, random_state=None, a=0.1):
    """Complex FastICA (Bingham and Hyvarinen, 2000) at every frequency of a
    whitened STFT ``Z (F, K, T)``, ``G(u) = log(a + u)``; then the outputs
    are permuted to agree across frequencies. Stops early as :func:`auxiva`
    does; returns ``W (F, K, K)``, the iterations run and whether ``tol``
    was reached."""
    n_freqs, n_src, n_frames = Z.shape
    rng = check_random_state(random_state)
    W = rng.standard_normal((n_freqs, n_src, n_src)) + 1j * rng.standard_normal(
        (n_freqs, n_src, n_src))
    W = _sym_decorrelation(W)
    Zh = _herm(Z)
    for it in range(1, n_iter + 1):
        Y = W @ Z                                      # rows of W are w^H
        u = _power(Y)
        g, dg = 1 / (a + u), -1 / (a + u) ** 2
        # w <- E{z y* g(|y|^2)} - E{g + |y|^2 g'} w, written for the rows w^H
        new = (Y * g) @ Zh / n_frames
        new -= np.mean(g + u * dg, axis=2)[:, :, None] * W
        W, W_old = _sym_decorrelation(new), W
        if tol > 0 and _row_change(W, W_old) < tol:
            return _align_permutations(W, Z), it, True
    return _align_permutations(W, Z), n_iter, False


def _align_permutations(W, Z, n_pass=5):
    """Permute each frequency's outputs so that their activity envelopes
    agree with the sources' mean envelopes (correlation of |Y|)."""
    n_freqs, n_src, _ = Z.shape
    env = np.abs(W @ Z)
    env = env - env.mean(axis=2, keepdims=True)
    env /= np.maximum(np.linalg.norm(env, axis=2, keepdims=True), _EPS)
    perms = np.tile(np.arange(n_src), (n_freqs, 1))
    candidates = list(itertools.permutations(range(n_src))) if n_src <= 4 else None
    for _ in range(n_pass):
        aligned = np.take_along_axis(env, perms[:, :, None], axis=1)
        centroid = aligned.mean(axis=0)                # (K, T)
        score = env @ centroid.T                       # (F, output j, target k)
        score = score.swapaxes(1, 2)                   # (F, target k, output j)
        if candidates is not None:
            idx = np.arange(n_src)
            totals = np.stack([score[:, idx, list(p)].sum(axis=1) for p in candidates])
            new = np.asarray(candidates)[np.argmax(totals, axis=0)]
        else:
            new = np.stack([linear_sum_assignment(-sc)[1] for sc in score])
        if np.array_equal(new, perms):
            break
        perms = new
    return np.take_along_axis(W, perms[:, :, None], axis=1)


# -- online AuxIVA: the streamer's processor ----------------------------------------

class _OnlineAuxIVA:
    """Per-frame state of online AuxIVA: exponentially weighted covariances,
    IP updates, projection back (the processor of a BlockStreamer).

    Start-up (an unfitted start, ``W0=None``): the first ``warm_frames``
    frames are kept and the output is the reference microphone, divided
    among the outputs as projection back divides it (each output
    ``x_ref / K``; they sum to the microphone, as the separated outputs
    do). Once they have arrived, offline AuxIVA runs on them once
    (``warm_iter`` iterations), its demixing matrices start the online
    updates and the covariances are those frames' weighted covariances;
    the output is then separated. ``converged_frame`` is the frame at which
    that happened. Every step depends on frames only, never on the blocks
    they came in, so the stream stays independent of block sizes.
    """

    def __init__(self, n_freqs, n_channels, forgetting, model, ref, W0=None,
                 warm_frames=0, warm_iter=30, pass_through=True):
        self.alpha, self.model, self.ref = forgetting, model, ref
        self.W = (np.tile(np.eye(n_channels, dtype=np.complex128), (n_freqs, 1, 1))
                  if W0 is None else np.array(W0, dtype=np.complex128))
        self.V = np.tile(1e-6 * np.eye(n_channels, dtype=np.complex128),
                         (n_channels, n_freqs, 1, 1))          # (K, F, M, M)
        self.warm_frames = 0 if W0 is not None else int(warm_frames)
        self.warm_iter = warm_iter
        self.pass_through = pass_through
        self.n_frames = 0
        self.ramp = True
        self._buffer = []
        self.converged_frame = 0 if (W0 is not None or self.warm_frames == 0) else None

    def _phi(self, power):                                     # power (F, K, ...)
        if self.model == "laplace":
            return 1.0 / np.maximum(np.sqrt(power.sum(axis=0)), _EPS)
        return 1.0 / np.maximum(power.mean(axis=0), _EPS)

    def _warm_start(self):
        """Offline AuxIVA on the buffered frames, then their weighted
        covariances as the online state."""
        X = np.ascontiguousarray(np.stack(self._buffer, axis=2))   # (F, M, T)
        self._buffer = []
        n_src = X.shape[1]
        P = _whitening(X, n_src)
        W, _, _ = auxiva(P @ X, source_model=self.model, update="ip",
                         n_iter=self.warm_iter)
        self.W = W @ P
        phi = self._phi(_power(self.W @ X))                        # (K, T)
        XX = X[:, :, None, :] * X.conj()[:, None, :, :]            # (F, M, M, T)
        self.V = np.einsum("fabt,kt->kfab", XX, phi) / X.shape[2]
        self.converged_frame = self.n_frames

    def _update(self, x, alpha):
        n_src = x.shape[1]
        eye = np.eye(n_src)
        y = (self.W @ x[:, :, None])[..., 0]                       # (F, K)
        phi = self._phi(_power(y))
        xx = x[:, :, None] * x.conj()[:, None, :]                  # (F, M, M)
        for k in range(n_src):
            self.V[k] = alpha * self.V[k] + (1 - alpha) * phi[k] * xx
            w = np.linalg.solve(self.W @ self.V[k], np.broadcast_to(
                eye[:, k, None], (x.shape[0], n_src, 1)))[..., 0]
            norm = np.sqrt(np.maximum(np.einsum(
                "fm,fm->f", w.conj(), (self.V[k] @ w[..., None])[..., 0]).real, _EPS))
            self.W[:, k, :] = (w / norm[:, None]).conj()

    def __call__(self, spec):                                  # (T, F, M)
        out = np.empty_like(spec)
        n_src = spec.shape[2]
        for t, x in enumerate(spec):                           # x: (F, M)
            self.n_frames += 1
            if self.n_frames <= self.warm_frames:
                self._buffer.append(x)
                if self.n_frames == self.warm_frames:
                    self._warm_start()
            else:
                # running mean at first, then the forgetting factor
                alpha = (self.alpha if self.warm_frames or not self.ramp else
                         min(self.alpha, 1 - 1 / (self.n_frames + 1)))
                self._update(x, alpha)
            if self.converged_frame is None and self.pass_through:
                out[t] = x[:, self.ref, None] / n_src
                continue
            y = (self.W @ x[:, :, None])[..., 0]
            gain = np.linalg.inv(self.W)[:, self.ref, :]        # projection back
            out[t] = y * gain
        return out


class _IVAStream(BlockStreamer):
    """The BlockStreamer of online AuxIVA, with when its separation took over."""

    def __init__(self, processor, **kwargs):
        super().__init__(processor, **kwargs)
        self.sr = kwargs.get("sample_rate")

    @property
    def converged_at_(self):
        """Input seconds (samples when the rate is unknown) at which the
        separated output replaced the microphone pass-through: when the last
        frame of the warm start had arrived; 0.0 for a fitted start, None
        while it has not happened."""
        frame = self.processor.converged_frame
        if frame is None:
            return None
        if frame == 0:
            return 0.0
        sample = min((frame - 1) * self.hop + self.n_fft - self.left,
                     self.n_samples_in_)
        return sample if self.sr is None else sample / self.sr


# -- the estimator ----------------------------------------------------------------

class IVASeparator(VersionedPickleMixin, ClassNamePrefixFeaturesOutMixin,
                   TransformerMixin, BaseEstimator):
    """Separate voices recorded by several microphones in a reverberant room.

    Frequency-domain blind source separation: the recording's STFT is
    whitened per frequency, one demixing matrix per frequency is estimated
    by independent vector analysis with auxiliary-function updates (AuxIVA;
    with ``source_model='nmf'``, ILRMA), or by complex FastICA per frequency
    with permutation alignment (``algorithm='fdica'``), and every output is
    projected back to the reference microphone, so each separated voice has
    the loudness and colour it has there (the outputs sum to that microphone
    when every source is kept). Unlike :class:`FastICASeparator`, which
    models an instantaneous mixture, this handles the delays and echoes of
    a real room.

    Parameters
    ----------
    n_components : int, default=None
        Sources to separate, at most the number of microphones; None
        separates as many as there are microphones. Fewer sources than
        microphones (the usual case with an array) keeps the principal
        subspace of each frequency.
    stft : STFTTransformer, default=None
        Time-frequency front end; None uses windows of about 256 ms at
        ``sample_rate`` (``default_stft(sample_rate)``: the nearest power of
        two samples, 4096 at 16 kHz, 8192 at 44.1 kHz; hop a quarter
        window), the command line's default too. A window should be longer
        than most of the room's reverberation, but longer windows leave
        fewer frames to learn from (use a few seconds of audio at least).
        Tunable as ``stft__n_fft``.
    sample_rate : float, default=None
        Sampling rate of the recordings in Hz, which scales the default
        window to 256 ms and gives the streamer's ``latency_ms_``. None
        assumes 8 kHz (a 2048-sample window, the default before this
        parameter existed): give the rate of recordings at other rates, or
        the window is too short at 44.1 kHz (46 ms) and separation suffers.
        Ignored for the window when ``stft`` is given.
    algorithm : {'iva', 'fdica'}, default='iva'
        Independent vector analysis (frequencies tied by the source model;
        no permutation problem), or FastICA per frequency followed by the
        alignment of permutations by the correlation of activity envelopes
        (the classic baseline; it fails where the alignment does).
    source_model : {'laplace', 'gauss', 'nmf'}, default='gauss'
        IVA's source model: spherical Laplace (AuxIVA, Ono 2011),
        time-varying Gaussian (Ono 2012), or a low-rank NMF variance (ILRMA,
        Kitamura et al. 2016). On simulated rooms with speech the Gaussian
        model was the most reliable; ILRMA is as good when it converges but
        fails more often (``benchmarks/README.md``).
    update : {'ip', 'iss'}, default='ip'
        Iterative projection (closed-form rows) or iterative source
        steering (rank-1 updates of the outputs, no matrix inversion;
        Scheibler and Ono 2020).
    max_iter : int, default=30
        Most iterations of the updates. A ConvergenceWarning is raised when
        they end before ``tol`` is reached.
    tol : float, default=1e-5
        Convergence threshold: the iterations stop when one changes the
        demixing matrices by less than ``tol``, measured as the mean over
        frequencies and sources of ``1 - |cos a|``, ``a`` the angle between
        a demixing row before and after the iteration (scale and phase,
        which projection back undoes, do not count; 1e-5 is a mean turn of
        about a quarter of a degree). AuxIVA on speech in a moderately
        reverberant room typically reaches it in 10-30 iterations; FDICA,
        from a random start, needs more (``max_iter=100`` and ``tol=1e-6``
        separate better), and ILRMA's NMF keeps adapting for longer.
        ``tol=0`` runs exactly ``max_iter`` iterations, without a warning.
    n_basis : int, default=2
        NMF bases per source (``source_model='nmf'``).
    ref_channel : int, default=0
        Microphone whose image of each source is returned.
    random_state : int, RandomState instance or None, default=None
        Seeds the NMF and FastICA initialisations (AuxIVA starts from the
        identity and is deterministic).

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
    output at the reference microphone. A model fitted on one recording
    transforms another one from the same room and positions.

    ``fit``, ``transform`` and ``inverse_transform`` limit BLAS to one
    thread while they run: their many small batched products (one per
    frequency) are slower with thread start-ups than without (measured:
    about twice as slow with two threads on an 8 s room at 16 kHz).

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
    }

    def __init__(self, n_components=None, *, stft=None, sample_rate=None,
                 algorithm="iva", source_model="gauss", update="ip", max_iter=30,
                 tol=1e-5, n_basis=2, ref_channel=0, random_state=None):
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

    def _check(self, X, reset):
        reject_bool(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=reset,
                          ensure_min_samples=2 if reset else 1,
                          ensure_all_finite=False)
        check_finite(X)
        return X

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
            st, spec = _stft(stft, X)
            demix, self.n_iter_, converged = self._demixing(spec, k)
            mixing = np.linalg.pinv(demix)
            # loudest first at the reference microphone
            out = (demix @ spec) * mixing[:, self.ref_channel, :, None]
            order = np.argsort(-_power(out).mean(axis=(0, 2)), kind="stable")
        if not converged and self.tol > 0:
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
        """Whitening then IVA or FDICA: ``(demixing (F, K, M), n_iter, converged)``."""
        P = _whitening(spec, k)
        Z = P @ spec
        if self.algorithm == "iva":
            W, n_iter, converged = auxiva(
                Z, source_model=self.source_model, update=self.update,
                n_iter=self.max_iter, tol=self.tol, n_basis=self.n_basis,
                random_state=self.random_state)
        else:
            W, n_iter, converged = fdica(Z, n_iter=self.max_iter, tol=self.tol,
                                         random_state=self.random_state)
        return W @ P, n_iter, converged

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
            st, spec = _stft(self.stft_, X)
            if spec.shape[0] != self.demixing_.shape[0]:  # pragma: no cover
                raise ValueError(
                    "X's STFT has another number of frequencies than fit's.")
            gain = self.mixing_[:, self.ref_channel, :, None]        # (F, K, 1)
            return _istft(st, (self.demixing_ @ spec) * gain, X.dtype)[:X.shape[0]]

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
            differs slightly from their own (about -20 dB of error on a
            reverberant room).
        """
        check_is_fitted(self)
        reject_bool(X)
        from sklearn.utils import check_array

        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} columns, but this IVASeparator separates "
                f"{self.n_components_} sources."
            )
        with _single_threaded_blas():
            st, spec = _stft(self.stft_, X)
            gain = self.mixing_[:, self.ref_channel, :, None]
            safe = np.where(np.abs(gain) > _EPS, gain, _EPS)
            return _istft(st, self.mixing_ @ (spec / safe), X.dtype)

    def streamer(self, n_channels=None, *, forgetting=0.97, warm_start=2.0,
                 sample_rate=None):
        """Online AuxIVA, block by block (Taniguchi et al., 2014).

        The demixing matrices are updated at every STFT frame from
        covariances that forget the past exponentially, so the separation
        converges within seconds and follows a changing scene. A fitted
        estimator starts from its fitted filters (square case: as many
        sources as microphones); an unfitted one from the identity, with
        ``n_channels`` microphones. Uses ``stft`` (or the default window at
        ``sample_rate``), ``source_model`` ('laplace' or 'gauss'),
        ``ref_channel`` and projection back at every frame.

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
            sum to it, as the separated outputs do: never worse than the
            microphone); once they have arrived, offline AuxIVA runs on them
            once (a compute burst of one block) and the online updates
            continue from its demixing matrices and weighted covariances.
            The stream's ``converged_at_`` says when, in seconds of input.
            0 or None: online from the identity at once, the covariances a
            running mean until ``forgetting`` takes over (below 0 dB for
            several seconds in reverberant rooms, ``benchmarks/README.md``).
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
        if not 0 < forgetting < 1:
            raise ValueError(f"forgetting must be in (0, 1), got {forgetting!r}.")
        if warm_start is not None and not (isinstance(warm_start, Real)
                                           and 0 <= warm_start < np.inf):
            raise ValueError(
                f"warm_start must be a number of seconds >= 0 or None, got "
                f"{warm_start!r}.")
        if self.source_model == "nmf" or self.algorithm != "iva":
            raise ValueError(
                "Online separation runs AuxIVA with source_model 'laplace' or "
                f"'gauss', got algorithm={self.algorithm!r}, "
                f"source_model={self.source_model!r}."
            )
        fitted = hasattr(self, "demixing_")
        if fitted:
            if self.n_components_ != self.n_features_in_:
                raise ValueError(
                    "Online separation needs as many sources as microphones; this "
                    f"model separates {self.n_components_} of {self.n_features_in_}."
                )
            n_channels, stft = self.n_features_in_, self.stft_
        else:
            if n_channels is None or int(n_channels) < 2:
                raise ValueError(
                    "Give n_channels (at least 2 microphones) to stream with an "
                    "unfitted IVASeparator."
                )
            stft = (self.stft if self.stft is not None
                    else default_stft(self.sample_rate))
            stft = clone(stft).set_params(output="complex").fit(np.zeros((1, stft.n_fft)))
        n_channels = int(n_channels)
        if self.ref_channel >= n_channels:
            raise ValueError(f"ref_channel={self.ref_channel} but {n_channels} channels.")
        rate = sample_rate or self.sample_rate or DEFAULT_SAMPLE_RATE
        hop = stft.hop_length_
        warm_frames = 0
        if warm_start:
            warm_frames = max(2, int(np.ceil(warm_start * rate / hop)))
        state = _OnlineAuxIVA(stft.n_fft // 2 + 1, n_channels, forgetting,
                              self.source_model, self.ref_channel,
                              self.demixing_ if fitted else None,
                              warm_frames=warm_frames)
        return _IVAStream(
            state, n_fft=stft.n_fft, hop_length=stft.hop_length_,
            window=stft._window.numpy(), pad_mode=stft.pad_mode,
            n_channels=n_channels, n_outputs=n_channels,
            sample_rate=self.sample_rate if sample_rate is None else sample_rate,
            layout="channels_last", dtype=np.float64)

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
