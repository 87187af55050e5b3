"""The causal TCN stepper's call as one compiled kernel (numba).

Imported by :class:`~sksep.nn._stepper._CausalTCNStepper` only when numba can
be imported (it comes with librosa); without it the NumPy path runs. One call
of :func:`tcn_call` runs every layer on the frames a block brings: the 1x1
convolutions as loops over the weights' rows for 1-3 frames (each row read
once per call, added into every frame's output), as BLAS products (np.dot,
called from the kernel) for more, the
PReLUs, layer norms, depthwise taps and the skip sum fused in between. The
arithmetic is the NumPy path's (same folded weights, same tapes), in another
order of summation: equal within the dtype's rounding.
"""

import numpy as np
from numba import njit

# reassociation lets the channel sums vectorise; contraction allows FMAs.
# NaNs and infinities keep their IEEE meaning (no 'nnan', 'ninf').
_FLAGS = {"reassoc", "contract"}
# from this many frames on, a 1x1 convolution is one BLAS product (np.dot in
# the kernel); below it, the loops (as fast or faster at 1-2 frames; the
# weights are read once either way)
_DOT_FROM = 4


@njit(cache=True, fastmath=_FLAGS, nogil=True)
def _affine(x, w, out):
    """``out = x @ w[:-1] + w[-1]`` (the bias row last)."""
    n, k_in = x.shape
    if n >= _DOT_FROM:          # BLAS (numba calls it without Python between)
        np.dot(x, w[:k_in], out)
        for j in range(n):
            for c in range(w.shape[1]):
                out[j, c] += w[k_in, c]
        return
    m = w.shape[1]
    for j in range(n):
        for c in range(m):
            out[j, c] = w[k_in, c]
    for k in range(k_in):
        for j in range(n):
            v = x[j, k]
            for c in range(m):
                out[j, c] += v * w[k, c]


@njit(cache=True, fastmath=_FLAGS, nogil=True)
def _norm_rows(x, eps, out):
    """Each row of ``x`` to zero mean and unit variance (``+ eps``) in ``out``."""
    n, m = x.shape
    dt = x.dtype.type
    inv, eps = dt(1.0 / m), dt(eps)
    for j in range(n):
        s = dt(0)
        for c in range(m):
            s += x[j, c]
        mu = s * inv
        q = dt(0)
        for c in range(m):
            e = x[j, c] - mu
            q += e * e
        sd = np.sqrt(q * inv + eps)
        for c in range(m):
            out[j, c] = (x[j, c] - mu) / sd


@njit(cache=True, fastmath=_FLAGS, nogil=True)
def _prelu(x, a):
    n, m = x.shape
    for j in range(n):
        for c in range(m):
            if x[j, c] < 0:
                x[j, c] *= a


@njit(cache=True, fastmath=_FLAGS, nogil=True)
def tcn_call(x, w0, eps0, w_in, a1, eps1, affine, g1, be1, tapes, start, context, p,
             back, taps, bias, a2, eps2, res, a_skip, w_out, n_sources, softmax):
    """Masks ``(n_sources, n, n_freqs)`` for the frames ``x`` ``(n, n_freqs)``.

    Per layer ``l`` (stacked arrays): ``w_in[l]`` and ``res[l]`` with the bias
    row last, PReLU slopes ``a1[l]``, ``a2[l]``, the norms' ``eps1[l]``,
    ``eps2[l]``, the unfolded affine ``g1[l]``, ``be1[l]`` where
    ``affine[l]``; its tape is ``tapes[start[l]:]``, history ``context[l]``
    rows, the new frames at row ``context[l] + p``; the depthwise tap ``i``
    reads ``back[l, i]`` rows back with weights ``taps[l, i]`` plus
    ``bias[l]``.
    """
    n, n_freqs = x.shape
    dt = x.dtype.type
    n_layers, hid = bias.shape
    width = w0.shape[1]
    f = np.empty((n, n_freqs), x.dtype)
    _norm_rows(x, eps0, f)
    h = np.empty((n, width), x.dtype)
    _affine(f, w0, h)
    s = np.zeros((n, width), x.dtype)
    y = np.empty((n, hid), x.dtype)
    d = np.empty((n, hid), x.dtype)
    r = np.empty((n, 2 * width), x.dtype)
    for L in range(n_layers):
        _affine(h, w_in[L], y)                          # 1x1 conv
        _prelu(y, a1[L])
        q = start[L] + context[L] + p                   # the new frames' row
        new = tapes[q:q + n]
        _norm_rows(y, eps1[L], new)                     # layer norm, to the tape
        if affine[L]:
            for j in range(n):
                for c in range(hid):
                    new[j, c] = new[j, c] * g1[L, c] + be1[L, c]
        for j in range(n):                              # depthwise dilated conv
            for c in range(hid):
                d[j, c] = bias[L, c]
            for i in range(back.shape[1]):
                row = q + j - back[L, i]
                for c in range(hid):
                    d[j, c] += tapes[row, c] * taps[L, i, c]
        _prelu(d, a2[L])
        _norm_rows(d, eps2[L], y)                       # layer norm
        _affine(y, res[L], r)                           # res and skip 1x1 convs
        for j in range(n):
            for c in range(width):
                h[j, c] += r[j, c]
                s[j, c] += r[j, width + c]
    _prelu(s, a_skip)
    logits = np.empty((n, w_out.shape[1]), x.dtype)
    _affine(s, w_out, logits)
    m = logits.shape[1] // n_sources
    out = np.empty((n_sources, n, m), x.dtype)
    one = dt(1)
    for j in range(n):
        for c in range(m):
            if softmax:
                top = logits[j, c]
                for k in range(1, n_sources):
                    top = max(top, logits[j, k * m + c])
                tot = dt(0)
                for k in range(n_sources):
                    e = np.exp(logits[j, k * m + c] - top)
                    out[k, j, c] = e
                    tot += e
                for k in range(n_sources):
                    out[k, j, c] /= tot
            else:
                for k in range(n_sources):
                    out[k, j, c] = one / (one + np.exp(-logits[j, k * m + c]))
    return out
