"""
Streaming separation, block by block
====================================

A causal mask estimator separates two voices as the audio arrives in 8 ms
blocks. The streamed output equals the offline output shifted by the
algorithmic latency (``n_fft - 1`` samples): here 16 ms for the shipped
``speech8k-2voices-causal-16ms`` model. The two readers are speech8k test
speakers, never heard in training.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from sksep.datasets import load_speech_demo, make_conversation
from sksep.metrics import pit_si_sdr, si_sdr_improvement
from sksep.pretrained import load

demo = load_speech_demo()
mixture, voices = make_conversation([[demo.waveforms[1]], [demo.waveforms[3]]],
                                    n_times=8 * demo.sr, random_state=0)
sep = load("speech8k-2voices-causal-16ms")
stream = sep.streamer()
print(f"algorithmic latency: {stream.latency_} samples = {stream.latency_ms_:.1f} ms")

# %%
# Feed 8 ms blocks (64 samples), timing each call as a live system would.
block, out, times = 64, [], []
for start in range(0, mixture.size, block):
    t0 = time.perf_counter()
    out.append(stream.process(mixture[start:start + block]))
    times.append(1000 * (time.perf_counter() - t0))
out.append(stream.flush())
streamed = np.concatenate(out, axis=1)[:, stream.latency_:]
print(f"compute per 8 ms block: median {np.median(times):.2f} ms, "
      f"worst {np.max(times):.2f} ms")

offline = sep.separate(mixture, chunk_size=None)
print(f"streamed vs offline: max difference "
      f"{np.abs(streamed - offline).max() / np.abs(offline).max():.1e} of the peak")
_, perm = pit_si_sdr(voices[None], streamed[None])
gain = si_sdr_improvement(voices, streamed[perm[0]], mixture)
print(f"SI-SDR improvement: {np.round(gain, 1)} dB")

# %%
# The compute time of every block against the block's duration.
fig, ax = plt.subplots(figsize=(6, 2.5), layout="constrained")
ax.plot(times, ".", ms=2)
ax.axhline(1000 * block / demo.sr, color="C3", label="block duration (8 ms)")
ax.set(xlabel="block", ylabel="compute (ms)", yscale="log",
       title="Streaming a causal TCN, one block at a time")
ax.legend()
