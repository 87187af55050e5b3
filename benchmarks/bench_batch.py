"""Batch separation: throughput and scaling, locally and on a Dask cluster.

60 files of 10 s at 8 kHz per method, built from speech8k **test** speakers:
mono two-voice mixtures (the default ``speech8k-2voices`` model), 2-mic
rooms at RT60 150 ms (``IVASeparator``) and 2-mic instantaneous mixtures
(``FastICASeparator``, ``room_method='ica'``). Each method's batch runs
serially (``n_jobs=1``), with ``n_jobs=2`` (joblib processes) and on a
2-worker ``dask.distributed.LocalCluster`` (processes, one thread each), in
one run, one thread per worker (``threads_per_worker=1``). Reports
throughput in audio hours per wall-clock hour, the parallel efficiency
(throughput of 2 workers / twice that of 1), the Dask overhead (wall time
against the joblib run with as many workers) and the peak memory (RSS) of
a worker process. Finally a batch is killed (SIGKILL) part-way and rerun:
files lost and files separated twice are counted.

    python benchmarks/bench_batch.py ../shared/data/speech8k
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 8000
SECONDS = 10


def make_files(data, folder, n):
    from sksep.datasets import load_speech8k, make_instantaneous_mixture, make_room_mixture
    from sksep.io import write_audio

    test = load_speech8k(data, split="test")
    rng = np.random.default_rng(0)
    speakers = np.unique(test.speaker)
    size = SECONDS * SR
    for kind in ("mono", "room", "ica"):
        (folder / kind).mkdir(parents=True)
    for i in range(n):
        a, b = rng.choice(speakers, 2, replace=False)
        pair = []
        for spk in (a, b):
            clips = [w for w, s in zip(test.waveforms, test.speaker) if s == spk]
            pair.append(np.resize(np.concatenate(clips), size))
        S = np.stack(pair, axis=1)
        write_audio(folder / "mono" / f"f{i:03d}.wav", 0.5 * S.sum(1), SR)
        mix, _ = make_room_mixture(S, SR, rt60=0.15, random_state=i)
        write_audio(folder / "room" / f"f{i:03d}.wav", 0.9 * mix / np.abs(mix).max(), SR)
        X, _ = make_instantaneous_mixture(S, random_state=i)
        write_audio(folder / "ica" / f"f{i:03d}.wav", 0.9 * X / np.abs(X).max(), SR)


def worker_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(files, out, method, mode, client=None):
    from sksep.batch import separate_files

    room = "ica" if method == "ica" else "iva"
    t0 = time.perf_counter()
    if mode == "serial":
        rows = separate_files(files, out, room_method=room, n_jobs=1)
    elif mode == "jobs2":
        rows = separate_files(files, out, room_method=room, n_jobs=2)
    else:
        rows = separate_files(files, out, room_method=room, scheduler=client)
    wall = time.perf_counter() - t0
    assert all(r["status"] == "done" for r in rows), [r for r in rows if r["error"]][:2]
    return wall, sum(r["duration_s"] for r in rows)


def interrupted(files, out):
    """Kill a batch part-way (SIGKILL), rerun it: files lost, files redone."""
    code = ("import sys; from sksep.batch import separate_files; "
            f"separate_files(sys.argv[1:], {str(out)!r}, n_jobs=2)")
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, files)],
                            start_new_session=True)
    while len(list(out.glob(".*.sksep-done.json"))) < len(files) // 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in out.glob(".*.sksep-done.json")}
    from sksep.batch import separate_files

    rows = separate_files(files, out, n_jobs=2)
    redone = sum(1 for r in rows if r["status"] == "done"
                 and f".{Path(r['input']).stem}.sksep-done.json" in done_before)
    lost = sum(1 for f in files
               if len(list(out.glob(f"{Path(f).stem}_source*.wav"))) != 2)
    return {"killed_after_done": len(done_before), "files": len(files),
            "lost": lost, "separated_twice": redone,
            "skipped_on_rerun": sum(r["status"] == "skipped" for r in rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data/speech8k")
    parser.add_argument("--n-files", type=int, default=60)
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    tmp = Path(tempfile.mkdtemp())
    try:
        make_files(args.data, tmp / "in", args.n_files)
        results = {}
        methods = (("mask", "mono"), ("iva", "room"), ("ica", "ica"))
        # local modes first: a LocalCluster alive on the same machine, even
        # idle, slowed the joblib workers two-fold here (measured)
        client = None
        for phase in (("serial", "jobs2"), ("dask",)):
            if phase == ("dask",):
                cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            for method, folder in methods:
                files = sorted((tmp / "in" / folder).glob("*.wav"))
                for mode in phase:
                    # steady state: every worker has imported torch and loaded
                    # the model (about 2.5 s once per worker process) first
                    run(files[:8], tmp / "warm" / method / mode, method, mode, client)
                    wall, audio = run(files, tmp / "out" / method / mode, method, mode,
                                      client)
                    results[(method, mode)] = (wall, audio)
                    print(json.dumps({"method": method, "mode": mode,
                                      "files": len(files), "wall_s": round(wall, 2),
                                      "audio_h_per_h": round(audio / wall, 1)}),
                          flush=True)
        for method, _ in methods:
            serial, jobs2, dask = (results[(method, m)][0] for m in ("serial", "jobs2",
                                                                     "dask"))
            print(json.dumps({
                "method": method,
                "efficiency_jobs2": round(serial / (2 * jobs2), 3),
                "efficiency_dask2": round(serial / (2 * dask), 3),
                "dask_overhead_vs_jobs2": round(dask / jobs2 - 1, 3)}), flush=True)
        rss = client.run(worker_rss_mb)
        print(json.dumps({"dask_worker_peak_rss_mb": {k: round(v) for k, v in
                                                     rss.items()},
                          "this_process_peak_rss_mb": round(worker_rss_mb()),
                          "joblib_children_peak_rss_mb": round(resource.getrusage(
                              resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}), flush=True)
        client.close()
        cluster.close()
        files = sorted((tmp / "in" / "mono").glob("*.wav"))
        print(json.dumps(interrupted(files, tmp / "out" / "interrupted")), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
