"""Named STFT settings: one place for sksep's default frames.

``SPEECH_8K`` is the speech models' front end (32 ms windows, 8 ms hop at
8 kHz). Room windows are given in seconds, so they scale with the sample
rate: a window should be longer than most of a room's reverberation.
"""

import math

#: The deep separators' STFT: 256-sample windows, 64-sample hop (8 kHz).
SPEECH_8K = {"n_fft": 256, "hop_length": 64}

#: Length of a room STFT window in seconds (IVA's default).
ROOM_WINDOW_SECONDS = 0.256

#: The rate assumed when none is given (sksep's corpora are at 8 kHz).
DEFAULT_SAMPLE_RATE = 8000


def room(sample_rate=None):
    """IVA's STFT at ``sample_rate`` (None: 8 kHz): windows of
    ``ROOM_WINDOW_SECONDS`` rounded to the nearest power of two samples
    (at least 64), hop a quarter window.

    >>> room(8000), room(44100)["n_fft"]
    ({'n_fft': 2048, 'hop_length': 512}, 8192)
    """
    rate = DEFAULT_SAMPLE_RATE if sample_rate is None else sample_rate
    n_fft = 1 << max(6, int(round(math.log2(ROOM_WINDOW_SECONDS * rate))))
    return {"n_fft": n_fft, "hop_length": n_fft // 4}
