"""Reverberant rooms: sksep's IVASeparator against pyroomacoustics' BSS.

Same simulated rooms, same recordings, one run. Each room is a 6 x 5 x 3 m
shoebox simulated by pyroomacoustics' image source method
(``sksep.datasets.make_room_mixture``), with 2 voices on 2 microphones or 3
on 3, microphones 5 or 20 cm apart, RT60 0, 150, 300 and 600 ms, several
seeds (source positions and voices). Voices: 8 s excerpts of LibriSpeech
passages of speech8k **test** speakers (8 kHz, resampled to 16 kHz with
soxr: the band above 4 kHz is empty).

Methods, every one at 16 kHz with the same STFT length where it has one:

* sksep ``IVASeparator``: AuxIVA with IP and the Gaussian model (the
  default), with ISS, with the Laplace model, ILRMA (``source_model='nmf'``)
  and FDICA (``algorithm='fdica'``); ``FastICASeparator`` (instantaneous).
* pyroomacoustics 0.10 ``bss.auxiva`` (Laplace), ``bss.ilrma`` (2 bases),
  ``bss.fastmnmf2`` (8 bases), with projection back to microphone 0.

Scores against each voice's image at microphone 0 (BSS Eval SDR and SIR
through fast_bss_eval, and SI-SDR), as improvements over the unprocessed
microphone, best permutation. Wall time of the separation only (STFT,
iterations, projection back, inverse STFT), real-time factor = wall time /
8 s; ``cpu`` is the process's CPU time over the same span (all its threads,
so a busy machine inflates it less than the wall time). ``--threads`` pins BLAS and torch threads (IVASeparator runs its own
BLAS work on one thread whatever it says); several values (``--threads 1
2``) run every method at each in turn on the same room, round-robin, so
that a busy machine slows them alike. The ``single`` variants run
IVASeparator's iterations in complex64 (``precision='single'``). Every iterative method runs
``--n-iter`` iterations, as pyroomacoustics does: sksep's early stop is off
(``tol=0``) unless ``--tol`` is given.

    python benchmarks/bench_rooms.py [--seeds 3] [--threads 1 [2]] [--n-fft 4096]
"""

import argparse
import json
import os
import time

import numpy as np

SR = 16000
SECONDS = 8


def voices(data, n_voices, seed):
    import librosa

    from sksep.datasets import load_speech8k

    test = load_speech8k(data, split="test")
    long = [i for i, (c, w) in enumerate(zip(test.corpus, test.waveforms))
            if c == "librispeech" and len(w) >= SECONDS * 8000]
    rng = np.random.default_rng(seed)
    pick = rng.choice(long, n_voices, replace=False)
    out = []
    for i in pick:
        w = librosa.resample(np.asarray(test.waveforms[i], dtype=np.float64),
                             orig_sr=8000, target_sr=SR, res_type="soxr_hq")
        start = rng.integers(0, len(w) - SECONDS * SR + 1)
        seg = w[start:start + SECONDS * SR]
        out.append(seg / np.std(seg))
    return np.stack(out, axis=1)


def pra_method(name, n_fft, n_iter):
    import pyroomacoustics as pra

    def run(mix):
        hop = n_fft // 4
        win_a = pra.hann(n_fft)
        win_s = pra.transform.stft.compute_synthesis_window(win_a, hop)
        padded = np.concatenate([mix, np.zeros((n_fft, mix.shape[1]))])
        X = pra.transform.stft.analysis(padded, n_fft, hop, win=win_a)
        if name == "auxiva":
            Y = pra.bss.auxiva(X, n_iter=n_iter, proj_back=True)
        elif name == "ilrma":
            Y = pra.bss.ilrma(X, n_iter=n_iter, proj_back=True, n_components=2)
        else:
            Y = pra.bss.fastmnmf2(X, n_iter=n_iter, mic_index=0)
        y = pra.transform.stft.synthesis(Y, n_fft, hop, win=win_s)
        return y[n_fft - hop:n_fft - hop + mix.shape[0]]

    return run


def sksep_method(params, n_fft, tol=0.0):
    from sksep import FastICASeparator, IVASeparator, STFTTransformer

    def run(mix):
        if params == "fastica":
            return FastICASeparator(random_state=0).fit_transform(mix)
        est = IVASeparator(stft=STFTTransformer(n_fft=n_fft, hop_length=n_fft // 4),
                           tol=tol, random_state=0, **params)
        return est.fit_transform(mix)

    return run


def methods(n_fft, n_iter, tol=0.0):
    return {
        "sksep IVA gauss IP": sksep_method(dict(max_iter=n_iter), n_fft, tol),
        "sksep IVA gauss IP single": sksep_method(
            dict(max_iter=n_iter, precision="single"), n_fft, tol),
        "sksep IVA laplace IP single": sksep_method(
            dict(max_iter=n_iter, source_model="laplace", precision="single"), n_fft,
            tol),
        "sksep IVA gauss ISS": sksep_method(
            dict(max_iter=n_iter, update="iss"), n_fft, tol),
        "sksep IVA laplace IP": sksep_method(
            dict(max_iter=n_iter, source_model="laplace"), n_fft, tol),
        "sksep ILRMA": sksep_method(
            dict(max_iter=n_iter, source_model="nmf"), n_fft, tol),
        "sksep FDICA": sksep_method(dict(max_iter=100, algorithm="fdica"), n_fft, tol),
        "sksep FastICA": sksep_method("fastica", n_fft),
        "pra auxiva": pra_method("auxiva", n_fft, n_iter),
        "pra ilrma": pra_method("ilrma", n_fft, n_iter),
        "pra fastmnmf2": pra_method("fastmnmf2", n_fft, n_iter),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data/speech8k")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--n-fft", type=int, default=4096)
    parser.add_argument("--n-iter", type=int, default=30)
    parser.add_argument("--tol", type=float, default=0.0,
                        help="IVASeparator's tol (0: exactly --n-iter iterations)")
    parser.add_argument("--rt60", type=float, nargs="+", default=[0.0, 0.15, 0.3, 0.6])
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--out", default=None, help="JSON lines of every result")
    args = parser.parse_args()
    from sksep.datasets import make_room_mixture

    table = methods(args.n_fft, args.n_iter, args.tol)
    names = args.methods or list(table)
    done = set()
    if args.out and os.path.exists(args.out):
        for line in open(args.out):
            r = json.loads(line)
            done.add((r["method"], r["n_src"], r["spacing"], r["rt60"], r["seed"],
                      r["threads"]))
    out = open(args.out, "a") if args.out else None
    for n_src in (2, 3):
        for spacing in (0.05, 0.2):
            for rt60 in args.rt60:
                for seed in range(args.seeds):
                    S = voices(args.data, n_src, seed)
                    mix, images = make_room_mixture(
                        S, SR, n_mics=n_src, mic_spacing=spacing, rt60=rt60,
                        random_state=seed)
                    for name in names:
                        for threads in args.threads:
                            key = (name, n_src, spacing, rt60, seed, threads)
                            if key in done:
                                continue
                            row = dict(method=name, n_src=n_src, spacing=spacing,
                                       rt60=rt60, seed=seed, threads=threads,
                                       n_fft=args.n_fft)
                            row.update(run_one(table[name], mix, images, threads))
                            print(json.dumps({k: round(v, 3) if isinstance(v, float)
                                              else v for k, v in row.items()}),
                                  flush=True)
                            if out:
                                out.write(json.dumps(row) + "\n")
                                out.flush()


def run_one(method, mix, images, threads):
    """Scores and wall time of one method on one room, on ``threads`` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    from sksep.metrics import image_scores

    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    with threadpool_limits(threads):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            est = method(mix)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - c0
            sc = image_scores(images, est, mixture=mix)
        except Exception as exc:  # a method's failure is a result
            return dict(error=f"{type(exc).__name__}: {exc}", sdri=np.nan,
                        siri=np.nan, si_sdri=np.nan, wall=np.nan, cpu=np.nan,
                        rtf=np.nan)
    return dict(sdri=float(np.mean(sc["sdr_improvement"])),
                siri=float(np.mean(sc["sir_improvement"])),
                si_sdri=float(np.mean(sc["si_sdr_improvement"])),
                wall=wall, cpu=cpu, rtf=wall / SECONDS)


if __name__ == "__main__":
    main()
