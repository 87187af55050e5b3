"""Separation steps shared by the command line and sksep.batch."""

import numpy as np


def room_stft(sr):
    """IVA's default STFT at ``sr`` (256 ms windows, a power of two, hop
    1/4), the same one ``IVASeparator(sample_rate=sr)`` uses."""
    from .decomposition._iva import default_stft

    return default_stft(sr)


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




def resample(x, orig_sr, target_sr, size=None):
    """``x`` (time on the last axis) at ``target_sr`` (librosa), cut or padded
    to ``size`` samples when given; unchanged when the rates agree."""
    if orig_sr == target_sr:
        return x
    import librosa

    y = librosa.resample(x, orig_sr=orig_sr, target_sr=target_sr)
    return y if size is None else librosa.util.fix_length(y, size=size, axis=-1)


def separate_room(estimator, data, sr, *, fit_seconds, chunk_seconds):
    """Fit a multichannel separator on at most ``fit_seconds`` of ``data``
    (its middle), then separate all of it, ``(n_samples, n_sources)``: an
    STFT-domain separator (IVA) in cross-faded chunks, with fixed filters, so
    memory stays bounded and the chunks cannot swap sources."""
    n = data.shape[0]
    fit_len = min(n, max(int(fit_seconds * sr), 1))
    start = (n - fit_len) // 2
    estimator.fit(data[start:start + fit_len])
    if hasattr(estimator, "stft_"):
        chunk = max(int(chunk_seconds * sr), 4 * estimator.stft_.n_fft)
        return transform_chunked(estimator, data, chunk)
    return estimator.transform(data)
