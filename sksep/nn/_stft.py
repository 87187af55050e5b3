"""STFT and its exact inverse on torch tensors (no scikit-learn).

Shared by STFTTransformer and the neural separators, which train through it.

The forward transform is :func:`torch.stft`. The inverse is an inverse real
FFT followed by a strided overlap-add and a division by the summed squared
window: the same result as :func:`torch.istft`, two to three times faster on
the CPU because it avoids ``fold``. Both are differentiable, so neural
separators can train through them.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class Geometry:
    """How clips of ``n_times`` samples are cut into frames.

    A clip is zero-extended to ``extended`` samples (only when it is too
    short for ``pad_mode``), padded with ``left`` and ``right`` samples in
    ``pad_mode`` (``center=True``) and cut into ``n_frames`` frames of
    ``n_fft`` samples every ``hop_length``. Frame ``t`` is centred on sample
    ``t * hop_length`` when ``center=True``; the first frames are those of
    :func:`librosa.stft` and :func:`torch.stft`, and frames are added at
    the end until one is centred at or after the last sample, so the end of
    a clip is covered as well as its start.
    """

    n_fft: int
    hop_length: int
    center: bool
    pad_mode: str
    n_times: int
    extended: int
    left: int
    right: int
    n_frames: int

    @property
    def n_freqs(self):
        return self.n_fft // 2 + 1


def geometry(n_fft, hop_length, center, pad_mode, n_times):
    """Frame layout for clips of ``n_times`` samples (any length >= 1)."""
    last = -(-(n_times - 1) // hop_length)  # first frame index whose centre
    if not center:                          # (or start) reaches the end
        last = max(0, -(-(n_times - 1 - n_fft // 2) // hop_length))
        n_frames = last + 1
        extended = max(n_times, (n_frames - 1) * hop_length + n_fft)
        return Geometry(n_fft, hop_length, False, pad_mode, n_times, extended,
                        0, 0, n_frames)
    left = n_fft // 2
    extended = n_times
    while True:
        n_frames = max(last + 1, 1 + (extended + 2 * left - n_fft) // hop_length)
        right = (n_frames - 1) * hop_length + n_fft - left - extended
        if pad_mode in ("constant", "replicate") or max(left, right) < extended:
            break
        # reflect and circular padding need a clip longer than the pad
        extended = max(extended + 1, max(left, right) + 1)
    return Geometry(n_fft, hop_length, True, pad_mode, n_times, extended, left,
                    right, n_frames)


def make_window(window, win_length, n_fft, dtype=torch.float32):
    """A periodic analysis window of ``win_length`` zero-padded to ``n_fft``.

    ``window`` is a name understood by :func:`scipy.signal.get_window` (or a
    ``(name, param)`` tuple) or an array of ``win_length`` values.
    """
    if isinstance(window, str) and window == "hann" and win_length > 1:
        # what scipy.signal.get_window("hann", win_length, fftbins=True)
        # computes (a periodic general cosine window), to the bit, without
        # importing scipy.signal (0.1-0.2 s) for every model loaded
        fac = np.linspace(-np.pi, np.pi, win_length + 1)
        w = (0.5 + 0.5 * np.cos(fac))[:-1]
    elif isinstance(window, (str, tuple)):
        from scipy.signal import get_window

        w = get_window(window, win_length, fftbins=True)
    else:
        w = np.asarray(window, dtype=np.float64)
        if w.shape != (win_length,):
            raise ValueError(
                f"window has shape {w.shape}; it must have win_length="
                f"{win_length} values."
            )
    if not np.all(np.isfinite(w)) or not np.any(w):
        raise ValueError("window must be finite and not all zeros.")
    left = (n_fft - win_length) // 2
    full = np.zeros(n_fft)
    full[left:left + win_length] = w
    return torch.as_tensor(full, dtype=dtype)


def stft(x, geo, window):
    """Complex STFT of ``x`` (batch, n_times) -> (batch, n_freqs, n_frames)."""
    pad = torch.nn.functional.pad
    if x.shape[-1] < geo.extended:
        x = pad(x, (0, geo.extended - x.shape[-1]))
    standard = geo.center and geo.right == geo.left == geo.n_fft // 2
    if geo.center and not standard:
        x = pad(x, (geo.left, geo.right), mode=geo.pad_mode)
    return torch.stft(
        x, geo.n_fft, hop_length=geo.hop_length, win_length=geo.n_fft,
        window=window.to(x.dtype), center=standard, pad_mode=geo.pad_mode,
        return_complex=True,
    )


def _overlap_add(frames, hop):
    """Sum frames (batch, n_frames, n_fft) placed every ``hop`` samples."""
    batch, n_frames, n_fft = frames.shape
    length = (n_frames - 1) * hop + n_fft
    if n_fft % hop == 0:
        r = n_fft // hop
        out = frames.new_zeros(batch, n_frames + r - 1, hop)
        parts = frames.reshape(batch, n_frames, r, hop)
        for j in range(r):
            out[:, j:j + n_frames] += parts[:, :, j]
        return out.reshape(batch, length)
    out = torch.nn.functional.fold(
        frames.transpose(1, 2), output_size=(1, length), kernel_size=(1, n_fft),
        stride=(1, hop),
    )
    return out.reshape(batch, length)


def window_envelope(geo, window):
    """Summed squared window over the padded signal (1-D, float64)."""
    w2 = (window.to(torch.float64) ** 2).expand(1, geo.n_frames, geo.n_fft)
    return _overlap_add(w2, geo.hop_length)[0]


def inverse_envelope(geo, window):
    """``1 / envelope`` over the clip's own samples, 0 where no window
    reaches (1-D float64 of length ``n_times``)."""
    env = window_envelope(geo, window)[geo.left:geo.left + geo.n_times]
    tiny = torch.finfo(torch.float64).tiny
    return torch.where(env > tiny, 1.0 / torch.where(env > tiny, env, 1.0), 0.0)


def istft(spec, geo, window, inv_envelope=None):
    """Inverse of :func:`stft`: (batch, n_freqs, n_frames) -> (batch, n_times).

    Least-squares overlap-add (Griffin and Lim, 1984). Samples that no
    window covers come out as zeros. Fastest when ``spec`` is a transposed
    view of frame-major memory, as :func:`stft` returns it.
    """
    real_dtype = spec.real.dtype
    frames = torch.fft.irfft(spec.transpose(1, 2), n=geo.n_fft, dim=-1)
    frames *= window.to(real_dtype)
    y = _overlap_add(frames, geo.hop_length)[:, geo.left:geo.left + geo.n_times]
    if inv_envelope is None:
        inv_envelope = inverse_envelope(geo, window)
    return y * inv_envelope.to(real_dtype)


@contextlib.contextmanager
def torch_threads(n_jobs):
    """Run torch with ``n_jobs`` intra-op threads (None: 1, -1: all cores),
    restoring the previous setting afterwards."""
    import os

    n = 1 if n_jobs is None else (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    previous = torch.get_num_threads()
    if n != previous:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != previous:
            torch.set_num_threads(previous)


def griffin_lim(magnitude, geo, window, *, n_iter, momentum, generator):
    """Fast Griffin-Lim (Perraudin et al., 2013) phase reconstruction.

    ``magnitude`` (batch, n_freqs, n_frames) -> waveforms (batch, n_times).
    """
    inv_envelope = inverse_envelope(geo, window)
    phase = torch.rand(magnitude.shape, generator=generator, dtype=magnitude.dtype)
    angles = torch.polar(torch.ones_like(magnitude), 2 * math.pi * phase)
    rebuilt = torch.zeros_like(angles)
    for _ in range(n_iter):
        previous = rebuilt
        y = istft(magnitude * angles, geo, window, inv_envelope)
        rebuilt = stft(y, geo, window)
        angles = rebuilt - (momentum / (1 + momentum)) * previous
        angles = angles / (angles.abs() + 1e-16)
    return istft(magnitude * angles, geo, window, inv_envelope)
