"""Train the FSDD separators that ship in sksep.pretrained (fsdd-2speakers*).

Data: the Free Spoken Digit Dataset split of ../shared/data/fsdd/README.md.
Training clips are recordings 5-49 of lucas, nicolas, theo and yweweler, one
spoken digit each, cropped or zero-padded to 0.5 s, mixed two at a time on the
fly at -5..5 dB; 10 % of them are held out as fixed mixtures for early
stopping. The models therefore separate two words spoken at once.

Training on 1 s windows of continuous speech instead (``--continuous``) was
tried: the windows separate about as well, but on longer recordings the
outputs swap speakers at pauses (utterance-level PIT does not trace
speakers), so neither version separates continuous speech well; the
shipped weights are the utterance-trained ones.

The models are scored on fixed 0 dB mixtures of
(a) single utterances, 0.5 s, exactly as bench_deep.py: the same speakers'
unseen recordings 0-4, and the unseen speakers george and jackson;
(b) continuous speech, 2 s excerpts of the streams of the same speakers'
recordings 0-4, and of george's and jackson's, separated whole.

Writes sksep/pretrained/data/<name>.pt (float16 weights) and records the
scores, measured with the file as it is loaded back, in models.json.
Runs on one thread, so the same command gives the same weights on a CPU:

    python benchmarks/train_fsdd_models.py ../shared/data/fsdd [--models mask cnn]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import sksep
from bench_deep import N_TIMES, SR, TRAIN, sisdri, test_sets
from sksep import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_fsdd, make_clip_mixtures
from sksep.pretrained import load, save
from sksep.spectral import ideal_mask_separation

OUT = Path(__file__).resolve().parents[1] / "sksep" / "pretrained" / "data"
LICENSE = ("Trained on the Free Spoken Digit Dataset (Jakobovski/free-spoken-digit-"
           "dataset, CC BY-SA 4.0); these weights are shared under CC BY-SA 4.0.")


def windows(fsdd, speakers, indices, n_times):
    """Non-overlapping windows of each speaker's stream of recordings."""
    clips, labels = [], []
    for speaker in speakers:
        data = load_fsdd(fsdd, speakers=speaker, indices=indices)
        stream = np.concatenate(data.waveforms)
        n = stream.size // n_times
        clips.append(stream[:n * n_times].reshape(n, n_times))
        labels += [speaker] * n
    return np.concatenate(clips), np.array(labels)


def continuous_sets(fsdd):
    sets = {}
    for name, speakers, indices in (
            ("continuous speech, seen speakers, new recordings", TRAIN, range(5)),
            ("continuous speech, unseen speakers", ["george", "jackson"], None)):
        clips, labels = windows(fsdd, speakers, indices, 2 * SR)
        sets[name] = make_clip_mixtures(list(clips), n_sources=2, n_times=2 * SR,
                                        labels=labels, snr_db=0.0, random_state=0)
    return sets


def models():
    stft = STFTTransformer(n_fft=256, hop_length=64)
    common = dict(stft=stft, batch_size=16, lr=1e-3, max_epochs=150, patience=15,
                  valid_fraction=0.1, random_state=0, verbose=1)
    return {
        "mask": ("fsdd-2speakers",
                 "MaskEstimator: BLSTM 2x128, PIT, SI-SDR loss, sigmoid masks",
                 MaskEstimator(hidden_size=128, num_layers=2, **common)),
        "cnn": ("fsdd-2speakers-cnn",
                "CNNAutoencoderSeparator: PIT, magnitude loss, 32-frame segments",
                CNNAutoencoderSeparator(permutation_invariant=True, segment_frames=32,
                                        freq_filters=64, time_filters=32,
                                        bottleneck=256, **common)),
    }


def evaluate(model, path, sets):
    loaded = load(path)
    metrics = {}
    for sname, (X, Y) in sets.items():
        metrics[sname] = {
            "si_sdri_db": round(sisdri(Y, loaded.separate(X), X), 2),
            "irm_si_sdri_db": round(sisdri(Y, ideal_mask_separation(
                Y, kind="irm", stft=loaded.stft_), X), 2),
        }
    return loaded, metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fsdd")
    parser.add_argument("--models", nargs="+", default=["mask", "cnn"],
                        choices=["mask", "cnn"])
    parser.add_argument("--continuous", action="store_true",
                        help="train on 1 s windows of continuous speech")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-score the shipped files without training")
    args = parser.parse_args()
    torch.set_num_threads(1)

    if args.continuous:
        clips, speakers = windows(args.fsdd, TRAIN, range(5, 50), SR)
    else:
        train = load_fsdd(args.fsdd, speakers=TRAIN, indices=range(5, 50))
        clips, speakers = fix_length(train.waveforms, N_TIMES), train.speaker
    sets = {**test_sets(args.fsdd), **continuous_sets(args.fsdd)}
    registry_path = OUT / "models.json"
    registry = json.loads(registry_path.read_text())
    for key in args.models:
        name, description, model = models()[key]
        path = OUT / f"{name}.pt"
        if args.evaluate_only:
            entry = registry[name]
            loaded, entry["metrics"] = evaluate(model, path, sets)
            registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True)
                                     + "\n")
            print(name, json.dumps(entry["metrics"]), flush=True)
            continue
        t0 = time.perf_counter()
        model.fit(clips, speakers)
        minutes = (time.perf_counter() - t0) / 60
        save(model, path, overwrite=True, half=True,
             metadata={"data": LICENSE, "trained_on": TRAIN})
        loaded, metrics = evaluate(model, path, sets)
        n_params = sum(p.numel() for p in loaded.net_.module_.parameters())
        registry[name] = {
            "file": path.name, "estimator": type(model).__name__,
            "description": description, "sample_rate": SR,
            "n_sources": int(model.n_sources_), "clip_seconds": clips.shape[1] / SR,
            "parameters": int(n_params), "epochs": int(model.n_epochs_),
            "training_minutes_1_thread": round(minutes, 1),
            "sksep_version": sksep.__version__, "torch_version": torch.__version__,
            "metrics": metrics, "license": LICENSE,
        }
        registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
        print(name, json.dumps(registry[name]["metrics"]), flush=True)


if __name__ == "__main__":
    main()
