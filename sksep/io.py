"""Read and write audio files.

Files are read and written with `soundfile <https://python-soundfile.readthedocs.io>`_
(libsndfile: WAV, FLAC, OGG/Vorbis and more) and resampled with
:func:`librosa.resample` (soxr high quality), imported only when a resampling
is asked for.
"""

import os

from sklearn.utils._param_validation import StrOptions, validate_params

from ._audiofile import read_audio_file, write_audio_file
from ._validation import SampleRate

__all__ = ["read_audio", "write_audio"]

_PATH = [str, os.PathLike]


@validate_params(
    {"path": _PATH, "sr": [SampleRate(), None], "mono": ["boolean"],
     "dtype": [StrOptions({"float32", "float64"})]},
    prefer_skip_nested_validation=True)
def read_audio(path, *, sr=None, mono=False, dtype="float32"):
    """Read an audio file as ``(n_samples, n_channels)`` floats in [-1, 1].

    Parameters
    ----------
    path : str or path-like
        File to read (any format libsndfile reads: WAV, FLAC, OGG, ...).
    sr : int, default=None
        Sample rate to return, in Hz. None keeps the file's rate; otherwise
        the audio is resampled with :func:`librosa.resample` (soxr_hq).
    mono : bool, default=False
        Average the channels into one.
    dtype : {'float32', 'float64'}, default='float32'
        Returned dtype. Integer PCM is scaled to [-1, 1).

    Returns
    -------
    data : ndarray [shape=(n_samples, n_channels)]
        Audio, time on rows (one column when ``mono=True``).
    sr : int
        Its sample rate in Hz.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    IsADirectoryError
        When ``path`` is a directory.
    ValueError
        When the file is unreadable, truncated, empty or of an unsupported
        format; the message names the file.

    See Also
    --------
    write_audio : The inverse, atomic and never overwriting.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sksep.io import read_audio, write_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> t = np.arange(8000) / 8000
    >>> write_audio(path, 0.5 * np.sin(2 * np.pi * 440 * t), 8000)
    >>> data, sr = read_audio(path)
    >>> data.shape, sr
    ((8000, 1), 8000)
    """
    return read_audio_file(path, sr=sr, mono=mono, dtype=dtype)


@validate_params(
    {"path": _PATH, "data": ["array-like"], "sr": [SampleRate()],
     "overwrite": ["boolean"], "subtype": [str, None]},
    prefer_skip_nested_validation=True)
def write_audio(path, data, sr, *, overwrite=False, subtype=None):
    """Write audio atomically, never overwriting a file unless asked.

    The data go to a temporary file in the destination folder, which is then
    renamed over ``path``: a failure leaves no partial file and an existing
    file intact.

    Parameters
    ----------
    path : str or path-like
        Destination; the format follows its extension (.wav, .flac, .ogg).
    data : array-like [shape=(n_samples,) or (n_samples, n_channels)]
        Audio, floats in [-1, 1] (values outside are clipped by integer
        subtypes) or integer PCM.
    sr : int
        Sample rate in Hz.
    overwrite : bool, default=False
        Replace an existing file. Without it an existing ``path`` raises
        FileExistsError and is left untouched.
    subtype : str, default=None
        soundfile subtype ('PCM_16', 'FLOAT', ...); None uses the format's
        default (PCM_16 for WAV and FLAC).

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.
    ValueError
        For data that is empty, not 1-D or 2-D, non-numeric or not finite,
        or an unsupported extension or subtype.

    See Also
    --------
    read_audio : Read audio as floats in [-1, 1].

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sksep.io import write_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "noise.flac")
    >>> write_audio(path, 0.1 * np.random.default_rng(0).standard_normal(800), 8000)
    >>> write_audio(path, np.zeros(800), 8000)
    Traceback (most recent call last):
    ...
    FileExistsError: '...noise.flac' already exists; pass overwrite=True to replace it.
    """
    write_audio_file(path, data, sr, overwrite=overwrite, subtype=subtype)
