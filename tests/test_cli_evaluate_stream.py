"""``sksep evaluate`` on corpus layouts and ``sksep stream`` on files at other
rates, end to end through the entry point."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from sksep.io import read_audio, write_audio

from conftest import sksep

SR = 8000


def direct_si_sdr(s, e):
    """SI-SDR in dB written out (Le Roux et al., 2019), for the expected values."""
    target = (np.dot(s, e) / np.dot(s, s)) * s
    return 10 * np.log10(np.sum(target**2) / np.sum((e - target) ** 2))


def table_rows(stdout):
    """{reference: [estimate, numbers...]} of evaluate's table."""
    rows = {}
    for line in stdout.splitlines()[2:]:
        cells = line.split()
        if cells[0] != "mean":
            rows[cells[0]] = [cells[1]] + [float(c) for c in cells[2:]]
    return rows


NAMES = ["a.wav", "b.wav", "c.wav"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """ref/ with mix/ s1/ s2/ (three mixtures of two noise 'voices'), est/
    with s1/ s2/ holding the estimates swapped: est/s1 is the second voice
    plus 10 % of the first (about 20 dB), est/s2 the first plus 30 % of the
    second (about 10 dB). Returns the folder and the signals as written."""
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    signals = {}
    for name in NAMES:
        s = 0.2 * rng.standard_normal((2, SR))
        e = np.stack([s[1] + 0.1 * s[0], s[0] + 0.3 * s[1]])
        files = {"ref/s1": s[0], "ref/s2": s[1], "ref/mix": s[0] + s[1],
                 "est/s1": e[0], "est/s2": e[1]}
        for folder, x in files.items():
            (root / folder).mkdir(parents=True, exist_ok=True)
            write_audio(root / folder / name, x, SR, subtype="FLOAT")
        signals[name] = {k: read_audio(root / k / name, dtype="float64")[0][:, 0]
                         for k in files}
    return root, signals


def test_evaluate_scores_a_corpus_with_si_sdr_improvement(tmp_path, corpus):
    root, signals = corpus
    res = sksep("evaluate", "--ref", root / "ref", "--est", root / "est",
                "--mix", root / "ref" / "mix", "--csv", tmp_path / "scores.csv",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = table_rows(res.stdout)
    assert len(rows) == 6                      # 3 mixtures x 2 sources
    for name, x in signals.items():
        # swapped estimates are matched back
        for ref, est in (("s1", "s2"), ("s2", "s1")):
            expected = direct_si_sdr(x[f"ref/{ref}"], x[f"est/{est}"])
            gain = expected - direct_si_sdr(x[f"ref/{ref}"], x["ref/mix"])
            estimate, si_sdr, si_sdri = rows[f"{ref}/{name}"][:3]
            assert estimate == f"{est}/{name}"
            assert si_sdr == pytest.approx(expected, abs=0.006)
            assert si_sdri == pytest.approx(gain, abs=0.006)
    mean = re.search(r"^mean\s+(\S+)\s+(\S+)", res.stdout, flags=re.M)
    assert float(mean.group(1)) == pytest.approx(
        np.mean([r[1] for r in rows.values()]), abs=0.01)
    # the same numbers in the CSV, one row per reference file
    with open(tmp_path / "scores.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 6
    for r in table:
        ref = Path(r["reference"])
        assert r["mixture"] == ref.name
        assert float(r["si_sdri"]) == pytest.approx(rows[f"{ref.parent.name}/"
                                                         f"{ref.name}"][2], abs=0.006)


def test_evaluate_estimates_equal_to_references_score_very_high(tmp_path, corpus):
    root, _ = corpus
    res = sksep("evaluate", "--ref", root / "ref", "--est", root / "ref",
                cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = table_rows(res.stdout)
    assert len(rows) == 6
    for ref, (est, si_sdr, *_) in rows.items():
        assert est == ref and si_sdr > 100


def test_evaluate_csv_is_never_overwritten_without_force(tmp_path, corpus):
    root, _ = corpus
    (tmp_path / "scores.csv").write_text("precious")
    args = ["evaluate", "--ref", root / "ref", "--est", root / "est", "--csv",
            "scores.csv"]
    res = sksep(*args, cwd=tmp_path)
    assert res.returncode == 1 and "--force" in res.stderr
    assert (tmp_path / "scores.csv").read_text() == "precious"
    res = sksep(*args, "--force", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "scores.csv").read_text().startswith("mixture,reference,")


def test_evaluate_picks_the_true_estimates_among_extra_ones(tmp_path, corpus):
    root, signals = corpus
    rng = np.random.default_rng(1)
    (tmp_path / "est").mkdir()
    # sksep separate's naming, <name>_source<k>.wav: four estimates per mixture,
    # the true ones as source3 (second voice) and source2 (first voice)
    for name, x in signals.items():
        stem = Path(name).stem
        decoys = [x["ref/mix"], 0.2 * rng.standard_normal(SR)]
        for k, e in enumerate([decoys[0], x["est/s2"], x["est/s1"], decoys[1]]):
            write_audio(tmp_path / "est" / f"{stem}_source{k + 1}.wav", e, SR,
                        subtype="FLOAT")
    res = sksep("evaluate", "--ref", root / "ref", "--est", "est", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = table_rows(res.stdout)
    for name, x in signals.items():
        stem = Path(name).stem
        assert rows[f"s1/{name}"][0] == f"{stem}_source2.wav"
        assert rows[f"s2/{name}"][0] == f"{stem}_source3.wav"
        assert rows[f"s1/{name}"][1] == pytest.approx(
            direct_si_sdr(x["ref/s1"], x["est/s2"]), abs=0.006)
    assert "6 estimates matched no reference" in res.stderr
    # one mixture, one folder each (the layout of before): 2 references, 4 estimates
    single = tmp_path / "single"
    single.mkdir()
    for k in (1, 2, 3, 4):
        (single / f"a_source{k}.wav").write_bytes(
            (tmp_path / "est" / f"a_source{k}.wav").read_bytes())
    refs = tmp_path / "refs"
    refs.mkdir()
    for k in (1, 2):
        (refs / f"voice{k}.wav").write_bytes((root / "ref" / f"s{k}" / "a.wav")
                                             .read_bytes())
    res = sksep("evaluate", "--ref", refs, "--est", single, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = table_rows(res.stdout)
    assert rows["voice1.wav"][0] == "a_source2.wav"
    assert rows["voice2.wav"][0] == "a_source3.wav"


def _one_line_error(res):
    assert res.returncode == 1
    assert res.stderr.startswith("sksep evaluate: error:")
    assert res.stderr.count("\n") == 1
    assert "SI-SDR" not in res.stdout                # no table of wrong scores


def test_evaluate_refuses_files_of_different_lengths(tmp_path, corpus):
    root, signals = corpus
    for k in (1, 2):
        (tmp_path / "est" / f"s{k}").mkdir(parents=True)
        for name, x in signals.items():
            write_audio(tmp_path / "est" / f"s{k}" / name, x[f"est/s{k}"], SR,
                        subtype="FLOAT")
    write_audio(tmp_path / "est" / "s2" / "b.wav", signals["b.wav"]["est/s2"][:-100],
                SR, subtype="FLOAT", overwrite=True)
    res = sksep("evaluate", "--ref", root / "ref", "--est", "est", "--csv", "s.csv",
                cwd=tmp_path)
    _one_line_error(res)
    assert "'est/s2/b.wav' has 7900 samples" in res.stderr
    assert "has 8000" in res.stderr
    assert not (tmp_path / "s.csv").exists()
    # the same in the one-mixture layout (it used to score the first samples)
    res = sksep("evaluate", "--ref", root / "ref" / "s1", "--est", "est/s2",
                cwd=tmp_path)
    _one_line_error(res)
    assert "7900 samples" in res.stderr


def test_evaluate_refuses_names_that_do_not_match(tmp_path, corpus):
    root, signals = corpus
    for k in (1, 2):
        (tmp_path / "est" / f"s{k}").mkdir(parents=True)
        for i, (name, x) in enumerate(signals.items()):
            write_audio(tmp_path / "est" / f"s{k}" / f"mix{i}.wav", x[f"est/s{k}"],
                        SR, subtype="FLOAT")
    res = sksep("evaluate", "--ref", root / "ref", "--est", "est", cwd=tmp_path)
    _one_line_error(res)
    assert "no estimate 'est/s1/a.wav'" in res.stderr
    # sksep separate's naming, but after other mixtures
    (tmp_path / "flat").mkdir()
    for k in (1, 2):
        write_audio(tmp_path / "flat" / f"mix0_source{k}.wav",
                    signals["a.wav"][f"est/s{k}"], SR, subtype="FLOAT")
    res = sksep("evaluate", "--ref", root / "ref", "--est", "flat", cwd=tmp_path)
    _one_line_error(res)
    assert "'flat/mix0_source1.wav' is named after no reference" in res.stderr


# -- stream --------------------------------------------------------------------

def test_stream_resamples_a_16khz_file_and_writes_16khz_of_its_length(tmp_path):
    import librosa

    from sksep.datasets import load_speech_demo
    from sksep.metrics import si_sdr
    from sksep.pretrained import load

    demo = load_speech_demo()                       # a woman and a man, 8 kHz
    voices = 0.5 * (demo.waveforms[0][:2 * SR] + demo.waveforms[2][:2 * SR])
    write_audio(tmp_path / "call16.wav",
                librosa.resample(voices, orig_sr=SR, target_sr=16000), 16000)
    res = sksep("stream", "call16.wav", "-o", "out", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert ("resampled from 16000 Hz to the model's 8000 Hz (and the outputs back "
            "to 16000 Hz); content above 4000 Hz is not kept") in res.stdout
    x, _ = read_audio(tmp_path / "call16.wav")
    y = []
    for k in (1, 2):
        yk, sr = read_audio(tmp_path / "out" / f"call16_source{k}.wav",
                            dtype="float64")
        assert sr == 16000 and yk.shape == x.shape
        y.append(yk[:, 0])
    # the voices are those of the offline separation of the file at 8 kHz,
    # brought back to 16 kHz
    model = load("speech8k-2voices-causal-16ms")
    offline = model.separate(librosa.resample(x[:, 0], orig_sr=16000, target_sr=SR),
                             sr=SR, chunk_size=None)
    offline = librosa.util.fix_length(
        librosa.resample(offline, orig_sr=SR, target_sr=16000), size=x.shape[0])
    assert np.all(si_sdr(offline, np.stack(y)) > 40)


def test_stream_says_how_many_blocks_were_late():
    from sksep.cli.stream import timing_report

    times = [2.0, 3.5, 18.8, 4.0, 23.9, 8.0, 3.0, 2.5]     # ms, 8 ms blocks
    report = timing_report(times, 8.0, 64.0)
    assert "late: 2 of 8 blocks took longer than the block (8.0 ms)" in report
    assert "worst 23.90 ms" in report
    assert "real-time factor 1.027" in report              # 65.7 ms for 64 ms
    report = timing_report([2.0, 3.5, 8.0], 8.0, 24.0)   # exactly on time is on time
    assert "late" not in report
    assert "none of the 3 blocks took longer than the block (8.0 ms)" in report


def test_stream_reports_late_blocks_from_the_command_line(tmp_path):
    write_audio(tmp_path / "tone.wav",
                0.3 * np.sin(2 * np.pi * 440 * np.arange(SR // 2) / SR), SR)
    res = sksep("stream", "tone.wav", "-o", "out", "--block-ms", "8", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^(late: \d+ of 63 blocks took longer|on time: none of the 63 "
                     r"blocks took longer) than the block \(8\.0 ms\)", res.stdout,
                     flags=re.M), res.stdout


@pytest.mark.parametrize("model, says", [
    ("speech8k-2voices", "--model speech8k-2voices cannot stream: it looks ahead"),
    ("bad.pt", "is not an sksep model file"),
])
def test_stream_refuses_a_model_it_cannot_stream_in_one_line(tmp_path, model, says):
    write_audio(tmp_path / "call.wav", np.zeros((8000, 1), np.float32), 8000)
    (tmp_path / "bad.pt").write_text("not a model")
    res = sksep("stream", "call.wav", "-o", "out", "--model", model, cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.startswith("sksep stream: error:") and says in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
