"""Block-by-block separation with an exported ONNX file: NumPy and
onnxruntime only.

This module imports nothing from sksep, torch or scikit-learn: copy it into
a project that has only ``numpy`` and ``onnxruntime`` to run a file written
by :func:`sksep.onnx.export_onnx` (``sksep export``).
"""

import os

import numpy as np

__all__ = ["OnnxStreamer"]


class OnnxStreamer:
    """Separate a live mono input block by block with an exported ONNX file.

    The same stream as :meth:`sksep.MaskEstimator.streamer`, run by
    onnxruntime: ``process(block)`` returns as many samples per source as
    it was given, ``latency_`` samples late (zeros at first), and
    ``flush()`` the last ``latency_``. Concatenated and shifted by the
    latency, the output equals the offline causal separation to float32
    rounding. The state (STFT buffers, the convolutions' memory) lives in
    the streamer: one file, or one ``InferenceSession``, serves many
    streams.

    Parameters
    ----------
    model : str, path-like or onnxruntime.InferenceSession
        A file written by :func:`sksep.onnx.export_onnx`, or a session of
        one (to share it between streams).
    n_threads : int, default=1
        onnxruntime's intra-op threads when ``model`` is a file. A block
        holds a few frames, too little work to share between cores.

    Attributes
    ----------
    latency_ : int
        Algorithmic latency in samples (``n_fft - 1``).
    latency_ms_ : float or None
        The same in milliseconds, when the file records the sample rate.
    sample_rate : int or None
        The rate (Hz) the model was trained at, when recorded.
    n_outputs : int
        Separated signals per block.
    n_fft, hop : int
        The model's STFT size and hop in samples.
    n_samples_in_ : int
        Input samples received so far.

    See Also
    --------
    export_onnx : Writes the file.
    sksep.MaskEstimator.streamer : The same stream with torch and NumPy.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from sksep.onnx import OnnxStreamer, export_onnx
    >>> path = export_onnx("speech8k-2voices-causal-16ms",
    ...                    pathlib.Path(tempfile.mkdtemp()) / "m.onnx")
    >>> stream = OnnxStreamer(path)
    >>> x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    >>> blocks = [stream.process(x[i:i + 64]) for i in range(0, x.size, 64)]
    >>> y = np.concatenate(blocks + [stream.flush()], axis=1)[:, stream.latency_:]
    >>> stream.latency_, y.shape
    (127, (2, 8000))
    """

    def __init__(self, model, *, n_threads=1):
        import onnxruntime as ort

        if isinstance(model, ort.InferenceSession):
            session = model
        else:
            if not os.path.isfile(str(model)):
                raise FileNotFoundError(
                    f"No ONNX model file at {str(model)!r}: write one with "
                    "sksep.onnx.export_onnx or 'sksep export MODEL OUT.onnx'.")
            options = ort.SessionOptions()
            options.intra_op_num_threads = int(n_threads)
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(model), options,
                                           providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get("format") != "sksep-stream":
            raise ValueError(f"{model!r} is not a streaming model written by "
                             "sksep.onnx.export_onnx (sksep export).")
        if meta.get("format_version") != "1":
            raise ValueError(f"{model!r} is in sksep stream format "
                             f"{meta.get('format_version')!r}; this runner reads 1.")
        self._session = session
        self.n_fft, self.hop = int(meta["n_fft"]), int(meta["hop_length"])
        self.pad_mode = meta["pad_mode"]
        self.n_outputs = int(meta["n_sources"])
        self.sample_rate = int(meta["sample_rate"]) if meta["sample_rate"] else None
        self.left = self.n_fft // 2
        self.latency_ = self.n_fft - 1
        self.latency_ms_ = (None if self.sample_rate is None
                            else 1000.0 * self.latency_ / self.sample_rate)
        self._state = {i.name: np.zeros(i.shape, np.float32)
                       for i in session.get_inputs() if i.name != "samples"}
        self._outputs = ["separated"] + [f"{name}_out" for name in self._state]
        self.n_samples_in_ = 0
        self._head = np.zeros(0, np.float32)   # the first samples (start padding)
        self._pending = None                   # padded samples not yet run
        self._tail = np.zeros(0, np.float32)   # the last n_fft input samples
        self._frames = 0                       # frames run
        self._ready = np.zeros((self.n_outputs, 0), np.float32)  # finished output
        self._ready_start = -self.left         # ... from this input sample
        self._n_out = -self.latency_           # next output sample
        self._flushed = False

    def process(self, block):
        """Separate the next block; returns as many samples, ``latency_`` late.

        Parameters
        ----------
        block : array-like of shape (n,) or (n, 1)
            The next samples of the mono mixture (any ``n >= 0``); integer
            PCM is scaled to [-1, 1).

        Returns
        -------
        out : ndarray of shape (n_outputs, n), float32
        """
        if self._flushed:
            raise RuntimeError("This stream was flushed; create a new streamer.")
        x = self._check_block(block)
        self.n_samples_in_ += x.size
        self._tail = np.concatenate([self._tail, x])[-self.n_fft:]
        if self._pending is None:
            self._head = np.concatenate([self._head, x])
            if self._head.size > self.left:
                self._start(self._head)
        else:
            self._pending = np.concatenate([self._pending, x])
        if self._pending is not None:
            self._run(self._pending.size // self.hop)
        return self._emit(self.n_samples_in_ - self.latency_)

    def flush(self):
        """End the stream: the last ``latency_`` output samples.

        Returns
        -------
        out : ndarray
            ``(n_outputs, latency_)``, float32.
        """
        if self._flushed:
            raise RuntimeError("This stream was already flushed.")
        self._flushed = True
        total = self.n_samples_in_
        if total == 0:
            return np.zeros((self.n_outputs, self.latency_), np.float32)
        # the frames of the offline, centred STFT: until one is centred at or
        # after the last sample
        n_frames = max(-(-(total - 1) // self.hop) + 1,
                       1 + (total + 2 * self.left - self.n_fft) // self.hop)
        right = (n_frames - 1) * self.hop + self.n_fft - self.left - total
        if self.pad_mode == "reflect" and max(self.left, right) >= total:
            raise ValueError(
                f"The stream held {total} samples, too few for the STFT's padding "
                f"(at least {max(self.left, right) + 1}); separate it offline.")
        if self._pending is None:
            self._start(self._head)
        self._pending = np.concatenate([self._pending, self._pad(self._tail, right)])
        self._run(n_frames - self._frames)
        overlap = self._state["overlap"]          # the samples after the last hop
        env = overlap[-1]
        safe = np.where(env > 0, env, 1)
        self._append(np.where(env > 0, overlap[:-1] / safe, 0).astype(np.float32))
        return self._emit(total)

    # -- internals -----------------------------------------------------------

    def _check_block(self, block):
        x = np.asarray(block)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ValueError(f"A block must have shape (n,) or (n, 1), got {x.shape}.")
        if x.dtype.kind in "iu":
            x = x / float(2 ** (8 * x.dtype.itemsize - 1))
        elif x.dtype.kind != "f":
            raise ValueError(f"A block must hold real samples, got dtype {x.dtype}.")
        x = x.astype(np.float32, copy=False)
        if not np.isfinite(x).all():
            raise ValueError("The block contains NaN or infinity.")
        return x

    def _pad(self, x, n, at_start=False):
        """``n`` samples of the offline STFT's padding beside ``x``."""
        if n <= 0:
            return np.zeros(0, np.float32)
        if self.pad_mode == "reflect":
            return x[n:0:-1] if at_start else x[-2:-2 - n:-1]
        if self.pad_mode == "replicate":
            return np.repeat(x[:1] if at_start else x[-1:], n)
        return np.zeros(n, np.float32)

    def _start(self, head):
        """Pad the start; the first ``n_fft - hop`` padded samples go to the
        graph's buffer, the rest wait to be run."""
        padded = np.concatenate([self._pad(head, self.left, at_start=True), head])
        keep = self._state["buffer"].size
        self._state["buffer"] = padded[:keep].copy()
        self._pending = padded[keep:]

    def _run(self, n_frames):
        if n_frames <= 0:
            return
        n = n_frames * self.hop
        samples, self._pending = self._pending[:n], self._pending[n:]
        separated, *state = self._session.run(
            self._outputs, {"samples": samples, **self._state})
        self._state = dict(zip(self._state, state))
        self._frames += n_frames
        self._append(separated)

    def _append(self, finished):
        self._ready = np.concatenate([self._ready, finished], axis=1)

    def _emit(self, upto):
        """Output samples ``[_n_out, upto)`` of the separated signals
        (negative indices: the latency's zeros)."""
        upto = max(upto, self._n_out)
        out = np.zeros((self.n_outputs, upto - self._n_out), np.float32)
        lo = max(self._n_out, self._ready_start, 0)    # the signal starts at 0
        if upto > lo:
            out[:, lo - self._n_out:] = self._ready[:, lo - self._ready_start:
                                                    upto - self._ready_start]
        drop = min(upto - self._ready_start, self._ready.shape[1])
        if drop > 0:
            self._ready = self._ready[:, drop:]
            self._ready_start += drop
        self._n_out = upto
        return out
