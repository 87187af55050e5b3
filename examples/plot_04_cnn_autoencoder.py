"""
The CNN autoencoder: one decoder branch per source class
========================================================

:class:`~sksep.neural.CNNAutoencoderSeparator` encodes segments of the
mixture's log-magnitude spectrogram with convolutions along time and
frequency, and decodes one ratio mask per class. By default it is
*class-fixed*: output ``k`` is always ``classes_[k]``, here the two
speakers it was trained on. With ten 0.5 s recordings per speaker and
100 short epochs this is a sketch of the mechanics (a few dB of
improvement); ``benchmarks/`` trains on real amounts of data.
"""

import numpy as np

from sksep import CNNAutoencoderSeparator, STFTTransformer
from sksep.datasets import fix_length, load_demo
from sksep.metrics import si_sdr, si_sdr_improvement
from sksep.plotting import plot_separation

demo = load_demo(speakers=["george", "theo"])
train = demo.index == 1                       # recordings of index 1 to train
clips = fix_length(demo.waveforms, 4000)
cnn = CNNAutoencoderSeparator(stft=STFTTransformer(n_fft=256, hop_length=64),
                              freq_filters=16, time_filters=8, bottleneck=64,
                              loss="si_sdr", max_epochs=100, valid_fraction=0.0,
                              random_state=0)
cnn.fit(clips[train], demo.speaker[train])
print("outputs:", cnn.classes_)

# %%
# Separate a mixture of recordings it has not seen (index 0): no permutation
# to solve, output 0 is george and output 1 is theo.
g = clips[(demo.speaker == "george") & (demo.index == 0)][3]
t = clips[(demo.speaker == "theo") & (demo.index == 0)][7]
S = np.stack([g / g.std(), t / t.std()]) * 0.05
mixture = S.sum(0)
est = cnn.separate(mixture)
masks = cnn.predict_masks(mixture)
gain = si_sdr_improvement(S, est, mixture)
print("SI-SDR improvement (dB):", np.round(gain, 1))

fig = plot_separation(mixture, est, demo.sr, references=S, masks=masks,
                      scores=si_sdr(S, est), labels=list(cnn.classes_),
                      title="CNNAutoencoderSeparator, class-fixed outputs")
