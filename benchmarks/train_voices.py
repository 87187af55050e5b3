"""Fine-tune a single-microphone separator on the voices people record.

Resumable, bf16 where the machine computes it natively (``--bf16``), one
thread by default, so that it can run in the background of every working
session (and on a GPU when one is lent).

What it trains on (dynamic mixing: every step draws new mixtures):

* voices: speech8k ``train`` (LibriSpeech and speechocean762 readers) and
  ``../shared/data/voices8k-extra`` (training only). The first voice of a
  mixture comes from LibriSpeech with probability ``--p-libri``, from
  speechocean762 with ``--p-so``, from the extra voices otherwise; the
  second voice is another speaker drawn the same way (with ``--p-same-sex``
  that share of them of the first voice's sex, where both sexes are
  known: same-sex pairs are the hard case). Short recordings are
  joined with recordings of the same speaker until the 4 s segment is full
  (the wake-word clips have no speaker labels and stay alone).
* augmentation, each per voice and at random: speed perturbation (0.9 to
  1.1, pitch and tempo together, ``scipy.signal.resample_poly``),
  microphone colouring (a smooth random EQ of +-6 dB), a level of -5..5 dB
  between the voices, a random overall level, and background noise from
  noise8k ``train`` at 0..20 dB SNR (``--p-noise``). Targets are the clean
  (coloured, level-scaled) voices; the loss is utterance-level PIT on the
  negative SI-SDR. One mixture in ten (``--p-single``) holds one voice
  alone: the spare output is trained towards silence (its energy under the
  mixture's, floored at -30 dB).
* mild reverberation (``--p-reverb``, off by default): both voices of a
  mixture through one simulated shoebox room (pyroomacoustics image
  method, RT60 0.1..0.4 s, two talker positions and one microphone, from a
  bank of 64 rooms drawn with the run's seed); the targets are then the
  reverberant voices (the network separates, it does not dereverberate).
* partial overlap (``--p-partial``, off by default): the second voice
  enters late or leaves early, or the two take turns (the first stops, the
  second starts up to 1 s before or after), as in a conversation, where an
  output must keep its voice while the other comes and goes.
* ``--seconds``: the mixtures' length (4 s by default). The default TCN
  hears 12 s around each frame (24 blocks of dilations 1..128, three
  times, 8 ms hops), so 4 s mixtures never train most of what it sees in
  a long recording.

Model selection: every ``--valid-minutes`` the network is scored on fixed
4 s fully overlapped mixtures (-5..5 dB) of the ``valid`` speakers,
LibriSpeech readers and speechocean762 readers separately, clean and with
noise8k ``valid`` noise at 5..15 dB, and the LibriSpeech mixtures in
simulated rooms (``libri+reverb``: 64 rooms of their own, RT60 0.1..0.4 s,
scored against the reverberant voices; logged, not in the criterion). The
criterion (``--criterion``) is the mean of the LibriSpeech readers' SI-SDRi
clean and in noise (the headline corpus, as people record it), that mean
with their conversations (``libri+noise+conv``), or the clean one alone;
the others are logged beside it, with the clean LibriSpeech figure of the
same-sex pairs alone, 25 s conversations of two LibriSpeech valid readers
(``libri conv``: an output must stay on one voice) and the "alone gap" (one
voice alone: how far the quieter output sits under the louder, median dB).
``test`` is never read here.

Resuming: ``<checkpoints>/<name>.state.pt`` holds the network, optimizer
state, step count and wall time (written every ``--save-minutes``, and
atomically); ``<checkpoints>/<name>.best.pt`` is the best network so far as
an ``sksep.pretrained`` file. Rerun the same command to continue. The log
(one line per report) records wall time, machine and steps.

    nohup python benchmarks/train_voices.py --data ../shared/data \\
        --init speech8k-2voices --checkpoints ckpt --hours 100 \\
        >> ckpt/train_voices.log 2>&1 &

``--export`` copies the best network into ``sksep/pretrained/data`` under
``--name`` (its scores come from ``benchmarks/bench_speech8k.py``).

``--task speech-noise`` trains the same way a class-fixed speech-vs-noise
separator (``classes_ = ['noise', 'speech']``, no permutation): one voice
(augmented as above) over noise8k ``train`` noise (a third of them the sum of
two clips, EQ-coloured at random) at ``--snr`` dB; ``--p-single`` of the
mixtures hold speech alone and as many noise alone, the absent class's output
trained towards silence. The loss is the negative SI-SDR of each output
against its own class, the noise output weighted a quarter. Started from a
two-voice network, the output already closer to speech becomes 'speech'.
Valid: 4 s mixtures of the valid voices and valid noises at -5, 0, 5 and
10 dB SNR, LibriSpeech and speechocean762 readers separately; the criterion is
the LibriSpeech readers' speech SI-SDRi over the four SNRs. A run continues
the recorded progress of its ``--init`` file only when that file was trained
on the same task (resume a speech-noise run on a fresh machine with
``--init <its exported name>``)::

    nohup python benchmarks/train_voices.py --task speech-noise \\
        --init speech8k-2voices --name speech8k-speech-noise \\
        --checkpoints ckpt/noise1 --hours 20 >> ckpt/noise1/train.log 2>&1 &
"""

import argparse
import csv
import json
import math
import os
import platform
import shutil
import socket
import time
from pathlib import Path

import numpy as np

SR = 8000
SEGMENT = 4 * SR
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sksep" / "pretrained" / "data"
SPEEDS = ((10, 9), (20, 19), (1, 1), (19, 20), (9, 10))  # up, down


# -- data ---------------------------------------------------------------------

def _read(path):
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if sr != SR:
        raise ValueError(f"{path}: {sr} Hz, expected {SR}")
    return x.mean(axis=1)


class Voices:
    """Recordings grouped by corpus group and speaker."""

    def __init__(self, data, split, extra=True):
        root = Path(data)
        self.groups = {}  # group -> {speaker: [waves]}
        self.sex = {}
        from sksep.datasets import load_speech8k

        speech = load_speech8k(root / "speech8k", split=split)
        for wave, spk, sex, corpus in zip(speech.waveforms, speech.speaker,
                                          speech.sex, speech.corpus):
            group = "libri" if corpus == "librispeech" else "so"
            self.groups.setdefault(group, {}).setdefault(str(spk), []).append(wave)
            self.sex[str(spk)] = str(sex)
        if extra and split == "train":
            with open(root / "voices8k-extra" / "files.csv", newline="") as fh:
                for i, row in enumerate(csv.DictReader(fh)):
                    wave = _read(root / "voices8k-extra" / row["path"])
                    # wake-word recordings carry no speaker identity: each
                    # is its own "speaker" and is never joined with others
                    spk = row["speaker"] if not row["speaker"].startswith("pv") else f"pv{i}"
                    self.groups.setdefault("extra", {}).setdefault(spk, []).append(wave)
                    self.sex[spk] = row["sex"]
        self.speakers = {g: sorted(s) for g, s in self.groups.items()}

    def minutes(self):
        return {g: round(sum(len(w) for ws in s.values() for w in ws) / SR / 60, 1)
                for g, s in self.groups.items()}

    def speaker(self, rng, weights, avoid=None, sex=None):
        """A speaker other than ``avoid``, its group drawn by ``weights``;
        with ``sex`` ('F' or 'M') one of that sex, if one turns up in 200
        draws (else any other speaker)."""
        groups = [g for g in weights if g in self.groups]
        p = np.array([weights[g] for g in groups], dtype=float)
        for tries in range(10**6):
            g = groups[rng.choice(len(groups), p=p / p.sum())]
            spk = self.speakers[g][rng.integers(len(self.speakers[g]))]
            if spk != avoid and (sex is None or tries >= 200 or self.sex.get(spk) == sex):
                return g, spk
        raise ValueError(f"no speaker other than {avoid!r} in {groups}")

    def excerpt(self, rng, group, spk, size):
        """``size`` samples of one speaker: a random stretch of a random
        recording, joined with more of the same speaker when it is short,
        at a random offset in silence when the speaker has nothing more."""
        waves = self.groups[group][spk]
        first = waves[rng.integers(len(waves))]
        if len(first) >= size:
            start = rng.integers(len(first) - size + 1)
            return first[start:start + size].astype(np.float64)
        parts, total = [first], len(first)
        joinable = not spk.startswith("pv") and len(waves) > 1
        while joinable and total < size:
            gap = np.zeros(int(rng.integers(0, int(0.3 * SR))))
            nxt = waves[rng.integers(len(waves))]
            parts += [gap, nxt]
            total += len(gap) + len(nxt)
        joined = np.concatenate(parts)
        if len(joined) >= size:
            start = rng.integers(len(joined) - size + 1)
            return joined[start:start + size].astype(np.float64)
        out = np.zeros(size)
        start = rng.integers(size - len(joined) + 1)
        out[start:start + len(joined)] = joined
        return out


class Noises:
    def __init__(self, data, split):
        from sksep.datasets import load_noise8k

        self.waves = load_noise8k(Path(data) / "noise8k", split=split).waveforms

    def excerpt(self, rng, size):
        w = self.waves[rng.integers(len(self.waves))]
        if len(w) < size:
            w = np.tile(w, size // len(w) + 1)
        start = rng.integers(len(w) - size + 1)
        return w[start:start + size].astype(np.float64)


class Rooms:
    """Impulse responses of ``n`` simulated shoebox rooms at ``SR``: per
    room two talker positions to one microphone (pyroomacoustics' image
    method, RT60 uniform in ``rt60`` seconds), drawn from ``seed``."""

    def __init__(self, seed, n=64, rt60=(0.1, 0.4)):
        import pyroomacoustics as pra

        rng = np.random.default_rng([seed, 7474])
        self.rirs = []
        while len(self.rirs) < n:
            dim = rng.uniform([3.0, 3.0, 2.4], [8.0, 6.0, 3.2])
            try:
                absorption, max_order = pra.inverse_sabine(rng.uniform(*rt60), dim)
            except ValueError:      # too large a room for so short an RT60
                continue
            room = pra.ShoeBox(dim, fs=SR, materials=pra.Material(absorption),
                               max_order=max_order)
            for _ in range(2):
                room.add_source(rng.uniform([0.5, 0.5, 1.2], dim - [0.5, 0.5, 1.0]))
            room.add_microphone(rng.uniform([0.5, 0.5, 1.0], dim - [0.5, 0.5, 1.0]))
            room.compute_rir()
            self.rirs.append([np.asarray(h, dtype=np.float64) for h in room.rir[0]])

    def apply(self, rng, voices):
        """The voices (each ``(T,)``) as heard in one room drawn at random,
        cut to their length."""
        from scipy.signal import fftconvolve

        rirs = self.rirs[rng.integers(len(self.rirs))]
        return [fftconvolve(v, h)[:len(v)] for v, h in zip(voices, rirs)]


def colour(rng, x, max_db=6.0, n_points=6):
    """A smooth random EQ: gains at ``n_points`` frequencies, interpolated."""
    spec = np.fft.rfft(x)
    db = rng.uniform(-max_db, max_db, n_points)
    gains = 10 ** (np.interp(np.linspace(0, 1, len(spec)),
                             np.linspace(0, 1, n_points), db) / 20)
    return np.fft.irfft(spec * gains, n=len(x))


def draw_voice(rng, voices, weights, size, avoid=None, speed=True, sex=None):
    from scipy.signal import resample_poly

    group, spk = voices.speaker(rng, weights, avoid, sex=sex)
    up, down = SPEEDS[rng.integers(len(SPEEDS))] if speed else (1, 1)
    need = int(math.ceil(size * down / up)) + 1
    x = voices.excerpt(rng, group, spk, need)
    if up != down:
        x = resample_poly(x, up, down)
    return spk, x[:size]


def segment_size(args):
    """Samples per training mixture (``--seconds``; 4 s before it existed)."""
    return int(round(getattr(args, "seconds", 4.0) * SR))


def _gate(n, start, stop, ramp=int(0.02 * SR)):
    """1 on [start, stop) samples, 0 elsewhere, with raised-cosine ramps."""
    t = np.arange(n)
    rise = np.clip((t - start) / ramp + 0.5, 0, 1)
    fall = np.clip((stop - t) / ramp + 0.5, 0, 1)
    return 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))


def turn_taking(rng, s0, s1):
    """Part of a conversation rather than a full overlap: the second voice
    enters late, or leaves early, or the voices take turns (the first
    stops, the second starts up to 1 s before or after). Each voice speaks
    for at least 1 s. A model trained only on fully overlapped 4 s has
    never had to keep a voice on its output while the other comes and
    goes, which is where conversations swap voices."""
    n = len(s0)
    kind = rng.integers(3)
    if kind == 0:  # the second voice enters late
        return s0, s1 * _gate(n, rng.uniform(0.5 * SR, n - SR), n + SR)
    if kind == 1:  # the second voice leaves early
        return s0, s1 * _gate(n, -SR, rng.uniform(SR, n - 0.5 * SR))
    stop0 = rng.uniform(1.5 * SR, n - 1.5 * SR)  # turns, overlapping or not
    start1 = min(stop0 + rng.uniform(-SR, SR), n - SR)
    return s0 * _gate(n, -SR, stop0), s1 * _gate(n, start1, n + SR)


def training_batch(rng, voices, noises, args, rooms=None):
    """A batch of two-voice mixtures and their voices; with ``rooms`` and
    ``args.p_reverb`` that share of mixtures is heard in a simulated room
    (no random number is drawn for it when ``p_reverb`` is 0, so runs
    without it draw what they drew before it existed)."""
    p_reverb = getattr(args, "p_reverb", 0.0) if rooms is not None else 0.0
    p_same = getattr(args, "p_same_sex", 0.0)
    p_partial = getattr(args, "p_partial", 0.0)
    size = segment_size(args)
    mixes, refs = [], []
    weights = {"libri": args.p_libri, "so": args.p_so,
               "extra": max(0.0, 1 - args.p_libri - args.p_so)}
    for _ in range(args.batch_size):
        spk0, s0 = draw_voice(rng, voices, weights, size, speed=rng.random() < args.p_speed)
        # --p-same-sex: that share of second voices of the first's sex (no
        # number is drawn when it is 0, so older runs draw what they drew)
        sex = None
        if p_same > 0 and rng.random() < p_same:
            sex = voices.sex.get(spk0) if voices.sex.get(spk0) in ("F", "M") else None
        _, s1 = draw_voice(rng, voices, weights, size, avoid=spk0,
                           speed=rng.random() < args.p_speed, sex=sex)
        if rng.random() < args.p_eq:
            s0 = colour(rng, s0)
        if rng.random() < args.p_eq:
            s1 = colour(rng, s1)
        if p_partial > 0 and rng.random() < p_partial:
            s0, s1 = turn_taking(rng, s0, s1)  # before the room: its tail stays
        if p_reverb > 0 and rng.random() < p_reverb:
            s0, s1 = rooms.apply(rng, [s0, s1])
        p0, p1 = np.mean(s0**2), np.mean(s1**2)
        if p0 <= 0:
            s0, p0 = s0[::-1] + s1, np.mean((s0[::-1] + s1)**2)
        if p1 <= 0:
            s1 = s0[::-1].copy()
            p1 = np.mean(s1**2)
        s1 = s1 * np.sqrt(p0 / max(p1, 1e-12) * 10 ** (-rng.uniform(-5, 5) / 10))
        if rng.random() < args.p_single:
            s1 = np.zeros_like(s1)  # one voice alone: the other output silent
        src = np.stack([s0, s1])
        mix = src.sum(0)
        if rng.random() < args.p_noise:
            n = noises.excerpt(rng, size)
            pn = np.mean(n**2)
            if pn > 0:
                snr = rng.uniform(0, 20)
                mix = mix + n * np.sqrt(np.mean(mix**2) / pn * 10 ** (-snr / 10))
        level = 10 ** (rng.uniform(-35, -15) / 20) / max(np.sqrt(np.mean(mix**2)), 1e-8)
        mixes.append(mix * level)
        refs.append(src * level)
    return (np.array(mixes, dtype=np.float32), np.array(refs, dtype=np.float32))


def valid_sets(data, n=100, seed=0, reverb=True, conversations=True):
    """Fixed 4 s, fully overlapped, -5..5 dB mixtures of the valid speakers:
    name -> (mix, refs). Clean and noisy (noise8k valid at 5..15 dB), and
    with ``reverb`` the LibriSpeech ones in simulated rooms; with
    ``conversations`` also ``n // 10`` LibriSpeech conversations of 25 s
    (:func:`valid_conversations`)."""
    voices = Voices(data, "valid", extra=False)
    noises = Noises(data, "valid")
    out = {}
    for group in ("libri", "so"):
        rng = np.random.default_rng([seed, len(group)])
        mixes, refs, noisy, same = [], [], [], []
        for _ in range(n):
            spk0, s0 = draw_voice(rng, voices, {group: 1.0}, SEGMENT, speed=False)
            spk1, s1 = draw_voice(rng, voices, {group: 1.0}, SEGMENT, avoid=spk0, speed=False)
            same.append(voices.sex.get(spk0) == voices.sex.get(spk1))
            s1 = s1 * np.sqrt(np.mean(s0**2) / max(np.mean(s1**2), 1e-12)
                              * 10 ** (-rng.uniform(-5, 5) / 10))
            src = np.stack([s0, s1])
            mix = src.sum(0)
            nz = noises.excerpt(rng, SEGMENT)
            nz *= np.sqrt(np.mean(mix**2) / np.mean(nz**2) * 10 ** (-rng.uniform(5, 15) / 10))
            mixes.append(mix)
            refs.append(src)
            noisy.append(mix + nz)
        out[group] = (np.array(mixes, np.float32), np.array(refs, np.float32))
        if group == "libri" and any(same):
            # the same-sex pairs among them (the hard case), scored apart
            keep = np.flatnonzero(same)
            out["libri-same"] = (out[group][0][keep], out[group][1][keep])
        out[group + "-alone"] = np.array([r[0] for r in refs[:40]], np.float32)
        out[group + "+noise"] = (np.array(noisy, np.float32), np.array(refs, np.float32))
        if group == "libri" and reverb:
            # the same voices in rooms of their own, scored against the
            # reverberant voices
            rooms = Rooms(seed + 1000, n=min(64, n))
            rng = np.random.default_rng([seed, 99])
            wet = np.array([rooms.apply(rng, list(r)) for r in refs])
            out["libri+reverb"] = (wet.sum(1).astype(np.float32), wet.astype(np.float32))
    if conversations:
        out["libri-conv"] = valid_conversations(data, n=max(1, n // 10))
    return out


def valid_conversations(data, n=10, seconds=25.0, seed=1):
    """``n`` conversations of two LibriSpeech ``valid`` readers, ``seconds``
    long, as ``bench_speech8k.py`` builds them of the test readers (turns
    with pauses of 0.3-2.5 s, so the voices overlap part of the time, at
    -5..5 dB), every other one of a same-sex pair: each output must stay on
    one voice throughout, which 4 s mixtures do not test."""
    from sksep.datasets import load_speech8k, make_conversation

    valid = load_speech8k(Path(data) / "speech8k", split="valid")
    rng = np.random.default_rng(seed)
    speakers = np.unique(valid.speaker[valid.corpus == "librispeech"])
    sex = dict(zip(valid.speaker, valid.sex))
    mix, refs = [], []
    for i in range(n):
        # every other conversation a same-sex pair (the hard case; the 10
        # valid readers would otherwise give mixed pairs by chance)
        first = rng.choice(speakers)
        others = [s for s in speakers if s != first
                  and (sex[s] == sex[first]) == (i % 2 == 1)] or \
            [s for s in speakers if s != first]
        pair = [first, others[rng.integers(len(others))]]
        utts = [[w for w, s in zip(valid.waveforms, valid.speaker) if s == spk]
                for spk in pair]
        m, r = make_conversation(utts, n_times=int(seconds * SR),
                                 pauses=(int(0.3 * SR), int(2.5 * SR)),
                                 snr_db=(-5.0, 5.0), random_state=seed * 1000 + i)
        mix.append(m)
        refs.append(r)
    return np.array(mix, np.float32), np.array(refs, np.float32)


# -- training ------------------------------------------------------------------

def estimates(module, mix, device, batch=10):
    """The network's outputs for fixed mixtures (eval mode, no gradients),
    float64; the network goes back to training mode."""
    import torch

    module.eval()
    with torch.no_grad():
        ests = [module(torch.from_numpy(mix[i:i + batch]).to(device))["wave"]
                .float().cpu().numpy() for i in range(0, len(mix), batch)]
    module.train()
    return np.concatenate(ests).astype(np.float64)


def si_sdri(module, mix, refs, device):
    from sksep.metrics import pit_si_sdr, si_sdr_improvement

    est = estimates(module, mix, device)
    ref = refs.astype(np.float64)
    _, perm = pit_si_sdr(ref, est)
    est = np.take_along_axis(est, perm[:, :, None], axis=1)
    mixes = np.broadcast_to(mix[:, None].astype(np.float64), ref.shape)
    return float(np.mean(si_sdr_improvement(ref, est, mixes)))


def separation_loss(est, refs, mix, silent_floor=1e-3):
    """PIT loss: negative SI-SDR against each voice; against a silent
    reference (one voice alone) the output's energy relative to the
    mixture's, floored at -30 dB, so the spare output learns silence."""
    import torch

    from sksep.nn import pairwise_neg_si_sdr, pit_loss

    pair = pairwise_neg_si_sdr(est, refs)  # (B, ref, est)
    silent = (refs**2).sum(-1) <= 0  # (B, ref)
    if bool(silent.any()):
        rel = (est**2).sum(-1) / (mix**2).sum(-1, keepdim=True).clamp_min(1e-12)
        quiet = 10 * torch.log10(rel + silent_floor)  # (B, est)
        pair = torch.where(silent[:, :, None], quiet[:, None, :], pair)
    return pit_loss(pair)[0]


def alone_gap(module, voices, device):
    """One voice alone: median level of the quieter output under the louder
    (dB; the target is at least 20)."""
    power = np.sort((estimates(module, voices, device)**2).sum(-1), axis=1)
    return float(np.median(10 * np.log10(power[:, 1] / np.maximum(power[:, 0], 1e-20))))


def voice_scores(module, valid, device):
    """The valid figures of a two-voice network: SI-SDRi (dB) of each set of
    mixtures, the alone gap of each set of lone voices."""
    return {k: round(si_sdri(module, *v, device), 3) if isinstance(v, tuple)
            else round(alone_gap(module, v, device), 3) for k, v in valid.items()}


CRITERIA = {
    "libri": lambda s: s["libri"],
    # LibriSpeech readers, clean and in noise: the voices people record
    "libri+noise": lambda s: 0.5 * (s["libri"] + s["libri+noise"]),
    # the same readers also in conversations (half of them same-sex pairs),
    # which 4 s mixtures do not test and long fine-tuning has traded away
    "libri+noise+conv": lambda s: (s["libri"] + s["libri+noise"] + s["libri-conv"]) / 3,
}


# -- the speech-vs-noise task ----------------------------------------------------
# One voice over background sound; a class-fixed network with
# ``classes_ = ['noise', 'speech']`` (np.unique order) learns one output per
# class, no permutation.

NOISE_CLASSES = ("noise", "speech")
VALID_SNRS = (-5.0, 0.0, 5.0, 10.0)


def noise_batch(rng, voices, noises, args):
    """Mixtures of one voice and background noise at ``--snr`` dB (uniform);
    refs ``(B, 2, T)`` in ``NOISE_CLASSES`` order. ``--p-single`` of them
    hold speech alone (the noise output learns silence), as many noise alone
    (the speech output learns silence); a third of the noises are the sum of
    two clips."""
    weights = {"libri": args.p_libri, "so": args.p_so,
               "extra": max(0.0, 1 - args.p_libri - args.p_so)}
    size = segment_size(args)
    mixes, refs = [], []
    for _ in range(args.batch_size):
        _, s = draw_voice(rng, voices, weights, size, speed=rng.random() < args.p_speed)
        if rng.random() < args.p_eq:
            s = colour(rng, s)
        n = noises.excerpt(rng, size)
        if rng.random() < 1 / 3:
            m = noises.excerpt(rng, size)
            n = n + m * np.sqrt(np.mean(n**2) / max(np.mean(m**2), 1e-12)
                                * 10 ** (rng.uniform(-10, 10) / 10))
        if rng.random() < args.p_eq:
            n = colour(rng, n)
        ps, pn = np.mean(s**2), np.mean(n**2)
        if ps <= 0 or pn <= 0:  # a silent excerpt: draw again
            return noise_batch(rng, voices, noises, args)
        n = n * np.sqrt(ps / pn * 10 ** (-rng.uniform(*args.snr) / 10))
        u = rng.random()
        if u < args.p_single:
            n = np.zeros_like(n)
        elif u < 2 * args.p_single:
            s = np.zeros_like(s)
        src = np.stack([n, s])
        mix = src.sum(0)
        level = 10 ** (rng.uniform(-35, -15) / 20) / max(np.sqrt(np.mean(mix**2)), 1e-8)
        mixes.append(mix * level)
        refs.append(src * level)
    return (np.array(mixes, dtype=np.float32), np.array(refs, dtype=np.float32))


def class_loss(est, refs, mix, weights=(0.25, 1.0), silent_floor=1e-3):
    """Class-fixed loss: negative SI-SDR of each output against its own
    class (no permutation), the noise output weighted ``weights[0]``;
    against a silent reference the output's energy relative to the
    mixture's, floored at -30 dB."""
    import torch

    from sksep.nn import pairwise_neg_si_sdr

    own = torch.diagonal(pairwise_neg_si_sdr(est, refs), dim1=1, dim2=2)  # (B, C)
    silent = (refs**2).sum(-1) <= 0
    rel = (est**2).sum(-1) / (mix**2).sum(-1, keepdim=True).clamp_min(1e-12)
    own = torch.where(silent, 10 * torch.log10(rel + silent_floor), own)
    w = torch.tensor(weights, dtype=own.dtype, device=own.device)
    return (own * w).sum(-1).mean() / w.sum()


def noise_valid_sets(data, n=100, seed=0):
    """Fixed 4 s mixtures of one valid voice and valid noise, SNRs cycling
    through ``VALID_SNRS``; per corpus: name -> (mix, refs, snrs); and
    ``<corpus>-clean``: clean voices (the speech output should keep them)."""
    voices = Voices(data, "valid", extra=False)
    noises = Noises(data, "valid")
    out = {}
    for group in ("libri", "so"):
        rng = np.random.default_rng([seed, len(group), 1])
        mixes, refs, snrs = [], [], []
        for i in range(n):
            _, s = draw_voice(rng, voices, {group: 1.0}, SEGMENT, speed=False)
            nz = noises.excerpt(rng, SEGMENT)
            snr = VALID_SNRS[i % len(VALID_SNRS)]
            nz = nz * np.sqrt(np.mean(s**2) / max(np.mean(nz**2), 1e-12) * 10 ** (-snr / 10))
            mixes.append(s + nz)
            refs.append(np.stack([nz, s]))
            snrs.append(snr)
        out[group] = (np.array(mixes, np.float32), np.array(refs, np.float32),
                      np.array(snrs))
        out[group + "-clean"] = np.array([r[1] for r in refs[:40]], np.float32)
    return out


def noise_scores(module, valid, device):
    """Speech output's SI-SDRi per corpus (mean over SNRs, and at 0 dB) and
    its SI-SDR on clean speech (median: how much a clean voice is kept)."""
    from sksep.metrics import si_sdr

    scores = {}
    for group in ("libri", "so"):
        mix, refs, snrs = valid[group]
        est = estimates(module, mix, device)[:, 1]
        gain = (si_sdr(refs[:, 1].astype(np.float64), est)
                - si_sdr(refs[:, 1].astype(np.float64), mix.astype(np.float64)))
        scores[group] = round(float(np.mean(gain)), 3)
        scores[group + "@0dB"] = round(float(np.mean(gain[snrs == 0])), 3)
        clean = valid[group + "-clean"]
        kept = si_sdr(clean.astype(np.float64), estimates(module, clean, device)[:, 1])
        scores[group + "-clean"] = round(float(np.median(kept)), 3)
    return scores


def swap_outputs(module):
    """Swap a two-output network's outputs in place (the rows of the mask
    model's output layer, or of each band's head in a dual-path network,
    which hold the sources one after the other; or the CNN's decoder
    branches)."""
    import torch

    net = module.mask_net
    if getattr(net, "kind", None) == "dual-path":
        outputs = list(net.heads)
    elif hasattr(net, "out") and isinstance(net.out, torch.nn.Linear):
        outputs = [net.out]
    else:
        outputs = []
    if outputs:
        with torch.no_grad():
            for layer in outputs:
                for p in (layer.weight, layer.bias):
                    half = p.shape[0] // 2
                    p.copy_(torch.cat([p[half:], p[:half]]))
        return
    for name, child in net.named_children():
        if isinstance(child, torch.nn.ModuleList) and len(child) == 2:
            child[0], child[1] = child[1], child[0]
            return
    raise TypeError(f"cannot swap the outputs of {type(net).__name__}")


NOISE_CRITERIA = {
    "libri": lambda s: s["libri"],
    "libri+so": lambda s: 0.5 * (s["libri"] + s["so"]),
}


# --arch's default sizes: the shipped TCN's, the dual-path network compared
# with it (benchmarks/README.md), the BLSTM of the first GPU runs
ARCH_SIZES = {"tcn": (128, 24), "dual-path": (64, 4), "blstm": (192, 3)}


def fresh_network(est, args):
    """Replace ``est``'s mask network by a freshly initialised one of
    ``--arch`` (``--hidden-size`` x ``--num-layers``, seeded by ``--seed``)
    on the same STFT, for architecture comparisons from scratch."""
    import torch

    from sksep.nn import MaskNet

    old = est.net_.module_.mask_net
    if not isinstance(old, MaskNet):
        raise SystemExit(f"--arch needs a MaskEstimator --init (for its STFT); "
                         f"{args.init} holds a {type(est).__name__}.")
    torch.manual_seed(args.seed)
    est.set_params(kind=args.arch, hidden_size=args.hidden_size,
                   num_layers=args.num_layers)
    est.net_.module_.mask_net = MaskNet(
        int(old.norm.normalized_shape[0]), int(old.n_sources),
        hidden_size=args.hidden_size, num_layers=args.num_layers, kind=args.arch,
        activation=old.activation)


def native_bf16(device):
    """Whether ``device`` computes bf16 natively, so that autocast speeds a
    step up rather than emulating it: a CUDA GPU with bf16 arithmetic
    (Ampere or later; emulation not counted), or a CPU with AVX-512 bf16 or
    AMX instructions (an AVX-512 CPU without them, such as a Skylake or Ice
    Lake Xeon, emulates bf16 too)."""
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type != "cpu":
        return False
    checks = [getattr(torch.cpu, name, None)
              for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(check()) for check in checks if check is not None)


def resolve_bf16(choice, device):
    """``--bf16`` to a bool, with the reason logged beside it."""
    import torch

    if choice == "on":
        return True, "asked for"
    if choice == "off":
        return False, "asked for"
    native = native_bf16(device)
    where = (torch.backends.cpu.get_cpu_capability() if device.type == "cpu"
             else device.type)
    return native, f"auto: {'native' if native else 'no native'} bf16 on {where}"


def make_batch(step, voices, noises, args, rooms=None):
    """The training batch of ``step``: a pure function of ``--seed`` and the
    step, whichever process makes it (a resumed run draws what an
    uninterrupted one drew)."""
    rng = np.random.default_rng([args.seed, step])
    if args.task == "speech-noise":
        return noise_batch(rng, voices, noises, args)
    return training_batch(rng, voices, noises, args, rooms)


_WORK = None  # what the worker processes make batches from (inherited at fork)


def _make_batch_in_worker(step):
    return make_batch(step, *_WORK)


class Batches:
    """Training batches by step, made ahead in ``workers`` processes (none:
    in this one). The batches are those of :func:`make_batch`, so
    ``--workers`` changes the speed of a run, never what it trains on.
    Worker processes are forked after the data are loaded and share them;
    they use numpy and scipy only (no torch, no GPU). A batch that fails in
    a worker, or a worker that dies, stops the run with an error."""

    def __init__(self, workers, voices, noises, args, rooms=None):
        global _WORK
        self.work = (voices, noises, args, rooms)
        self.pool = None
        self.queue = []  # (step, future), in step order
        if workers > 0:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # one batch here first: the modules a batch needs are imported
            # before the fork (an import under way in another thread of a
            # forked process, a GPU runtime's say, could hang a worker)
            make_batch(0, *self.work)
            _WORK = self.work
            self.pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"))
            self.ahead = 2 * workers
            # the workers start (fork) at the first task: now, not after torch
            # has reached a GPU; no batch is made for a step the run may not need
            self.pool.submit(int).result()

    def _ask(self, step):
        if self.queue and self.queue[0][0] != step:
            for _, future in self.queue:
                future.cancel()
            self.queue = []  # not the step expected: ask again from it
        nxt = self.queue[-1][0] + 1 if self.queue else step
        while len(self.queue) < self.ahead:
            self.queue.append((nxt, self.pool.submit(_make_batch_in_worker, nxt)))
            nxt += 1

    def get(self, step):
        if self.pool is None:
            return make_batch(step, *self.work)
        from concurrent.futures.process import BrokenProcessPool

        self._ask(step)
        try:
            return self.queue.pop(0)[1].result()
        except BrokenProcessPool as exc:
            raise RuntimeError(f"a batch worker died; no batch for step {step}") from exc
        except Exception as exc:
            raise RuntimeError(f"making the batch of step {step} failed") from exc

    def close(self):
        if self.pool is not None:
            for _, future in self.queue:
                future.cancel()
            # a worker busy with a batch nobody will take finishes it (a
            # fraction of a second): terminating it could cut its reply
            # half-written into the pool's result pipe, and the pool's
            # manager thread, and so this shutdown, would wait on the rest
            # forever (seen once in CI)
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def lr_at(args, minutes, warm_from=0.0, schedule_from=0.0):
    """Cosine decay over ``--hours`` from minute ``schedule_from`` of the
    run (0, or where ``--new-schedule`` began one), after a linear warm-up
    of ``--warmup-minutes`` from ``warm_from`` (where a fresh optimizer
    began)."""
    warm = min(1.0, (minutes - warm_from) / max(args.warmup_minutes, 1e-9))
    t = min(max(minutes - schedule_from, 0.0) / (args.hours * 60), 1.0)
    return args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def atomic_torch_save(obj, path):
    import torch

    from sksep._files import atomic_write

    atomic_write(path, lambda tmp: torch.save(obj, tmp), overwrite=True)


def train(args):
    """Load the training data and start the batch workers first (before
    torch touches a GPU: the workers are forked), then train; the workers
    are stopped however training ends."""
    if args.p_reverb > 0 and args.task == "speech-noise":
        raise SystemExit("--p-reverb applies to --task voices")
    t_load = time.perf_counter()
    voices = Voices(args.data, "train")
    noises = Noises(args.data, "train")
    rooms = Rooms(args.seed) if args.p_reverb > 0 else None
    batches = Batches(args.workers, voices, noises, args, rooms)
    try:
        _train(args, voices, noises, batches, t_load)
    finally:
        batches.close()


def _train(args, voices, noises, batches, t_load):
    import torch

    from sksep.pretrained import load, save

    torch.set_num_threads(args.threads)
    ckdir = Path(args.checkpoints)
    ckdir.mkdir(parents=True, exist_ok=True)
    state_path = ckdir / f"{args.name}.state.pt"
    best_path = ckdir / f"{args.name}.best.pt"
    machine = (f"{socket.gethostname()} {platform.processor() or platform.machine()} "
               f"{torch.backends.cpu.get_cpu_capability()}, {os.cpu_count()} cores")
    device = torch.device(args.device)
    args.bf16, why = resolve_bf16(args.bf16, device)
    est = load(args.init, device=str(device))
    noise_task = args.task == "speech-noise"
    if noise_task:
        # one output per class, in np.unique order, no permutation
        est.set_params(permutation_invariant=False)
        est.classes_ = np.array(NOISE_CLASSES)
    if args.arch is not None:
        fresh_network(est, args)
    module = est.net_.module_.to(device)
    module.train()
    opt = torch.optim.AdamW(module.parameters(), lr=args.lr, weight_decay=0.0)
    progress = {"step": 0, "minutes": 0.0, "best": -math.inf, "history": [],
                "init": str(args.init) if args.arch is None
                else f"fresh {args.arch} {args.hidden_size}x{args.num_layers} on {args.init}",
                "task": args.task}
    if state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=False)
        was = str(state["progress"].get("init", ""))
        if (args.arch is not None or was.startswith("fresh ")) and was != progress["init"]:
            raise SystemExit(
                f"{state_path} holds a run of {was!r}, this command asks for "
                f"{progress['init']!r}: repeat that run's --init/--arch/--hidden-size/"
                "--num-layers, or give another --checkpoints or --name.")
        module.load_state_dict(state["module"])
        opt.load_state_dict(state["optimizer"])
        progress = state["progress"]
        print(f"resumed {state_path}: step {progress['step']}, "
              f"{progress['minutes']:.1f} min, best {progress['best']:.2f} dB", flush=True)
    elif args.arch is None:
        # a fresh machine: continue the run recorded in the committed model
        # file (its weights and progress; the optimizer starts afresh and
        # warms up again)
        from sksep.pretrained import _resolve

        with _resolve(args.init)[0].open("rb") as fh:
            meta = torch.load(fh, map_location="cpu", weights_only=True).get("metadata", {})
        if ("step" in meta.get("progress", {})
                and meta["progress"].get("task", "voices") == args.task):
            progress.update(meta["progress"])
            # a new schedule of the file's own run (a GPU run's) is not this run's
            progress.pop("schedule_from", None)
            progress.setdefault("history", [])
            progress["warm_from"] = progress["minutes"]
            print(f"continuing the run recorded in {args.init}: step {progress['step']}, "
                  f"{progress['minutes']:.1f} min (fresh optimizer)", flush=True)
    if args.new_schedule and state_path.exists():
        print(f"--new-schedule ignored: {state_path} continues its own schedule",
              flush=True)
    elif args.new_schedule:
        # a new cosine schedule and warm-up from here: minutes on other
        # hardware (a GPU) are not worth the minutes of the recorded run
        progress["schedule_from"] = progress["warm_from"] = progress["minutes"]
        print(f"a new schedule of {args.hours} h from minute {progress['minutes']:.1f}",
              flush=True)
    table = NOISE_CRITERIA if noise_task else CRITERIA
    rescore = False
    if args.criterion is None:
        args.criterion = "libri" if noise_task else "libri+noise"
    if args.criterion not in table:
        raise SystemExit(f"--criterion {args.criterion} is not one of {sorted(table)} "
                         f"for --task {args.task}")
    if progress.get("criterion", "libri") != args.criterion and "best_scores" in progress:
        # the saved best network, scored by the criterion now in force (when
        # it was scored on what that criterion needs; else it is scored
        # again on valid below, so that a worse network cannot replace it)
        try:
            progress["best"] = table[args.criterion](progress["best_scores"])
        except KeyError:
            rescore = True
    progress["criterion"] = args.criterion
    criterion = table[args.criterion]
    print(f"machine: {machine}; device {device}; threads {args.threads}; "
          f"workers {args.workers}; batch {args.batch_size}; "
          f"bf16 {args.bf16} ({why}); torch {torch.__version__}", flush=True)
    valid = (noise_valid_sets if noise_task else valid_sets)(args.data, n=args.n_valid)
    print(f"data: {voices.minutes()} min of voices, {len(noises.waves)} noises "
          f"({time.perf_counter() - t_load:.0f} s to load)", flush=True)
    if rescore:
        # the best so far: this run's best file, or the committed model the
        # run continues from (the earlier run's best)
        saved = best_path if best_path.exists() else args.init
        scorer = noise_scores if noise_task else voice_scores
        progress["best_scores"] = scorer(load(saved, device=str(device)).net_.module_,
                                         valid, device)
        progress["best"] = criterion(progress["best_scores"])
        print(f"the best so far ({saved}) scored again for --criterion {args.criterion}: "
              f"{progress['best']:.2f} dB", flush=True)

    def save_state():
        progress["minutes"] = minutes_done()
        atomic_torch_save({"module": module.state_dict(), "optimizer": opt.state_dict(),
                           "progress": progress, "args": vars(args)}, state_path)

    def evaluate():
        step, minutes = progress["step"], minutes_done()
        head = (f"step {step:7d}  {minutes:7.1f} min  lr {lr:.2e}  "
                f"train {-running / max(n_run, 1):6.2f} dB  ")
        if noise_task:
            scores = noise_scores(module, valid, device)
            held = []
            clean_ok = True
            line = (f"valid speech SI-SDRi libri {scores['libri']:6.2f} (0 dB {scores['libri@0dB']:6.2f})  "
                    f"so {scores['so']:6.2f} (0 dB {scores['so@0dB']:6.2f})  clean speech kept "
                    f"{scores['libri-clean']:5.1f}/{scores['so-clean']:5.1f} dB")
        else:
            scores = voice_scores(module, valid, device)
            history = progress.get("history") or [scores]
            start = progress.setdefault("start_scores", {"libri": history[0]["libri"]})
            start.setdefault("so", history[0].get("so", scores["so"]))
            # a better criterion does not count if clean LibriSpeech separation
            # fell more than --clean-tolerance below where the run started, or
            # (--so-tolerance) the speechocean762 readers' more than that
            held = []
            if scores["libri"] < start["libri"] - args.clean_tolerance:
                held.append("LibriSpeech clean")
            if args.so_tolerance is not None and scores["so"] < start["so"] - args.so_tolerance:
                held.append("speechocean762")
            clean_ok = not held
            line = (f"valid libri {scores['libri']:6.2f}  "
                    + (f"(same sex {scores['libri-same']:5.2f})  " if "libri-same" in scores else "")
                    + f"so {scores['so']:6.2f}  "
                    f"libri+noise {scores['libri+noise']:6.2f}  so+noise {scores['so+noise']:6.2f}  "
                    f"alone gap {scores['libri-alone']:5.1f}/{scores['so-alone']:5.1f} dB"
                    + (f"  libri+reverb {scores['libri+reverb']:6.2f}"
                       if "libri+reverb" in scores else "")
                    + (f"  libri conv {scores['libri-conv']:6.2f}"
                       if "libri-conv" in scores else ""))
        improved = criterion(scores) > progress["best"] and clean_ok
        progress["history"].append({"step": step, "minutes": round(minutes, 1),
                                    "loss": round(running / max(n_run, 1), 3), **scores})
        mark = "  *" if improved else "" if clean_ok else f"  ({' and '.join(held)} below start)"
        print(head + line + mark, flush=True)
        if improved:
            progress["best"] = criterion(scores)
            progress["best_step"] = step
            progress["best_scores"] = scores
            save_model(best_path)
        save_state()
        return scores

    def save_model(path, **recorded):
        """The network now as a model file, the run's progress (and
        ``recorded``) in its metadata."""
        est.net_.module_ = module
        est.n_epochs_ = int(progress["step"])
        meta = {"progress": {**{k: v for k, v in progress.items() if k != "history"},
                             **recorded},
                "machine": machine, "device": str(device), "bf16": args.bf16,
                "sample_rate": SR}
        save(est, path, overwrite=True, half=True, metadata=meta)

    t0 = time.perf_counter()
    start_minutes = progress["minutes"]

    def minutes_done():
        return start_minutes + (time.perf_counter() - t0) / 60

    last_valid = last_save = time.perf_counter()
    running, n_run, lr = 0.0, 0, args.lr
    if progress["step"] == 0:
        if noise_task:
            # a two-voice network starts with its outputs in no class order:
            # give 'speech' to the output that already holds more of it
            before = noise_scores(module, valid, device)
            swap_outputs(module)
            after = noise_scores(module, valid, device)
            if after["libri"] + after["so"] < before["libri"] + before["so"]:
                swap_outputs(module)
            print(f"outputs {'swapped' if after['libri'] + after['so'] >= before['libri'] + before['so'] else 'kept'}: "
                  f"speech SI-SDRi libri/so {before['libri']:.2f}/{before['so']:.2f} as loaded, "
                  f"{after['libri']:.2f}/{after['so']:.2f} swapped", flush=True)
        evaluate()
    while minutes_done() < args.stop_after_hours * 60 and (
            args.minutes is None or time.perf_counter() - t0 < args.minutes * 60) and (
            args.max_steps is None or progress["step"] < args.max_steps):
        mix, refs = batches.get(progress["step"])
        lr = lr_at(args, minutes_done(), progress.get("warm_from", 0.0),
                   progress.get("schedule_from", 0.0))
        for g in opt.param_groups:
            g["lr"] = lr
        x = torch.from_numpy(mix).to(device)
        y = torch.from_numpy(refs).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            out = module(x)["wave"]
        loss = (class_loss if noise_task else separation_loss)(out.float(), y, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), args.clip)
        opt.step()
        progress["step"] += 1
        running += loss.item()
        n_run += 1
        now = time.perf_counter()
        if now - last_valid > args.valid_minutes * 60:
            evaluate()
            running, n_run = 0.0, 0
            last_valid = last_save = time.perf_counter()
        elif now - last_save > args.save_minutes * 60:
            save_state()
            last_save = time.perf_counter()
    scores = evaluate()
    if args.save_last:
        # the network as the run ends, whether or not valid called it the best
        save_model(ckdir / f"{args.name}.last.pt", last_scores=scores)


NOISE_LICENSE = (
    "Trained on speech8k (LibriSpeech train-clean-100 excerpts, CC BY 4.0; "
    "speechocean762), voices8k-extra (Arabic Speech Commands CC BY 4.0, Picovoice "
    "wake-word benchmark Apache-2.0, Asterisk core sounds ru/it CC BY 3.0, LJSpeech "
    "public domain) and noise8k train (ESC-50 CC0/CC BY clips, credited in "
    "speech8k-2voices-noise8k-train.csv; Speech Commands background noise CC BY 4.0). "
    "These weights are shared under CC BY 4.0 with the attributions in "
    "sksep/pretrained/data/README.md.")


def export(args):
    import torch

    best = Path(args.checkpoints) / f"{args.name}.best.pt"
    state = torch.load(best, weights_only=True)
    dest = OUT / f"{args.name}.pt"
    shutil.copyfile(best, dest)
    registry_path = OUT / "models.json"
    registry = json.loads(registry_path.read_text())
    prog = state["metadata"]["progress"]
    if args.name not in registry:
        # a new model: its card starts from the model it was trained from
        init = registry.get(Path(str(prog.get("init"))).stem, {})
        from sksep.pretrained import load

        est = load(dest)
        registry[args.name] = {
            **{k: init[k] for k in ("estimator", "sample_rate", "parameters",
                                    "segment_seconds") if k in init},
            "file": dest.name,
            "n_sources": len(getattr(est, "classes_", [])) or int(est.n_sources_),
            "description": args.description or init.get("description", ""),
            "license": NOISE_LICENSE if prog.get("task") == "speech-noise"
            else init.get("license", ""),
            "metrics": {},
        }
        if hasattr(est, "classes_"):
            registry[args.name]["classes"] = [str(c) for c in est.classes_]
    entry = registry[args.name]
    entry["training"] = {
        "script": "benchmarks/train_voices.py",
        "task": prog.get("task", "voices"),
        "init": prog.get("init"),
        "steps": prog["step"],
        "best_step": prog.get("best_step"),
        "minutes": round(prog["minutes"], 1),
        "machine": state["metadata"].get("machine"),
        "device": state["metadata"].get("device"),
        "bf16": state["metadata"].get("bf16"),
        "valid_si_sdri_db": prog.get("best_scores"),
    }
    registry_path.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n")
    print(f"exported {best} -> {dest} (step {prog.get('best_step')}, valid {prog['best']:.2f} dB)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data",
                   help="folder holding speech8k, voices8k-extra and noise8k")
    p.add_argument("--init", default="speech8k-2voices",
                   help="shipped model name or model file to start from")
    p.add_argument("--name", default="speech8k-2voices")
    p.add_argument("--checkpoints", default="ckpt")
    p.add_argument("--hours", type=float, default=100.0,
                   help="length of the cosine learning-rate schedule")
    p.add_argument("--stop-after-hours", type=float, default=1e9)
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop when the step count reaches this (tests)")
    p.add_argument("--n-valid", type=int, default=100,
                   help="valid mixtures per corpus")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop this run after this many minutes")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--arch", choices=("tcn", "dual-path", "blstm"), default=None,
                   help="train a freshly initialised mask network of this kind on "
                        "--init's STFT instead of --init's weights (architecture "
                        "comparisons from scratch)")
    p.add_argument("--hidden-size", type=int, default=None,
                   help="--arch: TCN bottleneck channels, dual-path channels per band "
                        "or BLSTM units per direction (default 128, 64, 192)")
    p.add_argument("--num-layers", type=int, default=None,
                   help="--arch: TCN blocks, dual-path blocks or BLSTM layers "
                        "(default 24, 4, 3)")
    p.add_argument("--clean-tolerance", type=float, default=0.25,
                   help="dB the clean LibriSpeech valid SI-SDRi may fall below the "
                        "run's start for a network to be kept as the best")
    p.add_argument("--so-tolerance", type=float, default=None,
                   help="voices: dB the speechocean762 valid SI-SDRi may fall below "
                        "the run's start for a network to be kept (default: not "
                        "checked)")
    p.add_argument("--task", choices=("voices", "speech-noise"), default="voices",
                   help="voices: two voices apart (PIT); speech-noise: one voice "
                        "from background noise, class-fixed outputs ['noise', 'speech']")
    p.add_argument("--criterion", choices=sorted(set(CRITERIA) | set(NOISE_CRITERIA)),
                   default=None,
                   help="model selection on valid. voices: the LibriSpeech readers "
                        "clean (libri), or the mean of clean and in noise "
                        "(libri+noise, the default), or their mean with 25 s valid "
                        "conversations (libri+noise+conv); speech-noise: the LibriSpeech "
                        "readers' speech SI-SDRi over -5..10 dB SNR (libri, the "
                        "default) or its mean with speechocean762's (libri+so)")
    p.add_argument("--snr", type=float, nargs=2, default=(-7.5, 17.5),
                   help="speech-noise: SNR range of the training mixtures (dB)")
    p.add_argument("--warmup-minutes", type=float, default=5.0)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seconds", type=float, default=4.0,
                   help="length of each training mixture (at least 3 s); the "
                        "default network hears 12 s around each frame, so "
                        "longer mixtures train more of what it sees")
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--p-libri", type=float, default=0.45)
    p.add_argument("--p-so", type=float, default=0.2)
    p.add_argument("--p-speed", type=float, default=0.5)
    p.add_argument("--p-eq", type=float, default=0.5)
    p.add_argument("--p-noise", type=float, default=0.5)
    p.add_argument("--p-reverb", type=float, default=0.0,
                   help="voices: share of mixtures heard in a simulated room "
                   "(RT60 0.1..0.4 s; the targets are the reverberant voices)")
    p.add_argument("--p-same-sex", type=float, default=0.0,
                   help="voices: share of mixtures whose second voice is drawn of the "
                        "first voice's sex (where both are known; by redrawing, so such "
                        "second voices come less often from the extra voices, most of "
                        "which have no sex recorded); 0 leaves the sexes to chance, "
                        "about half the pairs")
    p.add_argument("--p-partial", type=float, default=0.0,
                   help="voices: share of mixtures in which the voices overlap "
                        "only in part, as in a conversation (one enters late or "
                        "leaves early, or they take turns)")
    p.add_argument("--p-single", type=float, default=0.1,
                   help="share of mixtures holding one voice alone")
    p.add_argument("--valid-minutes", type=float, default=15.0)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=0,
                   help="processes making the training batches ahead (0: made in "
                        "this one). The batches are the same whatever the number: "
                        "give a GPU run enough to keep it busy")
    p.add_argument("--save-last", action="store_true",
                   help="also write the network as the run ends as <name>.last.pt "
                        "(a model file), best on valid or not: for a GPU run, whose "
                        "valid split may differ from the CPU's")
    p.add_argument("--new-schedule", action="store_true",
                   help="a run starting from a model file (no state in --checkpoints "
                        "yet): start the cosine schedule of --hours and the warm-up "
                        "here rather than at minute 0 of the run recorded in the file "
                        "(a GPU run, whose minutes are worth far more CPU minutes)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                   help="bf16 autocast: auto uses it where the device computes bf16 "
                        "natively (a CUDA GPU of the Ampere generation or later; a "
                        "CPU with AVX-512 bf16 or AMX instructions) and float32 "
                        "elsewhere: on an AVX2-only CPU autocast emulates bf16 and "
                        "a step ran 5-7 times slower")
    p.add_argument("--no-bf16", dest="bf16", action="store_const", const="off",
                   help="the same as --bf16 off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", action="store_true")
    p.add_argument("--description", default=None,
                   help="--export of a new model: its one-line description")
    args = p.parse_args(argv)
    if not args.seconds >= 3.0:
        p.error(f"--seconds is the length of a training mixture, at least 3; got {args.seconds:g}")
    for name, value in vars(args).items():
        if name.startswith("p_") and not 0.0 <= value <= 1.0:
            p.error(f"--{name.replace('_', '-')} is a share of mixtures, in [0, 1]; "
                    f"got {value}")
    if args.workers < 0:
        p.error(f"--workers is a number of processes, 0 or more; got {args.workers}")
    if args.p_libri + args.p_so > 1.0:
        p.error(f"--p-libri {args.p_libri} and --p-so {args.p_so} add up to more than 1 "
                "(the extra voices take the rest)")
    if args.arch is None and (args.hidden_size, args.num_layers) != (None, None):
        p.error("--hidden-size and --num-layers size a fresh network: give --arch too")
    if args.arch is not None:
        size = ARCH_SIZES[args.arch]
        args.hidden_size = args.hidden_size or size[0]
        args.num_layers = args.num_layers or size[1]
    if args.export:
        export(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
