"""STFT forward and inverse throughput: STFTTransformer against librosa,
scipy's ShortTimeFFT and raw torch.stft/istft, side by side in one run.

Two workloads: one 60 s signal at 16 kHz, and a batch of 64 one-second
clips; n_fft=512, hop=128, Hann window, float32, at 1 and 2 threads (torch
intra-op threads and BLAS/FFT thread pools). Reports millions of samples per
second (median of --repeat runs, timed round-robin across methods) and the ratio of STFTTransformer to the
fastest peer.

    python benchmarks/bench_stft.py [--repeat 7]
"""

import argparse
import statistics
import time

import librosa
import numpy as np
import scipy
import torch
from scipy.signal import ShortTimeFFT, get_window
from threadpoolctl import threadpool_limits

import sksep
from sksep import STFTTransformer

N_FFT, HOP, SR = 512, 128, 16_000


def _interleaved_medians(fns, repeat):
    """Median time of each closure, timed round-robin so that the machine's
    slow spells hit every method alike."""
    for fn in fns.values():
        fn()  # warm-up: allocations, plans, thread pools
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _methods(X, n_threads):
    """name -> (forward, inverse) closures on the batch X (n_clips, n_times)."""
    n = X.shape[1]
    stft = STFTTransformer(N_FFT, hop_length=HOP, n_jobs=n_threads).fit(X)
    Z = stft.transform(X)

    window = torch.hann_window(N_FFT)
    Xt = torch.from_numpy(X)
    St = torch.stft(Xt, N_FFT, HOP, window=window, return_complex=True)

    L = librosa.stft(X, n_fft=N_FFT, hop_length=HOP)

    sft = ShortTimeFFT(get_window("hann", N_FFT), HOP, SR, mfft=N_FFT)
    Ss = sft.stft(X, axis=-1)

    def torch_fwd():
        with torch.no_grad():
            torch.stft(Xt, N_FFT, HOP, window=window, return_complex=True)

    def torch_inv():
        with torch.no_grad():
            torch.istft(St, N_FFT, HOP, window=window, length=n)

    return {
        "sksep STFTTransformer": (lambda: stft.transform(X),
                                  lambda: stft.inverse_transform(Z)),
        "torch.stft/istft": (torch_fwd, torch_inv),
        "librosa": (lambda: librosa.stft(X, n_fft=N_FFT, hop_length=HOP),
                    lambda: librosa.istft(L, n_fft=N_FFT, hop_length=HOP, length=n)),
        "scipy ShortTimeFFT": (lambda: sft.stft(X, axis=-1),
                               lambda: sft.istft(Ss, k1=n)),
    }


def run(repeat, threads):
    rng = np.random.default_rng(0)
    workloads = {
        "60 s x 1": rng.standard_normal((1, 60 * SR)).astype(np.float32),
        "1 s x 64": rng.standard_normal((64, SR)).astype(np.float32),
    }
    rows = []
    for n_thr in threads:
        previous = torch.get_num_threads()
        torch.set_num_threads(n_thr)
        with threadpool_limits(n_thr):
            for wname, X in workloads.items():
                methods = _methods(X, n_thr)
                fwd = _interleaved_medians({k: v[0] for k, v in methods.items()}, repeat)
                inv = _interleaved_medians({k: v[1] for k, v in methods.items()}, repeat)
                block = [dict(threads=n_thr, workload=wname, method=name,
                              fwd=X.size / fwd[name] / 1e6, inv=X.size / inv[name] / 1e6)
                         for name in methods]
                best_fwd = max(r["fwd"] for r in block[1:])
                best_inv = max(r["inv"] for r in block[1:])
                for r in block:
                    r["fwd_ratio"] = r["fwd"] / best_fwd
                    r["inv_ratio"] = r["inv"] / best_inv
                rows += block
        torch.set_num_threads(previous)
    return rows


def markdown(rows):
    lines = [
        "| threads | workload | method | forward (Msamples/s) | inverse "
        "(Msamples/s) | forward / best peer | inverse / best peer |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['threads']} | {r['workload']} | {r['method']} | {r['fwd']:.0f} "
            f"| {r['inv']:.0f} | {r['fwd_ratio']:.2f} | {r['inv_ratio']:.2f} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"sksep {sksep.__version__}, torch {torch.__version__}, librosa "
          f"{librosa.__version__}, scipy {scipy.__version__}; n_fft={N_FFT}, "
          f"hop={HOP}, float32, median of {args.repeat} runs\n")
    print(markdown(run(args.repeat, args.threads)))


if __name__ == "__main__":
    main()
