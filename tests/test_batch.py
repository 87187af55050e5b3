"""Batch separation: many files in parallel, on joblib workers or a real
Dask LocalCluster; failures reported, never stopping the batch; resumable;
nothing overwritten unless asked; a killed worker loses no file."""

import threading
import time

import numpy as np
import pytest

from sksep.batch import expand_inputs, separate_files, write_results_csv
from sksep.datasets import load_speech_demo, make_room_mixture
from sksep.io import read_audio, write_audio

SR = 8000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """4 mono conversations (2 s) and 1 stereo room recording (4 s)."""
    folder = tmp_path_factory.mktemp("archive")
    demo = load_speech_demo()
    for k in range(4):
        a = demo.waveforms[k % 2][k * SR:(k + 2) * SR]
        b = demo.waveforms[2 + k % 2][k * SR:(k + 2) * SR]
        write_audio(folder / f"call{k}.wav", 0.5 * (a + b), SR)
    S = np.stack([demo.waveforms[0][:4 * SR], demo.waveforms[2][:4 * SR]], axis=1)
    mix, _ = make_room_mixture(S, SR, rt60=0.15, random_state=0)
    write_audio(folder / "room.wav", 0.9 * mix / np.abs(mix).max(), SR)
    return folder


def _outputs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.wav"))}


def test_serial_and_parallel_runs_give_the_same_files(files, tmp_path):
    serial = separate_files(files, tmp_path / "serial")
    parallel = separate_files(files, tmp_path / "parallel", n_jobs=2)
    assert [r["status"] for r in serial] == ["done"] * 5
    assert [r["input"] for r in serial] == [r["input"] for r in parallel]
    assert _outputs(tmp_path / "serial") == _outputs(tmp_path / "parallel")
    assert len(_outputs(tmp_path / "serial")) == 10
    room = next(r for r in serial if r["input"].endswith("room.wav"))
    assert room["duration_s"] == pytest.approx(4.0) and room["rtf"] > 0


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


def test_rerun_skips_what_is_done_and_overwrites_nothing(files, tmp_path):
    out = tmp_path / "out"
    first = separate_files([files / "call0.wav", files / "call1.wav"], out)
    before = _outputs(out)
    (out / "call2_source1.wav").write_bytes(b"precious")   # the user's own file
    rows = separate_files(files / "*.wav", out, n_jobs=2)
    status = {r["input"].rsplit("/", 1)[-1]: r["status"] for r in rows}
    assert status == {"call0.wav": "skipped", "call1.wav": "skipped",
                      "call2.wav": "failed", "call3.wav": "done", "room.wav": "done"}
    assert (out / "call2_source1.wav").read_bytes() == b"precious"
    assert all(_outputs(out)[k] == v for k, v in before.items())   # not recomputed
    assert [r["status"] for r in first] == ["done", "done"]
    rows = separate_files(files / "call2.wav", out, overwrite=True)
    assert rows[0]["status"] == "done"
    assert read_audio(out / "call2_source1.wav")[0].shape[0] == 2 * SR


def test_inputs_expand_from_folders_and_globs(files):
    assert len(expand_inputs(files)) == 5
    assert [p.name for p in expand_inputs([files / "call*.wav", files / "call0.wav"])] \
        == ["call0.wav", "call1.wav", "call2.wav", "call3.wav"]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
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


def test_a_killed_worker_loses_no_file(tmp_path, cluster):
    import os

    _, client = cluster
    demo = load_speech_demo()
    for k in range(8):
        write_audio(tmp_path / f"long{k}.wav",
                    0.5 * (np.resize(demo.waveforms[0], 40 * SR)
                           + np.resize(demo.waveforms[3], 40 * SR)), SR)
    out = tmp_path / "out"
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "rows", separate_files(str(tmp_path / "long*.wav"), out, scheduler=client)))
    thread.start()
    deadline = time.time() + 120
    while not list(out.glob(".*.sksep-done.json")) and time.time() < deadline:
        time.sleep(0.05)
    done_at_kill = len(list(out.glob(".*.sksep-done.json")))
    victim = list(client.scheduler_info()["workers"])[0]
    client.run(os._exit, 1, workers=[victim], on_error="ignore")  # dies mid-batch
    thread.join(timeout=300)
    assert 1 <= done_at_kill < 8        # the kill came while files were pending
    rows = result["rows"]
    assert [r["status"] for r in rows] == ["done"] * 8, rows
    assert len(list(out.glob("long*_source*.wav"))) == 16
    assert not [p for p in out.iterdir() if p.is_dir()]   # no staging left behind
