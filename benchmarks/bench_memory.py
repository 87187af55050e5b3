"""Peak memory of transforming a long recording, next to the peer libraries.

Each case runs in a fresh Python process: it builds its input (10 minutes of
FSDD speech at 8 kHz by default, repeated end to end), loads or fits its
estimator, records the peak resident set size (``ru_maxrss``), runs the
transform, and reports how far the peak rose above that baseline. The input
itself (19 MB per channel as float32) is part of the baseline.

    python benchmarks/bench_memory.py ../shared/data/fsdd [--minutes 10]

Prints a Markdown table (the one in benchmarks/README.md).
"""

import argparse
import json
import subprocess
import sys

SR = 8000

CASES = {
    "FastICASeparator fit_transform (3 mics)": "ica",
    "sklearn FastICA fit_transform (3 mics)": "sk_ica",
    "STFTTransformer fit + transform + inverse": "stft",
    "torch.stft + torch.istft": "torch_stft",
    "librosa.stft + librosa.istft": "librosa_stft",
    "MaskEstimator.separate, whole (chunk_size=None)": "mask_whole",
    "MaskEstimator.separate, default chunk_size='auto' (33 s)": "mask_auto",
    "MaskEstimator.separate, chunk_size=10 s (the CLI's default)": "mask_chunk",
    "CNNAutoencoderSeparator.separate, whole (chunk_size=None)": "cnn_whole",
    "CNNAutoencoderSeparator.separate, default chunk_size='auto' (33 s)": "cnn_auto",
    "CNNAutoencoderSeparator.separate, chunk_size=10 s": "cnn_chunk",
}

CHILD = r"""
import json, resource, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
case, fsdd, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
from sksep.datasets import load_fsdd_sources
n = int(minutes * 60 * 8000)
S = load_fsdd_sources(fsdd, speakers=["george", "jackson", "theo"], n_samples=n,
                      dtype="float32")
mono = np.ascontiguousarray(S[:, 0] + S[:, 1])
X = S @ np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32).T

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

if case in ("ica", "sk_ica"):
    from sklearn.decomposition import FastICA
    from sksep import FastICASeparator
    est = (FastICASeparator(random_state=0) if case == "ica"
           else FastICA(whiten="unit-variance", random_state=0))
    run = lambda: est.fit_transform(X)
elif case == "stft":
    from sksep import STFTTransformer
    stft = STFTTransformer(n_fft=256, hop_length=64)
    run = lambda: stft.inverse_transform(stft.fit_transform(mono[None]))
elif case == "torch_stft":
    w = torch.hann_window(256)
    x = torch.from_numpy(mono)[None]
    run = lambda: torch.istft(torch.stft(x, 256, 64, window=w, return_complex=True),
                              256, 64, window=w, length=n)
elif case == "librosa_stft":
    import librosa
    run = lambda: librosa.istft(librosa.stft(mono, n_fft=256, hop_length=64),
                                hop_length=64, n_fft=256, length=n)
else:
    from sksep.pretrained import load
    model = load("fsdd-2speakers" if case.startswith("mask") else "fsdd-2speakers-cnn")
    chunk = {"chunk": 10 * 8000, "auto": "auto", "whole": None}[case.split("_")[1]]
    model.separate(mono[:8000], chunk_size=None)  # warm up allocator and kernels
    run = lambda: model.separate(mono, chunk_size=chunk)
base = peak_mb()
t0 = time.perf_counter()
out = run()
seconds = time.perf_counter() - t0
print(json.dumps({"base_mb": base, "peak_mb": peak_mb(), "seconds": seconds,
                  "input_mb": mono.nbytes / 2**20}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fsdd")
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    rows = []
    for label, case in CASES.items():
        res = subprocess.run([sys.executable, "-c", CHILD, case, args.fsdd,
                              str(args.minutes)], capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            raise SystemExit(f"case {case} failed")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((label, r))
        print(label, r, file=sys.stderr, flush=True)
    ref = {"ica": dict(rows)["sklearn FastICA fit_transform (3 mics)"],
           "stft": dict(rows)["torch.stft + torch.istft"]}
    print(f"{args.minutes:g} minutes at {SR} Hz; one process per row, 1 torch thread; "
          "peak = rise of ru_maxrss above the baseline after loading the input "
          "and the estimator\n")
    print("| operation | peak rise (MB) | ratio to peer | time (s) |")
    print("|---|---|---|---|")
    for label, r in rows:
        rise = r["peak_mb"] - r["base_mb"]
        peer = (ref["ica"] if "ICA" in label else ref["stft"] if "STFT" in label
                or "stft" in label else None)
        ratio = "" if peer is None else f"{rise / max(peer['peak_mb'] - peer['base_mb'], 1e-9):.2f}x"
        print(f"| {label} | {rise:.0f} | {ratio} | {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
