"""FastICA on whitened data: the bare fixed-point algorithm (numpy only).

Everything here works on data already centred and whitened, laid out as
``(n_components, n_samples)`` with C order so that every row operation is
contiguous. Centring, whitening, ordering and scaling live in
:mod:`sksep.decomposition._fastica`.

Reference: A. Hyvarinen and E. Oja, "Independent Component Analysis:
Algorithms and Applications", Neural Networks 13(4-5), 2000, pp. 411-430
(the fixed-point updates of its equations 40 and 44).
"""

import numpy as np
from scipy import linalg

# ---------------------------------------------------------------------------
# Contrast functions. Each takes Y = W @ X of shape (k, n), may overwrite it,
# and returns (g(Y), mean over samples of g'(Y)) with shapes (k, n) and (k,).


def _logcosh(Y, alpha=1.0):
    if alpha != 1.0:
        Y *= alpha
    gY = np.tanh(Y, out=Y)
    # g'(y) = alpha * (1 - tanh(alpha y) ** 2): its mean needs no temporary.
    g_prime = alpha * (1.0 - np.einsum("ij,ij->i", gY, gY) / gY.shape[1])
    return gY, g_prime


def _exp(Y):
    E = np.multiply(Y, Y)
    E *= -0.5
    np.exp(E, out=E)
    mean_e = E.mean(axis=1)
    gY = np.multiply(Y, E, out=E)  # y exp(-y^2/2)
    # g'(y) = (1 - y^2) exp(-y^2/2) = exp(-y^2/2) - y g(y)
    g_prime = mean_e - np.einsum("ij,ij->i", Y, gY) / Y.shape[1]
    return gY, g_prime


def _cube(Y):
    Y2 = np.multiply(Y, Y)
    g_prime = 3.0 * Y2.mean(axis=1)
    gY = np.multiply(Y2, Y, out=Y2)
    return gY, g_prime


CONTRASTS = {"logcosh": _logcosh, "exp": _exp, "cube": _cube}


def make_contrast(fun, fun_args):
    """Return ``g(Y) -> (g(Y), mean g'(Y))`` for a name or a user callable.

    A callable follows scikit-learn's convention: ``fun(x, **fun_args)``
    returns ``g(x)`` and ``g'(x)`` averaged over the last axis (a full
    ``g'(x)`` array is averaged here).
    """
    fun_args = {} if fun_args is None else dict(fun_args)
    if callable(fun):

        def g(Y):
            gY, g_prime = fun(Y, **fun_args)
            gY = np.asarray(gY, dtype=Y.dtype)
            g_prime = np.asarray(g_prime, dtype=Y.dtype)
            if g_prime.ndim == 2:
                g_prime = g_prime.mean(axis=1)
            if gY.shape != Y.shape or g_prime.shape != Y.shape[:1]:
                raise ValueError(
                    "The callable `fun` must return g(x) with the shape of x "
                    f"{Y.shape} and g'(x) averaged over the last axis, of shape "
                    f"{Y.shape[:1]}; got {gY.shape} and {g_prime.shape}."
                )
            return gY, g_prime

        return g
    contrast = CONTRASTS[fun]
    if fun == "logcosh":
        alpha = fun_args.pop("alpha", 1.0)
        if not 1 <= alpha <= 2:
            raise ValueError(f"fun_args['alpha'] must be in [1, 2], got {alpha!r}.")
        if fun_args:
            raise ValueError(f"Unknown fun_args for 'logcosh': {sorted(fun_args)}.")
        return lambda Y: contrast(Y, alpha)
    if fun_args:
        raise ValueError(f"fun={fun!r} takes no fun_args, got {sorted(fun_args)}.")
    return contrast


# ---------------------------------------------------------------------------
# Blocked passes over the data. Products such as g(WX) X^T have a tiny output
# and a huge inner dimension; BLAS streams them from memory at a third of the
# speed it reaches when both operands sit in cache. Every full-data pass is
# therefore done on column blocks of about 256 KiB, fusing the steps of one
# iteration (project, contrast, accumulate) so the data is read once.

BLOCK_BYTES = 1 << 18


def block_size(n_rows, itemsize):
    """Columns per block for an array with ``n_rows`` rows."""
    return max(1024, BLOCK_BYTES // (max(n_rows, 1) * itemsize))


def blocks(n, size):
    """Consecutive slices of ``range(n)`` of at most ``size`` elements."""
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def expectations(X, W, g):
    """``E[g(W x) x^T]`` and ``E[g'(W x)]`` over the columns ``x`` of ``X``.

    Returns float64 arrays of shapes ``(k, c)`` and ``(k,)``.
    """
    n = X.shape[1]
    W = W.astype(X.dtype)
    size = block_size(max(X.shape[0], W.shape[0]), X.itemsize)
    gx = np.zeros((W.shape[0], X.shape[0]))
    g_prime = np.zeros(W.shape[0])
    buffer = np.empty((W.shape[0], size), dtype=X.dtype)
    for sl in blocks(n, size):
        Xb = X[:, sl]
        nb = Xb.shape[1]
        Yb = buffer if nb == size else np.empty((W.shape[0], nb), X.dtype)
        np.dot(W, Xb, out=Yb)
        gYb, gpb = g(Yb)
        gx += gYb @ Xb.T
        g_prime += gpb * nb
    return gx / n, g_prime / n


# ---------------------------------------------------------------------------
# Fixed-point iterations (in float64 on the small matrices; the data may be
# float32).


def sym_decorrelation(W):
    """Symmetric decorrelation ``W <- (W W^T)^{-1/2} W``."""
    s, u = linalg.eigh(W @ W.T)
    s = np.clip(s, np.finfo(W.dtype).tiny, None)
    return (u * (1.0 / np.sqrt(s))) @ u.T @ W


def ica_parallel(X, W, g, *, tol, max_iter, min_iter=1):
    """Parallel (symmetric) FastICA on whitened ``X`` ``(k, n)`` from ``W``.

    Stops when a step changes no row by more than ``tol`` after at least
    ``min_iter`` steps. Returns ``(W, n_iter, converged)``.
    """
    W = sym_decorrelation(np.asarray(W, dtype=np.float64))
    for it in range(1, max_iter + 1):
        gx, g_prime = expectations(X, W, g)
        W1 = sym_decorrelation(gx - g_prime[:, None] * W)
        lim = np.max(np.abs(np.abs(np.einsum("ij,ij->i", W1, W)) - 1.0))
        W = W1
        if lim < tol and it >= min_iter:
            return W, it, True
    return W, max_iter, False


def ica_deflation_one(X, w, W_prev, g, *, tol, max_iter, min_iter=1):
    """Extract one component orthogonal to the rows of ``W_prev``.

    Returns ``(w, n_iter, converged)``.
    """
    w = np.array(w, dtype=np.float64)
    w -= W_prev.T @ (W_prev @ w)
    w /= np.linalg.norm(w)
    for it in range(1, max_iter + 1):
        gx, g_prime = expectations(X, w[None, :], g)
        w1 = gx[0] - g_prime[0] * w
        w1 -= W_prev.T @ (W_prev @ w1)  # Gram-Schmidt against found rows
        w1 /= np.linalg.norm(w1)
        lim = abs(abs(w1 @ w) - 1.0)
        w = w1
        if lim < tol and it >= min_iter:
            return w, it, True
    return w, max_iter, False


# -- whitening, the fixed-point solver and the order of the sources -----------

_CONTROLLER = None


def _single_threaded_blas():
    """Limit BLAS to one thread: the fixed-point iteration runs thousands of
    cache-sized products for which thread start-up costs more than a second
    thread gains (measured: twice as slow with 2 threads on 60 s problems)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _moments(X, *, center):
    """Channel means and covariance of ``X`` (n, c), returned in float64.

    Two BLAS products over the data (``1^T X`` and ``X^T X``) and no centred
    copy. When a channel's mean is large against its spread, the shortcut
    ``E[x x^T] - m m^T`` would cancel most of the precision, so the
    covariance is then recomputed from centred data. With ``center=False``
    the mean is taken as zero and the covariance is the second moment.
    """
    n, c = X.shape
    second = (X.T @ X).astype(np.float64) / n
    if not center:
        return np.zeros(c), second
    mean = (np.ones(n, dtype=X.dtype) @ X).astype(np.float64) / n
    cov = second - np.outer(mean, mean)
    if np.any(mean**2 > 1e2 * np.abs(np.diag(cov))):
        Xc = X - mean.astype(X.dtype)
        cov = (Xc.T @ Xc).astype(np.float64) / n
    return mean, cov


def _project(X, mean, M):
    """``M @ (X - mean).T`` of shape ``(k, n)``, without a centred copy.

    One BLAS product writing the ``(k, n)`` layout of the fixed-point
    iterations; callers that want ``(n, k)`` take the transposed view, which
    is several times faster for a few channels than writing ``(n, k)``.
    """
    M = M.astype(X.dtype)
    Y = M @ X.T
    Y -= (M @ mean.astype(X.dtype))[:, None]
    return Y


def _blocked_r_factor(X, mean, block=1 << 16):
    """R factor (c, c) of the centred ``X`` in float64, one block at a time.

    Tall-skinny QR: the R of ``[R_prev; next block]`` is the R of all rows
    so far, so memory stays at one block (about 1.5 MB for 3 channels)
    instead of a float64 centred copy of the whole recording and LAPACK's
    Fortran-order copy of it (8x the float32 input).
    """
    r = np.zeros((0, X.shape[1]))
    for start in range(0, X.shape[0], block):
        rows = np.asarray(X[start:start + block], dtype=np.float64) - mean
        r = np.linalg.qr(np.vstack([r, rows]), mode="r")
    return r


def _whitening(X, mean, cov, n_components, solver):
    """Whitening matrix ``K`` (k, c): ``Xc @ K.T`` has identity covariance.

    Raises a ValueError naming the problem when the channels do not span
    ``n_components`` dimensions (a silent channel, two identical microphones).
    """
    n_channels, dtype = cov.shape[0], X.dtype
    variances = np.diag(cov)
    # Rounding of the mean leaves a constant channel a variance of the order
    # of (eps * |mean|)^2, not exactly 0.
    floor = (100 * np.finfo(dtype).eps) ** 2 * (np.max(variances) + mean**2)
    silent = np.flatnonzero(variances <= floor)
    if silent.size:
        raise ValueError(
            f"Channel(s) {silent.tolist()} of X are constant (silent): a silent "
            "microphone carries no information about the sources. Remove "
            "those columns before fitting."
        )
    if solver == "eigh":
        d, u = linalg.eigh(cov)
        d, u = d[::-1], u[:, ::-1]
    else:  # "svd": QR then SVD of the small R factor, stable as an SVD of X
        r = _blocked_r_factor(X, mean)
        _, s, vt = linalg.svd(r, full_matrices=False)
        d, u = s**2 / X.shape[0], vt.T
    rank_tol = d[0] * n_channels * np.finfo(dtype).eps * 10
    rank = int(np.sum(d > rank_tol))
    if rank < n_components:
        raise ValueError(
            f"The {n_channels} channels of X are linearly dependent: they span "
            f"only {rank} dimension(s) (relative covariance eigenvalues "
            f"{np.round(d / d[0], 12).tolist()}), so {n_components} sources "
            "cannot be separated. Two microphones recording the same signal do "
            f"this; set n_components <= {rank} or drop redundant channels."
        )
    u = u * np.sign(u[0] + (u[0] == 0))  # deterministic eigenvector signs
    return (u / np.sqrt(d)).T[:n_components]


_LOGCOSH_GAUSS = 0.37456       # E[log cosh(v)] for a standard normal v


def _mean_logcosh(X, W):
    """``E[log cosh(w x)]`` for each row ``w`` of ``W`` over the columns of
    ``X``, in blocks (float64)."""
    n = X.shape[1]
    total = np.zeros(W.shape[0])
    for sl in blocks(n, block_size(max(X.shape[0], W.shape[0]), X.itemsize)):
        Y = np.abs(W.astype(X.dtype) @ X[:, sl]).astype(np.float64)
        total += (Y + np.log1p(np.exp(-2.0 * Y))).sum(axis=1)
    return total / n - np.log(2.0)


def rotate_saddles(X, W):
    """The saddle-point test of FastICA (Tichavsky, Koldovsky and Oja,
    2006): for each pair of rows, the pair rotated by 45 degrees replaces it
    when its non-Gaussianity, ``(E[log cosh(y)] - E[log cosh(v)])^2`` summed
    over the pair, is larger. A fixed-point run can stop at such a saddle
    (two sources half mixed, every step tiny); the rotated pair starts next
    to the separating solution. Returns ``(W, rotated)``; ``W`` stays
    orthonormal."""
    W = np.array(W, dtype=np.float64)
    k = W.shape[0]
    if k < 2:
        return W, False
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    rows = np.concatenate([W] + [np.stack([W[i] + W[j], W[i] - W[j]]) / np.sqrt(2.0)
                                 for i, j in pairs])
    score = (_mean_logcosh(X, rows) - _LOGCOSH_GAUSS) ** 2
    own, rotated = score[:k], score[k:].reshape(-1, 2).sum(axis=1)
    gain = rotated - own[[i for i, _ in pairs]] - own[[j for _, j in pairs]]
    done, changed = set(), False
    for p in np.argsort(-gain):          # the largest gains first, disjoint pairs
        i, j = pairs[p]
        if gain[p] <= 0:
            break
        if i in done or j in done:
            continue
        W[i], W[j] = rows[k + 2 * p], rows[k + 2 * p + 1]
        done.update((i, j))
        changed = True
    return W, changed


def _fixed_point(X1, w_init, g, *, algorithm, tol, max_iter, n_warmup):
    """Run FastICA on whitened ``X1`` (k, n): first on a strided subsample of
    ``n_warmup`` samples when that is much smaller than ``n``, then on all
    samples from where the warm-up stopped.

    Returns ``(W, n_iter, converged)``; ``n_iter`` counts both stages and
    ``converged`` is that of the full-data stage. After a warm-up the
    full-data stage takes at least two steps: its first step only moves the
    subsample's fixed point to the full data's and is small enough to pass
    ``tol`` at once, so a second step is what gives the same precision as
    iterating on all samples from the start.
    """
    n = X1.shape[1]
    stages = [X1]
    if n_warmup is not None and n >= 4 * n_warmup:
        stages.insert(0, np.ascontiguousarray(X1[:, :: n // n_warmup]))
    min_iter = [1] * (len(stages) - 1) + [min(len(stages), max_iter)]
    W, n_iter, converged = _run(stages, min_iter, w_init, g, algorithm=algorithm,
                                tol=tol, max_iter=max_iter)
    # a stop at a saddle: rotate the pairs found there and iterate on
    for _ in range(W.shape[0]):
        if not converged:
            break
        W, rotated = rotate_saddles(X1, W)
        if not rotated:
            break
        W, more, converged = _run([X1], [min(2, max_iter)], W, g, algorithm=algorithm,
                                  tol=tol, max_iter=max_iter)
        n_iter += more
    return W, n_iter, converged


def _run(stages, min_iter, w_init, g, *, algorithm, tol, max_iter):
    """The fixed-point iterations of ``algorithm`` over the data ``stages``
    in turn, each from where the last stopped: ``(W, n_iter, converged)``."""
    n_iter, converged = 0, True
    if algorithm == "parallel":
        W = w_init
        for X, least in zip(stages, min_iter):
            W, it, converged = ica_parallel(X, W, g, tol=tol,
                                                  max_iter=max_iter, min_iter=least)
            n_iter += it
        return W, n_iter, converged
    W = np.zeros(w_init.shape)
    for j in range(w_init.shape[0]):
        w, its = w_init[j], 0
        for X, least in zip(stages, min_iter):
            w, it, conv = ica_deflation_one(
                X, w, W[:j], g, tol=tol, max_iter=max_iter, min_iter=least
            )
            its += it
        W[j] = w
        n_iter, converged = max(n_iter, its), converged and conv
    return W, n_iter, converged


def _canonical_order(components, mixing, source_var):
    """Order sources by decreasing energy in the recording and fix signs so
    that each source enters the microphone it dominates with a positive gain.
    """
    energy = source_var * np.sum(mixing**2, axis=0)
    order = np.argsort(-energy, kind="stable")
    mixing = mixing[:, order]
    sign = np.sign(mixing[np.argmax(np.abs(mixing), axis=0), np.arange(len(order))])
    sign[sign == 0] = 1
    return components[order] * sign[:, None], mixing * sign
