"""Mask networks and the STFT-masking separator that wraps them (torch).

A separator's ``forward`` is a few small steps: encode (STFT and
log-magnitude features), mask (the network), apply (masks times the
mixture's spectrum) and decode (inverse STFT with the mixture's phase).
"""

import math

import numpy as np
import torch
from torch import nn

from .. import _dsp
from .._dsp import _torch as torch_dsp

_LOG_EPS = 1e-8


class _FrameNorm(nn.Module):
    """Layer norm over channels, frame by frame (causal and chunk-invariant),
    on frames-first features; a module of its own so that model files keep
    their parameter names (``norm1.norm.weight``)."""

    def __init__(self, channels):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x):  # (batch, n_frames, channels)
        return self.norm(x)


class TCNBlock(nn.Module):
    """One Conv-TasNet block: 1x1 conv, depthwise dilated conv, 1x1 convs.

    ``forward(x (batch, n_frames, channels))`` returns ``(residual, skip)``,
    each ``(batch, n_frames, channels)``. Causal blocks pad on the left only
    (frame ``t`` sees frames ``<= t``), others on both sides. Normalisation
    is per frame, so the output at a frame does not depend on frames
    outside the receptive field (Luo and Mesgarani, 2019).

    The block keeps its weights as convolutions (``inp``, ``res`` and
    ``skip`` are 1x1 ``Conv1d``) but runs frames-first: the pointwise
    convolutions as matrix products and the per-frame norms on the last
    axis, with the features turned channels-first only around the
    depthwise convolution. On the CPU torch runs a 1x1 ``Conv1d`` through
    its slow unfold-and-multiply path and a channel norm costs two
    transposes; on an AVX2 CPU this layout made the shipped TCN's training
    step 1.3x and its inference 1.8x faster, giving the same outputs
    (benchmarks/results/tcn_frames_first_2026-12-01.log).
    """

    def __init__(self, channels, hidden, dilation, kernel_size=3, causal=False):
        super().__init__()
        self.causal, self.dilation, self.kernel_size = causal, dilation, kernel_size
        self.inp = nn.Conv1d(channels, hidden, 1)
        self.act1, self.norm1 = nn.PReLU(), _FrameNorm(hidden)
        self.depthwise = nn.Conv1d(hidden, hidden, kernel_size, dilation=dilation,
                                   groups=hidden)
        self.act2, self.norm2 = nn.PReLU(), _FrameNorm(hidden)
        self.res = nn.Conv1d(hidden, channels, 1)
        self.skip = nn.Conv1d(hidden, channels, 1)

    @property
    def context(self):
        """Past frames the depthwise convolution needs."""
        return self.dilation * (self.kernel_size - 1)

    def forward(self, x):  # (batch, n_frames, channels)
        h = self.norm1(self.act1(_pointwise(self.inp, x)))
        pad = self.context
        h = nn.functional.pad(h.transpose(1, 2),
                              (pad, 0) if self.causal else (pad // 2, pad - pad // 2))
        h = self.norm2(self.act2(self.depthwise(h).transpose(1, 2)))
        return x + _pointwise(self.res, h), _pointwise(self.skip, h)


def _pointwise(conv, x):
    """A 1x1 ``Conv1d`` applied to frames-first ``x (batch, n_frames,
    channels)``, as a matrix product."""
    return nn.functional.linear(x, conv.weight[:, :, 0], conv.bias)


def band_edges(n_freqs):
    """Band boundaries of :class:`MaskNet`'s ``kind='dual-path'``: narrow
    bands low, wide bands high (Luo and Yu's band-split RNN, 2023).

    The lowest quarter of the bins goes in bands of ``n_freqs // 32``, the
    next half in bands of ``n_freqs // 16`` and the rest in bands of
    ``n_freqs // 8`` (each at least one bin; a region's short remainder
    joins its last band): 18 bands for 129 bins (a 256-point STFT, at 8 kHz
    125 Hz wide up to 1 kHz, 250 Hz up to 3 kHz, 500 Hz above), 257 or
    513 bins.

    Returns a list of ``(start, stop)`` bin ranges covering ``range(n_freqs)``.
    """
    edges, start = [], 0
    for stop, width in ((n_freqs // 4, n_freqs // 32), (3 * n_freqs // 4, n_freqs // 16),
                        (n_freqs, n_freqs // 8)):
        width, first = max(width, 1), len(edges)
        while start < stop:
            end = min(start + width, stop)
            if end - start < width and len(edges) > first:
                edges[-1] = (edges[-1][0], end)
            else:
                edges.append((start, end))
            start = end
    return edges


class DualPathBlock(nn.Module):
    """One dual-path block over band features ``(batch, n_frames, n_bands,
    channels)``: a bidirectional LSTM along time within each band, then one
    across the bands within each frame, each pre-normalised and added back
    (DPRNN's intra/inter recurrence, Luo et al. 2020, over STFT bands as in
    the band-split RNN)."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.time_norm, self.band_norm = nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.time_rnn = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.band_rnn = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.time_proj = nn.Linear(2 * hidden, channels)
        self.band_proj = nn.Linear(2 * hidden, channels)

    def forward(self, x):
        batch, n_frames, n_bands, channels = x.shape
        h = self.time_norm(x).transpose(1, 2).reshape(batch * n_bands, n_frames, channels)
        h = self.time_proj(self.time_rnn(h)[0])
        x = x + h.reshape(batch, n_bands, n_frames, channels).transpose(1, 2)
        h = self.band_norm(x).reshape(batch * n_frames, n_bands, channels)
        h = self.band_proj(self.band_rnn(h)[0])
        return x + h.reshape(batch, n_frames, n_bands, channels)


class MaskNet(nn.Module):
    """Recurrent or temporal-convolutional mask estimator.

    Maps log-magnitude frames ``(batch, n_frames, n_freqs)`` to masks
    ``(batch, n_sources, n_frames, n_freqs)``.

    Parameters
    ----------
    n_freqs : int
        Frequency bins of the input frames.
    n_sources : int
        Masks to estimate.
    hidden_size : int, default=128
        LSTM units per direction, the TCN's bottleneck channels (its
        depthwise convolutions use twice as many), or the dual-path
        network's channels per band (and LSTM units per direction).
    num_layers : int, default=2
        LSTM layers, TCN blocks (dilations 1, 2, ..., 128, then again
        from 1 for every further 8 blocks), or dual-path blocks.
    kind : {'blstm', 'lstm', 'tcn', 'causal-tcn', 'dual-path'}, default='blstm'
        Bidirectional LSTM (offline), unidirectional LSTM (causal), a
        temporal convolutional network of dilated depthwise convolutions
        as in Conv-TasNet (offline, sees past and future frames), the
        same network with causal convolutions (low latency), or a
        band-split dual-path network (offline): the bins are grouped in
        bands, narrow low and wide high (18 bands for a 256-point STFT:
        at 8 kHz 125 Hz wide below 1 kHz, 250 Hz to 3 kHz, 500 Hz above), each
        projected to ``hidden_size`` channels; dual-path blocks then
        alternate a bidirectional LSTM along time within each band and one
        across the bands within each frame (DPRNN's intra/inter recurrence
        over band-split features), and a linear head per band gives its
        masks.
    activation : {'sigmoid', 'softmax'}, default='sigmoid'
        Independent masks in [0, 1], or masks summing to 1 across sources.

    See Also
    --------
    sksep.neural.MaskEstimator : The scikit-learn estimator built on it.
    SpectralSeparator : Turns its masks into waveforms.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import MaskNet
    >>> MaskNet(129, 3, hidden_size=16)(torch.rand(2, 50, 129)).shape
    torch.Size([2, 3, 50, 129])
    >>> MaskNet(65, 2, hidden_size=16, num_layers=4, kind="tcn")(
    ...     torch.rand(2, 50, 65)).shape
    torch.Size([2, 2, 50, 65])
    """

    def __init__(self, n_freqs, n_sources, hidden_size=128, num_layers=2,
                 kind="blstm", activation="sigmoid"):
        super().__init__()
        self.n_sources, self.activation, self.kind = n_sources, activation, kind
        self.norm = nn.LayerNorm(n_freqs)
        if kind in ("blstm", "lstm"):
            bidirectional = kind == "blstm"
            self.body = nn.LSTM(n_freqs, hidden_size, num_layers=num_layers,
                                batch_first=True, bidirectional=bidirectional)
            width = hidden_size * (2 if bidirectional else 1)
        elif kind in ("tcn", "causal-tcn"):
            self.inp = nn.Conv1d(n_freqs, hidden_size, 1)
            self.body = nn.ModuleList(
                TCNBlock(hidden_size, 2 * hidden_size, 2 ** (i % 8),
                         causal=kind == "causal-tcn")
                for i in range(num_layers)
            )
            self.skip_act = nn.PReLU()
            width = hidden_size
        elif kind == "dual-path":
            self.bands = band_edges(n_freqs)
            self.split = nn.ModuleList(nn.Linear(b - a, hidden_size) for a, b in self.bands)
            self.body = nn.ModuleList(DualPathBlock(hidden_size, hidden_size)
                                      for _ in range(num_layers))
            self.head_norm = nn.LayerNorm(hidden_size)
            self.heads = nn.ModuleList(nn.Linear(hidden_size, n_sources * (b - a))
                                       for a, b in self.bands)
            return
        else:
            raise ValueError("kind must be 'blstm', 'lstm', 'tcn', 'causal-tcn' or "
                             f"'dual-path', got {kind!r}.")
        self.out = nn.Linear(width, n_sources * n_freqs)

    @property
    def causal(self):
        return self.kind in ("lstm", "causal-tcn")

    def forward(self, features):
        h = self.norm(features)
        if self.kind == "dual-path":
            return self._dual_path(h)
        if self.kind in ("blstm", "lstm"):
            h, _ = self.body(h)
        else:
            h = _pointwise(self.inp, h)                    # (B, T, channels)
            skip = 0
            for block in self.body:
                h, s = block(h)
                skip = skip + s
            h = self.skip_act(skip)
        return self.activate(self.out(h))

    def _dual_path(self, h):
        batch, n_frames, _ = h.shape
        x = torch.stack([lin(h[..., a:b]) for lin, (a, b) in zip(self.split, self.bands)],
                        dim=2)                             # (B, T, bands, C)
        for block in self.body:
            x = block(x)
        x = self.head_norm(x)
        logits = torch.cat([head(x[:, :, k]).reshape(batch, n_frames, self.n_sources, -1)
                            for k, head in enumerate(self.heads)], dim=-1)
        return self.activate(logits.reshape(batch, n_frames, -1))

    def stepper(self):
        """Masks frame by frame, for one stream (causal kinds only).

        Returns ``masks(features) -> ndarray``: log-magnitude frames
        ``(n_new, n_freqs)`` in, masks ``(n_sources, n_new, n_freqs)`` out,
        continuing from the frames of earlier calls, with the values
        :meth:`forward` gives on the whole sequence (to float32 rounding).
        The stepper holds the state (LSTM state, or the causal convolutions'
        history). A causal TCN steps in NumPy, float32, on the CPU: a live
        block holds a few frames, where NumPy's per-operation cost (about
        1 us) beats torch's several. Each call runs every layer once on all
        its frames, with the norms' affines and the biases folded into the
        matrices, so a layer is about 25 array operations.
        """
        if not self.causal:
            raise ValueError(
                f"MaskNet(kind={self.kind!r}) looks at future frames and cannot "
                "run frame by frame; kind='lstm' or 'causal-tcn' can."
            )
        if self.kind == "lstm":
            return self._lstm_stepper()
        return self._tcn_stepper()

    def _lstm_stepper(self):
        device = next(self.parameters()).device
        state = [None]

        def masks(features):
            with torch.no_grad():
                h = self.norm(torch.as_tensor(features[None], dtype=torch.float32,
                                              device=device))
                h, state[0] = self.body(h, state[0])
                return self.activate(self.out(h))[0].cpu().numpy()

        return masks

    def _tcn_stepper(self, dtype=np.float32):
        from ._stepper import _CausalTCNStepper

        return _CausalTCNStepper(self, dtype=dtype)

    def activate(self, projected):
        """Masks ``(batch, n_sources, n_frames, n_freqs)`` from the output
        layer's ``(batch, n_frames, n_sources * n_freqs)``."""
        batch, n_frames, _ = projected.shape
        logits = projected.reshape(batch, n_frames, self.n_sources, -1)
        logits = logits.permute(0, 2, 1, 3)
        if self.activation == "softmax":
            return torch.softmax(logits, dim=1)
        return torch.sigmoid(logits)


class CNNAutoencoder(nn.Module):
    """Spectrogram CNN autoencoder with one decoder branch per source.

    Encoder: a convolution spanning all frequency bins, a convolution across
    time, a shared fully connected bottleneck with ReLU. Per source: a fully
    connected layer back to the encoder's size, a transposed time
    convolution and a transposed frequency convolution with a ReLU output
    ``o_i``. Masks are ``(o_i + eps / S) / (sum_j o_j + eps)``: the ratio
    masks ``o_i / sum_j o_j``, smoothed so that they always sum to 1. Works
    on segments of exactly ``segment_frames`` frames.

    Parameters
    ----------
    n_freqs : int
        Frequency bins of the input frames.
    n_sources : int
        Decoder branches (masks).
    segment_frames : int, default=32
        Frames per segment.
    freq_filters : int, default=32
        Channels of the full-height frequency convolution.
    time_filters : int, default=16
        Channels of the time convolution.
    time_kernel : int, default=5
        Width of the time convolution (at most ``segment_frames``).
    bottleneck : int, default=128
        Units of the shared fully connected layer.
    eps : float, default=1e-8
        Smoothing of the ratio masks.

    See Also
    --------
    sksep.neural.CNNAutoencoderSeparator : The scikit-learn estimator built on it.
    SpectralSeparator : Runs it on segments of a mixture's STFT.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import CNNAutoencoder
    >>> net = CNNAutoencoder(n_freqs=65, n_sources=2, segment_frames=16)
    >>> masks = net(torch.rand(3, 16, 65))
    >>> masks.shape, bool(torch.allclose(masks.sum(1), torch.ones(3, 16, 65)))
    (torch.Size([3, 2, 16, 65]), True)
    """

    def __init__(self, n_freqs, n_sources, segment_frames=32, freq_filters=32,
                 time_filters=16, time_kernel=5, bottleneck=128, eps=1e-8):
        super().__init__()
        time_kernel = min(time_kernel, segment_frames)
        self.segment_frames, self.eps, self.n_sources = segment_frames, eps, n_sources
        self.reduced = segment_frames - time_kernel + 1
        self.time_filters = time_filters
        self.norm = nn.LayerNorm(n_freqs)
        self.freq_conv = nn.Conv2d(1, freq_filters, (n_freqs, 1))
        self.time_conv = nn.Conv2d(freq_filters, time_filters, (1, time_kernel))
        flat = time_filters * self.reduced
        self.encode = nn.Sequential(nn.Linear(flat, bottleneck), nn.ReLU())
        self.branches = nn.ModuleList(
            nn.ModuleDict({
                "fc": nn.Linear(bottleneck, flat),
                "time": nn.ConvTranspose2d(time_filters, freq_filters, (1, time_kernel)),
                "freq": nn.ConvTranspose2d(freq_filters, 1, (n_freqs, 1)),
            })
            for _ in range(n_sources)
        )

    def forward(self, features):
        batch = features.shape[0]
        x = self.norm(features).transpose(1, 2)[:, None]  # (B, 1, F, T)
        z = self.encode(self.time_conv(self.freq_conv(x)).reshape(batch, -1))
        outputs = []
        for branch in self.branches:
            h = branch["fc"](z).reshape(batch, self.time_filters, 1, self.reduced)
            h = branch["time"](h)[:, :, 0]  # (B, C, T)
            # the full-height transposed frequency convolution, written as the
            # product it is (torch's ConvTranspose2d ran it ~50x slower on CPU)
            freq = branch["freq"]
            h = torch.einsum("bct,cf->btf", h, freq.weight[:, 0, :, 0]) + freq.bias
            outputs.append(torch.relu(h))  # (B, T, F)
        o = torch.stack(outputs, dim=1)  # (B, S, T, F)
        # o_i / sum_j o_j, smoothed so that the masks always sum to 1 (bins
        # where every output is 0 are shared equally instead of dropped)
        return (o + self.eps / self.n_sources) / (o.sum(dim=1, keepdim=True) + self.eps)


def _segment_weights(length, device, dtype):
    w = torch.hann_window(length + 2, periodic=False, device=device, dtype=dtype)[1:-1]
    return w


class SpectralSeparator(nn.Module):
    """STFT masking separator: waveform mixtures in, waveform sources out.

    ``forward(mixture (batch, n_times))`` returns a dict with ``wave``
    ``(batch, n_sources, n_times)``, ``masks`` ``(batch, n_sources,
    n_frames, n_freqs)`` and ``spec`` (the mixture's complex STFT,
    ``(batch, n_frames, n_freqs)``). A mask network with a
    ``segment_frames`` attribute is run on overlapping segments joined by
    overlap-add of the masks.

    Parameters
    ----------
    mask_net : torch.nn.Module
        Maps log-magnitude frames ``(batch, n_frames, n_freqs)`` to masks
        ``(batch, n_sources, n_frames, n_freqs)``, for example
        :class:`MaskNet` or :class:`CNNAutoencoder`.
    n_fft, hop_length : int
        STFT size and hop in samples.
    window : array-like of shape (n_fft,)
        Analysis window (also used for the overlap-add inverse).
    center : bool, default=True
        Pad the signal so that frame ``t`` is centred on sample
        ``t * hop_length``.
    pad_mode : str, default='reflect'
        Padding of the centred STFT.

    See Also
    --------
    MaskNet : A recurrent or convolutional mask network.
    CNNAutoencoder : A spectrogram CNN mask network.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import MaskNet, SpectralSeparator
    >>> net = SpectralSeparator(MaskNet(65, 2, hidden_size=8), n_fft=128,
    ...                         hop_length=32, window=torch.hann_window(128))
    >>> net(torch.randn(4, 1000))["wave"].shape
    torch.Size([4, 2, 1000])
    """

    def __init__(self, mask_net, n_fft, hop_length, window, center=True,
                 pad_mode="reflect"):
        super().__init__()
        self.mask_net = mask_net
        self.n_fft, self.hop_length = n_fft, hop_length
        self.center, self.pad_mode = center, pad_mode
        self.register_buffer("window", torch.as_tensor(window, dtype=torch.float32))

    def geometry(self, n_times):
        return _dsp.geometry(self.n_fft, self.hop_length, self.center,
                             self.pad_mode, n_times)

    def encode(self, mixture):
        geo = self.geometry(mixture.shape[-1])
        spec = torch_dsp.stft(mixture, geo, self.window).transpose(1, 2)
        features = torch.log(spec.real**2 + spec.imag**2 + _LOG_EPS)
        return geo, spec, features

    def mask(self, features):
        segment = getattr(self.mask_net, "segment_frames", None)
        if segment is None:
            return self.mask_net(features)
        return self._segmented(features, segment)

    def _segmented(self, features, segment, group=64):
        """Masks of overlapping segments (hop = segment // 2), joined by a
        weighted overlap-add. Without gradients the segments go through the
        network ``group`` at a time (the decoder's last layer holds
        freq_filters x n_freqs x segment values per segment and source), so
        memory does not grow with length."""
        batch, n_frames, n_freqs = features.shape
        hop = max(segment // 2, 1)
        n_seg = 1 + max(0, math.ceil((n_frames - segment) / hop))
        total = segment + (n_seg - 1) * hop
        floor = math.log(_LOG_EPS)
        padded = nn.functional.pad(features, (0, 0, 0, total - n_frames), value=floor)
        segs = padded.unfold(1, segment, hop)  # (B, n_seg, F, segment), a view
        w = _segment_weights(segment, features.device, features.dtype)
        n_src = self.mask_net.n_sources
        out = features.new_zeros(batch, n_src, total, n_freqs)
        norm = features.new_zeros(total)
        step = n_seg if torch.is_grad_enabled() else group
        for first in range(0, n_seg, step):
            part = segs[:, first:first + step]
            k = part.shape[1]
            masks = self.mask_net(part.permute(0, 1, 3, 2).reshape(
                batch * k, segment, n_freqs))             # (B * k, S, segment, F)
            masks = masks.reshape(batch, k, n_src, segment, n_freqs) * w[:, None]
            for s in range(k):
                start = (first + s) * hop
                out[:, :, start:start + segment] += masks[:, s]
                norm[start:start + segment] += w
        return (out / norm[:, None])[:, :, :n_frames]

    def decode(self, masked_spec, geo):
        batch, n_src, n_frames, n_freqs = masked_spec.shape
        flat = masked_spec.reshape(batch * n_src, n_frames, n_freqs).transpose(1, 2)
        wave = torch_dsp.istft(flat, geo, self.window)
        return wave.reshape(batch, n_src, -1)

    def forward(self, mixture):
        geo, spec, features = self.encode(mixture)
        masks = self.mask(features)
        wave = self.decode(masks * spec[:, None], geo)
        return {"wave": wave, "masks": masks, "spec": spec}
