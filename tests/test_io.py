"""sksep.io: exact round trips, atomic writes that never overwrite by
accident, and errors that name the file."""

import os

import numpy as np
import pytest
import soundfile as sf

from sksep.io import read_audio, write_audio


@pytest.fixture
def stereo(rng):
    return (0.5 * rng.uniform(-1, 1, size=(4000, 2))).astype(np.float32)


def test_float32_wav_round_trip_is_exact(tmp_path, stereo):
    path = tmp_path / "x.wav"
    write_audio(path, stereo, 16000, subtype="FLOAT")
    data, sr = read_audio(path)
    assert sr == 16000 and data.dtype == np.float32
    np.testing.assert_array_equal(data, stereo)


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_pcm16_round_trip_within_quantisation(tmp_path, stereo, ext):
    path = tmp_path / f"x.{ext}"
    write_audio(path, stereo, 8000, subtype="PCM_16")
    data, _ = read_audio(path, dtype="float64")
    assert np.abs(data - stereo).max() <= 1 / 32768 + 1e-12


def test_ogg_vorbis_is_readable(tmp_path, rng):
    t = np.arange(16000) / 16000
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    write_audio(tmp_path / "x.ogg", x, 16000)
    data, sr = read_audio(tmp_path / "x.ogg")
    assert sr == 16000 and data.shape[1] == 1
    assert abs(len(data) - len(x)) < 1000


def test_integer_pcm_is_written_and_read_as_audio(tmp_path):
    x = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    write_audio(tmp_path / "i.wav", x, 8000)
    data, _ = read_audio(tmp_path / "i.wav", dtype="float64")
    np.testing.assert_allclose(data[:, 0], [0, 0.5, -1.0, 32767 / 32768])


def test_mono_and_resampling(tmp_path, rng):
    t = np.arange(8000) / 8000
    tone = 0.5 * np.sin(2 * np.pi * 200 * t)
    write_audio(tmp_path / "s.wav", np.stack([tone, tone], 1), 8000, subtype="FLOAT")
    data, sr = read_audio(tmp_path / "s.wav", mono=True, sr=16000)
    assert sr == 16000 and data.shape == (16000, 1)
    # the 200 Hz tone survives resampling (soxr): compare to the ideal tone
    ideal = 0.5 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    err = data[1000:-1000, 0] - ideal[1000:-1000]
    assert np.sqrt(np.mean(err**2)) < 1e-3


def test_write_refuses_to_overwrite_and_leaves_the_file_intact(tmp_path, stereo):
    path = tmp_path / "keep.wav"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_audio(path, stereo, 8000)
    assert path.read_bytes() == b"precious"
    write_audio(path, stereo, 8000, overwrite=True)
    assert read_audio(path)[0].shape == stereo.shape


@pytest.mark.parametrize("data, match", [
    (np.array([0.0, np.nan]), "NaN"),
    (np.zeros((0,)), "non-empty"),
    (np.zeros((2, 2, 2)), "non-empty"),
    (np.array(["a", "b"]), "real numbers"),
])
def test_bad_data_leaves_no_file_behind(tmp_path, data, match):
    with pytest.raises(ValueError, match=match):
        write_audio(tmp_path / "out.wav", data, 8000)
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_no_partial_or_temporary_file(tmp_path, stereo):
    path = tmp_path / "out.wav"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="Cannot write"):
        write_audio(path, stereo, 8000, subtype="VORBIS", overwrite=True)  # not for WAV
    assert sorted(os.listdir(tmp_path)) == ["out.wav"]
    assert path.read_bytes() == b"old"


def test_write_errors(tmp_path, stereo):
    with pytest.raises(ValueError, match="Unsupported audio format '.xyz'"):
        write_audio(tmp_path / "x.xyz", stereo, 8000)
    with pytest.raises(ValueError, match="'sr' parameter of write_audio must be a positive integer"):
        write_audio(tmp_path / "x.wav", stereo, 0)
    with pytest.raises(IsADirectoryError):
        write_audio(tmp_path, stereo, 8000)


def test_read_errors_name_the_file(tmp_path, stereo):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_audio(tmp_path)
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(ValueError, match="notes.wav"):
        read_audio(text)
    good = tmp_path / "good.wav"
    write_audio(good, stereo, 8000)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:30])  # header cut short
    with pytest.raises(ValueError, match="truncated.wav"):
        read_audio(truncated)
    with pytest.raises(ValueError, match="'dtype' parameter of read_audio must be a str among"):
        read_audio(good, dtype="int16")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1)), 8000)
    with pytest.raises(ValueError, match="contains no samples"):
        read_audio(empty)
    assert good.read_bytes()  # inputs are never modified
