"""Block-by-block separation with a stated latency.

A fitted causal separator hands out a streamer (``sep.streamer()``): an
object with ``process(block)`` and ``flush()`` that holds the STFT's
overlap-add buffers and the separator's own state (a network's recurrent or
convolutional memory, an online demixing matrix) between calls. State lives
in the streamer, never in the estimator, so one fitted model serves many
streams.

Every streamer here reproduces the offline, centred STFT exactly: frame
``t`` covers input samples ``t * hop - n_fft // 2`` to ``t * hop + n_fft //
2 - 1`` (the start padded as the offline STFT pads it), and an output sample
is final once every frame that covers it has been processed. The last frame
covering sample ``n`` ends at most ``n_fft - 1`` samples later, so each
output sample leaves ``latency_ = n_fft - 1`` samples after the input
sample it belongs to, whatever the block size: the algorithmic latency
(computing time comes on top). ``process`` returns exactly as many samples
as it was given, delayed by ``latency_`` (zeros at first), and ``flush``
returns the last ``latency_`` samples. The concatenated output, shifted by
``latency_``, equals the offline output of the same separator.
"""

import math

import numpy as np

from ._dsp import Framer, OverlapAdder
from ._audio_checks import check_finite, pcm_to_float

__all__ = ["BlockStreamer"]


class BlockStreamer:
    """Streaming STFT engine: frames in, a per-frame processor, overlap-add out.

    Parameters
    ----------
    processor : callable
        ``processor(spec) -> out``: complex frames ``spec`` of shape
        ``(n_frames, n_freqs, n_channels)`` in time order (never seen again)
        to complex output frames ``(n_frames, n_freqs, n_outputs)``. It keeps
        whatever state it needs between calls.
    n_fft, hop_length : int
        STFT size and hop in samples.
    window : ndarray of shape (n_fft,)
        Analysis window (also used for the least-squares overlap-add).
    pad_mode : {'reflect', 'constant', 'replicate'}, default='reflect'
        How the offline STFT pads the signal's ends.
    n_channels, n_outputs : int
        Input channels and output signals.
    sample_rate : int, default=None
        Sample rate, for ``latency_ms_``.
    layout : {'channels_last', 'sources_first'}, default='channels_last'
        Output of ``process``: ``(n_samples, n_outputs)`` or ``(n_outputs,
        n_samples)`` (the layouts of the multichannel and of the mono
        separators).
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        dtype of the outputs; float32 also computes the FFTs in float32 with
        torch, as the offline separators do, so that their outputs agree.

    Attributes
    ----------
    latency_ : int
        Algorithmic latency in samples (``n_fft - 1``).
    latency_ms_ : float or None
        The same in milliseconds, when the sample rate is known.
    n_samples_in_ : int
        Input samples received so far.

    See Also
    --------
    sksep.MaskEstimator.streamer : Streams a causal mask estimator.
    sksep.IVASeparator.streamer : Online AuxIVA for microphone arrays.

    Examples
    --------
    A processor that keeps every frame as it is: the stream returns its
    input, ``latency_`` samples late.

    >>> import numpy as np
    >>> from scipy.signal import get_window
    >>> from sksep.streaming import BlockStreamer
    >>> stream = BlockStreamer(lambda spec: spec, n_fft=64, hop_length=16,
    ...                        window=get_window("hann", 64), dtype=np.float64)
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> y = np.concatenate([stream.process(x[:333]), stream.process(x[333:]),
    ...                     stream.flush()])
    >>> stream.latency_, bool(np.allclose(y[stream.latency_:, 0], x))
    (63, True)
    """

    def __init__(self, processor, *, n_fft, hop_length, window, pad_mode="reflect",
                 n_channels=1, n_outputs=1, sample_rate=None, layout="channels_last",
                 dtype=np.float32):
        if pad_mode not in ("reflect", "constant", "replicate"):
            raise ValueError(
                f"Streaming supports STFT pad_mode 'reflect', 'constant' or "
                f"'replicate', got {pad_mode!r}."
            )
        self.processor = processor
        self.n_fft, self.hop = int(n_fft), int(hop_length)
        self.window = np.asarray(window, dtype=np.float64)
        self.pad_mode, self.layout, self.dtype = pad_mode, layout, dtype
        self.n_channels, self.n_outputs = n_channels, n_outputs
        self.left = self.n_fft // 2
        self.latency_ = self.n_fft - 1
        self.latency_ms_ = (None if sample_rate is None
                            else 1000.0 * self.latency_ / sample_rate)
        self.n_samples_in_ = 0
        self._framer = Framer(self.n_fft, self.hop, pad_mode, n_channels)
        self._ola = OverlapAdder(self.n_fft, self.hop, self.window, n_outputs,
                                 self.left)
        self._n_out = -self.latency_             # next output sample (x index)
        self._flushed = False

    # -- public --------------------------------------------------------------

    def process(self, block):
        """Separate the next block; returns as many samples, ``latency_`` late.

        Parameters
        ----------
        block : array-like of shape (n,) or (n, n_channels)
            The next input samples (any ``n >= 0``).

        Returns
        -------
        out : ndarray
            ``(n, n_outputs)`` or ``(n_outputs, n)`` (see ``layout``).
        """
        if self._flushed:
            raise RuntimeError("This stream was flushed; create a new streamer.")
        x = self._check_block(block)
        self.n_samples_in_ += x.shape[0]
        self._run_frames(self._framer.push(x))
        return self._emit(self.n_samples_in_ - self.latency_)

    def flush(self):
        """End the stream: the last ``latency_`` output samples.

        Returns
        -------
        out : ndarray
            ``(latency_, n_outputs)`` or ``(n_outputs, latency_)``.
        """
        if self._flushed:
            raise RuntimeError("This stream was already flushed.")
        self._flushed = True
        if self.n_samples_in_ == 0:
            return self._layout(np.zeros((self.latency_, self.n_outputs)))
        self._run_frames(self._framer.finish())
        return self._emit(self.n_samples_in_, final=True)

    # -- internals -------------------------------------------------------------

    def _check_block(self, block):
        x = np.asarray(block)
        if x.dtype.kind not in "fiu" or x.dtype == bool:
            raise ValueError(f"A block must hold real samples, got dtype {x.dtype}.")
        if x.ndim == 1 and self.n_channels == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            shapes = f"(n, {self.n_channels})" + (" or (n,)" if self.n_channels == 1
                                                 else "")
            raise ValueError(f"A block must have shape {shapes}, got {x.shape}.")
        x = pcm_to_float(x, np.float64).astype(np.float64, copy=False)
        if not math.isfinite(np.add.reduce(x, axis=None)):   # NaN and inf propagate
            check_finite(x, "block")                          # (or an overflow)
        return x

    def _run_frames(self, frames):                               # (T, n_fft, C)
        if frames.shape[0] == 0:
            return
        first = self._framer.next_frame - frames.shape[0]
        if self.dtype == np.float32:
            # the offline separators' float32 torch FFTs, for equal numbers
            from ._dsp._torch import rfft_frames

            spec = rfft_frames(frames, self.window)
        else:
            spec = np.fft.rfft(frames * self.window[None, :, None], axis=1)
        out = np.asarray(self.processor(spec))                      # (T, F, K)
        self._ola.add(np.fft.irfft(out, n=self.n_fft, axis=1), first)

    def _emit(self, upto, final=False):
        """Output samples ``y[_n_out:upto]`` (negative indices: the latency's
        zeros); the stream's m-th output sample is ``y[m - latency_]``."""
        upto = max(upto, self._n_out)
        lo, hi = self._n_out, upto
        by_source = self.layout == "sources_first"
        # samples before the start of the signal are zeros (the latency)
        first_real = max(lo, 0)
        shape = (self.n_outputs, hi - lo) if by_source else (hi - lo, self.n_outputs)
        out = (np.zeros if first_real > lo else np.empty)(shape, self.dtype)
        if hi > first_real:
            sums, inv = self._ola.read(first_real, hi)
            if by_source:
                np.multiply(sums.T, inv, out=out[:, first_real - lo:])
            else:
                np.multiply(sums, inv[:, None], out=out[first_real - lo:])
        self._n_out = hi
        if not final:
            # output final up to here: drop the sums before it (never past
            # the start of a frame still to come)
            self._ola.discard(min(hi, self._framer.next_frame * self.hop - self.left))
        return out

    def _layout(self, out):
        out = out.astype(self.dtype, copy=False)
        return out.T.copy() if self.layout == "sources_first" else out
