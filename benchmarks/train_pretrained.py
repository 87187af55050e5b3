"""Train the shipped single-microphone separators on speech8k (resumable).

Data: ``../shared/data/speech8k`` (see its README): fit on the ``train``
speakers, select on ``valid``, never touch ``test``. Every epoch draws new
4 s mixtures of two voices from the recordings (dynamic mixing: random
segments, levels -5..5 dB, partner shifted by up to 30 % of the segment so
voices overlap only partly); utterance-level PIT on the negative SI-SDR.

Each model trains for a wall-clock budget (``--minutes``) in epochs of
``--epoch-size`` mixtures. After every epoch its validation SI-SDR (fixed
mixtures of the valid speakers) is checked and the best weights are written
to ``<checkpoints>/<name>.pt`` with the training progress in its metadata;
a rerun with the same command continues from there (``--resume``), with the
learning rate following one cosine decay over ``--total-minutes``.
So training can be interrupted and continued, and split over several runs
and machines (a GPU is used with ``--device cuda`` or ``auto``). Several
models train at once as separate processes (one per ``--models`` entry with
``--parallel``).

``--export`` writes the checkpoints as the shipped float16 files in
``sksep/pretrained/data`` with their registry entries; scores come from
``benchmarks/bench_speech8k.py``.

    python benchmarks/train_pretrained.py --data ../shared/data/speech8k \\
        --models tcn --minutes 60 --total-minutes 60 --checkpoints ckpt
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SR = 8000
SEGMENT = 4 * SR
OUT = Path(__file__).resolve().parents[1] / "sksep" / "pretrained" / "data"
LICENSE = (
    "Trained on speech8k (../shared/data/speech8k): speechocean762 "
    "(jimbozhang/speechocean762, free for commercial and non-commercial use) "
    "and LibriSpeech train-clean-100 excerpts (Panayotov et al., 2015, "
    "CC BY 4.0, via resemble-ai/Resemblyzer). These weights are derived from "
    "LibriSpeech and are shared under CC BY 4.0 with that attribution."
)


def configs():
    """name -> (shipped model name, description, estimator)."""
    from sksep import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer

    common = dict(segment_length=SEGMENT, snr_db=(-5.0, 5.0), shift=0.3,
                  batch_size=32, lr=1e-3, gradient_clip=5.0, loss="si_sdr",
                  valid_fraction=0.0, patience=10**6, random_state=0)

    def stft(n_fft):
        return STFTTransformer(n_fft=n_fft, hop_length=n_fft // 4)

    def causal(n_fft, ms):
        return (f"speech8k-2voices-causal-{ms}ms",
                f"MaskEstimator: causal TCN 16 blocks x 96, {ms} ms window, "
                "PIT, SI-SDR loss",
                MaskEstimator(kind="causal-tcn", hidden_size=96, num_layers=16,
                              stft=stft(n_fft), **common))

    return {
        "tcn": ("speech8k-2voices",
                "MaskEstimator: TCN 24 blocks x 128 over a 32 ms STFT, PIT, "
                "SI-SDR loss, sigmoid masks",
                MaskEstimator(kind="tcn", hidden_size=128, num_layers=24,
                              stft=stft(256), **common)),
        "blstm": ("speech8k-2voices-blstm",
                  "MaskEstimator: BLSTM 3 x 192, PIT, SI-SDR loss",
                  MaskEstimator(kind="blstm", hidden_size=192, num_layers=3,
                                stft=stft(256), **common)),
        "cnn": ("speech8k-2voices-cnn",
                "CNNAutoencoderSeparator: PIT, SI-SDR loss, 64-frame segments",
                CNNAutoencoderSeparator(permutation_invariant=True,
                                        segment_frames=64, freq_filters=64,
                                        time_filters=32, bottleneck=256,
                                        stft=stft(256), **common)),
        "causal-8ms": causal(64, 8),
        "causal-16ms": causal(128, 16),
        "causal-32ms": causal(256, 32),
    }


def load_split(data, split):
    from sksep.datasets import load_speech8k

    d = load_speech8k(data, split=split)
    return d.waveforms, d.speaker


def cosine_lr(lr0, minutes_done, total_minutes, floor=0.02):
    t = min(max(minutes_done / total_minutes, 0.0), 1.0)
    return lr0 * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def train_one(key, args):
    import torch

    from sksep.pretrained import load, save

    torch.set_num_threads(args.threads)
    name, description, est = configs()[key]
    clips, speakers = load_split(args.data, "train")
    vclips, vspeakers = load_split(args.data, "valid")
    # one epoch = epoch_size mixtures: repeat the clip list (each draw is a
    # new random segment, partner, level and offset)
    reps = max(1, round(args.epoch_size / len(clips)))
    order = np.tile(np.arange(len(clips)), reps)
    X = [clips[i] for i in order]
    y = speakers[order]
    ckpt = Path(args.checkpoints) / f"{name}.pt"
    progress = {"minutes": 0.0, "best_valid_si_sdr": -np.inf, "epochs": 0,
                "history": []}
    lr0 = est.lr
    if args.resume and ckpt.exists():
        est = load(ckpt, device=args.device)
        meta = torch.load(ckpt, weights_only=True)["metadata"]
        progress = meta["progress"]
        est.set_params(max_epochs=1, device=args.device, verbose=0)
        print(f"[{key}] resumed {ckpt}: {progress['epochs']} epochs, "
              f"{progress['minutes']:.1f} min, best valid "
              f"{progress['best_valid_si_sdr']:.2f} dB", flush=True)
        fresh = False
    else:
        est.set_params(max_epochs=1, device=args.device, verbose=0)
        fresh = True
    t0 = time.perf_counter()
    budget = args.minutes * 60
    first = True
    while time.perf_counter() - t0 < budget:
        done = progress["minutes"] + (time.perf_counter() - t0) / 60
        lr = cosine_lr(lr0, done, args.total_minutes)
        if first and not fresh:
            lr *= 0.3  # a fresh optimizer state: warm up for one epoch
        est.set_params(lr=lr)
        if fresh:
            est.fit(X, y, validation=(vclips, vspeakers))
            fresh = False
        else:
            if hasattr(getattr(est, "net_", None), "optimizer_"):  # not when loaded
                for group in est.net_.optimizer_.param_groups:
                    group["lr"] = lr
            est.partial_fit(X, y, validation=(vclips, vspeakers))
        first = False
        row = est.net_.history[-1]
        valid = float(row["valid_si_sdr"])
        progress["epochs"] += 1
        minutes = progress["minutes"] + (time.perf_counter() - t0) / 60
        progress["history"].append([round(minutes, 2), round(float(row["train_loss"]), 3),
                                    round(valid, 3), lr])
        improved = valid > progress["best_valid_si_sdr"]
        print(f"[{key}] epoch {progress['epochs']:4d}  {minutes:6.1f} min  lr {lr:.2e}  "
              f"train {-row['train_loss']:6.2f} dB  valid {valid:6.2f} dB"
              f"{'  *' if improved else ''}", flush=True)
        if improved:
            progress["best_valid_si_sdr"] = valid
            progress["best_epoch"] = progress["epochs"]
            progress["minutes_at_save"] = minutes
            saved = dict(progress, minutes=minutes)
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            save(est, ckpt, overwrite=True, half=True,
                 metadata={"progress": saved, "description": description,
                           "sample_rate": SR, "device": str(args.device),
                           "machine": args.machine})
    # the elapsed time goes into the file even without a new best
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=True)
        state["metadata"]["progress"]["minutes"] = progress["minutes"] + (
            time.perf_counter() - t0) / 60
        state["metadata"]["progress"]["history"] = progress["history"]
        state["metadata"]["progress"]["epochs"] = progress["epochs"]
        torch.save(state, ckpt)


def export(keys, args):
    import torch

    import sksep
    from sksep.pretrained import load, save

    registry_path = OUT / "models.json"
    registry = json.loads(registry_path.read_text())
    for key in keys:
        name, description, _ = configs()[key]
        ckpt = Path(args.checkpoints) / f"{name}.pt"
        est = load(ckpt)
        meta = torch.load(ckpt, weights_only=True)["metadata"]
        progress = meta["progress"]
        path = OUT / f"{name}.pt"
        est.sample_rate_ = SR
        # the progress travels with the shipped file, so that
        # ``--checkpoints sksep/pretrained/data --resume`` continues it
        save(est, path, overwrite=True, half=True,
             metadata={"data": LICENSE, "sample_rate": SR, "progress": progress,
                       "description": description,
                       "machine": meta.get("machine", "")})
        n_params = sum(p.numel() for p in est.net_.module_.parameters())
        old = registry.get(name, {})
        registry[name] = {
            "file": path.name, "estimator": type(est).__name__,
            "description": description, "sample_rate": SR, "n_sources": 2,
            "segment_seconds": SEGMENT / SR, "parameters": int(n_params),
            "epochs": int(progress["best_epoch"]),
            "valid_si_sdr_db_both_corpora_pooled": round(progress["best_valid_si_sdr"], 2),
            "training_minutes": round(progress["minutes_at_save"], 1),
            "trained_on": meta.get("machine", ""),
            "sksep_version": sksep.__version__, "torch_version": torch.__version__,
            "metrics": old.get("metrics", {}), "license": LICENSE,
        }
        registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
        print(f"exported {name}: {n_params} parameters, best valid "
              f"{progress['best_valid_si_sdr']:.2f} dB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/speech8k")
    parser.add_argument("--models", nargs="+", default=["tcn", "cnn"],
                        choices=list(configs()))
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="wall-clock budget of this run, per model")
    parser.add_argument("--total-minutes", type=float, default=60.0,
                        help="length of the cosine learning-rate decay over all runs")
    parser.add_argument("--epoch-size", type=int, default=2048)
    parser.add_argument("--checkpoints", default="benchmarks/checkpoints")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parallel", action="store_true",
                        help="one process per model, all at once")
    parser.add_argument("--machine", default=os.environ.get("SKSEP_MACHINE", ""))
    parser.add_argument("--export", action="store_true",
                        help="write the checkpoints as shipped models")
    args = parser.parse_args()
    if args.export:
        export(args.models, args)
        return
    if args.parallel and len(args.models) > 1:
        base = [a for a in sys.argv[1:] if a != "--parallel"]
        i = base.index("--models")
        j = i + 1
        while j < len(base) and not base[j].startswith("--"):
            j += 1
        procs = [subprocess.Popen([sys.executable, __file__, *base[:i],
                                   "--models", key, *base[j:]])
                 for key in args.models]
        sys.exit(max(p.wait() for p in procs))
    for key in args.models:
        train_one(key, args)


if __name__ == "__main__":
    main()
