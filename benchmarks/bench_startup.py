"""Start-up of the command line: where the seconds of a short ``sksep
separate`` go.

Times, as separate processes (median of ``--repeats``), on a 4 s mono file
at 8 kHz: ``python -c "import sksep.cli"`` (what every command pays), the
whole ``sksep separate FILE -o DIR`` command, a bare ``python -c "import
torch"`` and ``python -c "import torch, sklearn.base"`` (what loading a
scikit-learn estimator costs at least), and, inside one process, the import
of torch, the load of the default model's network
(:func:`sksep.pretrained.load_network`, as the command loads it) and the
separation itself (and whether skorch or scikit-learn was imported).
``--compare REV`` times the whole command of another git revision too
(checked out in a temporary worktree), in the
same run, and its in-process split. Each row gives wall-clock and CPU (user
+ system) seconds and their ratio to the bare ``import torch``. The commands
take turns (round-robin), so on a busy machine the ratios, and with
``--compare`` the median of the per-round differences, are the figures to
compare.

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
import torch
t2 = time.perf_counter()
try:                # the network alone, as sksep separate loads it
    from sksep.pretrained import load_network as load
except ImportError:  # a revision before load_network: the estimator
    from sksep.pretrained import load
model = load("speech8k-2voices")
t3 = time.perf_counter()
import soundfile
x, sr = soundfile.read({path!r}, dtype="float32")
model.separate(x, sr=sr)
t4 = time.perf_counter()
import sys
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, int("skorch" in sys.modules),
      int("sklearn" in sys.modules))
"""


def wall(cmd, env=None, cwd=None):
    """Wall-clock and CPU seconds (user + system) of a child process."""
    c0, t0 = os.times(), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
    t1, c1 = time.perf_counter(), os.times()
    return (t1 - t0, (c1.children_user - c0.children_user)
            + (c1.children_system - c0.children_system))


def in_process(path, env, cwd=None):
    """The in-process split (SPLIT), for this tree or another one."""
    out = subprocess.run([sys.executable, "-c", SPLIT.format(path=str(path))],
                         check=True, capture_output=True, text=True, env=env, cwd=cwd)
    return [float(v) for v in out.stdout.split()]


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
    torch_only = "python -c 'import torch'"
    floor = "python -c 'import torch, sklearn.base'"
    rows = {"import sksep.cli": [], "sksep separate (4 s file)": [], torch_only: [],
            floor: []}
    splits = {"this tree": []}
    other = None
    if args.compare:
        other = tmp / "other"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.compare],
                       cwd=ROOT, check=True, capture_output=True)
        other_env = dict(env, PYTHONPATH=str(other))
        rows[f"sksep separate at {args.compare}"] = []
        splits[args.compare] = []
    try:
        for _ in range(args.repeats):
            rows["import sksep.cli"].append(
                wall([sys.executable, "-c", "import sksep.cli"], env))
            rows["sksep separate (4 s file)"].append(wall(sep, env))
            rows[torch_only].append(wall([sys.executable, "-c", "import torch"], env))
            rows[floor].append(
                wall([sys.executable, "-c", "import torch, sklearn.base"], env))
            splits["this tree"].append(in_process(path, env))
            if other is not None:
                rows[f"sksep separate at {args.compare}"].append(
                    wall(sep, other_env, cwd=other))
                splits[args.compare].append(in_process(path, other_env, cwd=other))
    finally:
        if other is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    base = [statistics.median(v[i] for v in rows[torch_only]) for i in (0, 1)]
    print(f"{'median of ' + str(args.repeats):40s} {'wall':>8s} {'/torch':>7s} "
          f"{'CPU':>8s} {'/torch':>7s}")
    for name, values in rows.items():
        med = [statistics.median(v[i] for v in values) for i in (0, 1)]
        print(f"{name:40s} {med[0]:6.2f} s {med[0] / base[0]:6.2f}x "
              f"{med[1]:6.2f} s {med[1] / base[1]:6.2f}x")
    if other is not None:
        # each round ran both commands one after the other: the median of the
        # per-round differences is steadier than the difference of medians
        pairs = zip(rows["sksep separate (4 s file)"],
                    rows[f"sksep separate at {args.compare}"])
        diff = [(a[0] - b[0], a[1] - b[1]) for a, b in pairs]
        print(f"{'this tree - ' + args.compare + ', per round':40s} "
              f"{statistics.median(d[0] for d in diff):+6.2f} s {'':7s} "
              f"{statistics.median(d[1] for d in diff):+6.2f} s")
    for tree, split in splits.items():
        med = np.median(np.array(split)[:, :4], axis=0)
        print(f"in one process ({tree}):")
        for name, value in zip(("  import sksep.cli", "  import torch",
                                "  load speech8k-2voices", "  read + separate 4 s"),
                               med):
            print(f"{name:40s} {value:6.2f} s")
        for column, name in ((4, "skorch"), (5, "scikit-learn")):
            seen = [r[column] for r in split if len(r) > column]
            if seen:
                print(f"  {name} imported by load + separate: "
                      f"{'yes' if any(seen) else 'no'}")


if __name__ == "__main__":
    main()
