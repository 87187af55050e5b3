"""
Training a MaskEstimator and tuning it with GridSearchCV
========================================================

:class:`~sksep.neural.MaskEstimator` learns from clean clips of single
voices, mixing them on the fly. Here a deliberately tiny network trains for
a few epochs on four speakers of the shipped demo recordings, and
:class:`~sklearn.model_selection.GridSearchCV` picks its width and the STFT
size with folds split **by speaker**, so every validation score comes from
voices the model never heard. Real training takes minutes to hours (see
``benchmarks/``); this shows the mechanics.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold

from sksep import MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_demo

demo = load_demo(speakers=["jackson", "lucas", "nicolas", "theo"])
clips = fix_length(demo.waveforms, 4000)          # (80, 4000): 0.5 s each
speakers = demo.speaker

sep = MaskEstimator(hidden_size=16, num_layers=1, max_epochs=4, batch_size=8,
                    stft=STFTTransformer(n_fft=256, hop_length=64), random_state=0)
grid = {"hidden_size": [8, 24], "stft__n_fft": [128, 256]}
search = GridSearchCV(sep, grid, cv=GroupKFold(n_splits=2))
search.fit(clips, speakers, groups=speakers)

for params, score in zip(search.cv_results_["params"],
                         search.cv_results_["mean_test_score"]):
    print(params, f"SI-SDR improvement on unseen speakers: {score:+.2f} dB")
print("best:", search.best_params_)

# %%
# The refitted best model's training curve: validation SI-SDR after every
# epoch (mixtures of held-out clips of the training speakers).
best = search.best_estimator_
history = best.net_.history
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(history[:, "epoch"], history[:, "valid_si_sdr"], marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("validation SI-SDR (dB)")
ax.set_title(f"MaskEstimator {search.best_params_}")

# %%
# The fitted search is an estimator like any other: separate a new mixture.
mixture = clips[0] + clips[40]
print("separated:", best.separate(mixture).shape)
print("score on the training speakers' clips:", np.round(best.score(clips, speakers), 2))
