"""The causal TCN stepper's compiled kernel (numba) against its NumPy path."""

import sys

import numpy as np
import pytest

from sksep.datasets import load_speech_demo
from sksep.pretrained import load

pytest.importorskip("numba")
import sksep.nn._stepper as stepper_module

SR = 8000
CAUSAL = ["speech8k-2voices-causal-8ms", "speech8k-2voices-causal-16ms",
          "speech8k-2voices-causal-32ms"]


def _features(sep, seconds=10):
    """Log power spectra of 10 s of two demo voices, as the streamer feeds."""
    demo = load_speech_demo()
    n = seconds * SR
    x = np.resize(demo.waveforms[0], n) + np.resize(demo.waveforms[2], n)
    n_fft, hop = sep.stft_.n_fft, sep.stft_.hop_length_
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    spec = np.fft.rfft(frames * np.hanning(n_fft), axis=1)
    return np.log(np.abs(spec) ** 2 + 1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("model", CAUSAL)
def test_kernel_equals_the_numpy_path_over_10_s(model, dtype, monkeypatch):
    sep = load(model)
    net = sep.net_.module_.mask_net
    feats = _features(sep).astype(dtype)
    fused = net._tcn_stepper(dtype=dtype)
    monkeypatch.setattr(stepper_module, "FUSED", False)
    ref = net._tcn_stepper(dtype=dtype)
    assert fused.fused_ and fused.compile_s_ > 0 and not ref.fused_
    # 8 ms blocks (1, 2 or 4 frames a call), odd calls and a long one
    per_block = max(1, SR * 8 // 1000 // sep.stft_.hop_length_)
    sizes = [per_block] * 40 + [1, 3, 70, 5]
    got, want, i, k = [], [], 0, 0
    while i < len(feats):
        block = feats[i:i + sizes[k % len(sizes)]]
        got.append(fused(block))
        want.append(ref(block))
        i, k = i + len(block), k + 1
    got, want = np.concatenate(got, axis=1), np.concatenate(want, axis=1)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.abs(got - want).max() <= tol * np.abs(want).max()


def test_without_numba_the_numpy_path_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)           # import fails
    monkeypatch.delitem(sys.modules, "sksep.nn._fused", raising=False)
    step = load("speech8k-2voices-causal-16ms").net_.module_.mask_net.stepper()
    assert not step.fused_ and step.compile_s_ == 0
    out = step(np.zeros((2, step.n_freqs), np.float32))
    assert out.shape == (2, 2, step.n_freqs)
