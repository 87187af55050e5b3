"""The ``sksep`` command, end to end through subprocesses on tiny inputs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sksep.datasets import load_demo, make_instantaneous_mixture
from sksep.io import read_audio, write_audio
from sksep.metrics import pit_si_sdr

SR = 8000


def sksep(*args, cwd):
    """Run the installed entry point (python -m sksep when there is none)."""
    script = Path(sys.executable).with_name("sksep")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "sksep"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(cmd + [str(a) for a in args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def snapshot(folder):
    """Every file under ``folder`` with its bytes, to prove nothing changed."""
    return {p: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def voices():
    demo = load_demo(speakers=["george", "theo"])
    a = np.concatenate(demo.waveforms[:6])
    b = np.concatenate(demo.waveforms[20:26])
    n = min(a.size, b.size)
    return np.stack([a[:n], b[:n]]).astype(np.float64) * 0.4


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, voices):
    """stereo.wav (2 voices, 2 mics), mono.wav (16 kHz), ref/ with the voices."""
    folder = tmp_path_factory.mktemp("inputs")
    X, _ = make_instantaneous_mixture(voices.T, random_state=0)
    write_audio(folder / "stereo.wav", 0.9 * X / np.abs(X).max(), SR)
    import librosa

    mono16 = librosa.resample(voices.sum(0), orig_sr=SR, target_sr=16000)
    write_audio(folder / "mono.wav", mono16, 16000)
    (folder / "ref").mkdir()
    for k, v in enumerate(voices):
        write_audio(folder / "ref" / f"voice{k}.wav", v, SR)
    (folder / "broken.wav").write_bytes((folder / "stereo.wav").read_bytes()[:30])
    (folder / "notes.txt").write_text("not audio")
    return folder


def test_help_lists_every_subcommand(tmp_path):
    res = sksep("--help", cwd=tmp_path)
    assert res.returncode == 0
    for command in ("demo", "separate", "train", "evaluate"):
        assert command in res.stdout


def test_demo_writes_wavs_and_figure_and_prints_scores(tmp_path):
    res = sksep("demo", "--out", "demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "demo"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["ica_mixture.wav", "ica_george.wav", "ica_jackson.wav",
                            "ica_theo.wav", "mask_mixture.wav", "mask_woman.wav",
                            "room_mixture.wav", "room_voice1.wav", "room_voice2.wav",
                            "mask_man.wav", "demo.png"])
    assert (out / "demo.png").stat().st_size > 10_000
    assert read_audio(out / "ica_mixture.wav")[0].shape[1] == 3
    # ICA rows: separated to > 30 dB; mask rows: a real improvement
    rows = re.findall(r"^(ICA, 3 mics|IVA, room, 2 mics|ICA, room, 2 mics|"
                      r"pretrained mask, 1 mic)\s+(\w+)\s+(\S+)\s+(\S+)"
                      r"\s+(\S+)$", res.stdout, flags=re.M)
    assert len(rows) == 9, res.stdout
    gains = {}
    for method, _, _, after, gain in rows:
        gains.setdefault(method, []).append(float(gain))
        if method == "ICA, 3 mics":
            assert float(after) > 30
    assert min(gains["pretrained mask, 1 mic"]) > 3
    # in the room, IVA separates and instantaneous ICA does not
    assert min(gains["IVA, room, 2 mics"]) > 3
    assert np.mean(gains["IVA, room, 2 mics"]) > np.mean(gains["ICA, room, 2 mics"]) + 5
    # a second run touches nothing without --force
    before = snapshot(out)
    again = sksep("demo", "--out", "demo", cwd=tmp_path)
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert snapshot(out) == before


def test_separate_stereo_with_ica_then_evaluate(tmp_path, inputs, voices):
    res = sksep("separate", inputs / "stereo.wav", "-o", "out", "--method", "ica",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["stereo_source1.wav", "stereo_source2.wav"]
    est = np.stack([read_audio(f, dtype="float64")[0][:, 0] for f in files])
    assert np.all(pit_si_sdr(voices, est)[0] > 25)
    res = sksep("evaluate", "--ref", inputs / "ref", "--est", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    mean = re.search(r"^mean\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", res.stdout, flags=re.M)
    si_sdr, sdr, sir, sar = map(float, mean.groups())
    assert si_sdr > 25 and sdr > 25 and sir > 25 and sar > 25
    assert "voice0.wav" in res.stdout


@pytest.fixture(scope="module")
def room_file(tmp_path_factory):
    """room.wav: a woman and a man (unseen LibriSpeech readers) in a simulated
    room (RT60 150 ms), two microphones 5 cm apart; and their images."""
    from sksep.datasets import load_speech_demo, make_room_mixture

    demo = load_speech_demo()
    n = 6 * SR
    S = np.stack([demo.waveforms[0][:n], demo.waveforms[2][:n]], axis=1)
    mix, images = make_room_mixture(S, SR, rt60=0.15, random_state=0)
    folder = tmp_path_factory.mktemp("room")
    scale = 0.9 / np.abs(mix).max()
    write_audio(folder / "room.wav", mix * scale, SR)
    return folder / "room.wav", images * scale, mix * scale


def test_separate_multichannel_room_uses_iva_by_default(tmp_path, room_file):
    from sksep.metrics import image_scores

    path, images, mix = room_file
    # 2 s chunks: the fixed filters are applied chunk by chunk
    res = sksep("separate", path, "-o", "out", "--chunk-seconds", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    est = np.stack([read_audio(tmp_path / "out" / f"room_source{k}.wav",
                               dtype="float64")[0][:, 0] for k in (1, 2)], axis=1)
    scores = image_scores(images, est, mixture=mix)
    assert np.mean(scores["sdr_improvement"]) > 8


def test_separate_never_overwrites_without_force(tmp_path, inputs):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stereo_source2.wav").write_bytes(b"precious")
    res = sksep("separate", inputs / "stereo.wav", "-o", out, cwd=tmp_path)
    assert res.returncode == 1
    assert "exist" in res.stderr and "--force" in res.stderr
    assert (out / "stereo_source2.wav").read_bytes() == b"precious"
    assert not (out / "stereo_source1.wav").exists()  # nothing half-written
    res = sksep("separate", inputs / "stereo.wav", "-o", out, "--force", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert read_audio(out / "stereo_source2.wav")[0].shape[0] > 1000


def test_separate_mono_with_the_pretrained_model_keeps_rate_and_length(tmp_path,
                                                                       inputs):
    res = sksep("separate", inputs / "mono.wav", "-o", "out", "--chunk-seconds", "1",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "two voices\nof one sex" in res.stderr  # the model's limit is stated
    x, sr = read_audio(inputs / "mono.wav")
    for k in (1, 2):
        y, ysr = read_audio(tmp_path / "out" / f"mono_source{k}.wav")
        assert ysr == sr == 16000 and y.shape == x.shape


@pytest.mark.parametrize("args, message", [
    (["mono.wav", "--method", "ica"], "1 channel; ICA needs"),
    (["stereo.wav", "--n-sources", "0"], "--n-sources must be at least 1, got 0"),
    (["stereo.wav", "--n-sources", "-2"], "--n-sources must be at least 1, got -2"),
    (["stereo.wav", "--model", "my_model.pt"], "--model applies to the single-microphone"),
    (["stereo.wav", "--model", "doesnotexist.pt", "--method", "iva"],
     "--model applies to the single-microphone"),
    (["stereo.wav", "--n-sources", "3"], "3 sources from 2 channels"),
    (["mono.wav", "--n-sources", "3"], "the model separates 2 sources"),
    (["missing.wav"], "No such audio file"),
    (["nothing*.wav"], "no audio files match nothing"),
    (["broken.wav"], "Cannot read audio file"),
    (["notes.txt"], "Cannot read audio file"),
    (["mono.wav", "--model", "no-such-model"], "neither a shipped model"),
    (["mono.wav", "--model", "notes.txt"], "Cannot load a model"),
])
def test_separate_bad_input_fails_cleanly(tmp_path, inputs, args, message):
    before = snapshot(inputs)
    res = sksep("separate", *args, "-o", tmp_path / "out", cwd=inputs)
    assert res.returncode == 1
    assert message in res.stderr
    assert res.stderr.startswith("sksep separate: error:")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert snapshot(inputs) == before


def test_train_then_separate_with_the_trained_model(tmp_path):
    demo = load_demo(speakers=["george", "jackson", "theo"], digits=[0, 1, 2])
    data = tmp_path / "clean"
    for w, spk, digit, idx in zip(demo.waveforms, demo.speaker, demo.digit, demo.index):
        (data / spk).mkdir(parents=True, exist_ok=True)
        write_audio(data / spk / f"{digit}_{idx}.wav", w, SR)
    res = sksep("train", data, "-o", "model.pt", "--epochs", "2", "--hidden-size", "8",
                "--n-fft", "128", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "3 speakers" in res.stdout and "epoch" in res.stdout
    assert (tmp_path / "model.pt").stat().st_size > 1000
    mix = demo.waveforms[0][:2000] + demo.waveforms[10][:2000]
    write_audio(tmp_path / "mix.wav", mix, SR)
    res = sksep("separate", "mix.wav", "-o", "out", "--model", "model.pt", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "out").iterdir())) == 2
    before = (tmp_path / "model.pt").read_bytes()
    res = sksep("train", data, "-o", "model.pt", "--epochs", "1", cwd=tmp_path)
    assert res.returncode == 1 and "--force" in res.stderr
    assert (tmp_path / "model.pt").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["missing"], "does not exist"),
    (["empty"], "no audio files"),
    (["notes.txt"], "is a file"),
])
def test_train_bad_input_fails_cleanly(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    res = sksep("train", *args, "-o", "m.pt", cwd=tmp_path)
    assert res.returncode == 1 and message in res.stderr
    assert not (tmp_path / "m.pt").exists()


def test_evaluate_bad_input_fails_cleanly(tmp_path, inputs):
    (tmp_path / "one").mkdir()
    write_audio(tmp_path / "one" / "a.wav", np.ones(100) * 0.1, SR)
    res = sksep("evaluate", "--ref", inputs / "ref", "--est", "one", cwd=tmp_path)
    assert res.returncode == 1 and "2 reference files but 1 estimate" in res.stderr
    res = sksep("evaluate", "--ref", "nowhere", "--est", "one", cwd=tmp_path)
    assert res.returncode == 1 and "does not exist" in res.stderr
    res = sksep("evaluate", "--ref", "one", cwd=tmp_path)
    assert res.returncode == 2 and "--est" in res.stderr


def test_train_on_a_flat_folder_says_what_it_did(tmp_path):
    demo = load_demo(speakers=["george", "theo"], digits=[0, 1])
    data = tmp_path / "flat"
    data.mkdir()
    for k, w in enumerate(demo.waveforms):
        write_audio(data / f"{k}.wav", w, SR)
    res = sksep("train", data, "-o", "flat.pt", "--epochs", "1", "--hidden-size", "4",
                "--n-fft", "128", "--clip-seconds", "0.5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "no speaker labels" in res.stderr and "voice with itself" in res.stderr
    assert "saved flat.pt (1 epoch)" in res.stdout
    assert "\x1b[" not in res.stdout  # no colour codes in a pipe


def test_separate_keeps_24_bit_input_24_bit(tmp_path, voices):
    import soundfile

    path = tmp_path / "mono24.wav"
    soundfile.write(path, 0.4 * voices.sum(0), SR, subtype="PCM_24")
    res = sksep("separate", path, "-o", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for k in (1, 2):
        assert soundfile.info(str(tmp_path / "out" / f"mono24_source{k}.wav")).subtype \
            == "PCM_24"
    assert "WAV PCM_24" in res.stderr


def test_library_errors_are_said_in_command_line_terms(tmp_path, inputs):
    import soundfile

    bad = np.full((4000, 2), 0.1)
    bad[100, 0] = np.nan
    soundfile.write(tmp_path / "nan.wav", bad, SR, subtype="FLOAT")
    res = sksep("separate", "nan.wav", "-o", "out", cwd=tmp_path)
    assert res.returncode == 1
    assert "'nan.wav' holds NaN samples" in res.stderr
    assert "HistGradientBoosting" not in res.stderr and "imput" not in res.stderr
    res = sksep("separate", inputs / "mono.wav", "-o", "out", "--chunk-seconds",
                "0.001", cwd=tmp_path)
    assert res.returncode == 1 and "--chunk-seconds must be at least" in res.stderr
    res = sksep("separate", inputs / "notes.txt", "-o", "out", cwd=tmp_path)
    assert res.returncode == 1 and ".." not in res.stderr


def test_help_states_the_exit_codes(tmp_path):
    res = sksep("--help", cwd=tmp_path)
    assert "0 on success, 1 when a command fails" in " ".join(res.stdout.split())
    assert "2 for a usage error" in " ".join(res.stdout.split())
    res = sksep("train", "--help", cwd=tmp_path)
    assert "(default: 4.0)" in res.stdout and "Adam learning rate" in res.stdout


def test_stream_a_file_block_by_block(tmp_path, room_file):
    from sksep.datasets import load_speech_demo

    demo = load_speech_demo()
    write_audio(tmp_path / "call.wav", 0.5 * (demo.waveforms[0][:3 * SR]
                                              + demo.waveforms[2][:3 * SR]), SR)
    res = sksep("stream", "call.wav", "-o", "out", "--block-ms", "8", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "algorithmic latency: 127 samples = 15.9 ms" in res.stdout
    assert re.search(r"compute per block: median [\d.]+ ms, 99th percentile [\d.]+ ms, "
                     r"worst [\d.]+ ms", res.stdout)
    for k in (1, 2):
        y, sr = read_audio(tmp_path / "out" / f"call_source{k}.wav")
        assert sr == SR and y.shape[0] == 3 * SR
    path, _, _ = room_file                   # multichannel: online IVA
    res = sksep("stream", path, "-o", "room_out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "online IVA, 2 microphones" in res.stdout
    res = sksep("stream", "call.wav", "-o", "out", "--block-ms", "0", cwd=tmp_path)
    assert res.returncode == 1 and "--block-ms must be positive" in res.stderr


def test_separate_an_archive_in_parallel_with_a_results_table(tmp_path, inputs,
                                                             room_file):
    import csv
    import shutil

    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(inputs / "mono.wav", archive / "a.wav")
    shutil.copy(room_file[0], archive / "b.wav")
    (archive / "c.wav").write_text("broken")
    res = sksep("separate", archive, "-o", "out", "--jobs", "2", "--quiet",
                cwd=tmp_path)
    assert res.returncode == 1 and "1 file could not be separated" in res.stderr
    assert "2 separated, 0 already done, 1 failed" in res.stdout
    with open(tmp_path / "out" / "sksep-results.csv") as fh:
        rows = {r["input"].rsplit("/", 1)[-1]: r for r in csv.DictReader(fh)}
    assert rows["a.wav"]["status"] == "done" and rows["c.wav"]["status"] == "failed"
    assert len(list((tmp_path / "out").glob("*_source*.wav"))) == 4
    # a rerun resumes: nothing is computed twice
    res = sksep("separate", archive / "a.wav", archive / "b.wav", "-o", "out",
                "--quiet", "--jobs", "2", cwd=tmp_path)
    assert res.returncode == 0 and "0 separated, 2 already done, 0 failed" in res.stdout
