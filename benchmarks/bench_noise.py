"""Speech in noise: one voice separated from real background noise.

Scores speech-vs-noise separators against the peers users pick on the
speech8k ``test`` speakers (never trained on) in noise8k ``test`` noise
(recordings of Freesound uploaders never trained on). **The two corpora are
reported separately, never averaged**: the 40 LibriSpeech readers (native
read English, the headline) and the 30 speechocean762 readers (non-native
English, many children). Each SNR is reported on its own too.

Mixtures, per corpus: ``--n-mixtures`` 4 s excerpts of test recordings
(random speaker, recording and offset; shorter recordings sit at a random
offset in silence; an excerpt is drawn again when less than 1 s of it is
within 40 dB of its loudest 32 ms, the frames STOI scores), each with one
noise8k test recording: the 59 test recordings are dealt out in turn from a
seeded shuffle (the default, 59, uses each once).
:func:`sksep.datasets.make_noisy_mixture` adds the noise at -5, 0, 5 and
10 dB SNR (speech against noise power over the whole clip); the speech, the
noise and its window are the same at every SNR, only the level changes.
Seeded.

Methods:

* **input**: the noisy mixture itself, unprocessed. Every gain is measured
  against it.
* **noisereduce**, spectral gating (``noisereduce.reduce_noise(y=x,
  sr=8000)``, its defaults, as a user runs it: non-stationary) and
  ``stationary=True``; one clip at a time.
* **models** (``--models``): a class-fixed sksep model with a ``'speech'``
  class gives that output. A permutation-invariant model (two voices, no
  class labels) is scored with its louder output, a rule that does not look
  at the clean speech, and is labelled so.
* **ideal ratio mask** on a 256/64 STFT (``|S| / (|S| + |N|)`` from the true
  speech and noise, the mixture's phase): the ceiling of masking that STFT,
  not a method anyone can run.

Figures: SI-SDR improvement (dB), STOI gain and PESQ gain (narrow band,
8 kHz; sksep.metrics.stoi and pesq, the pystoi and ITU reference code) of
the estimate over the input, averaged over the mixtures of one corpus and
SNR; per noise category group at 0 dB (ESC-50's five groups: animals,
natural soundscapes, human non-speech, domestic, urban; Speech Commands'
background noise its own group; speech-like noise, human vocal sounds such
as crying, laughing and coughing, also reported as a row of its own). The
real-time factor (RTF) is the wall time of one method on 60 s of noisy
speech (15 mixtures end to end) over 60 s, one thread, median of 3.

    python benchmarks/bench_noise.py ../shared/data [--models NAME_OR_PATH ...]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speech8k import CORPORA, SR, _excerpt  # noqa: E402

SNRS = (-5, 0, 5, 10)
GROUP_SNR = 0
SECONDS = 4.0
STFT = (256, 64)
# ESC-50's five major categories (Piczak, 2015), named as in its README
ESC50_GROUPS = {
    "animals": ("dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects",
                "sheep", "crow"),
    "natural soundscapes": ("rain", "sea_waves", "crackling_fire", "crickets",
                            "chirping_birds", "water_drops", "wind", "pouring_water",
                            "toilet_flush", "thunderstorm"),
    "human non-speech": ("crying_baby", "sneezing", "clapping", "breathing", "coughing",
                         "footsteps", "laughing", "brushing_teeth", "snoring",
                         "drinking_sipping"),
    "domestic": ("door_wood_knock", "mouse_click", "keyboard_typing",
                 "door_wood_creaks", "can_opening", "washing_machine",
                 "vacuum_cleaner", "clock_alarm", "clock_tick", "glass_breaking"),
    "urban": ("helicopter", "chainsaw", "siren", "car_horn", "engine", "train",
              "church_bells", "airplane", "fireworks", "hand_saw"),
}
OTHER_GROUPS = {"speech_commands": "Speech Commands background noise",
                "arabic_speech_commands": "Arabic Speech Commands background noise"}
SPEECHLIKE = "speech-like (any group)"
GROUPS = (*ESC50_GROUPS, *OTHER_GROUPS.values())
REGISTRY_KEY = "noise8k test, {corpus}, {snr} dB SNR"
# the targets for the best model (issue 19)
TARGETS = {"si_sdri_db_0db": 8.0, "over_noisereduce_db": 5.0, "stoi_gain_0db": 0.05,
           "si_sdri_db_10db": 2.0}


def noise_group(source, category):
    """The group of a noise8k recording: an ESC-50 major category, or its
    source for the longer background-noise recordings."""
    if source in OTHER_GROUPS:
        return OTHER_GROUPS[source]
    for group, categories in ESC50_GROUPS.items():
        if category in categories:
            return group
    raise ValueError(f"ESC-50 category {category!r} is in none of ESC-50's groups.")


# -- the mixtures ----------------------------------------------------------------------

def noisy_set(data, corpus, n=59, seconds=SECONDS, seed=0):
    """Clean speech (``seconds`` long) of one corpus's test speakers, each
    with one noise8k test recording, mixed at every SNR of ``SNRS``: a dict
    of arrays."""
    from sksep.datasets import load_noise8k, load_speech8k, make_noisy_mixture

    speech = load_speech8k(Path(data) / "speech8k", split="test", dtype="float64")
    noise = load_noise8k(Path(data) / "noise8k", split="test", dtype="float64")
    rng = np.random.default_rng([seed, len(corpus)])
    size = int(seconds * SR)
    keep = np.flatnonzero(speech.corpus == corpus)
    speakers = np.unique(speech.speaker[keep])
    by = {s: keep[speech.speaker[keep] == s] for s in speakers}
    order = rng.permutation(len(noise.waveforms))
    which = order[np.arange(n) % len(order)]
    clean, who = [], []
    for _ in range(n):
        spk = rng.choice(speakers)
        clean.append(_speech_excerpt(rng, speech.waveforms[rng.choice(by[spk])], size))
        who.append(spk)
    clean = np.array(clean)
    noises = [noise.waveforms[k] for k in which]
    out = {"clean": clean.astype(np.float32), "speaker": np.array(who),
           "category": noise.category[which], "speechlike": noise.speechlike[which],
           "group": np.array([noise_group(noise.source[k], noise.category[k])
                              for k in which])}
    for snr in SNRS:
        # the same seed draws the same noise windows at every SNR
        mix, _, scaled = make_noisy_mixture(clean, noises, float(snr),
                                            random_state=seed)
        out[f"noisy {snr}"] = mix.astype(np.float32)
        out[f"noise {snr}"] = scaled.astype(np.float32)
    return out


def _active_seconds(x, frame=256):
    """Seconds of 32 ms frames within 40 dB of the loudest: the frames STOI
    keeps."""
    frames = x[: len(x) // frame * frame].reshape(-1, frame).astype(np.float64)
    energy = np.sum(frames**2, axis=1)
    return np.sum(energy > np.max(energy) * 1e-4) * frame / SR


def _speech_excerpt(rng, clip, size, min_active=1.0, tries=20):
    """A random excerpt holding at least ``min_active`` seconds of speech
    (a few LibriSpeech passages have long quiet stretches)."""
    for _ in range(tries):
        x = _excerpt(rng, clip, size)
        if _active_seconds(x) >= min_active:
            return x
    return x


# -- the methods: f(noisy, clean, noise) -> speech estimates; only the ceiling
#    reads the references ------------------------------------------------------------

def noisereduce_method(stationary):
    def run(noisy, clean=None, noise=None):
        import noisereduce

        return np.stack([noisereduce.reduce_noise(y=x, sr=SR, stationary=stationary)
                         for x in np.atleast_2d(noisy)]).reshape(noisy.shape)

    return run


def ideal_ratio_mask(noisy, clean, noise):
    from sksep import STFTTransformer
    from sksep.spectral import ideal_mask_separation

    stft = STFTTransformer(n_fft=STFT[0], hop_length=STFT[1])
    return ideal_mask_separation(np.stack([clean, noise], axis=1), kind="irm",
                                 stft=stft)[:, 0]


def model_method(name_or_path):
    """A loaded sksep model as a method, with its label: the 'speech' output
    of a class-fixed model, the louder output of a permutation-invariant one."""
    from sksep.pretrained import load

    model = load(name_or_path)
    name = Path(str(name_or_path)).stem if str(name_or_path).endswith(".pt") \
        else str(name_or_path)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        if "speech" not in classes.tolist():
            raise ValueError(f"{name} separates {classes.tolist()}: no 'speech' class.")
        k = classes.tolist().index("speech")

        def run(noisy, clean=None, noise=None):
            return model.separate(noisy, sr=SR)[..., k, :]

        return name, name, run

    def louder(noisy, clean=None, noise=None):
        est = model.separate(noisy, sr=SR)
        power = np.sum(est.astype(np.float64) ** 2, axis=-1)
        pick = np.argmax(power, axis=-1)
        return np.take_along_axis(est, pick[..., None, None], axis=-2)[..., 0, :]

    return f"{name}:louder", f"{name} (louder output)", louder


# -- scoring ---------------------------------------------------------------------------

def _pesq(clean, est):
    """Narrow-band PESQ per clip; NaN where PESQ finds no speech."""
    from sksep.metrics import pesq

    try:
        return np.atleast_1d(pesq(clean, est, SR))
    except ValueError:
        out = []
        for c, e in zip(clean, est):
            try:
                out.append(float(pesq(c, e, SR)))
            except ValueError:
                out.append(np.nan)
        return np.array(out)


def clip_scores(clean, est):
    """SI-SDR (dB), STOI and PESQ of each estimate against the clean speech."""
    from sksep.metrics import si_sdr, stoi

    est = np.asarray(est, dtype=np.float64)
    return {"si_sdr": np.atleast_1d(si_sdr(clean, est)),
            "stoi": np.atleast_1d(stoi(clean, est, SR)),
            "pesq": _pesq(clean, est)}


def gains(scores, base, keep=None):
    """Mean SI-SDRi, STOI gain and PESQ gain of a method over the input."""
    keep = slice(None) if keep is None else keep
    d = {k: scores[k][keep] - base[k][keep] for k in scores}
    return {"si_sdri_db": float(np.mean(d["si_sdr"])),
            "stoi_gain": float(np.mean(d["stoi"])),
            "pesq_gain": float(np.nanmean(d["pesq"])),
            "n_mixtures": int(len(d["si_sdr"])),
            "n_pesq_failed": int(np.sum(np.isnan(d["pesq"])))}


def score_sets(methods, sets, log=print):
    """Per method: per corpus and SNR gains, per group (and category) at
    ``GROUP_SNR``: one flat dict per method (key -> figures), with the
    input's own levels under ``'input'``."""
    results = {key: {} for key in methods}
    results["input"] = {}
    for corpus, d in sets.items():
        for snr in SNRS:
            noisy, noise = d[f"noisy {snr}"], d[f"noise {snr}"]
            base = clip_scores(d["clean"], noisy)
            results["input"][f"{corpus}, {snr} dB SNR"] = {
                "si_sdr_db": float(np.mean(base["si_sdr"])),
                "stoi": float(np.mean(base["stoi"])),
                "pesq": float(np.nanmean(base["pesq"])), "n_mixtures": len(noisy)}
            for key, (_, run) in methods.items():
                t0 = time.perf_counter()
                s = clip_scores(d["clean"], run(noisy, d["clean"], noise))
                row = results[key]
                row[f"{corpus}, {snr} dB SNR"] = gains(s, base)
                if snr == GROUP_SNR:
                    for name, keep in _subsets(d).items():
                        row[f"{corpus}, {snr} dB SNR, {name}"] = gains(s, base, keep)
                log(f"# {key} {corpus} {snr} dB: {time.perf_counter() - t0:.1f} s")
    return results


def _subsets(d):
    out = {f"group {g}": d["group"] == g for g in GROUPS if np.any(d["group"] == g)}
    if np.any(d["speechlike"]):
        out[f"group {SPEECHLIKE}"] = d["speechlike"]
    for c in np.unique(d["category"]):
        keep = d["category"] == c
        out[f"category {c}{' *' if np.all(d['speechlike'][keep]) else ''}"] = keep
    return out


def rtf(run, x, repeats=3):
    """Wall time of ``run`` on the 1-D signal ``x`` over its duration,
    median of ``repeats`` after a warm-up, on one torch thread."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(x[:SR])
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run(x)
            times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(old)
    return float(np.median(times)) / (len(x) / SR)


# -- reporting -------------------------------------------------------------------------

def _fmt(value, digits=1):
    return "-" if value is None else f"{value:+.{digits}f}"


def snr_table(results, labels, corpus):
    """Markdown: one row per SNR and method."""
    lines = ["| SNR | method | SI-SDRi (dB) | STOI gain | PESQ gain | RTF |",
             "|---|---|---|---|---|---|"]
    for snr in SNRS:
        base = results["input"][f"{corpus}, {snr} dB SNR"]
        level = round(base["si_sdr_db"], 1) + 0.0   # no "-0.0"
        lines.append(f"| {snr} dB | input (SI-SDR {level:.1f} dB, STOI "
                     f"{base['stoi']:.3f}, PESQ {base['pesq']:.2f}) | 0 | 0 | 0 | - |")
        for key, label in labels.items():
            r = results[key][f"{corpus}, {snr} dB SNR"]
            speed = results[key].get("rtf_1_thread")
            lines.append(f"| {snr} dB | {label} | {_fmt(r['si_sdri_db'])} | "
                         f"{_fmt(r['stoi_gain'], 3)} | {_fmt(r['pesq_gain'], 2)} | "
                         f"{'-' if speed is None else f'{speed:.4f}'} |")
    return "\n".join(lines)


def group_table(results, labels, corpus, prefix="group"):
    """Markdown at ``GROUP_SNR``: one row per group (or category), one
    'SI-SDRi / STOI gain / PESQ gain' cell per method."""
    first = results[next(iter(labels))]
    head = f"{corpus}, {GROUP_SNR} dB SNR, {prefix} "
    names = [k[len(head):] for k in first if k.startswith(head)]
    lines = ["| " + prefix + " | mixtures | " + " | ".join(labels.values()) + " |",
             "|---|---|" + "---|" * len(labels)]
    for name in names:
        n = first[head + name]["n_mixtures"]
        cells = [f"{_fmt(r['si_sdri_db'])} / {_fmt(r['stoi_gain'], 3)} / "
                 f"{_fmt(r['pesq_gain'], 2)}"
                 for r in (results[key][head + name] for key in labels)]
        lines.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_check(results, labels, corpus,
                 peers=("noisereduce", "noisereduce-stationary")):
    """The issue's targets for each model (not the peers, the input or the
    ceiling): one line per model, each target met or not."""
    lines = []
    for key, label in labels.items():
        if key in (*peers, "irm"):
            continue
        r = {snr: results[key][f"{corpus}, {snr} dB SNR"] for snr in SNRS}
        checks = [
            (f"SI-SDRi at 0 dB {r[0]['si_sdri_db']:+.1f} >= "
             f"{TARGETS['si_sdri_db_0db']:+.0f} dB", r[0]["si_sdri_db"]
             >= TARGETS["si_sdri_db_0db"]),
            (f"STOI gain at 0 dB {r[0]['stoi_gain']:+.3f} >= "
             f"{TARGETS['stoi_gain_0db']:+.2f}", r[0]["stoi_gain"]
             >= TARGETS["stoi_gain_0db"]),
            (f"SI-SDRi at 10 dB {r[10]['si_sdri_db']:+.1f} >= "
             f"{TARGETS['si_sdri_db_10db']:+.0f} dB", r[10]["si_sdri_db"]
             >= TARGETS["si_sdri_db_10db"]),
        ]
        present = [p for p in peers if p in results]
        if present:
            over = min(r[s]["si_sdri_db"] - max(
                results[p][f"{corpus}, {s} dB SNR"]["si_sdri_db"] for p in present)
                for s in SNRS)
            checks.insert(1, (f"least margin over the better noisereduce {over:+.1f} "
                              f">= {TARGETS['over_noisereduce_db']:+.0f} dB",
                              over >= TARGETS["over_noisereduce_db"]))
        lines.append(f"{label}, {CORPORA[corpus]}: " + "; ".join(
            f"{text} {'met' if ok else 'NOT met'}" for text, ok in checks))
    return lines


def report(results, labels, print=print):
    for corpus, title in CORPORA.items():
        print(f"\n### {title}\n")
        print(snr_table(results, labels, corpus))
        print(f"\nAt {GROUP_SNR} dB SNR, by noise group (SI-SDRi dB / STOI gain / "
              "PESQ gain):\n")
        print(group_table(results, labels, corpus))
        print(f"\nAt {GROUP_SNR} dB SNR, by noise category (* speech-like):\n")
        print(group_table(results, labels, corpus, prefix="category"))
        print()
        for line in target_check(results, labels, corpus):
            print("target: " + line)


# -- the registry ----------------------------------------------------------------------

def _rounded(value, digits=4):
    """Floats rounded (in nested dicts) for the log and the registry."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def registry_metrics(row):
    """models.json entries of one model: one per corpus and SNR, never
    averaged over either."""
    out = {}
    for corpus, title in CORPORA.items():
        for snr in SNRS:
            r = row.get(f"{corpus}, {snr} dB SNR")
            if r is not None:
                out[REGISTRY_KEY.format(corpus=title, snr=snr)] = {
                    "si_sdri_db": round(r["si_sdri_db"], 2),
                    "stoi_gain": round(r["stoi_gain"], 3),
                    "pesq_gain": round(r["pesq_gain"], 2),
                    "n_mixtures": r["n_mixtures"]}
    return out


def write_registry(results, path=None):
    """Add each shipped model's entries to its ``metrics`` in models.json
    (other keys and other models untouched); peers, model files and models
    scored by their louder output are not recorded."""
    path = Path(path) if path is not None else (
        Path(__file__).resolve().parents[1] / "sksep" / "pretrained" / "data"
        / "models.json")
    registry = json.loads(path.read_text())
    written = []
    for name, row in results.items():
        if name not in registry:
            continue
        registry[name].setdefault("metrics", {}).update(registry_metrics(row))
        written.append(name)
    if written:
        path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
    return written


def _from_log(path, names=None):
    results = {}
    for line in Path(path).read_text().splitlines():
        name, _, rest = line.partition(" ")
        if rest.startswith("{") and (names is None or name in names):
            results[name] = json.loads(rest)
    return results


# -- the run ---------------------------------------------------------------------------

def build_methods(models, peers=True):
    """key -> (label, run): noisereduce (with ``peers``), the models, the
    ceiling."""
    methods = {}
    if peers:
        methods["noisereduce"] = ("noisereduce (non-stationary, defaults)",
                                  noisereduce_method(False))
        methods["noisereduce-stationary"] = ("noisereduce (stationary)",
                                             noisereduce_method(True))
    for m in models:
        key, label, run = model_method(m)
        methods[key] = (label, run)
    methods["irm"] = (f"ideal ratio mask {STFT[0]}/{STFT[1]} (ceiling)",
                      ideal_ratio_mask)
    return methods


def run_benchmark(data, models=(), n=59, peers=True, seconds=SECONDS,
                  log=print):
    """Score every method on both corpora; the per-method rows (figures and
    RTF) and the table labels. ``peers=False`` leaves noisereduce out."""
    sets = {c: noisy_set(data, c, n=n, seconds=seconds) for c in CORPORA}
    methods = build_methods(models, peers)
    results = score_sets(methods, sets, log=log)
    d = sets["librispeech"]
    k = min(len(d["clean"]), int(60 / seconds))
    x = d[f"noisy {GROUP_SNR}"][:k].reshape(-1)
    for key, (_, run) in methods.items():
        if key != "irm":
            results[key]["rtf_1_thread"] = rtf(lambda v, r=run: r(v), x)
    labels = {key: label for key, (label, _) in methods.items()}
    return results, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data",
                        help="folder holding speech8k and noise8k")
    parser.add_argument("--models", nargs="+", default=[],
                        help="sksep pretrained model names or .pt files")
    parser.add_argument("--n-mixtures", type=int, default=59,
                        help="4 s mixtures per corpus, each at every SNR (59: "
                             "each test noise recording once)")
    parser.add_argument("--write-registry", action="store_true",
                        help="record the shipped models' scores in "
                             "sksep/pretrained/data/models.json")
    parser.add_argument("--from-log", default=None,
                        help="with --write-registry: take the scores from the log "
                             "of an earlier run (its 'name {json}' lines)")
    args = parser.parse_args()
    if args.from_log and not args.write_registry:
        parser.error("--from-log only serves --write-registry: give both")
    if args.from_log:
        written = write_registry(_from_log(args.from_log, args.models or None))
        print("recorded:",
              ", ".join(written) or "nothing (no shipped model in the log)")
        return
    import torch

    import sksep

    torch.set_num_threads(1)
    print("# python " + " ".join(sys.argv), flush=True)
    print(f"# sksep {sksep.__version__}, noisereduce {_version('noisereduce')}, "
          f"torch {torch.__version__}, numpy {np.__version__}; "
          f"{args.n_mixtures} mixtures per corpus, SNRs {SNRS} dB", flush=True)
    t0 = time.perf_counter()
    results, labels = run_benchmark(args.data, args.models, n=args.n_mixtures,
                                    log=lambda s: print(s, flush=True))
    for key, row in results.items():
        print(key, json.dumps(_rounded(row)), flush=True)
    report(results, labels)
    print(f"\n# {time.perf_counter() - t0:.0f} s in all")
    if args.write_registry:
        written = write_registry(results)
        print("recorded in models.json:", ", ".join(written) or "nothing")


def _version(package):
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    main()
