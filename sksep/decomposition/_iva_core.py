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
is one batched BLAS matmul; with 2 or 3 sources the IP updates are closed
forms elementwise over the frequencies instead of thousands of tiny LAPACK
solves. :func:`auxiva` and :func:`fdica` take it
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


# -- closed forms for 2 and 3 microphones, elementwise over the last axis (F) --
# (the IP updates of offline AuxIVA and of online AuxIVA in _iva_online)

_SMALL = (2, 3)


def _solve_unit(A, k):
    """``w (M, F)`` with ``A w = e_k`` for every ``A (M, M, F)``: Gaussian
    elimination with partial pivoting (the first pivot of largest ``|re| +
    |im|``, multipliers from its reciprocal, as LAPACK's ``zgesv`` does),
    elementwise over the frequencies on augmented rows ``[A_i, b_i]``. A
    zero pivot gives inf or nan (the caller's cue for LAPACK)."""
    n = A.shape[0]
    aug = np.zeros((n, n + 1, A.shape[2]), A.dtype)
    aug[:, :n] = A
    aug[k, n] = 1
    rows = list(aug)                         # row i: [a_ii, ..., a_in-1, b_i]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for col in range(n - 1):
            top, best = rows[col], np.abs(rows[col][0].real) + np.abs(rows[col][0].imag)
            sel = np.zeros(best.shape, np.intp)
            for i in range(col + 1, n):
                mag = np.abs(rows[i][0].real) + np.abs(rows[i][0].imag)
                better = mag > best
                sel[better] = i
                best = np.maximum(best, mag)
            for i in range(col + 1, n):                 # swap the pivot row up
                take = (sel == i)[None]
                rows[col], rows[i] = (np.where(take, rows[i], rows[col]),
                                      np.where(take, top, rows[i]))
            piv = rows[col]
            recip = 1 / piv[0]
            for i in range(col + 1, n):                 # eliminate column col
                rows[i] = rows[i][1:] - (rows[i][0] * recip) * piv[1:]
        w = np.empty((n, A.shape[2]), A.dtype)
        for i in range(n - 1, -1, -1):                  # back substitution
            acc = rows[i][-1]
            for j in range(i + 1, n):
                acc = acc - rows[i][j - i] * w[j]
            w[i] = acc / rows[i][0]
    return w


def _inverse_row(W, r):
    """Row ``r`` of the inverse of ``W (M, M, F)`` ``(M, F)``, and the
    determinant."""
    if W.shape[0] == 2:
        g = np.stack([W[1, 1], -W[0, 1]]) if r == 0 else np.stack([-W[1, 0], W[0, 0]])
    else:
        p, q = W[:, (r + 1) % 3], W[:, (r + 2) % 3]            # over the rows
        g = np.stack([p[1] * q[2] - q[1] * p[2], p[2] * q[0] - q[2] * p[0],
                      p[0] * q[1] - q[0] * p[1]])
    det = (W[:, r] * g).sum(axis=0)
    return g / det, det


# -- AuxIVA updates ---------------------------------------------------------------

def _outer(Z):
    """``z z^H`` of every frame: ``(F, K, K, T)``, fixed across iterations."""
    return Z[:, :, None, :] * Z.conj()[:, None, :, :]


def _outer_small(Z):
    """``z z^H`` of every frame for 2 or 3 sources, its distinct real
    numbers only: ``(K^2, F, T)`` real, the diagonal ``|z_i|^2`` then the
    real and imaginary parts of each ``z_i z_j^*`` above it (``z z^H`` is
    Hermitian). The same products as :func:`_outer`'s, half the memory,
    and the weighted covariances of all the sources come out of one real
    matrix product (:func:`_covariances_small`)."""
    n_src = Z.shape[1]
    rows = [_power(Z[:, i]) for i in range(n_src)]
    for i, j in itertools.combinations(range(n_src), 2):
        p = Z[:, i] * Z[:, j].conj()
        rows += [p.real, p.imag]
    return np.stack(rows)


def _covariances_small(ZZ, phi):
    """The weighted covariances ``V_k = mean_t phi_k(t) z z^H`` of every
    source from :func:`_outer_small`'s ``ZZ``, laid out ``(K, M, M, F)``
    for the closed forms: one weight per frame ``phi (1, K, T)`` is one
    real matrix product over the frames."""
    n_real, n_freqs, n_frames = ZZ.shape
    n_src = phi.shape[1]
    if phi.shape[0] == 1:
        flat = ZZ.reshape(n_real * n_freqs, n_frames)
        weights = phi[0].astype(ZZ.dtype, copy=False)
        if ZZ.dtype == np.float32:      # OpenBLAS's faster orientation for each
            S = (flat @ weights.T).T
        else:
            S = weights @ flat.T
        S = S.reshape(n_src, n_real, n_freqs)
    else:                                       # (F, K, T): ILRMA's weights
        S = np.stack([(ZZ * phi[None, :, k, :]).sum(axis=2) for k in range(n_src)])
    S /= n_frames
    V = np.empty((n_src, n_src, n_src, n_freqs), np.result_type(ZZ.dtype, np.complex64))
    for i in range(n_src):
        V[:, i, i] = S[:, i]
    for p, (i, j) in enumerate(itertools.combinations(range(n_src), 2)):
        re, im = S[:, n_src + 2 * p], S[:, n_src + 2 * p + 1]
        V[:, i, j].real, V[:, i, j].imag = re, im
        V[:, j, i].real, V[:, j, i].imag = re, -im
    return V


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


def _ip_sweep_small(W, V):
    """:func:`_ip_row` for every row of ``W (F, K, K)``, in place, for 2 or
    3 sources: elementwise over the frequencies (``V (K, M, M, F)``, rows
    ``(K, M, F)``) instead of batched LAPACK calls on thousands of tiny
    matrices, whose per-matrix overhead dominated. The same arithmetic up
    to rounding: ``W V``, ``(W V) w = e_k`` by :func:`_solve_unit`
    (pivoted as LAPACK), ``w^H V w``. A row that comes out non-finite (a
    zero pivot) hands the remaining rows to :func:`_ip_row`, which then
    raises or not as it always did."""
    n_src = W.shape[1]
    Wt = W.transpose(1, 2, 0).copy()                              # (K, M, F)
    for k in range(n_src):
        A = (Wt[:, :, None] * V[k]).sum(axis=1)                   # W V
        w = _solve_unit(A, k)                                     # A w = e_k
        vw = (V[k] * w).sum(axis=1)                               # V w
        with np.errstate(invalid="ignore", over="ignore"):
            norm = np.sqrt(np.maximum((w.conj() * vw).sum(axis=0).real, _EPS))
            row = w.conj() / norm
        if not np.all(np.isfinite(row)):
            W[...] = Wt.transpose(2, 0, 1)
            for j in range(k, n_src):
                _ip_row(W, np.ascontiguousarray(V[j].transpose(2, 0, 1)), j)
            return W
        Wt[k] = row
    W[...] = Wt.transpose(2, 0, 1)
    return W


def _ip_step(W, ZZ, phi):
    """One IP sweep over the rows, from the weighted covariances
    ``V_k = mean_t phi_k(t) z z^H``; ``ZZ`` from :func:`_outer`, or from
    :func:`_outer_small` (2 or 3 sources: the closed forms)."""
    if ZZ.ndim == 3:
        return _ip_sweep_small(W, _covariances_small(ZZ, phi))
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


def _band_power(Y):
    """The outputs' power summed over the frequencies, ``(1, K, T)``: all
    that the Laplace and Gaussian weights and the normalisation need, in
    one pass over ``Y (F, K, T)`` without the ``(F, K, T)`` power array."""
    v = np.ascontiguousarray(Y).view(Y.real.dtype)    # re, im interleaved
    total = np.einsum("fkt,fkt->kt", v, v)
    return (total[:, ::2] + total[:, 1::2])[None]


def _band_weights(total, n_freqs, model):
    """:func:`_weights` of the Laplace or Gaussian model from
    :func:`_band_power`'s ``total``."""
    if model == "laplace":
        return 1.0 / np.maximum(np.sqrt(total), _EPS)
    return 1.0 / np.maximum(total / n_freqs, _EPS)


def _normalise_band(W, total, n_freqs):
    """:func:`_normalise` from :func:`_band_power`'s ``total``, for IP
    (which recomputes the outputs from ``W``): scales ``W`` only."""
    scale = np.sqrt(np.maximum(total.sum(axis=(0, 2)) / (n_freqs * total.shape[2]),
                               _EPS))
    W /= scale[None, :, None]
    return total / scale[None, :, None] ** 2


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
    ZZ = None
    if update == "ip":
        ZZ = _outer_small(Z) if n_src in _SMALL else _outer(Z)
    # IP with the Laplace or Gaussian model needs the outputs' power summed
    # over the frequencies only, and recomputes the outputs from W
    band = update == "ip" and source_model != "nmf"
    power = _band_power(Y) if band else _power(Y)
    for it in range(1, n_iter + 1):
        W_old = W.copy()
        if band:
            phi = _band_weights(power, n_freqs, source_model)
        else:
            phi = _weights(power, source_model, nmf_state)
        if update == "ip":
            W = _ip_step(W, ZZ, phi)
            Y = W @ Z
        else:
            W, Y = _iss_step(W, Y, phi)
        if band:
            power = _normalise_band(W, _band_power(Y), n_freqs)
        else:
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
