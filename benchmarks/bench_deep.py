"""Train MaskEstimator and CNNAutoencoderSeparator on FSDD and measure them
against the ideal-mask ceilings of the same STFT.

Training: the four training speakers of the project's split (lucas, nicolas,
theo, yweweler), recordings 5-49, as 0.5 s clips (cropped or zero-padded)
mixed on the fly. Test: fixed 2-speaker mixtures at 0 dB, 0.5 s long (random
excerpts or offsets, so the two voices overlap most of the time), of (a) the
same speakers' unseen recordings 0-4 and (b) the unseen speakers george and
jackson (recordings 0-49). Reports SI-SDRi, the ideal ratio, binary and phase-sensitive masks'
SI-SDRi, the model as a percentage of the ideal ratio mask, training time,
parameters and the inference real-time factor at 1 thread.

    python benchmarks/bench_deep.py ../shared/data/fsdd [--minutes 15]

Prints a Markdown table (the one in benchmarks/README.md).
"""

import argparse
import time

import numpy as np
import torch

import sksep
from sksep import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_fsdd, make_clip_mixtures
from sksep.metrics import pit_si_sdr, si_sdr_improvement
from sksep.spectral import ideal_mask_separation

SR, N_TIMES = 8000, 4000  # 0.5 s: about one FSDD utterance, so voices overlap
TRAIN = ["lucas", "nicolas", "theo", "yweweler"]


def test_sets(fsdd):
    seen = load_fsdd(fsdd, speakers=TRAIN, indices=range(5))
    unseen = load_fsdd(fsdd, speakers=["george", "jackson"])
    sets = {}
    for name, data in (("seen speakers, new recordings", seen),
                       ("unseen speakers", unseen)):
        X, Y = make_clip_mixtures(data.waveforms, n_sources=2, n_times=N_TIMES,
                                  labels=data.speaker, snr_db=0.0, random_state=0)
        sets[name] = (X, Y)
    return sets


def sisdri(Y, est, X):
    _, perm = pit_si_sdr(Y, est)
    est = np.take_along_axis(est, perm[:, :, None], axis=1)
    return float(np.mean(si_sdr_improvement(Y, est, X)))


def rtf(model, X):
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model.separate(X)
    return (time.perf_counter() - t0) / (X.size / SR)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fsdd")
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="training budget per model (sets max_epochs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["mask", "mask-speed", "cnn"],
                        choices=["mask", "mask-speed", "cnn"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train = load_fsdd(args.fsdd, speakers=TRAIN, indices=range(5, 50))
    clips = fix_length(train.waveforms, N_TIMES)
    sets = test_sets(args.fsdd)
    stft = STFTTransformer(n_fft=256, hop_length=64)
    mask = dict(stft=stft, hidden_size=128, num_layers=2, batch_size=16, lr=1e-3,
                patience=10, random_state=0, verbose=1)
    candidates = {
        "mask": ("MaskEstimator (BLSTM 2x128, PIT, SI-SDR loss)", MaskEstimator(**mask)),
        "mask-speed": ("MaskEstimator, speed_perturb=(0.85, 1.15)",
                       MaskEstimator(speed_perturb=(0.85, 1.15), **mask)),
        "cnn": ("CNNAutoencoderSeparator (PIT, magnitude loss)", CNNAutoencoderSeparator(
            stft=stft, permutation_invariant=True, segment_frames=32,
            freq_filters=64, time_filters=32, bottleneck=256, batch_size=16,
            lr=1e-3, patience=10, random_state=0, verbose=1)),
    }
    models = dict(candidates[name] for name in args.models)
    oracle = {name: {kind: sisdri(Y, ideal_mask_separation(Y, kind=kind, stft=stft), X)
                     for kind in ("irm", "ibm", "psm")}
              for name, (X, Y) in sets.items()}
    rows = []
    for mname, model in models.items():
        # one epoch to time it, then as many as the budget allows
        probe = model.set_params(max_epochs=1, valid_fraction=0.0)
        t0 = time.perf_counter()
        torch.set_num_threads(args.threads)
        probe.fit(clips, train.speaker)
        epoch = time.perf_counter() - t0
        epochs = max(1, int(args.minutes * 60 / (epoch * 1.15)))
        model.set_params(max_epochs=epochs, valid_fraction=0.1)
        t0 = time.perf_counter()
        model.fit(clips, train.speaker)
        train_min = (time.perf_counter() - t0) / 60
        n_params = sum(p.numel() for p in model.net_.module_.parameters())
        for sname, (X, Y) in sets.items():
            torch.set_num_threads(args.threads)
            score = sisdri(Y, model.separate(X), X)
            rows.append(dict(model=mname, set=sname, sisdri=score,
                             **oracle[sname], pct=100 * score / oracle[sname]["irm"],
                             train_min=train_min, epochs=model.n_epochs_,
                             params=n_params, rtf=rtf(model, X[:32])))
    print(f"sksep {sksep.__version__}, torch {torch.__version__}, {args.threads} "
          f"training threads, STFT 256/64 at 8 kHz, 2 speakers at 0 dB\n")
    print("| model | test mixtures | SI-SDRi (dB) | IRM | IBM | PSM | % of IRM | "
          "training (min, epochs) | parameters | RTF (1 thread) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['set']} | {r['sisdri']:.1f} | {r['irm']:.1f} | "
              f"{r['ibm']:.1f} | {r['psm']:.1f} | {r['pct']:.0f}% | "
              f"{r['train_min']:.1f}, {r['epochs']} | {r['params'] / 1e6:.2f} M | "
              f"{r['rtf']:.4f} |")


if __name__ == "__main__":
    main()
