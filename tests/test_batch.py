"""Batch separation: many files in parallel, on joblib workers or a real
Dask LocalCluster; failures reported, never stopping the batch; resumable;
nothing overwritten unless asked; a killed worker loses no file."""

import time
from pathlib import Path

import numpy as np
import pytest

from sksep import _resume
from sksep.batch import expand_inputs, separate_files, write_results_csv
from sksep.datasets import load_speech_demo, make_room_mixture
from sksep.io import read_audio, write_audio
from sksep.metrics import pit_si_sdr, si_sdr

SR = 8000


def _voices(k):
    """The woman's and the man's 2 s in call<k>.wav, at the same level."""
    demo = load_speech_demo()
    a = demo.waveforms[k % 2][k * SR:(k + 2) * SR]
    b = demo.waveforms[2 + k % 2][k * SR:(k + 2) * SR]
    return a, b * (np.std(a) / np.std(b))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """4 mono conversations (2 s, two voices at the same level) and 1 stereo
    room recording (4 s)."""
    folder = tmp_path_factory.mktemp("archive")
    for k in range(4):
        a, b = _voices(k)
        write_audio(folder / f"call{k}.wav", 0.5 * (a + b), SR)
    demo = load_speech_demo()
    S = np.stack([demo.waveforms[0][:4 * SR], demo.waveforms[2][:4 * SR]], axis=1)
    mix, _ = make_room_mixture(S, SR, rt60=0.15, random_state=0)
    write_audio(folder / "room.wav", 0.9 * mix / np.abs(mix).max(), SR)
    return folder


def _outputs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.wav"))}


def _gain_db(folder, files, k):
    """SI-SDR improvement (dB) of call<k>'s two outputs over its mixture."""
    a, b = _voices(k)
    mix = read_audio(files / f"call{k}.wav")[0][:, 0]
    est = np.stack([read_audio(folder / f"call{k}_source{j}.wav")[0][:, 0]
                    for j in (1, 2)])
    ref = np.stack([a, b])
    scores, perm = pit_si_sdr(ref[None], est[None])
    return float(np.mean(scores[0] - si_sdr(ref, np.stack([mix, mix]))))


def test_serial_and_parallel_runs_give_the_same_files(files, tmp_path):
    t0 = time.perf_counter()
    serial = separate_files(files, tmp_path / "serial")
    wall = time.perf_counter() - t0
    parallel = separate_files(files, tmp_path / "parallel", n_jobs=2)
    assert [r["status"] for r in serial] == ["done"] * 5, serial
    assert [r["input"] for r in serial] == [r["input"] for r in parallel]
    assert _outputs(tmp_path / "serial") == _outputs(tmp_path / "parallel")
    assert len(_outputs(tmp_path / "serial")) == 10
    # the files are separated, not just written: each call's two voices
    # come out better than the mixture, by 5 dB on average (a copy of it
    # scores 0, silence NaN; today 11.8, 11.0, 8.8 and 1.9 dB)
    gains = [_gain_db(tmp_path / "serial", files, k) for k in range(4)]
    assert min(gains) > 1.0 and np.mean(gains) > 5.0, gains
    room = next(r for r in serial if r["input"].endswith("room.wav"))
    est = np.stack([read_audio(tmp_path / "serial" / f"room_source{j}.wav")[0][:, 0]
                    for j in (1, 2)])
    assert np.all(np.std(est, axis=1) > 1e-3)          # two non-silent,
    assert abs(np.corrcoef(est)[0, 1]) < 0.5           # different outputs
    # the table's times are this task's: within the batch's wall time
    for row in serial:
        assert 0 < row["seconds"] <= wall
        assert row["rtf"] == pytest.approx(row["seconds"] / row["duration_s"])
    assert room["duration_s"] == pytest.approx(4.0)
    assert [r["duration_s"] for r in serial[:4]] == pytest.approx([2.0] * 4)


def test_a_bad_file_is_reported_and_the_batch_goes_on(files, tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    rows = separate_files([files / "call0.wav", tmp_path / "notes.wav",
                           tmp_path / "missing.wav"], tmp_path / "out", n_jobs=2)
    assert [r["status"] for r in rows] == ["done", "failed", "failed"]
    assert "Cannot read audio file" in rows[1]["error"]
    assert "No such audio file" in rows[2]["error"]
    write_results_csv(rows, tmp_path / "results.csv")
    text = (tmp_path / "results.csv").read_text()
    assert text.count("\n") == 4 and "failed" in text


@pytest.fixture
def reads(monkeypatch):
    """The paths separate_files reads (in this process: n_jobs=1), through
    the file service's reader."""
    import sksep._audiofile

    seen, read = [], sksep._audiofile.read_audio_file

    def counting(path, *args, **kwargs):
        seen.append(Path(path).name)
        return read(path, *args, **kwargs)

    monkeypatch.setattr(sksep._audiofile, "read_audio_file", counting)
    return seen


def test_rerun_skips_what_is_done_and_overwrites_nothing(files, tmp_path, reads):
    out = tmp_path / "out"
    first = separate_files([files / "call0.wav", files / "call1.wav"], out)
    assert [r["status"] for r in first] == ["done", "done"]
    assert reads == ["call0.wav", "call1.wav"]
    before = _outputs(out)
    (out / "call2_source1.wav").write_bytes(b"precious")   # the user's own file
    reads.clear()
    rows = separate_files(files / "*.wav", out)
    status = {r["input"].rsplit("/", 1)[-1]: r["status"] for r in rows}
    assert status == {"call0.wav": "skipped", "call1.wav": "skipped",
                      "call2.wav": "failed", "call3.wav": "done", "room.wav": "done"}
    assert sorted(reads) == ["call2.wav", "call3.wav", "room.wav"]   # not recomputed
    assert (out / "call2_source1.wav").read_bytes() == b"precious"
    assert all(_outputs(out)[k] == v for k, v in before.items())
    rows = separate_files(files / "call2.wav", out, overwrite=True)
    assert rows[0]["status"] == "done"
    assert read_audio(out / "call2_source1.wav")[0].shape[0] == 2 * SR


class Interrupted(BaseException):
    """A kill: not an Exception, so no handler turns it into a failed row."""


def _interrupt_at(monkeypatch, n):
    """Make the n-th commit checkpoint raise Interrupted; returns the log."""
    log = []

    def hook(step, name=None):
        log.append(step)
        if len(log) == n:
            raise Interrupted(step)

    monkeypatch.setattr(_resume, "_checkpoint", hook)
    return log


def _private_files(folder):
    """Everything in ``folder`` but the outputs (WAV files)."""
    return sorted(p.name for p in folder.iterdir() if p.suffix != ".wav")


def test_an_interruption_at_any_step_resumes(files, tmp_path, monkeypatch, reads):
    """Interrupt one file's commit after each of its steps (staged 1, staged 2,
    journal, moved 1, moved 2, marked, cleaned); the rerun finishes it with
    the uninterrupted outputs, recomputing only if the outputs were not all
    staged, and leaves no private file behind."""
    steps = _interrupt_at(monkeypatch, 0)
    separate_files(files / "call0.wav", tmp_path / "ref")
    expected = _outputs(tmp_path / "ref")
    assert steps == ["staged", "staged", "journal", "moved", "moved", "marked",
                     "cleaned"]
    for n, step in enumerate(steps, start=1):
        out = tmp_path / f"at{n}"
        _interrupt_at(monkeypatch, n)
        with pytest.raises(Interrupted):
            separate_files(files / "call0.wav", out)
        monkeypatch.setattr(_resume, "_checkpoint", lambda step, name=None: None)
        reads.clear()
        rows = separate_files(files / "call0.wav", out)
        staged = n >= steps.index("journal") + 1
        assert rows[0]["status"] == ("skipped" if staged else "done"), (n, rows)
        assert reads == ([] if staged else ["call0.wav"]), n
        assert _outputs(out) == expected, n
        assert _private_files(out) == [".call0.sksep-done.json"], n
        assert separate_files(files / "call0.wav", out)[0]["status"] == "skipped"


def test_an_interrupted_resume_resumes_too(files, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _interrupt_at(monkeypatch, 4)                 # one output moved
    with pytest.raises(Interrupted):
        separate_files(files / "call0.wav", out)
    log = _interrupt_at(monkeypatch, 2)           # the resume: moved, marked
    with pytest.raises(Interrupted):
        separate_files(files / "call0.wav", out)
    assert log == ["moved", "marked"]
    monkeypatch.setattr(_resume, "_checkpoint", lambda step, name=None: None)
    assert separate_files(files / "call0.wav", out)[0]["status"] == "skipped"
    assert len(_outputs(out)) == 2 and _private_files(out) == [".call0.sksep-done.json"]
    # overwrite=True throws away an interrupted commit and redoes the file
    _interrupt_at(monkeypatch, 4)
    with pytest.raises(Interrupted):
        separate_files(files / "call0.wav", out, overwrite=True)
    monkeypatch.setattr(_resume, "_checkpoint", lambda step, name=None: None)
    assert separate_files(files / "call0.wav", out, overwrite=True)[0]["status"] \
        == "done"
    assert _private_files(out) == [".call0.sksep-done.json"]


def test_inputs_expand_from_folders_and_globs(files):
    assert len(expand_inputs(files)) == 5
    assert [p.name for p in expand_inputs([files / "call*.wav", files / "call0.wav"])] \
        == ["call0.wav", "call1.wav", "call2.wav", "call3.wav"]


@pytest.fixture(scope="module")
def cluster(dask_distributed):
    distributed = dask_distributed
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        with distributed.Client(c) as client:
            yield c, client


def test_dask_cluster_gives_the_serial_results(files, tmp_path, cluster):
    _, client = cluster
    rows = separate_files(files, tmp_path / "dask", scheduler=client)
    assert [r["status"] for r in rows] == ["done"] * 5
    separate_files(files, tmp_path / "serial")
    assert _outputs(tmp_path / "dask") == _outputs(tmp_path / "serial")


def test_a_killed_worker_loses_no_file(files, tmp_path, cluster):
    """Every worker process dies (os._exit) the first time it has moved an
    output into place: Dask reruns the task elsewhere, which finishes the
    commit. Deterministic: the kill comes at a step, not after a delay."""
    _, client = cluster
    flags = tmp_path / "killed"
    flags.mkdir()

    def install():
        import os

        import sksep._resume

        def die(step, name=None):
            if step == "moved":
                (flags / str(os.getpid())).touch()
                os._exit(1)

        sksep._resume._checkpoint = die

    client.run(install)
    calls = [files / f"call{k}.wav" for k in range(4)]
    rows = separate_files(calls, tmp_path / "out", scheduler=client)
    assert list(flags.iterdir())               # at least one worker was killed
    assert {r["status"] for r in rows} <= {"done", "skipped"}, rows
    separate_files(calls, tmp_path / "serial")
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "serial")
    assert _private_files(tmp_path / "out") == sorted(
        f".call{k}.sksep-done.json" for k in range(4))


def test_every_row_has_the_same_keys_and_a_high_rate_file_says_what_is_lost(tmp_path):
    # a collision row, a done row: the same columns (r["notes"] never a
    # KeyError); a 16 kHz mono file through an 8 kHz model says in its notes
    # what the one-file command says in its last line
    import librosa

    from sksep.batch import separate_files
    from sksep.datasets import load_speech_demo
    from sksep.io import write_audio

    demo = load_speech_demo()
    mix = 0.4 * (demo.waveforms[0][:16000] + demo.waveforms[2][:16000])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_audio(tmp_path / "a" / "x.wav", librosa.resample(mix, orig_sr=8000,
                                                           target_sr=16000), 16000)
    write_audio(tmp_path / "b" / "x.wav", mix, 8000)
    write_audio(tmp_path / "y.wav", librosa.resample(mix, orig_sr=8000,
                                                     target_sr=16000), 16000)
    rows = separate_files([tmp_path / "a", tmp_path / "b", tmp_path / "y.wav"],
                          tmp_path / "out")
    assert len({tuple(sorted(r)) for r in rows}) == 1
    assert [r["status"] for r in rows] == ["failed", "failed", "done"]
    assert "content above 4 kHz is not kept" in rows[2]["notes"]
