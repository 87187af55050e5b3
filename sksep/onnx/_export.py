"""One streaming step of a causal mask estimator as an ONNX graph.

The graph is the whole of :meth:`sksep.MaskEstimator.streamer`'s work for
``T`` new STFT frames: framing, the analysis DFT, log-magnitude features,
the causal TCN with its convolutions' memory, the masks, the inverse DFT and
the overlap-add. Everything it remembers between calls is an input and an
output, so that the caller (:class:`~sksep.onnx.OnnxStreamer`) holds the
state and one file serves many streams:

- ``samples`` ``(T * hop,)``: the next samples of the padded signal;
- ``buffer`` ``(n_fft - hop,)``: the padded samples before them, which the
  first new frame still needs;
- ``overlap`` ``(n_sources + 1, n_fft - hop)``: the overlap-add of the
  frames so far beyond the finished samples, the sources then the summed
  squared window (the envelope to divide by);
- ``conv0`` ... ``conv{L-1}`` ``(context, hidden)``: the last frames that
  each block's dilated depthwise convolution reads (its input after the
  first layer norm); zeros at the start, as the offline zero padding.

Outputs: ``separated`` ``(n_sources, T * hop)``, the finished samples of the
padded signal, and each state's next value, named after it with ``_out``.

The graph is written node by node with :mod:`onnx.helper` from the
network's weights, rather than traced by ``torch.onnx.export``: its
TorchScript exporter is deprecated, and its ``torch.export`` one took 20 s
per model here (the whole export below takes well under a second), while the
graph is a few standard operators (``Conv``, ``ConvTranspose``, ``Gemm``,
``LayerNormalization``, ``PRelu``, ...) at opset 17, which every recent ONNX
runtime runs. The DFTs are convolutions with fixed cosine and sine bases
(the window folded in). Every export checks the graph against the network
itself (:func:`_check_against_network`), so a network whose layers change
meaning is refused rather than exported wrong.
"""

import numpy as np

FORMAT = "sksep-stream"
FORMAT_VERSION = 1
_OPSET = 17          # LayerNormalization
_IR_VERSION = 8      # the oldest IR of opset 17: older runtimes load the file
_INT_MAX = np.iinfo(np.int64).max


def _causal_tcn_parts(model):
    """The spectral separator and its causal TCN, or a ValueError saying
    why ``model`` cannot be exported."""
    from sklearn.utils.validation import check_is_fitted

    from ..neural import MaskEstimator

    if not isinstance(model, MaskEstimator):
        raise ValueError(
            f"Only a causal MaskEstimator can be exported for streaming, got a "
            f"{type(model).__name__}. The shipped causal models are "
            "'speech8k-2voices-causal-8ms', '-16ms' and '-32ms'.")
    check_is_fitted(model)
    if model.kind != "causal-tcn":
        why = ("looks at future frames and cannot stream"
               if model.kind != "lstm"
               else "is causal, but only kind='causal-tcn' exports to ONNX so far "
                    "(stream it with model.streamer())")
        raise ValueError(
            f"MaskEstimator(kind={model.kind!r}) {why}. Export a causal TCN: "
            "kind='causal-tcn', or the shipped 'speech8k-2voices-causal-8ms', "
            "'-16ms' or '-32ms'.")
    spectral = model.net_.module_
    if not spectral.center or spectral.pad_mode not in ("reflect", "constant",
                                                         "replicate"):
        raise ValueError(
            "Streaming needs a centred STFT padded in 'reflect', 'constant' or "
            f"'replicate' mode, got center={spectral.center}, "
            f"pad_mode={spectral.pad_mode!r}.")
    return spectral, spectral.mask_net


def _dft_bases(window, n_fft):
    """Analysis and synthesis bases ``(2 * n_freqs, 1, n_fft)``, float64:
    real then imaginary rows. Analysis gives ``rfft(frame * window)``;
    synthesis (a transposed convolution) gives ``irfft(spec) * window``,
    overlap-added."""
    n_freqs = n_fft // 2 + 1
    k = np.arange(n_freqs)[:, None]
    n = np.arange(n_fft)[None, :]
    angle = 2 * np.pi * ((k * n) % n_fft) / n_fft
    cos, sin = np.cos(angle), np.sin(angle)
    analysis = np.concatenate([cos * window, -sin * window])
    weight = np.full((n_freqs, 1), 2.0 / n_fft)   # irfft counts the halves twice
    weight[0] = 1.0 / n_fft
    if n_fft % 2 == 0:
        weight[-1] = 1.0 / n_fft
    synthesis = np.concatenate([weight * cos * window, -weight * sin * window])
    return analysis[:, None, :], synthesis[:, None, :]


class _Graph:
    """Nodes and float32 initializers, each output named after its step."""

    def __init__(self):
        self.nodes, self.inits, self._count = [], [], 0

    def const(self, name, value, dtype=np.float32):
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def __call__(self, op, *inputs, out=None, **attrs):
        from onnx import helper

        self._count += 1
        out = out or f"{op.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def slice(self, x, start, end, axis, out=None):
        return self("Slice", x, self._ints([start]), self._ints([end]),
                    self._ints([axis]), out=out)

    def _ints(self, values):
        self._count += 1
        return self.const(f"i64_{self._count}", values, np.int64)


def _weights(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _masks_nodes(g, net, features):
    """MaskNet's forward on ``features`` ``(T, n_freqs)`` in (frames,
    channels) layout: the masks ``(n_sources, T, n_freqs)`` and the
    convolution states ``[(input, output, shape)]``.

    Two rewrites save four nodes a block (a node costs a few microseconds in
    onnxruntime, about what its arithmetic does on a few frames): the
    skip connections' 1x1 convolutions are one product of all the blocks'
    outputs side by side at the end, and the residual stream is carried
    without its biases (their sum goes into the next blocks' input
    biases), so that each residual update is one ``Gemm`` adding onto it.
    """
    w = _weights

    def layer_norm(x, norm, name):
        return g("LayerNormalization", x, g.const(f"{name}.g", w(norm.weight)),
                 g.const(f"{name}.b", w(norm.bias)), axis=-1, epsilon=norm.eps)

    def linear(x, weight, bias, name):      # weight (in, out); bias or a tensor
        c = bias if isinstance(bias, str) else g.const(f"{name}.b", bias)
        return g("Gemm", x, g.const(f"{name}.w", weight), c)

    def prelu(x, act, name):
        return g("PRelu", x, g.const(f"{name}.a", w(act.weight)))

    def conv1x1(conv):
        return w(conv.weight[:, :, 0]).T, w(conv.bias)

    h = layer_norm(features, net.norm, "norm")
    h = linear(h, *conv1x1(net.inp), "inp")
    carried = np.zeros(net.inp.out_channels)   # biases left out of h so far
    outputs, states = [], []
    for i, block in enumerate(net.body):
        p = f"block{i}"
        w_in, b_in = conv1x1(block.inp)
        y = linear(h, w_in, b_in + carried @ w_in, f"{p}.inp")
        y = layer_norm(prelu(y, block.act1, f"{p}.act1"), block.norm1.norm,
                       f"{p}.norm1")
        # the depthwise convolution reads the remembered frames, then the new
        full = g("Concat", f"conv{i}", y, axis=0)
        g.slice(full, -block.context, _INT_MAX, 0, out=f"conv{i}_out")
        states.append((f"conv{i}", f"conv{i}_out",
                       [block.context, block.depthwise.in_channels]))
        d = g("Transpose", g("Unsqueeze", full, g._ints([0])), perm=[0, 2, 1])
        d = g("Conv", d, g.const(f"{p}.dw.w", w(block.depthwise.weight)),
              g.const(f"{p}.dw.b", w(block.depthwise.bias)),
              group=block.depthwise.groups, dilations=[block.dilation],
              kernel_shape=[block.kernel_size])
        d = g("Squeeze", g("Transpose", d, perm=[0, 2, 1]), g._ints([0]))
        z = layer_norm(prelu(d, block.act2, f"{p}.act2"), block.norm2.norm,
                       f"{p}.norm2")
        outputs.append(z)
        if i < len(net.body) - 1:           # the last block's residual is unused
            w_res, b_res = conv1x1(block.res)
            h = linear(z, w_res, h, f"{p}.res")
            carried = carried + b_res
    skips = [conv1x1(block.skip) for block in net.body]
    both = outputs[0] if len(outputs) == 1 else g("Concat", *outputs, axis=1)
    skip = linear(both, np.vstack([s[0] for s in skips]), sum(s[1] for s in skips),
                  "skip")
    logits = linear(prelu(skip, net.skip_act, "skip_act"), w(net.out.weight).T,
                    w(net.out.bias), "out")
    n_freqs = net.norm.normalized_shape[0]
    logits = g("Reshape", logits, g._ints([-1, net.n_sources, n_freqs]))
    masks = (g("Softmax", logits, axis=1) if net.activation == "softmax"
             else g("Sigmoid", logits))
    return g("Transpose", masks, perm=[1, 0, 2]), states


def _build(spectral, net):
    """The streaming step as an ``onnx.ModelProto`` (no metadata yet)."""
    from onnx import TensorProto, helper

    from ..nn._modules import _LOG_EPS

    n_fft, hop = int(spectral.n_fft), int(spectral.hop_length)
    n_freqs, keep, n_sources = n_fft // 2 + 1, n_fft - hop, int(net.n_sources)
    window = _weights(spectral.window)
    analysis, synthesis = _dft_bases(window, n_fft)
    g = _Graph()
    # frames of the padded signal and their spectra (frames, 2 n_freqs)
    x = g("Concat", "buffer", "samples", axis=0)
    g.slice(x, -keep, _INT_MAX, 0, out="buffer_out")
    spec = g("Conv", g("Reshape", x, g._ints([1, 1, -1])),
             g.const("analysis", analysis), strides=[hop],
             kernel_shape=[n_fft])                                  # (1, 2F, T)
    spec_t = g("Transpose", g("Squeeze", spec, g._ints([0])), perm=[1, 0])
    power = g("MatMul", g("Mul", spec_t, spec_t),   # re^2 + im^2
              g.const("sum_re_im", np.vstack([np.eye(n_freqs)] * 2)))
    features = g("Log", g("Add", power, g.const("log_eps", _LOG_EPS)))
    masks, states = _masks_nodes(g, net, features)                 # (S, T, F)
    masked = g("Mul", g("Concat", masks, masks, axis=-1), spec_t)  # (S, T, 2F)
    frames = g("ConvTranspose", g("Transpose", masked, perm=[0, 2, 1]),
               g.const("synthesis", synthesis), strides=[hop], kernel_shape=[n_fft])
    ones = g.slice(spec, 0, 1, 1)                                  # (1, 1, T)
    ones = g("Expand", g.const("one", [1.0]), g("Shape", ones))
    env = g("ConvTranspose", ones, g.const("window2", (window**2)[None, None]),
            strides=[hop], kernel_shape=[n_fft])                   # (1, 1, L)
    acc = g("Squeeze", g("Concat", frames, env, axis=0), g._ints([1]))   # (S + 1, L)
    acc = g("Concat", g("Add", g.slice(acc, 0, keep, 1), "overlap"),
            g.slice(acc, keep, _INT_MAX, 1), axis=1)
    g.slice(acc, -keep, _INT_MAX, 1, out="overlap_out")
    done = g.slice(acc, 0, -keep, 1)                               # (S + 1, T hop)
    envelope = g("Max", g.slice(done, n_sources, n_sources + 1, 0),
                 g.const("tiny", np.finfo(np.float32).tiny))
    g("Div", g.slice(done, 0, n_sources, 0), envelope, out="separated")

    def tensor(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    state = [("buffer", "buffer_out", [keep]),
             ("overlap", "overlap_out", [n_sources + 1, keep]), *states]
    graph = helper.make_graph(
        g.nodes, "sksep_streaming_step",
        [tensor("samples", ["n_samples"])] + [tensor(i, s) for i, _, s in state],
        [tensor("separated", [n_sources, "n_samples"])]
        + [tensor(o, s) for _, o, s in state],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)],
                              producer_name="sksep")
    model.ir_version = _IR_VERSION
    return model, [name for name, _, _ in state]


def _check_against_network(onnx_model, spectral, net, state_names, n_frames=40):
    """Run the graph with onnxruntime on a random signal, fed a few frames at a
    time, and compare its masked spectra's waveform with the network's own
    separation of the same frames: a guard against a network whose layers no
    longer mean what the graph assumes."""
    import onnxruntime as ort
    import torch

    from ..nn._modules import _LOG_EPS

    hop, n_fft = int(spectral.hop_length), int(spectral.n_fft)
    keep = n_fft - hop
    rng = np.random.default_rng(0)
    padded = rng.standard_normal(keep + n_frames * hop).astype(np.float32)
    session = ort.InferenceSession(onnx_model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    state = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs()
             if i.name != "samples"}
    state["buffer"] = padded[:keep]
    outs, at = [], keep
    for size in (1, 3, 7, n_frames - 11):
        separated, *new = session.run(None, {"samples": padded[at:at + size * hop],
                                             **state})
        state = dict(zip(state_names, new))
        outs.append(separated)
        at += size * hop
    got = np.concatenate(outs, axis=1)[:, n_fft:]   # covered by every window
    # the network on the same frames, offline: the frames' masked spectra,
    # overlap-added
    with torch.no_grad():
        frames = torch.as_tensor(padded).unfold(0, n_fft, hop)      # (T, n_fft)
        spec = torch.fft.rfft(frames * spectral.window, dim=-1)     # (T, F)
        features = torch.log(spec.real**2 + spec.imag**2 + _LOG_EPS)
        masks = net(features[None])[0]                             # (S, T, F)
        wave = torch.fft.irfft(masks * spec, n=n_fft, dim=-1) * spectral.window
    wave, w2 = wave.numpy().astype(np.float64), spectral.window.numpy() ** 2
    total = np.zeros((wave.shape[0], n_frames * hop + keep))
    env = np.zeros(n_frames * hop + keep)
    for t in range(n_frames):
        total[:, t * hop:t * hop + n_fft] += wave[:, t]
        env[t * hop:t * hop + n_fft] += w2
    expected = (total / np.maximum(env, 1e-30))[:, n_fft:n_frames * hop]
    err = np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-12)
    if not err <= 1e-4:
        raise RuntimeError(
            f"The exported graph differs from the network by {err:.2g} of the "
            "peak; this version of sksep cannot export this network.")


def export_onnx(model, path, *, overwrite=False):
    """Export a causal separator's streaming step to an ONNX file.

    The file runs block by block with onnxruntime and NumPy alone (no torch,
    no scikit-learn) through :class:`OnnxStreamer`, whose output equals
    ``model.streamer()``'s to float32 rounding. The graph takes any number
    of STFT hops per call, so one file serves every block size.

    Parameters
    ----------
    model : MaskEstimator, str or path-like
        A fitted causal mask estimator (``kind='causal-tcn'``), a shipped
        model name (``'speech8k-2voices-causal-8ms'``, ``'-16ms'`` or
        ``'-32ms'``) or a model file written by :func:`sksep.pretrained.save`.
    path : str or path-like
        The ``.onnx`` file to write (atomically: an interrupted export leaves
        no file).
    overwrite : bool, default=False
        Replace an existing file; otherwise an existing ``path`` is an error
        and is left as it was.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For a model that looks at future frames (``kind='blstm'``,
        ``'tcn'`` or ``'dual-path'``), a causal LSTM (not exported yet), or a separator that is
        not a MaskEstimator.
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.

    See Also
    --------
    OnnxStreamer : Runs the exported file block by block.
    sksep.MaskEstimator.streamer : The same stream with torch and NumPy.

    Notes
    -----
    The graph's inputs are ``samples`` (a multiple of the STFT hop) and the
    state tensors, its outputs ``separated`` and the next state; the file's
    metadata (``metadata_props``) holds ``n_fft``, ``hop_length``,
    ``pad_mode``, ``n_sources``, ``sample_rate`` (empty when unknown) and
    ``latency`` (``n_fft - 1`` samples). Exporting needs the ``onnx`` extra
    (onnx and onnxruntime, which checks the graph against the network);
    running it only onnxruntime and NumPy.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sksep.onnx import export_onnx
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> export_onnx("speech8k-2voices-causal-16ms", folder / "m.onnx").name
    'm.onnx'
    """
    from pathlib import Path

    from .._files import atomic_write
    from .._separate import load_model

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory; give a file name such as "
                                f"'{path / 'model.onnx'}'.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"'{path}' already exists; pass overwrite=True to "
                              "replace it.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder '{path.parent}' does not exist.")
    model = load_model(model)
    onnx_model = _to_onnx(model)
    atomic_write(path, lambda tmp: _save(onnx_model, tmp), overwrite=overwrite)
    return path


def _save(onnx_model, tmp):
    import onnx

    onnx.save_model(onnx_model, tmp)


def _to_onnx(model):
    """The checked ``onnx.ModelProto`` of one streaming step, with metadata."""
    try:
        import onnx
        import onnxruntime  # noqa: F401  (checks the graph)
    except ImportError as exc:
        raise ImportError(f"Exporting to ONNX needs onnx and onnxruntime ({exc}): "
                          "pip install 'sksep[onnx]'.") from exc
    from .._version import __version__

    spectral, net = _causal_tcn_parts(model)
    training = spectral.training
    spectral.eval()
    try:
        onnx_model, state_names = _build(spectral, net)
        onnx.checker.check_model(onnx_model)
        _check_against_network(onnx_model, spectral, net, state_names)
    finally:
        spectral.train(training)
    sample_rate = getattr(model, "sample_rate_", None)
    n_fft, hop = int(spectral.n_fft), int(spectral.hop_length)
    onnx.helper.set_model_props(onnx_model, {
        "format": FORMAT, "format_version": str(FORMAT_VERSION),
        "n_fft": str(n_fft), "hop_length": str(hop), "pad_mode": spectral.pad_mode,
        "n_sources": str(net.n_sources),
        "sample_rate": "" if sample_rate is None else str(int(sample_rate)),
        "latency": str(n_fft - 1), "state": ",".join(state_names),
        "sksep_version": __version__})
    onnx_model.doc_string = (
        f"One streaming step of an sksep MaskEstimator(kind={model.kind!r}): "
        f"samples (a multiple of {hop}) and the state in, the {net.n_sources} "
        "separated signals and the next state out. Run it with "
        "sksep.onnx.OnnxStreamer.")
    return onnx_model
