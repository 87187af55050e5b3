"""Separation steps shared by the command line and sksep.batch."""

import numpy as np


def room_stft(sr):
    """256 ms windows (4096 samples at 16 kHz), a power of two, hop 1/4:
    longer than most of a room's reverberation (benchmarks/README.md)."""
    from .spectral import STFTTransformer

    n_fft = 1 << max(6, int(round(np.log2(0.256 * sr))))
    return STFTTransformer(n_fft=n_fft, hop_length=n_fft // 4)


def transform_chunked(estimator, X, chunk, overlap=None):
    """``estimator.transform(X)`` of a fixed (fitted) multichannel filter in
    overlapping chunks, cross-faded: bounded memory on long recordings."""
    n = X.shape[0]
    if n <= chunk:
        return estimator.transform(X)
    overlap = overlap or max(chunk // 8, 1)
    step = chunk - overlap
    out = None
    done = 0
    for begin in range(0, n, step):
        stop = min(n, begin + chunk)
        part = estimator.transform(X[begin:stop])
        if out is None:
            out = np.zeros((n, part.shape[1]), dtype=part.dtype)
        n_over = done - begin
        if n_over > 0:
            ramp = np.linspace(0.0, 1.0, n_over + 2, dtype=part.dtype)[1:-1, None]
            out[begin:done] = out[begin:done] * (1 - ramp) + part[:n_over] * ramp
        out[max(done, begin):stop] = part[max(n_over, 0):]
        done = stop
        if stop == n:
            break
    return out


