"""How much of a model's loss on conversations is voices swapping outputs?

Builds two-speaker conversations of one split's readers with
``bench_speech8k.py``'s ``conversations`` (turns with pauses of 0.3-2.5 s,
-5..5 dB, 25 s of LibriSpeech readers, 60 s of speechocean762 readers; its
own seed), separates each
in one pass, and reports per corpus and sex pairing:

* ``whole``: SI-SDRi with one order of the outputs for the whole recording
  (what a user gets; ``bench_speech8k.py``'s figure);
* ``blocks Xs``: the same after putting each X-second block of the outputs
  in its best order against the references, an *oracle*: what perfect
  speaker tracking on top of the same separation would give, so the gap
  to ``whole`` bounds what any swap repair (stitching, speaker
  embeddings, training for consistency) can win;
* ``speaker cue``: how often a 0.5 s block of an output, once oracle-aligned,
  is nearer its own speaker's mean than the other's in standardised
  MFCC (2-20) + log-F0 features (leave-one-out; 0.5 is chance), on the
  clean voices and on the model's outputs: whether simple timbre and pitch
  features can tell the speakers apart in what the model gives.

    python benchmarks/conversation_swaps.py ../shared/data --split valid \\
        --models speech8k-2voices [FILE.pt ...]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speech8k import CONVERSATION_SECONDS, SR, conversations


def whole_order(ref, est):
    """``est`` in the order that best matches ``ref`` over the whole recording."""
    from sksep.metrics import pit_si_sdr

    _, perm = pit_si_sdr(ref, est)
    return np.take_along_axis(est, perm[:, :, None], axis=1)


def block_oracle(ref, est, block):
    """Each ``block``-sample stretch of ``est`` in its best order (2 sources)."""
    out = est.copy()
    for r, e, o in zip(ref, est, out):
        for s in range(0, r.shape[1], block):
            rw, ew = r[:, s:s + block], e[:, s:s + block]
            keep = np.sum(rw[0] * ew[0]) + np.sum(rw[1] * ew[1])
            swap = np.sum(rw[0] * ew[1]) + np.sum(rw[1] * ew[0])
            if swap > keep:
                o[:, s:s + block] = ew[::-1]
    return out


def block_features(y, block=0.5, hop=80):
    """Energy-weighted mean MFCC 2-20 and median log-F0 of each 0.5 s block
    in which at least 30 % of the frames are within 25 dB of the loudest."""
    import librosa

    y = np.asarray(y, np.float32)
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=256, hop_length=hop,
                                         n_mels=40, fmin=60, fmax=3800)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel + 1e-10), n_mfcc=20)[1:]
    energy = mel.sum(0)
    logf0 = np.log(librosa.yin(y, fmin=70, fmax=400, sr=SR, frame_length=512, hop_length=hop))
    n = min(len(energy), len(logf0))
    per = int(block * SR / hop)
    out = []
    for b in range(n // per):
        sl = slice(b * per, (b + 1) * per)
        active = energy[sl] > energy[:n].max() * 10 ** -2.5
        if active.sum() < 0.3 * per:
            continue
        w = energy[sl][active]
        out.append(np.r_[(mfcc[:, sl][:, active] * w).sum(1) / w.sum(),
                         np.median(logf0[sl][active])])
    return np.array(out).reshape(-1, 20)


def speaker_cue(pairs):
    """Leave-one-out nearest-mean accuracy of blocks between two speakers."""
    accuracy = []
    for a, b in pairs:
        feats = [block_features(a), block_features(b)]
        if min(len(f) for f in feats) < 2:
            continue
        pooled = np.vstack(feats)
        feats = [(f - pooled.mean(0)) / (pooled.std(0) + 1e-6) for f in feats]
        hits = total = 0
        for k in range(2):
            for j in range(len(feats[k])):
                own = np.delete(feats[k], j, 0).mean(0)
                x = feats[k][j]
                hits += np.sum((x - own) ** 2) < np.sum((x - feats[1 - k].mean(0)) ** 2)
                total += 1
        accuracy.append(hits / total)
    return float(np.mean(accuracy))


def row(ref, est, mix, same):
    """Mean SI-SDRi (dB): all, same-sex pairs, mixed pairs."""
    from sksep.metrics import si_sdr_improvement

    s = np.mean(si_sdr_improvement(ref, est, mix), axis=1)
    return f"{s.mean():6.2f} {s[same].mean():6.2f} {s[~same].mean():6.2f}"


def main():
    import torch

    from sksep.pretrained import load

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--split", choices=("valid", "test"), default="valid")
    p.add_argument("--models", nargs="+", default=["speech8k-2voices"])
    p.add_argument("--n", type=int, default=40, help="conversations per corpus")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    # seed 5: not the conversations bench_speech8k.py scores (seed 1)
    sets = {c: conversations(args.data, c, n=args.n, seed=5, return_same=True,
                             split=args.split) for c in CONVERSATION_SECONDS}
    for name in args.models:
        model = load(name)
        print(f"== {name} ({args.split}, {args.n} conversations per corpus)")
        for corpus, (mix, ref, same) in sets.items():
            est = whole_order(ref, np.stack([model.separate(x, sr=SR) for x in mix]))

            print(f"{corpus}: SI-SDRi dB (all / same sex {same.sum()} / mixed)")
            print(f"  whole          {row(ref, est, mix, same)}")
            for seconds in (4.0, 2.0, 1.0, 0.5):
                print(f"  blocks {seconds:3.1f} s   {row(ref, block_oracle(ref, est, int(seconds * SR)), mix, same)}")
            aligned = block_oracle(ref, est, int(0.5 * SR))
            for label, keep in (("same sex", same), ("mixed", ~same)):
                clean = speaker_cue([tuple(r) for r in ref[keep]])
                out = speaker_cue([tuple(e) for e in aligned[keep]])
                print(f"  speaker cue, {label}: clean voices {clean:.2f}, outputs {out:.2f}")


if __name__ == "__main__":
    main()
