"""The STFT of a signal that arrives in blocks: frames in, samples out.

:class:`Framer` cuts the blocks into exactly the frames the offline
centred STFT (:func:`._frames.geometry`) cuts the whole signal into, each
frame as soon as its last sample has arrived; :class:`OverlapAdder` sums
the synthesis frames and hands out each output sample once every frame
covering it has been added. Both hold only the samples still needed.
"""

import numpy as np

from ._frames import geometry, pad_edges, reciprocal_envelope


class Framer:
    """Incremental framing of a centred STFT, in time-major NumPy arrays.

    Parameters
    ----------
    n_fft, hop_length : int
        Frame length and hop in samples.
    pad_mode : {'reflect', 'constant', 'replicate'}
        How the offline STFT pads both ends of the signal.
    n_channels : int
        Channels of the signal.
    """

    def __init__(self, n_fft, hop_length, pad_mode, n_channels):
        self.n_fft, self.hop, self.pad_mode = n_fft, hop_length, pad_mode
        self.left = n_fft // 2
        self.n_channels = n_channels
        self.n_samples = 0                         # samples received
        self.next_frame = 0                        # index of the next frame
        self._head = np.zeros((0, n_channels))     # the first samples (start padding)
        self._padded = None                        # padded input not yet framed
        self._pad_start = 0                        # its position in padded samples
        self._tail = np.zeros((0, n_channels))     # the last n_fft samples (end pad)
        self._index = {}                           # frames per call -> sample indices

    def push(self, x):
        """Add samples ``x (n, n_channels)``; returns the frames now complete,
        ``(n_new_frames, n_fft, n_channels)`` float64 (unwindowed)."""
        self.n_samples += x.shape[0]
        self._tail = np.concatenate([self._tail, x])[-self.n_fft:]
        if self._padded is None:
            self._head = np.concatenate([self._head, x])
            if self._head.shape[0] > self.left:     # enough to reflect the start
                self._padded = self._start_padded(self._head)
        else:
            self._padded = np.concatenate([self._padded, x])
        return self._take(self._available())

    def finish(self):
        """End of signal: the last frames, over the offline STFT's end padding.

        Raises ValueError when the signal is too short for the padding (the
        offline STFT would zero-extend it first).
        """
        geo = geometry(self.n_fft, self.hop, True, self.pad_mode, self.n_samples)
        if geo.extended != self.n_samples:
            raise ValueError(
                f"The stream held {self.n_samples} samples, too few for the STFT's "
                f"padding (at least {max(geo.left, geo.right) + 1}); separate it "
                "offline.")
        if self._padded is None:  # pragma: no cover - needs n_samples <= left
            self._padded = self._start_padded(self._head)
        if geo.right > 0:
            end = pad_edges(self._tail, 0, geo.right, self.pad_mode, axis=0)
            self._padded = np.concatenate([self._padded, end[-geo.right:]])
        return self._take(geo.n_frames - self.next_frame)

    def _start_padded(self, head):
        return pad_edges(head, self.left, 0, self.pad_mode, axis=0)

    def _available(self):
        if self._padded is None:
            return 0
        end = self._pad_start + self._padded.shape[0]   # padded samples known
        last = (end - self.n_fft) // self.hop            # last complete frame
        return max(0, last + 1 - self.next_frame)

    def _take(self, count):
        if count <= 0:
            return np.zeros((0, self.n_fft, self.n_channels))
        idx = self._index.get(count)
        if idx is None:
            idx = np.arange(count)[:, None] * self.hop + np.arange(self.n_fft)
            if count <= 64:
                self._index[count] = idx
        start = self.next_frame * self.hop - self._pad_start
        frames = self._padded[start:][idx]                # (T, n_fft, C)
        self.next_frame += count
        # drop input that no future frame needs
        keep_from = self.next_frame * self.hop - self._pad_start
        if keep_from > 0:
            self._padded = self._padded[keep_from:]
            self._pad_start += keep_from
        return frames


class OverlapAdder:
    """Incremental least-squares overlap-add of synthesis frames.

    Frames are windowed and summed beside the squared window, so each
    sample is divided by exactly the envelope of the frames added so far
    (the whole-signal envelope once every frame covering it is in).

    Parameters
    ----------
    n_fft, hop_length : int
        Frame length and hop in samples.
    window : ndarray of shape (n_fft,)
        Synthesis window (the analysis window of a least-squares inverse).
    n_outputs : int
        Signals summed side by side.
    left : int
        Padding before the signal: frame 0 starts at sample ``-left``.
    """

    def __init__(self, n_fft, hop_length, window, n_outputs, left):
        self.n_fft, self.hop, self.left = n_fft, hop_length, left
        self.window = np.asarray(window, dtype=np.float64)
        self.n_outputs = n_outputs
        self._w2 = self.window**2
        self._wave = {}                               # frames per call -> buffer
        # the sums from _start (padded samples): outputs, then the envelope
        self._sum = np.zeros((0, n_outputs + 1))
        self._start = 0

    def add(self, frames, first):
        """Add time-domain frames ``(T, n_fft, n_outputs)`` (inverse FFTs,
        not yet windowed) whose first one is frame ``first``."""
        count = frames.shape[0]
        if count == 0:
            return
        wave = self._wave.get(count)
        if wave is None:
            wave = np.empty((count, self.n_fft, self.n_outputs + 1))
            wave[:, :, -1] = self._w2
            if count <= 64:
                self._wave[count] = wave
        np.multiply(frames, self.window[None, :, None], out=wave[:, :, :-1])
        need = (first + count - 1) * self.hop + self.n_fft - self._start
        if need > self._sum.shape[0]:
            self._sum = np.concatenate(
                [self._sum, np.zeros((need - self._sum.shape[0], self.n_outputs + 1))])
        at = first * self.hop - self._start
        for j in range(count):
            self._sum[at:at + self.n_fft] += wave[j]
            at += self.hop

    def read(self, lo, hi):
        """Samples ``lo:hi`` of the signal (0 is its first sample):
        ``(hi - lo, n_outputs)`` sums over the envelope, and the reciprocal
        envelope they were multiplied by."""
        a, b = lo + self.left - self._start, hi + self.left - self._start
        part = self._sum[a:b]
        return part[:, :-1], reciprocal_envelope(part[:, -1])

    def discard(self, upto):
        """Forget the sums before signal sample ``upto``."""
        cut = upto + self.left - self._start
        if cut > 0:
            self._sum = self._sum[cut:]
            self._start += cut
