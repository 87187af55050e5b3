"""Start-up of the command line: where the seconds of a short ``sksep
separate`` go.

Times, as separate processes (median of ``--repeats``), on a 4 s mono file
at 8 kHz: ``python -c "import sksep.cli"`` (what every command pays), the
whole ``sksep separate FILE -o DIR`` command, and, inside one process, the
import of torch and scikit-learn, the load of the default model and the
separation itself. ``--compare REV`` times the whole command of another git
revision too (checked out in a temporary worktree), in the same run.

    python benchmarks/bench_startup.py [--compare 0e0e0e0]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPLIT = """
import time
t0 = time.perf_counter()
import sksep.cli
t1 = time.perf_counter()
import torch, sklearn.base, skorch
t2 = time.perf_counter()
from sksep.pretrained import load
model = load("speech8k-2voices")
t3 = time.perf_counter()
from sksep.io import read_audio
x, sr = read_audio({path!r})
model.separate(x[:, 0])
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def wall(cmd, env=None, cwd=None):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compare", default=None, help="another git revision")
    args = parser.parse_args()
    import numpy as np

    from sksep.datasets import load_speech_demo
    from sksep.io import write_audio

    tmp = Path(tempfile.mkdtemp())
    demo = load_speech_demo()
    path = tmp / "four.wav"
    write_audio(path, 0.5 * (demo.waveforms[0][:32000] + demo.waveforms[2][:32000]),
                demo.sr)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    sep = [sys.executable, "-m", "sksep", "separate", str(path), "-o", str(tmp / "out"),
           "--force", "--quiet"]
    rows = {"import sksep.cli": [], "sksep separate (4 s file)": []}
    split = []
    other = None
    if args.compare:
        other = tmp / "other"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.compare],
                       cwd=ROOT, check=True, capture_output=True)
        rows[f"sksep separate at {args.compare}"] = []
    try:
        for _ in range(args.repeats):
            rows["import sksep.cli"].append(
                wall([sys.executable, "-c", "import sksep.cli"], env))
            rows["sksep separate (4 s file)"].append(wall(sep, env))
            if other is not None:
                rows[f"sksep separate at {args.compare}"].append(
                    wall(sep, dict(env, PYTHONPATH=str(other)), cwd=other))
            out = subprocess.run([sys.executable, "-c", SPLIT.format(path=str(path))],
                                 check=True, capture_output=True, text=True, env=env)
            split.append([float(v) for v in out.stdout.split()])
    finally:
        if other is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    for name, values in rows.items():
        print(f"{name:40s} {statistics.median(values):6.2f} s")
    med = np.median(np.array(split), axis=0)
    for name, value in zip(("  in process: import sksep.cli", "  import torch, sklearn, skorch",
                            "  load speech8k-2voices", "  read + separate 4 s"), med):
        print(f"{name:40s} {value:6.2f} s")


if __name__ == "__main__":
    main()
