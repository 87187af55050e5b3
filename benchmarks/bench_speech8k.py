"""Single-microphone separation of unseen voices: the speech8k test speakers.

Scores every shipped speech8k model (and the ideal ratio mask on its STFT,
the ceiling of masking) on recordings of the 70 ``test`` speakers, who were
never trained on nor used for model selection. **The two corpora are
reported separately, never averaged**: the 40 LibriSpeech readers (native
read English, the standard of the field and the headline figure) and the 30
speechocean762 readers (non-native English, many children, the corpus the
first models were tuned on, and much easier for them).

For each corpus:

* **4 s mixtures**: ``--n-mixtures`` mixtures of two different speakers of
  that corpus, a random 4 s excerpt of a random recording of each (shorter
  recordings sit at a random offset in silence), fully overlapped, the first
  voice at a level drawn from -5 to 5 dB over the second; by sex pairing too.
  Seeded.
* **the same mixtures in noise**: a noise8k ``test`` recording (sources never
  heard in training) added at 5 to 15 dB SNR (against the two voices); the
  estimates are scored against the clean voices, the improvement against the
  noisy mixture.
* **the same voices in a room**: both voices of each 4 s mixture through a
  simulated shoebox room (:func:`sksep.datasets.make_room_mixture`, one
  microphone, RT60 drawn from 0.2 to 0.5 s, positions seeded), scored
  against the reverberant voices as the microphone hears them (the task is
  separating, not dereverberating); the rooms are drawn from their own
  seed, so the other conditions' mixtures are those of earlier runs.
* **conversations**: ``--n-conversations`` conversations built by
  :func:`sksep.datasets.make_conversation` (each speaker's sentences follow
  one another with pauses of 0.3 to 2.5 s, random start offsets, -5..5 dB):
  60 s for speechocean762, 25 s for LibriSpeech (its test readers have only
  about 12 s each); by sex pairing too. Scored with ONE permutation for the
  whole recording, so a voice swap anywhere costs quality; ``swaps`` counts
  the 4 s windows (both voices active) whose best permutation differs from
  the whole recording's.
* **one voice alone**: 4 s of a single voice; ``alone_gap_db`` is the median
  level of the quieter output under the louder (the target is 20 dB or
  more), ``alone_si_sdr_db`` the median SI-SDR of the louder output against
  the voice, ``alone_share_20db`` the share of excerpts whose gap reaches
  20 dB, ``alone_gap_db_quartiles`` the gap's first and third quartiles (the gaps fall in two groups, the voice kept in one output or split
  over both, and the median can sit between them).

SI-SDR improvement (SI-SDRi) is the estimate's SI-SDR minus the mixture's,
averaged over sources and mixtures; ``si_sdri_se_db`` is its standard error
over the mixtures (each mixture's mean over its voices; std / sqrt(n)). The real-time factor (RTF) is the
wall time of ``separate`` on a 60 s conversation divided by 60 s, at 1 and
2 threads (median of 3 runs).

    python benchmarks/bench_speech8k.py ../shared/data [--models ...]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

SR = 8000
CORPORA = {"librispeech": "LibriSpeech readers", "speechocean762": "speechocean762 readers"}
CONVERSATION_SECONDS = {"librispeech": 25.0, "speechocean762": 60.0}
ROOM_RT60 = (0.2, 0.5)


def _excerpt(rng, clip, size):
    out = np.zeros(size, dtype=np.float64)
    if len(clip) >= size:
        start = rng.integers(len(clip) - size + 1)
        out[:] = clip[start:start + size]
    else:
        start = rng.integers(size - len(clip) + 1)
        out[start:start + len(clip)] = clip
    return out


def _noises(data, split="test"):
    from sksep.datasets import load_noise8k

    return load_noise8k(Path(data) / "noise8k", split=split, dtype="float64").waveforms


def test_mixtures(data, corpus, n=200, seconds=4.0, seed=0, split="test"):
    """Clean and noisy 4 s mixtures of two ``split`` speakers of one corpus,
    and single voices: a dict of arrays (the noises are noise8k's ``split``
    too)."""
    from sksep.datasets import load_speech8k

    test = load_speech8k(Path(data) / "speech8k", split=split)
    keep = test.corpus == corpus
    rng = np.random.default_rng([seed, len(corpus)])
    size = int(seconds * SR)
    speakers = np.unique(test.speaker[keep])
    by = {s: np.flatnonzero(test.speaker == s) for s in speakers}
    sex = dict(zip(test.speaker, test.sex))
    from sksep.datasets import make_room_mixture

    noises = _noises(data, split)
    room_rng = np.random.default_rng([seed, len(corpus), 7])
    mix, noisy, refs, same, alone, wet = [], [], [], [], [], []
    for _ in range(n):
        a, b = rng.choice(speakers, 2, replace=False)
        same.append(sex[a] == sex[b])
        s0, s1 = (_excerpt(rng, test.waveforms[rng.choice(by[spk])], size)
                  for spk in (a, b))
        snr = rng.uniform(-5, 5)
        s1 *= np.sqrt(np.sum(s0**2) / np.sum(s1**2) * 10 ** (-snr / 10))
        src = np.stack([s0, s1])
        refs.append(src)
        mix.append(src.sum(0))
        noise = noises[rng.integers(len(noises))]
        if len(noise) < size:
            noise = np.tile(noise, size // len(noise) + 1)
        start = rng.integers(len(noise) - size + 1)
        noise = noise[start:start + size]
        noise = noise * np.sqrt(np.sum(mix[-1] ** 2) / np.sum(noise**2)
                                * 10 ** (-rng.uniform(5, 15) / 10))
        noisy.append(mix[-1] + noise)
        alone.append(_excerpt(rng, test.waveforms[rng.choice(by[a])], size))
        _, images = make_room_mixture(
            src.T, SR, n_mics=1, rt60=room_rng.uniform(*ROOM_RT60),
            random_state=int(room_rng.integers(2**31 - 1)))
        wet.append(images[:, :, 0])
    f32 = lambda v: np.array(v, dtype=np.float32)  # noqa: E731
    return {"mix": f32(mix), "noisy": f32(noisy), "refs": f32(refs),
            "same": np.array(same), "alone": f32(alone), "wet": f32(wet)}


def conversations(data, corpus, n=10, seed=1, return_same=False, split="test"):
    """``n`` conversations of two ``split`` speakers of ``corpus``: mixtures
    and references, and with ``return_same`` whether each pair is of one sex."""
    from sksep.datasets import load_speech8k, make_conversation

    test = load_speech8k(Path(data) / "speech8k", split=split)
    rng = np.random.default_rng(seed)
    keep = test.corpus == corpus
    speakers = np.unique(test.speaker[keep])
    sex = dict(zip(test.speaker, test.sex))
    mix, refs, same = [], [], []
    for i in range(n):
        pair = rng.choice(speakers, 2, replace=False)
        same.append(sex[pair[0]] == sex[pair[1]])
        utts = [[w for w, s in zip(test.waveforms, test.speaker) if s == spk]
                for spk in pair]
        m, r = make_conversation(utts, n_times=int(CONVERSATION_SECONDS[corpus] * SR),
                                 pauses=(int(0.3 * SR), int(2.5 * SR)),
                                 snr_db=(-5.0, 5.0), random_state=seed * 1000 + i)
        mix.append(m)
        refs.append(r)
    out = np.array(mix, dtype=np.float32), np.array(refs, dtype=np.float32)
    return (*out, np.array(same)) if return_same else out


def alone_scores(voices, est, target_db=20.0):
    """Median gap (dB) between the louder and the quieter output, the
    median SI-SDR of the louder output against the voice, the share of
    excerpts whose gap reaches ``target_db`` and the gap's first and third
    quartiles (the gaps fall in two groups, the voice kept in one output or
    split over both, so the median alone can sit between them)."""
    from sksep.metrics import si_sdr

    power = (est.astype(np.float64) ** 2).sum(-1)
    order = np.argsort(power, axis=1)
    gap = 10 * np.log10(power[np.arange(len(est)), order[:, 1]]
                        / np.maximum(power[np.arange(len(est)), order[:, 0]], 1e-20))
    loud = est[np.arange(len(est)), order[:, 1]]
    return (float(np.median(gap)), float(np.median(si_sdr(voices, loud))),
            float(np.mean(gap >= target_db)), np.percentile(gap, [25, 75]).tolist())


def sisdri(ref, est, mix, se=False):
    """Mean SI-SDRi (dB) after the best permutation per mixture; with
    ``se`` also its standard error over the mixtures (each mixture's mean
    over its sources; std / sqrt(n))."""
    from sksep.metrics import pit_si_sdr, si_sdr_improvement

    _, perm = pit_si_sdr(ref, est)
    est = np.take_along_axis(est, perm[:, :, None], axis=1)
    per_mix = np.mean(si_sdr_improvement(ref, est, mix), axis=1)
    if not se:
        return float(np.mean(per_mix))
    if len(per_mix) < 2:
        return float(np.mean(per_mix)), None  # no spread from one mixture
    return float(np.mean(per_mix)), float(np.std(per_mix, ddof=1) / np.sqrt(len(per_mix)))


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
        model.separate(x[: SR], sr=SR)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.separate(x, sr=SR)
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(old)
    return float(np.median(times)) / (len(x) / SR)


def score_model(model, sets, convs):
    from sksep.spectral import ideal_mask_separation

    row = {}
    for corpus, d in sets.items():
        X, Y, same = d["mix"], d["refs"], d["same"]
        est = model.separate(X, sr=SR)
        mean, se = sisdri(Y, est, X, se=True)
        r = {"si_sdri_db": mean, "si_sdri_se_db": se,
             "si_sdri_db_same_sex": sisdri(Y[same], est[same], X[same]),
             "si_sdri_db_mixed_sex": sisdri(Y[~same], est[~same], X[~same]),
             "n_mixtures": int(len(X)), "n_same_sex": int(same.sum()),
             "irm_si_sdri_db": sisdri(Y, ideal_mask_separation(Y, kind="irm",
                                                               stft=model.stft_), X)}
        row[f"{corpus}, 4 s"] = r
        est = model.separate(d["noisy"], sr=SR)
        mean, se = sisdri(Y, est, d["noisy"], se=True)
        row[f"{corpus}, 4 s, noise 5-15 dB"] = {
            "si_sdri_db": mean, "si_sdri_se_db": se,
            "input_si_sdr_db": float(np.mean(_si_sdr(Y, d["noisy"])))}
        wet = d["wet"]
        room_mix = wet.sum(1)
        mean, se = sisdri(wet, model.separate(room_mix, sr=SR), room_mix, se=True)
        row[f"{corpus}, 4 s, room RT60 {ROOM_RT60[0]:g}-{ROOM_RT60[1]:g} s"] = {
            "si_sdri_db": mean, "si_sdri_se_db": se,
            "irm_si_sdri_db": sisdri(wet, ideal_mask_separation(wet, kind="irm",
                                                                stft=model.stft_),
                                     room_mix)}
        gap, loud, share, quartiles = alone_scores(d["alone"],
                                                   model.separate(d["alone"], sr=SR))
        row[f"{corpus}, one voice alone"] = {"alone_gap_db": gap,
                                            "alone_gap_db_quartiles": quartiles,
                                            "alone_si_sdr_db": loud,
                                            "alone_share_20db": share}
        X60, Y60, same60 = convs[corpus]
        est60 = np.stack([model.separate(x, sr=SR) for x in X60])
        swaps, windows = count_swaps(Y60, est60)
        row[f"{corpus}, {CONVERSATION_SECONDS[corpus]:.0f} s conversations"] = {
            **dict(zip(("si_sdri_db", "si_sdri_se_db"), sisdri(Y60, est60, X60, se=True))),
            **({"si_sdri_db_same_sex": sisdri(Y60[same60], est60[same60], X60[same60]),
                "si_sdri_db_mixed_sex": sisdri(Y60[~same60], est60[~same60], X60[~same60]),
                "n_same_sex": int(same60.sum())} if 0 < same60.sum() < len(same60) else {}),
            "swapped_4s_windows": f"{swaps}/{windows}"}
    x = convs["speechocean762"][0][0]
    row["rtf_1_thread"] = rtf(model, x, 1)
    row["rtf_2_threads"] = rtf(model, x, 2)
    return row


def _si_sdr(Y, X):
    from sksep.metrics import si_sdr

    return si_sdr(Y, np.broadcast_to(X[:, None], Y.shape))


def _rounded(value):
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def registry_metrics(row):
    """models.json entries: one per corpus and condition, never averaged."""
    out = {}
    for key, value in row.items():
        if not isinstance(value, dict):
            continue
        corpus, rest = key.split(", ", 1)
        out[f"speech8k test {CORPORA[corpus]}, {rest}"] = _rounded(value)
    return out


def model_script(doc):
    """``(args, model)`` of a study script on one model: its command line
    (the data folder, ``--model``, default the shipped default) and the
    model loaded, torch on one thread."""
    import torch

    from sksep.pretrained import load

    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("data", nargs="?", default="../shared/data")
    p.add_argument("--model", default="speech8k-2voices")
    args = p.parse_args()
    torch.set_num_threads(1)
    return args, load(args.model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data",
                        help="folder holding speech8k and noise8k")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--n-mixtures", type=int, default=200,
                        help="4 s mixtures per corpus")
    parser.add_argument("--n-conversations", type=int, default=40,
                        help="conversations per corpus (their figure varies far more "
                             "from one conversation to the next than the 4 s one: "
                             "see its si_sdri_se_db)")
    parser.add_argument("--write-registry", action="store_true",
                        help="record the scores in sksep/pretrained/data/models.json")
    parser.add_argument("--from-log", default=None,
                        help="with --write-registry: take the scores from the log "
                             "of an earlier run (its 'name {json}' lines) instead "
                             "of measuring")
    args = parser.parse_args()
    if args.from_log and not args.write_registry:
        parser.error("--from-log only serves --write-registry: give both")
    if args.from_log:
        results = {}
        for line in Path(args.from_log).read_text().splitlines():
            name, _, rest = line.partition(" ")
            if rest.startswith("{") and (args.models is None or name in args.models):
                results[name] = json.loads(rest)
        # a log may come from a loaded machine: its RTF is not recorded
        write_registry(results, rtf=False)
        return
    import torch

    from sksep.pretrained import list_models, load

    torch.set_num_threads(1)
    # the two-voice models (a class-fixed speech-vs-noise model is scored by
    # benchmarks/bench_noise.py)
    names = args.models or [n for n, e in list_models().items()
                            if n.startswith("speech8k") and "classes" not in e]
    sets = {c: test_mixtures(args.data, c, n=args.n_mixtures) for c in CORPORA}
    convs = {c: conversations(args.data, c, n=args.n_conversations, return_same=True)
             for c in CORPORA}
    results = {}
    for name in names:
        model = load(name)
        t0 = time.perf_counter()
        row = score_model(model, sets, convs)
        row["seconds"] = time.perf_counter() - t0
        results[name] = row
        print(name, json.dumps(_rounded(row)), flush=True)
    if args.write_registry:
        write_registry(results)


def write_registry(results, rtf=True):
    path = (Path(__file__).resolve().parents[1] / "sksep" / "pretrained" / "data"
            / "models.json")
    registry = json.loads(path.read_text())
    for name, row in results.items():
        registry[name]["metrics"] = registry_metrics(row)
        registry[name]["headline"] = (
            "speech8k test LibriSpeech readers, 4 s fully overlapped mixtures: "
            f"SI-SDRi {row['librispeech, 4 s']['si_sdri_db']:+.1f} dB")
        if rtf:
            registry[name]["rtf_1_thread"] = round(row["rtf_1_thread"], 4)
    path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
