"""Frames of a signal, in NumPy: layout, window, edge padding, overlap-add.

A signal of ``n_times`` samples is zero-extended to ``extended`` samples
(only when it is too short for the padding mode), padded with ``left`` and
``right`` samples (``center=True``) and cut into ``n_frames`` frames of
``n_fft`` samples every ``hop_length``. The inverse is a least-squares
overlap-add (Griffin and Lim, 1984): windowed frames summed, divided by the
summed squared window (the *envelope*), zero where no window reaches.
"""

from dataclasses import dataclass

import numpy as np

PAD_MODES = ("constant", "reflect", "replicate", "circular")
_NUMPY_PAD = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


@dataclass(frozen=True)
class Geometry:
    """How clips of ``n_times`` samples are cut into frames.

    Frame ``t`` is centred on sample ``t * hop_length`` when ``center=True``;
    the first frames are those of :func:`librosa.stft` and
    :func:`torch.stft`, and frames are added at the end until one is centred
    at or after the last sample, so the end of a clip is covered as well as
    its start.
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


def resolve_lengths(n_fft, hop_length=None, win_length=None):
    """``(hop_length, win_length)`` with the defaults resolved (window
    ``n_fft``, hop a quarter window), checked: the window fits in a frame
    and no sample falls between two windows."""
    win_length = n_fft if win_length is None else win_length
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} is larger than n_fft={n_fft}.")
    hop_length = max(win_length // 4, 1) if hop_length is None else hop_length
    if hop_length > win_length:
        raise ValueError(
            f"hop_length={hop_length} is larger than win_length={win_length}: "
            "samples between windows would be lost."
        )
    return hop_length, win_length


def window_values(window, win_length, n_fft):
    """A periodic analysis window of ``win_length`` zero-padded (centred) to
    ``n_fft``: float64 array of shape ``(n_fft,)``.

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
    return full


def pad_edges(x, left, right, mode, axis=-1):
    """``x`` with ``left`` and ``right`` samples added along ``axis`` in
    ``mode`` ('reflect' leaves the edge sample out, 'replicate' repeats it,
    'circular' wraps around, 'constant' adds zeros), as
    :func:`torch.nn.functional.pad` pads."""
    width = [(0, 0)] * np.ndim(x)
    width[axis] = (left, right)
    return np.pad(x, width, mode=_NUMPY_PAD[mode])


def overlap_add(frames, hop):
    """Sum frames ``(..., n_frames, n_fft)`` placed every ``hop`` samples:
    ``(..., (n_frames - 1) * hop + n_fft)``."""
    *batch, n_frames, n_fft = frames.shape
    length = (n_frames - 1) * hop + n_fft
    if n_fft % hop == 0:
        r = n_fft // hop
        out = np.zeros((*batch, n_frames + r - 1, hop), frames.dtype)
        parts = frames.reshape(*batch, n_frames, r, hop)
        for j in range(r):
            out[..., j:j + n_frames, :] += parts[..., :, j, :]
        return out.reshape(*batch, length)
    out = np.zeros((*batch, length), frames.dtype)
    for t in range(n_frames):
        out[..., t * hop:t * hop + n_fft] += frames[..., t, :]
    return out


def window_envelope(geo, window):
    """Summed squared window over the padded signal (1-D, float64)."""
    w2 = np.asarray(window, dtype=np.float64) ** 2
    return overlap_add(np.broadcast_to(w2, (geo.n_frames, geo.n_fft)), geo.hop_length)


def reciprocal_envelope(envelope):
    """``1 / envelope``, and 0 where no window reaches (the envelope is not
    above the smallest normal float64)."""
    envelope = np.asarray(envelope, dtype=np.float64)
    return np.divide(1.0, envelope, out=np.zeros(envelope.shape),
                     where=envelope > np.finfo(np.float64).tiny)


def inverse_envelope(geo, window):
    """``1 / envelope`` over the clip's own samples, 0 where no window
    reaches (1-D float64 of length ``n_times``)."""
    env = window_envelope(geo, window)[geo.left:geo.left + geo.n_times]
    return reciprocal_envelope(env)


def _padded(x, geo):
    """The signal as the frames see it: zero-extended, then edge-padded."""
    if x.shape[-1] < geo.extended:
        x = pad_edges(x, 0, geo.extended - x.shape[-1], "constant")
    if geo.center:
        x = pad_edges(x, geo.left, geo.right, geo.pad_mode)
    return x


def stft(x, geo, window):
    """Complex STFT in NumPy: ``x (..., n_times)`` -> ``(..., n_freqs,
    n_frames)``, the same transform as :func:`sksep._dsp._torch.stft`
    (complex64 for float32 input, complex128 otherwise)."""
    x = np.asarray(x)
    real = np.float32 if x.dtype == np.float32 else np.float64
    frames = np.lib.stride_tricks.sliding_window_view(
        _padded(x.astype(real, copy=False), geo), geo.n_fft, axis=-1)
    frames = frames[..., ::geo.hop_length, :][..., :geo.n_frames, :]
    spec = np.fft.rfft(frames * window.astype(real), axis=-1)
    return spec.astype(np.result_type(real, np.complex64), copy=False).swapaxes(-1, -2)


def istft(spec, geo, window, inv_envelope=None):
    """Inverse of :func:`stft`: ``(..., n_freqs, n_frames)`` -> ``(...,
    n_times)``, least-squares overlap-add; samples that no window covers
    come out as zeros."""
    spec = np.asarray(spec)
    real = np.float32 if spec.dtype == np.complex64 else np.float64
    frames = np.fft.irfft(spec.swapaxes(-1, -2), n=geo.n_fft, axis=-1)
    frames = (frames * window).astype(real, copy=False)
    y = overlap_add(frames, geo.hop_length)[..., geo.left:geo.left + geo.n_times]
    if inv_envelope is None:
        inv_envelope = inverse_envelope(geo, window)
    return y * inv_envelope.astype(real)
