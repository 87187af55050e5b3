"""Frequency-domain blind source separation on a prepared STFT (NumPy only).

In a room every voice reaches each microphone through its own filter, so a
recording is a *convolutive* mixture. In the STFT domain it becomes, to a
good approximation, one instantaneous mixture per frequency,
``x(f, t) = A(f) s(f, t)``, and separation means one demixing matrix
``W(f)`` per frequency. Independent vector analysis (IVA) estimates all of
them jointly with a source model that ties the frequencies of one source
together, so the outputs come out aligned across frequencies; ICA per
frequency (FDICA) separates each frequency alone and must then align the
permutations afterwards.

Everything here works on a complex STFT laid out ``(n_freqs, n_channels,
n_frames)``: per frequency a (channels x frames) matrix, so every product
is one batched BLAS matmul. :func:`auxiva` and :func:`fdica` take it
whitened per frequency (:func:`_whitening`) and return the demixing
matrices with an ``info`` dict (``n_iter``, ``converged``), as picard's
core does; the caller decides what to warn. The STFT, ordering and
projection back live in :mod:`sksep.decomposition._iva`, the online
updates in :mod:`sksep.decomposition._iva_online`.
"""

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils import check_random_state

_EPS = 1e-10


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


def _live_frequencies(X):
    """Mask of the frequencies with energy: total power above ``_EPS``
    (-100 dB) of the loudest frequency's. The others (an empty band) are
    left out of the iterations: their whitened data is rounding noise, and
    an all-zero band makes every IP update singular."""
    power = _power(X).sum(axis=tuple(range(1, X.ndim)))
    return power > _EPS * power.max()


# -- source models: weights of the auxiliary function -------------------------------

def _weights(power, model, nmf_state=None):
    """``phi (F or 1, K, ...)``: the auxiliary-function weights of each
    source, from the outputs' power ``(F, K, ...)`` (one frame or many;
    ``model='nmf'`` needs frames ``(F, K, T)`` and its ``nmf_state``)."""
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


def _ip_row(W, V, k):
    """Iterative projection (Ono, 2011) of demixing row ``k``, in place: the
    closed-form minimiser ``w = (W V)^-1 e_k``, scaled to ``w^H V w = 1``,
    from the source's weighted covariance ``V (F, M, M)``."""
    n_freqs, n_src, _ = W.shape
    w = np.linalg.solve(W @ V, np.broadcast_to(
        np.eye(n_src, dtype=W.dtype)[:, k, None], (n_freqs, n_src, 1)))[..., 0]
    norm = np.sqrt(np.maximum(
        np.einsum("fm,fm->f", w.conj(), (V @ w[..., None])[..., 0]).real, _EPS))
    W[:, k, :] = (w / norm[:, None]).conj()


def _ip_step(W, ZZ, phi):
    """One IP sweep over the rows, from the weighted covariances
    ``V_k = mean_t phi_k(t) z z^H``."""
    n_freqs, n_src, _, n_frames = ZZ.shape
    flat = ZZ.reshape(-1, n_frames)
    for k in range(n_src):
        if phi.shape[0] == 1:       # one weight per frame: one matrix-vector product
            V = (flat @ phi[0, k].astype(ZZ.dtype)).reshape(n_freqs, n_src, n_src)
        else:
            V = (ZZ * phi[:, k, None, None, :]).sum(axis=3)
        V /= n_frames
        _ip_row(W, V, k)
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
    ``W (F, K, K)`` and ``info``: ``n_iter`` (iterations run) and
    ``converged`` (whether ``tol`` was reached).
    """
    n_freqs, n_src, n_frames = Z.shape
    W = np.tile(np.eye(n_src, dtype=Z.dtype), (n_freqs, 1, 1))
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
            return W, {"n_iter": it, "converged": True}
    return W, {"n_iter": n_iter, "converged": False}


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
    does; returns ``W (F, K, K)`` and ``info`` as :func:`auxiva` does."""
    n_freqs, n_src, n_frames = Z.shape
    rng = check_random_state(random_state)
    W = rng.standard_normal((n_freqs, n_src, n_src)) + 1j * rng.standard_normal(
        (n_freqs, n_src, n_src))
    W = _sym_decorrelation(W).astype(Z.dtype, copy=False)
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
            return _align_permutations(W, Z), {"n_iter": it, "converged": True}
    return _align_permutations(W, Z), {"n_iter": n_iter, "converged": False}


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
