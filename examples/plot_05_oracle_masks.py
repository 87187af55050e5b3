"""
A trained separator against the oracle masks
============================================

Ideal masks, computed from the true sources, bound what any mask on the same
STFT can achieve. Comparing a learnt separator with them tells how much of
the remaining error is the model's and how much the representation's. Here
the shipped :class:`~sksep.neural.MaskEstimator` (``fsdd-2speakers``),
trained on pairs of words spoken at once, separates 0 dB mixtures of
(a) word pairs of two of its training speakers (recordings it never heard),
(b) word pairs of two speakers it never heard at all, and (c) continuous
speech of its training speakers, where its outputs swap voices at pauses.
"""

import matplotlib.pyplot as plt
import numpy as np

from sksep.datasets import load_demo, make_clip_mixtures
from sksep.metrics import pit_si_sdr, si_sdr_improvement
from sksep.pretrained import load
from sksep.spectral import ideal_mask_separation

model = load("fsdd-2speakers")
demo = load_demo()


def word_pairs(speakers):
    """0 dB mixtures of two words (0.5 s) by different speakers."""
    keep = np.isin(demo.speaker, speakers)
    return make_clip_mixtures([w for w, k in zip(demo.waveforms, keep) if k],
                              n_sources=2, n_times=4000, labels=demo.speaker[keep],
                              snr_db=0.0, random_state=0)


def continuous(speakers, seconds=2.0):
    """0 dB mixtures of `seconds`-long windows of continuous speech."""
    n = int(seconds * demo.sr)
    windows, labels = [], []
    for speaker in speakers:
        stream = np.concatenate([w for w, s in zip(demo.waveforms, demo.speaker)
                                 if s == speaker])
        for k in range(stream.size // n):
            windows.append(stream[k * n:(k + 1) * n])
            labels.append(speaker)
    return make_clip_mixtures(windows, n_sources=2, n_times=n, labels=labels,
                              snr_db=0.0, random_state=0)


def improvement(Y, est, X):
    _, perm = pit_si_sdr(Y, est)
    est = np.take_along_axis(est, perm[:, :, None], axis=1)
    return float(np.mean(si_sdr_improvement(Y, est, X)))


results = {}
for name, (X, Y) in (
        ("word pairs,\ntraining speakers", word_pairs(["lucas", "nicolas", "theo"])),
        ("word pairs,\nunseen speakers", word_pairs(["george", "jackson"])),
        ("continuous speech,\ntraining speakers", continuous(["lucas", "nicolas"]))):
    row = {"MaskEstimator": improvement(Y, model.separate(X), X)}
    for kind in ("irm", "ibm", "psm"):
        row[f"ideal {kind.upper()}"] = improvement(
            Y, ideal_mask_separation(Y, kind=kind, stft=model.stft_), X)
    results[name] = row
    print(name.replace("\n", " "), {k: round(v, 1) for k, v in row.items()})

# %%
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
methods = list(next(iter(results.values())))
width = 0.8 / len(methods)
for k, method in enumerate(methods):
    ax.bar(np.arange(len(results)) + k * width, [r[method] for r in results.values()],
           width, label=method)
ax.set_xticks(np.arange(len(results)) + 0.4 - width / 2, list(results))
ax.set_ylabel("SI-SDR improvement (dB)")
ax.axhline(0, color="k", lw=0.5)
ax.legend(fontsize="small")
ax.set_title("Learnt masks against the ideal masks of the same STFT")
