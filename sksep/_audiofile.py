"""Audio files, read and written with soundfile alone (numpy, no
scikit-learn): the bodies of :func:`sksep.io.read_audio` and
:func:`sksep.io.write_audio`, which check their parameters first and then
call these. The file service calls them directly, so separating a file with
a shipped model imports no scikit-learn.
"""

from pathlib import Path

import numpy as np
import soundfile as sf

from ._audio_checks import check_audio
from ._files import atomic_write


def read_audio_file(path, *, sr=None, mono=False, dtype="float32"):
    """:func:`sksep.io.read_audio` without its parameter checks."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such audio file: '{path}'.")
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory, not an audio file.")
    _check_wav_complete(path)
    try:
        data, file_sr = sf.read(path, dtype=dtype, always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise ValueError(
            f"Cannot read audio file '{path}': {str(exc).rstrip('.')}. It may be "
            "truncated, "
            "corrupted or in a format libsndfile does not support."
        ) from exc
    if data.shape[0] == 0:
        raise ValueError(f"Audio file '{path}' contains no samples.")
    if mono and data.shape[1] > 1:
        data = data.mean(axis=1, keepdims=True)
    if sr is not None and sr != file_sr:
        import librosa

        data = librosa.resample(
            np.ascontiguousarray(data.T), orig_sr=file_sr, target_sr=sr,
            res_type="soxr_hq",
        ).T.astype(dtype)
        file_sr = sr
    return np.ascontiguousarray(data), int(file_sr)



def _check_wav_complete(path):
    """Raise for a RIFF/WAVE file whose data chunk is shorter than declared.

    libsndfile reads such a file without complaint, returning whatever
    samples survived; a recording cut off by a crash or a partial download
    would pass silently. Sizes 0 and 0xFFFFFFFF (streamed, size unknown) are
    not checked.
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):
                    return
                present = size - pos - 8
                if present < chunk_size:
                    raise ValueError(
                        f"Audio file '{path}' is truncated: its header declares "
                        f"{chunk_size} bytes of samples but only {present} are "
                        "present."
                    )
                return
            pos += 8 + chunk_size + (chunk_size & 1)



def write_audio_file(path, data, sr, *, overwrite=False, subtype=None):
    """:func:`sksep.io.write_audio` without its parameter checks."""
    path = Path(path)
    data = check_audio(data, "Audio data",
                       shapes="(n_samples,) or (n_samples, n_channels) array",
                       time_axis=0)
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory, not a file name.")
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"'{path}' already exists; pass overwrite=True to replace it."
        )
    fmt = path.suffix[1:].upper()
    if fmt not in sf.available_formats():
        raise ValueError(
            f"Unsupported audio format '{path.suffix}' for '{path}'; use one of "
            ".wav, .flac, .ogg."
        )
    try:
        atomic_write(path, lambda tmp: sf.write(tmp, data, int(sr), subtype=subtype,
                                                format=fmt), overwrite=overwrite)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"Cannot write '{path}': {exc}") from exc
