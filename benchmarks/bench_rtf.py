"""Real-time factor of single-microphone models through ``separate()``, side
by side: each model in turn on the same signal (round-robin), median of the
rounds, at 1 and 2 threads, as ratios to the first model.

    python benchmarks/bench_rtf.py --models speech8k-2voices FILE.pt [--seconds 60]

The signal is the first ``--seconds`` of a speech8k test conversation when
``--data`` holds speech8k, else seeded white noise (the cost of a mask
network does not depend on what it hears). RTF = wall time / signal length;
on a machine shared with other work, compare the ratios, not the times.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

SR = 8000


def signal(data, seconds):
    path = Path(data) / "speech8k"
    if path.is_dir():
        import sys

        sys.path.insert(0, str(Path(__file__).parent))
        from bench_speech8k import conversations

        X, _ = conversations(data, "speechocean762", n=1)
        x = X[0]
        if len(x) >= seconds * SR:
            return x[: int(seconds * SR)], "a speech8k test conversation"
    rng = np.random.default_rng(0)
    return 0.1 * rng.standard_normal(int(seconds * SR)), "seeded white noise"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True,
                        help="shipped model names or model files; the first is the reference")
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if len(set(args.models)) < len(args.models):
        parser.error("--models names a model twice")
    if args.seconds <= 0 or args.rounds < 1:
        parser.error("--seconds must be positive and --rounds at least 1")

    import torch

    from sksep.pretrained import load_network

    models = {}
    for name in args.models:
        try:
            models[name] = load_network(name)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            parser.error(f"--models {name}: {exc}")
    x, what = signal(args.data, args.seconds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# separate(x, sr={SR}) on {len(x) / SR:.0f} s of {what}; median of "
          f"{args.rounds} round-robin rounds; {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}; torch {torch.__version__}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for model in models.values():  # warm-up
            model.separate(x[:SR], sr=SR)
        times = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                t0 = time.perf_counter()
                model.separate(x, sr=SR)
                times[name].append(time.perf_counter() - t0)
        ref = np.median(times[args.models[0]])
        for name in models:
            med = float(np.median(times[name]))
            print(f"threads {threads}  {name:<60} RTF {med / (len(x) / SR):.4f}  "
                  f"ratio {med / ref:.2f}", flush=True)


if __name__ == "__main__":
    main()
