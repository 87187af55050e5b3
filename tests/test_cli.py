"""The ``sksep`` command, end to end through subprocesses on tiny inputs."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sksep.datasets import load_demo, make_instantaneous_mixture
from sksep.io import read_audio, write_audio
from sksep.metrics import pit_si_sdr

from conftest import sksep

SR = 8000


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


def _rescore_demo_wavs(out):
    """{(method, voice): (SI-SDR of the mixture WAV, of the voice's WAV, the
    most 16-bit rounding of the voice's WAV can lower it)} for the demo's
    WAVs in ``out``, against references rebuilt from the shipped data as the
    demo describes them (same seeds)."""
    from sksep.datasets import load_speech_demo, make_conversation, make_room_mixture
    from sksep.metrics import image_scores, si_sdr

    def wav(name):
        return read_audio(out / name, dtype="float64")[0]

    def rounding(score, name):
        """dB lost to rounding noise (step 2**-15, power step**2 / 12) added
        to a WAV whose float version scored ``score``."""
        power = np.mean(wav(name) ** 2)
        return 10 * np.log10(1 + 10 ** (score / 10) * 2.0**-30 / 12 / power)

    scores = {}
    # three FSDD speakers, all their digits in a row, cut to the shortest;
    # microphone 1 of the 3-channel mixture is the "before"
    fsdd = load_demo()
    speakers = ["george", "jackson", "theo"]
    S = [np.concatenate([w for w, s in zip(fsdd.waveforms, fsdd.speaker) if s == sp])
         for sp in speakers]
    n = min(len(v) for v in S)
    mic = wav("ica_mixture.wav")[:, 0]
    for sp, s in zip(speakers, S):
        after = si_sdr(s[:n], wav(f"ica_{sp}.wav")[:, 0], zero_mean=True)
        scores["ICA, 3 mics", sp] = (si_sdr(s[:n], mic, zero_mean=True), after,
                                     rounding(after, f"ica_{sp}.wav"))
    # the second woman and second man of load_speech_demo, 10 s, in a room
    # (RT60 300 ms, 2 microphones 5 cm apart, seed 0): microphone 1's images
    speech = load_speech_demo()
    pair = [int(np.flatnonzero(speech.sex == sex)[1]) for sex in ("F", "M")]
    V = np.stack([speech.waveforms[k][:10 * SR] for k in pair], axis=1)
    _, images = make_room_mixture(V, SR, n_mics=2, mic_spacing=0.05, rt60=0.3,
                                  random_state=0)
    est = np.stack([wav(f"room_voice{k}.wav")[:, 0] for k in (1, 2)], axis=1)
    room = image_scores(images, est, mixture=wav("room_mixture.wav"))
    for k, who in enumerate(("woman", "man")):
        after = room["si_sdr"][k]
        scores["IVA, room, 2 mics", who] = (
            after - room["si_sdr_improvement"][k], after,
            rounding(after, f"room_voice{room['perm'][k] + 1}.wav"))
    # the first woman and first man in a 20 s conversation (seed 0), one mic
    pair = [int(np.flatnonzero(speech.sex == sex)[0]) for sex in ("F", "M")]
    _, Y = make_conversation([[speech.waveforms[k]] for k in pair], n_times=20 * SR,
                             random_state=0)
    mix = wav("mask_mixture.wav")[:, 0]
    for who, y in zip(("woman", "man"), Y):
        after = si_sdr(y, wav(f"mask_{who}.wav")[:, 0])
        scores["pretrained mask, 1 mic", who] = (si_sdr(y, mix), after,
                                                 rounding(after, f"mask_{who}.wav"))
    return scores


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
    # the WAVs it wrote score what it printed: references rebuilt as the demo
    # says it builds them (its ICA estimates in the room are not written)
    # within 0.1 dB, plus what rounding a quiet output to 16 bits can cost
    # (ica_theo.wav peaks at -32 dBFS: 37.37 dB read back against 37.5 printed)
    printed = {(m, v): (float(b), float(a)) for m, v, b, a, _ in rows}
    rescored = _rescore_demo_wavs(out)
    assert len(rescored) == 7
    for key, (before, after, rounding) in rescored.items():
        assert abs(before - printed[key][0]) < 0.1, (key, before, printed[key])
        assert abs(after - printed[key][1]) < 0.1 + rounding, (key, after, rounding,
                                                              printed[key])
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


@pytest.fixture(scope="module")
def speech16k(tmp_path_factory):
    """call16k.wav: a woman and a man (unseen LibriSpeech readers) at equal
    level, 4 s, resampled to 16 kHz; and the two voices at 16 kHz."""
    import librosa

    from sksep.datasets import load_speech_demo

    demo = load_speech_demo(dtype="float64")
    V = np.stack([demo.waveforms[0][:4 * SR], demo.waveforms[2][:4 * SR]])
    V = 0.05 * V / np.sqrt(np.mean(V**2, axis=1, keepdims=True))
    V16 = librosa.resample(V, orig_sr=SR, target_sr=16000)
    folder = tmp_path_factory.mktemp("speech16k")
    write_audio(folder / "call16k.wav", V16.sum(0), 16000, subtype="FLOAT")
    return folder / "call16k.wav", V16


def _sum_back_residual_db(x, Y, sr, below=4000):
    """Energy of ``x - (g1 y1 + g2 y2)`` below ``below`` Hz relative to
    ``x``'s, for the least-squares gains (the outputs are peak-normalised
    one by one, so their sum is the mixture only up to a gain each)."""
    low = np.fft.rfftfreq(x.size, 1 / sr) < below
    X, F = np.fft.rfft(x)[low], np.fft.rfft(Y, axis=1)[:, low]
    A = np.concatenate([F.real, F.imag], axis=1).T
    g = np.linalg.lstsq(A, np.concatenate([X.real, X.imag]), rcond=None)[0]
    return 10 * np.log10(np.sum(np.abs(X - g @ F) ** 2) / np.sum(np.abs(X) ** 2))


def test_separate_mono_with_the_pretrained_model_separates_at_the_files_rate(
        tmp_path, speech16k):
    from sksep.metrics import si_sdr

    path, V16 = speech16k
    x, sr = read_audio(path, dtype="float64")
    before = si_sdr(V16, np.stack([x[:, 0]] * 2))
    for extra in ([], ["--chunk-seconds", "1"]):
        res = sksep("separate", path, "-o", "out", "--force", *extra, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "two voices\nof one sex" in res.stderr  # the model's limit is stated
        Y = []
        for k in (1, 2):
            y, ysr = read_audio(tmp_path / "out" / f"call16k_source{k}.wav",
                                dtype="float64")
            assert ysr == sr == 16000 and y.shape == x.shape
            Y.append(y[:, 0])
        Y = np.stack(Y)
        # the outputs add back up to the mixture where the 8 kHz model works
        # (measured -35.2 dB whole, -31.7 dB in 1 s chunks), and neither is
        # the mixture again (measured 1.3 and 0.6 dB; 5.5 and -1.6 in chunks)
        assert _sum_back_residual_db(x[:, 0], Y, sr) < -25
        assert np.all(si_sdr(np.stack([x[:, 0]] * 2), Y) < 10)
        if not extra:
            # separated whole (the default --chunk-seconds): each voice, best
            # pairing, gains 11.2 dB over the mixture (measured 11.21, 11.25)
            after, _ = pit_si_sdr(V16, Y)
            assert np.all(after - before > 8), after - before


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


@pytest.fixture(scope="module")
def room12(tmp_path_factory):
    """room12.wav: the woman and the man of room.wav, 12 s, in the same room
    (online IVA needs seconds to converge); and their images."""
    from sksep.datasets import load_speech_demo, make_room_mixture

    demo = load_speech_demo()
    n = 12 * SR
    S = np.stack([demo.waveforms[0][:n], demo.waveforms[2][:n]], axis=1)
    mix, images = make_room_mixture(S, SR, rt60=0.15, random_state=0)
    scale = 0.9 / np.abs(mix).max()
    folder = tmp_path_factory.mktemp("room12")
    write_audio(folder / "room12.wav", mix * scale, SR, subtype="FLOAT")
    return folder / "room12.wav", images * scale


def test_stream_a_file_block_by_block(tmp_path, room12):
    from sksep.datasets import load_speech_demo
    from sksep.metrics import image_scores
    from sksep.pretrained import load

    demo = load_speech_demo()
    # float samples in, float samples out: no 16-bit rounding in the comparison
    write_audio(tmp_path / "call.wav", 0.5 * (demo.waveforms[0][:3 * SR]
                                              + demo.waveforms[2][:3 * SR]), SR,
                subtype="FLOAT")
    res = sksep("stream", "call.wav", "-o", "out", "--block-ms", "8", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "algorithmic latency: 127 samples = 15.9 ms" in res.stdout
    assert re.search(r"compute per block: median [\d.]+ ms, 99th percentile [\d.]+ ms, "
                     r"worst [\d.]+ ms", res.stdout)
    # what sksep.streaming promises: the stream, shifted by its latency, is
    # the offline output of the same causal model (up to the peak scaling
    # of the files)
    x, _ = read_audio(tmp_path / "call.wav", dtype="float32")
    offline = load("speech8k-2voices-causal-16ms").separate(
        x[:, 0], sr=SR, chunk_size=None).astype(np.float64)
    for k in (1, 2):
        y, sr = read_audio(tmp_path / "out" / f"call_source{k}.wav", dtype="float64")
        assert sr == SR and y.shape[0] == 3 * SR
        y, o = y[:, 0], offline[k - 1]
        gain = y @ o / (o @ o)
        assert 0 < gain < 1 + 1e-6
        assert np.abs(y - gain * o).max() <= 1e-4 * np.abs(y).max()
    # multichannel: online IVA; its files are the input's length and rate,
    # and after the first seconds each beats the microphone (mean SDR
    # improvement measured 7.6 dB from 6 s on, 3.6 and 11.6 dB per voice)
    path, images = room12
    res = sksep("stream", path, "-o", "room_out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "online IVA, 2 microphones" in res.stdout
    assert re.search(r"\nconverged at 2\.1\d s: ", res.stdout)   # the 2 s warm start
    mix, _ = read_audio(path, dtype="float64")
    Y = []
    for k in (1, 2):
        y, sr = read_audio(tmp_path / "room_out" / f"room12_source{k}.wav",
                           dtype="float64")
        assert sr == SR and y.shape == (mix.shape[0], 1)
        assert np.sqrt(np.mean(y**2)) > 0.01                      # not silent
        Y.append(y[:, 0])
    late = slice(6 * SR, None)
    gain = image_scores(images[:, late], np.stack(Y, axis=1)[late],
                        mixture=mix[late])["sdr_improvement"]
    assert np.mean(gain) > 5 and np.all(gain > 1.5), gain
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


# -- the newcomer pass: errors before work, Ctrl-C, rates, help, models ----------

def _speaker_folders(folder):
    """Two FSDD speakers' digits 0 and 1, one sub-folder per speaker."""
    demo = load_demo(speakers=["george", "theo"], digits=[0, 1])
    for k, (w, spk) in enumerate(zip(demo.waveforms, demo.speaker)):
        (folder / spk).mkdir(parents=True, exist_ok=True)
        write_audio(folder / spk / f"{k}.wav", w, SR)
    return folder


def test_train_checks_options_and_output_before_reading_data(tmp_path):
    # an option error is reported first, even with a data folder that is missing
    res = sksep("train", "missing", "-o", "m.pt", "--epochs", "0", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "sksep train: error: --epochs must be at least 1, got 0.")
    for args, message in [(["--valid-fraction", "1"], "--valid-fraction must be in"),
                          (["--lr", "0"], "--lr must be positive"),
                          (["--label-regex", "("], "--label-regex is not a valid")]:
        res = sksep("train", "missing", "-o", "m.pt", *args, cwd=tmp_path)
        assert res.returncode == 1 and message in res.stderr, res.stderr
    # an existing model is refused before the data are looked at, and kept
    (tmp_path / "m.pt").write_bytes(b"precious")
    res = sksep("train", "missing", "-o", "m.pt", cwd=tmp_path)
    assert res.returncode == 1 and "exists; pass --force" in res.stderr
    assert (tmp_path / "m.pt").read_bytes() == b"precious"
    # an output under a file cannot be written: said before training
    data = _speaker_folders(tmp_path / "clean")
    res = sksep("train", data, "-o", "m.pt/model.pt", cwd=tmp_path)
    assert res.returncode == 1 and "is a file, not a folder" in res.stderr
    assert "training" not in res.stdout


def test_train_makes_the_model_folder_it_is_given(tmp_path):
    data = _speaker_folders(tmp_path / "clean")
    res = sksep("train", data, "-o", "models/m1.pt", "--epochs", "1", "--hidden-size",
                "4", "--n-fft", "128", "--clip-seconds", "0.5", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "saved models/m1.pt (1 epoch)" in res.stdout
    assert (tmp_path / "models" / "m1.pt").stat().st_size > 1000


def test_train_on_a_device_torch_cannot_use_fails_in_one_line_first(
        tmp_path, monkeypatch, capsys):
    import torch

    import sksep.io
    from sksep.cli import main

    data = _speaker_folders(tmp_path / "clean")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def no_reading(*args, **kwargs):
        raise AssertionError("the data were read before the device was checked")

    monkeypatch.setattr(sksep.io, "read_audio", no_reading)
    for device, message in [("cuda", "--device cuda: this torch has no GPU support"),
                            ("gpu", "--device must be cpu, cuda (cuda:N) or auto")]:
        status = main(["train", str(data), "-o", str(tmp_path / "m.pt"), "--device",
                       device])
        err = capsys.readouterr().err
        assert status == 1
        assert err.startswith(f"sksep train: error: {message}")
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert not (tmp_path / "m.pt").exists()


def _interrupt_on_call(n):
    """A function that raises KeyboardInterrupt on its n-th call (from 1)."""
    def interrupt(*args, **kwargs):
        interrupt.calls += 1
        if interrupt.calls >= n:
            raise KeyboardInterrupt
        return interrupt.real(*args, **kwargs)

    interrupt.calls = 0
    return interrupt


def test_ctrl_c_in_separate_says_one_line_and_leaves_no_partial_output(
        tmp_path, inputs, monkeypatch, capsys):
    import sksep._audiofile
    import sksep._separate
    from sksep.cli import main

    out = tmp_path / "out"
    expected = "sksep separate: interrupted; 0 files done, nothing half-written"
    # Ctrl-C while the model runs
    with monkeypatch.context() as m:
        m.setattr(sksep._separate, "separate_recording", _interrupt_on_call(1))
        status = main(["separate", str(inputs / "mono.wav"), "-o", str(out), "--quiet"])
    assert status == 130
    assert capsys.readouterr().err.strip() == expected
    assert not out.exists() or not any(out.iterdir())
    # Ctrl-C after the first of two outputs is written: neither is left
    with monkeypatch.context() as m:
        write = _interrupt_on_call(2)
        write.real = sksep._audiofile.write_audio_file   # what the file service writes with
        m.setattr(sksep._audiofile, "write_audio_file", write)
        status = main(["separate", str(inputs / "stereo.wav"), "-o", str(out),
                       "--method", "ica", "--quiet"])
    assert status == 130 and write.calls == 2
    assert capsys.readouterr().err.strip() == expected
    assert not any(out.iterdir())
    # a batch: the first file is done, Ctrl-C during the second
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("a", "b", "c"):
        write_audio(archive / f"{name}.wav", np.full(800, 0.1), SR)
    separate = _interrupt_on_call(2)
    separate.real = lambda plan, data, *args, **kwargs: np.stack([data[:, 0],
                                                                  -data[:, 0]])
    monkeypatch.setattr(sksep._separate, "separate_recording", separate)
    status = main(["separate", str(archive), "-o", str(out), "--quiet"])
    assert status == 130
    assert capsys.readouterr().err.strip() == (
        "sksep separate: interrupted; 1 file done, nothing half-written")
    assert sorted(p.name for p in out.glob("*.wav")) == ["a_source1.wav",
                                                          "a_source2.wav"]
    assert read_audio(out / "a_source1.wav")[0].shape == (800, 1)


def test_separate_says_what_an_8_khz_model_drops(tmp_path, inputs, voices):
    res = sksep("separate", inputs / "mono.wav", "-o", "out", "--method", "cnn",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert ("16000 Hz (the input's rate and sample format); the model works at 8 kHz: "
            "content above 4 kHz is not kept") in res.stderr
    # the note on voices of one sex names the model that ran, with its scores
    assert "note: speech8k-2voices-cnn separates a woman and a man" in res.stderr
    assert "speech8k-2voices separates" not in res.stderr
    assert "Warning" not in res.stderr
    write_audio(tmp_path / "mono8k.wav", 0.4 * voices.sum(0), SR)
    res = sksep("separate", "mono8k.wav", "-o", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "8000 Hz" in res.stderr and "not kept" not in res.stderr


def test_separate_errors_name_what_the_user_can_change(tmp_path, inputs):
    rng = np.random.default_rng(0)
    write_audio(tmp_path / "short.wav", 0.1 * rng.normal(size=(1200, 2)), SR)
    (tmp_path / "empty.wav").write_bytes(b"")
    cases = [
        ([inputs / "stereo.wav", "--fit-seconds", "0"],
         "--fit-seconds must be positive, got 0.0."),
        ([inputs / "stereo.wav", "--fit-seconds", "0.1"],
         "--fit-seconds must be at least 1.024 s (4 of IVA's 256 ms STFT windows), "
         "got 0.1."),
        (["short.wav"], "'short.wav' is 0.15 s long, too short for IVA"),
        (["empty.wav"], "'empty.wav' is empty (0 bytes)"),
        ([inputs / "mono.wav", "--model", inputs / "stereo.wav"],
         "it is not an sksep model file"),
    ]
    for args, message in cases:
        res = sksep("separate", *args, "-o", "out", cwd=tmp_path)
        assert res.returncode == 1
        assert res.stderr.startswith("sksep separate: error:") and message in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
        for internal in ("stft", "Found array", "IndexError", "Format not recognised"):
            assert internal not in res.stderr
        assert not (tmp_path / "out").exists()


def test_batch_results_table_gives_the_message_only(tmp_path):
    import csv

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "empty.wav").write_bytes(b"")
    write_audio(archive / "short.wav", np.full((1200, 2), 0.1), SR)
    res = sksep("separate", archive, "-o", "out", "--quiet", cwd=tmp_path)
    assert res.returncode == 1
    with open(tmp_path / "out" / "sksep-results.csv") as fh:
        errors = {Path(r["input"]).name: r["error"] for r in csv.DictReader(fh)}
    assert errors["empty.wav"].endswith("is empty (0 bytes): there is no audio in it.")
    assert "shorter stft" not in errors["short.wav"]
    for error in errors.values():
        assert error and not re.match(r"\w+(Error|Exception):", error)
    assert "failed: " in res.stderr and "Error:" not in res.stderr


def test_help_shows_each_default_once_and_says_what_it_applies_to(tmp_path):
    for command in ("separate", "stream", "train", "demo", "evaluate"):
        res = sksep(command, "--help", cwd=tmp_path)
        assert res.returncode == 0
        text = " ".join(res.stdout.split())
        assert "(default: None)" not in text and "(default: False)" not in text
        assert not re.search(r"default: [^)]*\) \(default:", text), command
    res = sksep("demo", "--help", cwd=tmp_path)
    assert "room" in res.stdout and "IVA" in res.stdout
    res = sksep("train", "--help", cwd=tmp_path)
    text = " ".join(res.stdout.split())
    assert "(default: 50)" in text and "-o OUTPUT, --output OUTPUT model file" in text
    # what refitting a loaded model does
    assert "clone(model).fit(...) trains a single epoch" in text
    assert "partial_fit(...) continues from its weights" in text


def test_models_lists_every_shipped_model_without_torch(tmp_path):
    from sksep.pretrained import list_models

    res = sksep("models", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line for line in res.stdout.splitlines() if line.strip()}
    for name, entry in list_models().items():
        assert name in rows, name
        assert f"{entry['sample_rate'] // 1000} kHz" in rows[name]
        assert re.search(r"[+-]\d+\.\d dB", rows[name]), rows[name]
    assert "15.9 ms" in rows["speech8k-2voices-causal-16ms"]   # 127 samples at 8 kHz
    assert "offline" in rows["speech8k-2voices"] and "(default)" in rows[
        "speech8k-2voices"]
    assert rows["speech8k-2voices"].rstrip().endswith("CC BY 4.0")
    assert rows["fsdd-2speakers"].rstrip().endswith("CC BY-SA 4.0")
    code = ("import sys; from sksep.cli import main; main(['models']); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr


def test_demo_console_explains_ica_in_a_room_and_prints_no_minus_zero(tmp_path):
    res = sksep("demo", "--out", "demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not re.search(r"-0\.0\b", res.stdout), res.stdout
    assert "ICA fails in the room: it assumes each microphone hears a fixed" in (
        res.stdout)
    assert "Warning" not in res.stderr


def test_batch_says_when_an_8_khz_model_drops_the_top_of_mono_files(tmp_path, inputs):
    import shutil

    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(inputs / "mono.wav", archive / "call16k.wav")        # 16 kHz
    shutil.copy(inputs / "stereo.wav", archive / "room.wav")         # IVA: full band
    res = sksep("separate", archive, "-o", "out", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert ("2 separated, 0 already done, 0 failed; table: out/sksep-results.csv\n"
            "1 mono file sampled above 8 kHz: the model works at 8 kHz, content above "
            "4 kHz is not kept") in res.stdout


def test_demo_figure_shows_the_room_and_names_every_spectrogram(rng):
    """The demo's figure (built from small stand-in signals) has the room
    scene's panels, its IVA outputs drawn against the voices they match, and
    every spectrogram titled mixture, estimate or reference."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from sksep.cli.demo import _demo_figure

    n, hop = 4000, 64
    S = rng.laplace(size=(3, n))
    images = rng.laplace(size=(2, n, 2))
    room = {"mixture": images.sum(0), "images": images,
            "estimates": images[::-1, :, 0].T + 0.1 * rng.normal(size=(n, 2)),
            "si_sdr": np.array([9.04, 4.1]), "perm": np.array([1, 0]),
            "who": ("woman", "man")}
    V = rng.laplace(size=(2, n))
    fig = _demo_figure(S.T @ rng.normal(size=(3, 3)), S, S + 0.01, [40.0, 41.0, 42.0],
                       ["george", "jackson", "theo"], room, V.sum(0), V, V * 0.9,
                       rng.uniform(size=(2, 129, n // hop + 1)), [3.8, 3.6],
                       ["woman", "man"], SR, hop)
    spectrograms = [ax for ax in fig.axes if ax.images and ax.images[0].colorbar
                    is not None and ax.images[0].colorbar.ax.get_ylabel() == "dB"]
    titles = [ax.get_title() for ax in spectrograms]
    assert len(titles) == 4 + 5 + 5, titles        # ICA, room, one microphone
    assert all(t.split(",")[0].split(":")[0] in ("mixture", "estimate", "reference")
               for t in titles), titles
    for title in ("mixture, microphone 1 of 2", "estimate: voice 2 (woman)",
                  "reference: woman as microphone 1 hears it",
                  "estimate: voice 1 (man)", "reference: man as microphone 1 hears it",
                  "estimate: woman", "reference: man", "estimate: george"):
        assert title in titles, titles
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert any(t.startswith("IVASeparator: 2 readers in a reverberant room")
               for t in texts), texts
    # the woman's row shows IVA output 2 (room_voice2.wav) with its SI-SDR
    wave = next(ax for ax in fig.axes
                if ax.get_title() == "voice 2 (woman): SI-SDR 9.0 dB")
    np.testing.assert_array_equal(wave.lines[-1].get_ydata(),
                                  room["estimates"][:, 1])
    plt.close(fig)
