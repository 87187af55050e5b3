"""FastICASeparator against scikit-learn's FastICA and python-picard.

Same data, same run: instantaneous mixtures of 2, 4 and 6 FSDD speakers
(each speaker's recordings end to end, 60 s and 300 s at 8 kHz), a
well-conditioned random mixing matrix, every method fitted and applied
(``fit_transform``) at least 5 times, round-robin; median wall time, the ratio to
scikit-learn, iterations, the worst source's SI-SDR and the Amari distance.

    python benchmarks/bench_fastica.py ../shared/data/fsdd [--repeat 5]
        [--threads 1 2] [--dtype float64 float32]

Prints a Markdown table (the one in benchmarks/README.md).
"""

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import picard
import sklearn
from sklearn.decomposition import FastICA
from threadpoolctl import threadpool_limits

import sksep
from sksep import FastICASeparator
from sksep.datasets import FSDD_SPEAKERS, load_fsdd_sources, make_instantaneous_mixture
from sksep.metrics import amari_distance, pit_si_sdr

SR = 8000


def _sksep(X, k):
    est = FastICASeparator(whiten_solver="eigh", random_state=0)
    return est.fit_transform(X), est.components_, est.n_iter_


def _sklearn(X, k):
    est = FastICA(whiten_solver="eigh", random_state=0)
    return est.fit_transform(X), est.components_, est.n_iter_


def _picard(X, k):
    # Picard-O: same orthogonal-ICA fixed point as FastICA, with a
    # quasi-Newton solver; tanh density as FastICA's logcosh.
    K, W, Y, n_iter = picard.picard(
        X.T, n_components=k, ortho=True, extended=False, fun="tanh",
        random_state=0, return_n_iter=True, tol=1e-7,
    )
    return Y.T, W @ K, n_iter


METHODS = {"sksep": _sksep, "sklearn": _sklearn, "picard": _picard}


def run(fsdd, durations, n_sources, repeat, threads, dtypes):
    S_all = load_fsdd_sources(fsdd, speakers=list(FSDD_SPEAKERS),
                              n_samples=max(durations) * SR, dtype="float64")
    S_all -= S_all.mean(axis=0)
    rows = []
    for dtype in dtypes:
        for n_thr in threads:
            for k in n_sources:
                for dur in durations:
                    S = S_all[: dur * SR, :k]
                    X, A = make_instantaneous_mixture(S, random_state=k)
                    X = X.astype(dtype)
                    times = {name: [] for name in METHODS}
                    results = {}
                    with threadpool_limits(n_thr), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        for name, fn in METHODS.items():
                            fn(X, k)  # warm-up run: page faults, BLAS start
                        # round-robin, so the machine's slow spells hit
                        # every method alike
                        for _ in range(repeat):
                            for name, fn in METHODS.items():
                                t0 = time.perf_counter()
                                results[name] = fn(X, k)
                                times[name].append(time.perf_counter() - t0)
                    times = {name: statistics.median(ts) for name, ts in times.items()}
                    for name, (S_hat, W, n_iter) in results.items():
                        scores, _ = pit_si_sdr(S, S_hat, axis=0, zero_mean=True)
                        rows.append(dict(
                            dtype=dtype, threads=n_thr, k=k, dur=dur, method=name,
                            time=times[name], n_iter=n_iter,
                            sdr=float(scores.min()),
                            amari=amari_distance(W.astype(np.float64), A),
                        ))
                    for row in rows[-len(METHODS):]:
                        row["ratio"] = row["time"] / times["sklearn"]
    return rows


def markdown(rows):
    lines = [
        "| dtype | threads | sources x s | method | median time (s) | "
        "ratio to sklearn | iterations | min SI-SDR (dB) | Amari |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dtype']} | {r['threads']} | {r['k']} x {r['dur']} | "
            f"{r['method']} | {r['time']:.3f} | {r['ratio']:.2f} | "
            f"{r['n_iter']} | {r['sdr']:.1f} | {r['amari']:.1e} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fsdd", help="folder of the Free Spoken Digit Dataset")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"])
    parser.add_argument("--sources", type=int, nargs="+", default=[2, 4, 6])
    parser.add_argument("--durations", type=int, nargs="+", default=[60, 300])
    args = parser.parse_args()
    print(f"sksep {sksep.__version__}, scikit-learn {sklearn.__version__}, "
          f"python-picard {picard.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}, median of {args.repeat} runs\n")
    rows = run(args.fsdd, args.durations, args.sources, args.repeat,
               args.threads, args.dtype)
    print(markdown(rows))


if __name__ == "__main__":
    main()
