"""Single-microphone separation of unseen voices: the speech8k test speakers.

Scores every shipped speech8k model (and the ideal ratio mask on its STFT,
the ceiling of masking) on recordings of the 70 ``test`` speakers, who were
never trained on nor used for model selection:

* **4 s mixtures**: 300 mixtures of two different test speakers, a random
  4 s excerpt of a random recording of each (shorter recordings sit at a
  random offset in silence), fully overlapped, the first voice at a level
  drawn from -5 to 5 dB over the second. Seeded.
  Scores are also given for same-sex and mixed-sex pairs.
* **60 s conversations**: 10 conversations of two speechocean762 test
  speakers (the LibriSpeech test speakers have only 12.5 s each), built by
  :func:`sksep.datasets.make_conversation`: each speaker's sentences follow
  one another with pauses of 0.3 to 2.5 s, the two tracks start at random
  offsets, so the voices overlap for part of the time and speak alone for
  the rest, as in a conversation; one voice is -5 to 5 dB over the other. Scored with ONE permutation for the whole
  60 s, so a voice swap anywhere costs quality; ``swaps`` counts the 4 s
  windows (with both voices active) whose best permutation differs from
  the whole recording's.

SI-SDR improvement (SI-SDRi) is the estimate's SI-SDR minus the mixture's,
averaged over sources and mixtures. The real-time factor (RTF) is the
wall time of ``separate`` on a 60 s conversation divided by 60 s, at 1 and
2 threads (median of 3 runs).

    python benchmarks/bench_speech8k.py ../shared/data/speech8k [--models ...]
"""

import argparse
import json
import time

import numpy as np

SR = 8000


def test_mixtures(data, n=300, seconds=4.0, seed=0):
    from sksep.datasets import load_speech8k

    test = load_speech8k(data, split="test")
    rng = np.random.default_rng(seed)
    size = int(seconds * SR)
    speakers = np.unique(test.speaker)
    by = {s: np.flatnonzero(test.speaker == s) for s in speakers}
    sex = dict(zip(test.speaker, test.sex))
    mix, refs, same = [], [], []
    for _ in range(n):
        a, b = rng.choice(speakers, 2, replace=False)
        same.append(sex[a] == sex[b])
        pair = []
        for spk in (a, b):
            clip = test.waveforms[rng.choice(by[spk])]
            out = np.zeros(size, dtype=np.float64)
            if len(clip) >= size:
                start = rng.integers(len(clip) - size + 1)
                out[:] = clip[start:start + size]
            else:
                start = rng.integers(size - len(clip) + 1)
                out[start:start + len(clip)] = clip
            pair.append(out)
        s0, s1 = pair
        snr = rng.uniform(-5, 5)
        s1 *= np.sqrt(np.sum(s0**2) / np.sum(s1**2) * 10 ** (-snr / 10))
        src = np.stack([s0, s1])
        refs.append(src)
        mix.append(src.sum(0))
    return (np.array(mix, dtype=np.float32), np.array(refs, dtype=np.float32),
            np.array(same))


def conversations(data, n=10, seconds=60.0, seed=1):
    from sksep.datasets import load_speech8k, make_conversation

    test = load_speech8k(data, split="test")
    rng = np.random.default_rng(seed)
    keep = test.corpus == "speechocean762"
    speakers = np.unique(test.speaker[keep])
    mix, refs = [], []
    for i in range(n):
        pair = rng.choice(speakers, 2, replace=False)
        utts = [[w for w, s in zip(test.waveforms, test.speaker) if s == spk]
                for spk in pair]
        m, r = make_conversation(utts, n_times=int(seconds * SR),
                                 pauses=(int(0.3 * SR), int(2.5 * SR)),
                                 snr_db=(-5.0, 5.0), random_state=seed * 1000 + i)
        mix.append(m)
        refs.append(r)
    return np.array(mix, dtype=np.float32), np.array(refs, dtype=np.float32)


def sisdri(ref, est, mix):
    """Mean SI-SDRi (dB) after the best permutation per mixture."""
    from sksep.metrics import pit_si_sdr, si_sdr_improvement

    _, perm = pit_si_sdr(ref, est)
    est = np.take_along_axis(est, perm[:, :, None], axis=1)
    return float(np.mean(si_sdr_improvement(ref, est, mix)))


def count_swaps(ref, est, window=4 * SR):
    """4 s windows (both voices active) whose best order differs from the
    whole recording's."""
    from sksep.metrics import pit_si_sdr

    swaps = windows = 0
    for r, e in zip(ref, est):
        _, whole = pit_si_sdr(r[None], e[None])
        for start in range(0, r.shape[1] - window + 1, window):
            rw, ew = r[:, start:start + window], e[:, start:start + window]
            power = np.mean(rw**2, axis=1)
            if np.min(power) < 1e-3 * np.max(power):
                continue
            _, perm = pit_si_sdr(rw[None], ew[None])
            windows += 1
            swaps += int(not np.array_equal(perm[0], whole[0]))
    return swaps, windows


def rtf(model, x, threads, repeats=3):
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model.separate(x[: SR])  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.separate(x)
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(old)
    return float(np.median(times)) / (len(x) / SR)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data/speech8k")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--n-mixtures", type=int, default=300)
    parser.add_argument("--n-conversations", type=int, default=10)
    parser.add_argument("--write-registry", action="store_true",
                        help="record the scores in sksep/pretrained/data/models.json")
    args = parser.parse_args()
    import torch

    from sksep.pretrained import list_models, load
    from sksep.spectral import ideal_mask_separation

    torch.set_num_threads(1)
    names = args.models or [n for n in list_models() if n.startswith("speech8k")]
    X4, Y4, same = test_mixtures(args.data, n=args.n_mixtures)
    X60, Y60 = conversations(args.data, n=args.n_conversations)
    results = {}
    for name in names:
        model = load(name)
        t0 = time.perf_counter()
        est4 = model.separate(X4)
        row = {"si_sdri_4s": sisdri(Y4, est4, X4),
               "si_sdri_4s_same_sex": sisdri(Y4[same], est4[same], X4[same]),
               "si_sdri_4s_mixed_sex": sisdri(Y4[~same], est4[~same], X4[~same]),
               "n_same_sex": int(same.sum())}
        row["irm_si_sdri_4s"] = sisdri(
            Y4, ideal_mask_separation(Y4, kind="irm", stft=model.stft_), X4)
        est60 = np.stack([model.separate(x) for x in X60])
        row["si_sdri_60s"] = sisdri(Y60, est60, X60)
        row["swaps_60s"], row["windows_60s"] = count_swaps(Y60, est60)
        row["rtf_1_thread"] = rtf(model, X60[0], 1)
        row["rtf_2_threads"] = rtf(model, X60[0], 2)
        row["seconds"] = time.perf_counter() - t0
        results[name] = row
        print(name, json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                for k, v in row.items()}), flush=True)
    if args.write_registry:
        from pathlib import Path

        path = (Path(__file__).resolve().parents[1] / "sksep" / "pretrained" / "data"
                / "models.json")
        registry = json.loads(path.read_text())
        for name, row in results.items():
            registry[name]["metrics"] = {
                "speech8k test, 4 s mixtures, unseen speakers": {
                    "si_sdri_db": round(row["si_sdri_4s"], 2),
                    "si_sdri_db_same_sex": round(row["si_sdri_4s_same_sex"], 2),
                    "si_sdri_db_mixed_sex": round(row["si_sdri_4s_mixed_sex"], 2),
                    "irm_si_sdri_db": round(row["irm_si_sdri_4s"], 2)},
                "speech8k test, 60 s conversations, unseen speakers": {
                    "si_sdri_db": round(row["si_sdri_60s"], 2),
                    "swapped_4s_windows": f"{row['swaps_60s']}/{row['windows_60s']}"},
            }
            registry[name]["rtf_1_thread"] = round(row["rtf_1_thread"], 4)
        path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
