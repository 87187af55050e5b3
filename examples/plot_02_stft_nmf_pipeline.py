"""
STFT features with a scikit-learn estimator: NMF separation
===========================================================

:class:`~sksep.spectral.STFTTransformer` turns clips into spectrogram
features any scikit-learn estimator can use. Here non-negative matrix
factorisation (:func:`sklearn.decomposition.non_negative_factorization`)
learns a dictionary of spectra for each of two speakers from their clean
recordings, explains a mixture with both dictionaries, and resynthesises
each voice with a soft mask through the exact inverse STFT.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.decomposition import NMF, non_negative_factorization

from sksep import STFTTransformer
from sksep.datasets import load_demo
from sksep.metrics import pit_si_sdr, si_sdr
from sksep.plotting import plot_mask

demo = load_demo(speakers=["george", "theo"])
stft = STFTTransformer(n_fft=256, hop_length=64)


def stream(speaker, indices):
    return np.concatenate([w for w, s, i in zip(demo.waveforms, demo.speaker,
                                                demo.index) if s == speaker and i in
                           indices])


def frames(x):
    """Magnitude frames of one signal, (n_frames, n_freqs): NMF's samples."""
    Z = stft.fit_transform(x[None])
    return np.abs(stft.to_spectrogram(Z)[0]).T


warnings.simplefilter("ignore", ConvergenceWarning)  # 400 iterations are plenty here

# learn 16 spectra per speaker on recordings of index 1 ...
dictionaries = [NMF(n_components=16, init="nndsvda", max_iter=400, random_state=0)
                .fit(frames(stream(sp, {1}))).components_ for sp in ("george", "theo")]
W = np.vstack(dictionaries)                                  # (32, n_freqs)

# %%
# ... and separate a 0 dB mixture of their recordings of index 0
a, b = stream("george", {0}), stream("theo", {0})
n = min(a.size, b.size)
S = np.stack([a[:n] / a[:n].std(), b[:n] / b[:n].std()]) * 0.05
mix = S.sum(0)
Z = stft.fit_transform(mix[None])
spec = stft.to_spectrogram(Z)[0]                              # (n_freqs, n_frames)
H, _, _ = non_negative_factorization(np.abs(spec).T, H=W, n_components=32,
                                     init="custom", update_H=False, max_iter=400,
                                     random_state=0)
parts = [H[:, :16] @ W[:16], H[:, 16:] @ W[16:]]              # each (n_frames, n_freqs)
masks = [p.T / (parts[0].T + parts[1].T + 1e-9) for p in parts]
est = np.stack([stft.inverse_transform(stft.from_spectrogram((m * spec)[None]))[0]
                for m in masks])
scores, _ = pit_si_sdr(S, est)
print("SI-SDR improvement (dB):", np.round(scores - si_sdr(S, np.stack([mix, mix])), 1))
# about +5 dB each: a fixed dictionary per speaker is a weak model of a voice;
# compare the learnt mask estimator in the last example.

# %%
# The two soft masks: where each dictionary explains the mixture.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
for ax, m, name in zip(axes, masks, ("george", "theo")):
    plot_mask(m, demo.sr, 64, ax=ax, title=f"NMF mask: {name}")
