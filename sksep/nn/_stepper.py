"""The causal TCN's NumPy stepper: :class:`~sksep.nn.MaskNet` (``kind='causal-tcn'``)
frame by frame for live streaming (``MaskNet._tcn_stepper``)."""

import os
import time

import numpy as np

#: Run the call as one compiled kernel (``sksep.nn._fused``, numba) when numba
#: can be imported; ``False`` (or the environment variable ``SKSEP_NUMBA=0``)
#: keeps the NumPy path, the reference. Read when a stepper is built.
FUSED = os.environ.get("SKSEP_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")


def _fused_kernel():
    """``sksep.nn._fused.tcn_call``, or None without numba."""
    if not FUSED:
        return None
    try:
        from ._fused import tcn_call
    except ImportError:     # no numba (or one this NumPy refuses): the NumPy path
        return None
    return tcn_call


class _CausalTCNStepper:
    """A causal TCN (``MaskNet(kind='causal-tcn')``) frame by frame, in NumPy.

    A live block brings a few frames, so what costs is the number of array
    operations (about a microsecond each) and reading the weights (float32
    halves it), more than the arithmetic. Every call runs each layer once on
    all the frames it brings, in preallocated buffers, and the affine steps
    are folded into the matrices ahead of time:

    - each layer norm's scale and shift go into the linear step after it (the
      input 1x1 convolution, the depthwise taps, the res and skip 1x1
      convolutions); a matrix product's bias rides on a column of ones;
    - a block's res and skip 1x1 convolutions are one product;
    - PReLU is ``max(x, a x)`` (``min`` for ``a > 1``);
    - each depthwise convolution reads a tape of its (normalised) inputs that
      holds the history it needs before the new frames, so the state is
      copied once every ``max_frames`` frames, not per call; the tape starts
      with the values that the offline convolution's zero padding becomes
      once the norm's affine is folded.

    ``dtype`` is the dtype of the arithmetic, float32 by default as the
    streamer uses it (the folding is done in float64).

    With numba (``FUSED``), a call is one compiled kernel over the same folded
    weights and tapes (``sksep.nn._fused``): the ~30 NumPy operations per
    layer cost more than their arithmetic. It is compiled (or loaded from
    numba's cache) and run on a dummy frame here, at construction, so that
    no compilation lands in a stream; ``compile_s_`` says how long that took
    (0 on the NumPy path) and ``fused_`` which path runs.
    """

    max_frames = 64      # frames per pass; longer calls are split (causal)

    def __init__(self, net, dtype=np.float32):
        def arr(t):
            return t.detach().cpu().numpy().astype(np.float64)

        self.dtype = dt = np.dtype(dtype)
        self.n_sources, self.softmax = net.n_sources, net.activation == "softmax"
        g0, be0 = arr(net.norm.weight), arr(net.norm.bias)
        w0 = arr(net.inp.weight[:, :, 0]).T                      # (F, C)
        self.n_freqs, self.width = w0.shape
        self.eps0 = net.norm.eps
        self.w0 = np.vstack([g0[:, None] * w0, be0 @ w0 + arr(net.inp.bias)]).astype(dt)
        self.layers = []
        for b in net.body:
            hidden = b.inp.out_channels
            w_in = np.vstack([arr(b.inp.weight[:, :, 0]).T, arr(b.inp.bias)])
            g1, be1 = arr(b.norm1.norm.weight), arr(b.norm1.norm.bias)
            k = arr(b.depthwise.weight[:, 0, :]).T               # (kernel, hidden)
            back = [(b.kernel_size - 1 - j) * b.dilation for j in range(b.kernel_size)]
            fold = bool(np.all(g1 != 0))
            if fold:   # tape holds (y - mean) / std; the padding's zeros become -be1/g1
                taps = k * g1
                bias = arr(b.depthwise.bias) + k.sum(0) * be1
                pad = -be1 / g1
                affine = None
            else:      # a zero scale cannot be folded: the tape holds the norm's output
                taps, bias, pad = k, arr(b.depthwise.bias), np.zeros(hidden)
                affine = (g1.astype(dt), be1.astype(dt))
            g2, be2 = arr(b.norm2.norm.weight), arr(b.norm2.norm.bias)
            w_res, w_skip = arr(b.res.weight[:, :, 0]).T, arr(b.skip.weight[:, :, 0]).T
            w_out = np.hstack([w_res, w_skip])                   # (hidden, 2 C)
            b_out = np.concatenate([arr(b.res.bias), arr(b.skip.bias)])
            res = np.vstack([g2[:, None] * w_out, be2 @ w_out + b_out])
            # the last `context` frames, then room for max_frames new ones
            tape = np.empty((b.context + self.max_frames, hidden), dtype=dt)
            tape[:b.context] = pad
            a1, a2 = b.act1.weight.item(), b.act2.weight.item()
            self.layers.append(dict(
                w_in=w_in.astype(dt), a1=a1, max1=np.maximum if a1 <= 1 else np.minimum,
                eps1=b.norm1.norm.eps, affine=affine, tape=tape, context=b.context,
                taps=[(back[j], taps[j].astype(dt)) for j in range(b.kernel_size)],
                bias=bias.astype(dt), a2=a2, max2=np.maximum if a2 <= 1 else np.minimum,
                eps2=b.norm2.norm.eps, res=res.astype(dt), hidden=hidden))
        self.a_skip = net.skip_act.weight.item()
        self.max_skip = np.maximum if self.a_skip <= 1 else np.minimum
        self.out = np.vstack([arr(net.out.weight).T, arr(net.out.bias)]).astype(dt)
        hidden = {L["hidden"] for L in self.layers} or {1}
        if len(hidden) > 1:  # pragma: no cover - MaskNet's blocks are all alike
            raise ValueError("The blocks of a causal TCN must have equal widths.")
        (hid,) = hidden       # means over channels as products with 1/n columns
        self._mean_h = np.full((hid, 1), 1.0 / hid, dt)
        self._mean_f = np.full((self.n_freqs, 1), 1.0 / self.n_freqs, dt)
        # variance + eps as one product: squares beside a column of ones
        self._var_f = np.vstack([self._mean_f, [[self.eps0]]]).astype(dt)
        for L in self.layers:
            L["var1"] = np.vstack([self._mean_h, [[L.pop("eps1")]]]).astype(dt)
            L["var2"] = np.vstack([self._mean_h, [[L.pop("eps2")]]]).astype(dt)
        self._steps = [tuple(L[k] for k in (
            "w_in", "a1", "max1", "var1", "tape", "context", "affine", "taps", "bias",
            "a2",
            "max2", "var2", "res")) for L in self.layers]
        from scipy.special import expit

        self._expit = expit
        self.pos = 0        # frames on the tapes after their history
        self._rows, self._views = 0, {}
        self.fused_, self.compile_s_ = False, 0.0
        kernel = _fused_kernel()
        if kernel is not None and self.layers and len(
                {len(L["taps"]) for L in self.layers}) == 1:
            self._setup_fused(kernel)

    def _setup_fused(self, kernel):
        """Stack the layers' weights for the kernel, put every tape in one
        array (the layers' tapes become views of it, so both paths share the
        state), and compile and warm the kernel on a dummy frame."""
        dt, Ls = self.dtype, self.layers
        sizes = [L["tape"].shape[0] for L in Ls]
        start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        tapes = np.empty((sum(sizes), Ls[0]["hidden"]), dt)
        for L, a, m in zip(Ls, start, sizes):
            tapes[a:a + m] = L["tape"]
            L["tape"] = tapes[a:a + m]
        self._steps = [(*st[:4], L["tape"], *st[5:]) for st, L in zip(self._steps, Ls)]
        hid = Ls[0]["hidden"]
        aff = [L["affine"] or (np.ones(hid, dt), np.zeros(hid, dt)) for L in Ls]
        c = np.ascontiguousarray    # the kernel's loops want C order
        self._fused_args = (
            c(self.w0), self._var_f[-1, 0], c(np.stack([L["w_in"] for L in Ls])),
            np.array([L["a1"] for L in Ls], dt), np.array([L["var1"][-1, 0] for L in Ls], dt),
            np.array([L["affine"] is not None for L in Ls]),
            c(np.stack([a[0] for a in aff])), c(np.stack([a[1] for a in aff])),
            tapes, start, np.array([L["context"] for L in Ls], np.int64))
        self._fused_args2 = (
            np.array([[b for b, _ in L["taps"]] for L in Ls], np.int64),
            c(np.stack([np.stack([w for _, w in L["taps"]]) for L in Ls])),
            c(np.stack([L["bias"] for L in Ls])),
            np.array([L["a2"] for L in Ls], dt), np.array([L["var2"][-1, 0] for L in Ls], dt),
            c(np.stack([L["res"] for L in Ls])), dt.type(self.a_skip), c(self.out),
            self.n_sources, self.softmax)
        self._kernel = kernel
        # compile (or load from the cache) and run once, on a frame written
        # past the tapes' live rows and then forgotten (pos is not advanced)
        t0 = time.perf_counter()
        kernel(np.zeros((1, self.n_freqs), dt), *self._fused_args, self.pos,
               *self._fused_args2)
        self.compile_s_ = time.perf_counter() - t0
        self.fused_ = True

    def _buffers(self, n):
        """Views of the work buffers for ``n`` frames (grown on demand)."""
        if n > self._rows:
            self._rows, self._views = max(n, 2 * self._rows, 4), {}
            r, dt, C = self._rows, self.dtype, self.width
            hid = max([L["hidden"] for L in self.layers] + [1])
            self._f = np.empty((r, self.n_freqs + 1), dt)
            self._tf = np.empty((r, self.n_freqs + 1), dt)
            self._tf[:, -1] = 1
            self._f[:, -1] = 1
            self._h = np.empty((r, C + 1), dt)
            self._h[:, -1] = 1
            self._y, self._d = np.empty((r, hid), dt), np.empty((r, hid), dt)
            self._t = np.empty((r, hid + 1), dt)
            self._t[:, -1] = 1
            self._m, self._r = np.empty((r, 1), dt), np.empty((r, 2 * C), dt)
            self._z = np.empty((r, hid + 1), dt)
            self._z[:, -1] = 1
            self._s = np.empty((r, C + 1), dt)
            self._s[:, -1] = 1
        v = self._views.get(n)
        if v is None:
            f, h, s, z = self._f[:n], self._h[:n], self._s[:n], self._z[:n]
            v = self._views[n] = dict(
                f=f, fx=f[:, :-1], tf=self._tf[:n, :-1], tfx=self._tf[:n], h=h,
                hx=h[:, :-1], y=self._y[:n], t=self._t[:n, :-1], tx=self._t[:n],
                d=self._d[:n], m=self._m[:n],
                r=self._r[:n], res=self._r[:n, :self.width],
                skip=self._r[:n, self.width:], z=z[:, :-1], zx=z, s=s, sx=s[:, :-1])
        return v

    def __call__(self, features):
        x = np.asarray(features, dtype=self.dtype)
        n = x.shape[0]
        if n > self.max_frames:
            return np.concatenate([self(x[i:i + self.max_frames])
                                   for i in range(0, n, self.max_frames)], axis=1)
        if n == 0:
            return np.zeros((self.n_sources, 0, self.n_freqs), self.dtype)
        if self.pos + n > self.max_frames:          # keep the history, drop the rest
            for L in self.layers:
                c = L["context"]
                L["tape"][:c] = L["tape"][self.pos:self.pos + c]
            self.pos = 0
        p = self.pos
        if self.fused_:
            self.pos += n
            return self._kernel(np.ascontiguousarray(x), *self._fused_args, p,
                                *self._fused_args2)
        v = self._buffers(n)
        # np.dot where the output is contiguous (less overhead than matmul)
        mul, add, sub, div, sqrt, dot = (np.multiply, np.add, np.subtract, np.divide,
                                         np.sqrt, np.dot)
        m, t, tx, y, d, r = v["m"], v["t"], v["tx"], v["y"], v["d"], v["r"]
        z, zx, mean = v["z"], v["zx"], self._mean_h
        # input layer norm (its affine is in w0), then the 1x1 convolution
        fx, tf = v["fx"], v["tf"]
        dot(x, self._mean_f, out=m)
        sub(x, m, out=fx)
        mul(fx, fx, out=tf)
        dot(v["tfx"], self._var_f, out=m)                 # variance + eps
        sqrt(m, out=m)
        div(fx, m, out=fx)
        h, hx, sx = v["h"], v["hx"], v["sx"]
        np.matmul(v["f"], self.w0, out=hx)
        sx[...] = 0
        res, skip = v["res"], v["skip"]
        for (w_in, a1, max1, var1, tape, c, affine, taps, bias, a2, max2, var2,
             w_out) in self._steps:
            dot(h, w_in, out=y)                           # 1x1 conv (bias in w_in)
            mul(y, a1, out=t)                             # PReLU
            max1(y, t, out=y)
            dot(y, mean, out=m)                           # layer norm, to the tape
            sub(y, m, out=y)
            mul(y, y, out=t)
            dot(tx, var1, out=m)
            sqrt(m, out=m)
            q = c + p                                     # the new frames' row
            new = tape[q:q + n]
            div(y, m, out=new)
            if affine is not None:
                mul(new, affine[0], out=new)
                add(new, affine[1], out=new)
            (back, w), *rest = taps                       # depthwise dilated conv
            mul(tape[q - back:q - back + n], w, out=d)
            for back, w in rest:
                mul(tape[q - back:q - back + n], w, out=t)
                add(d, t, out=d)
            add(d, bias, out=d)
            mul(d, a2, out=t)                             # PReLU
            max2(d, t, out=d)
            dot(d, mean, out=m)                           # layer norm
            sub(d, m, out=d)
            mul(d, d, out=t)
            dot(tx, var2, out=m)
            sqrt(m, out=m)
            div(d, m, out=z)
            dot(zx, w_out, out=r)                         # res and skip 1x1 convs
            add(hx, res, out=hx)
            add(sx, skip, out=sx)
        self.pos += n
        mul(sx, self.a_skip, out=res)
        self.max_skip(sx, res, out=sx)
        logits = np.matmul(v["s"], self.out).reshape(n, self.n_sources, -1)
        if self.softmax:
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits, out=logits)
            e /= e.sum(axis=1, keepdims=True)
        else:
            e = self._expit(logits, out=logits)
        return e.transpose(1, 0, 2)
