"""sksep._dsp, the one DSP layer: its torch and NumPy STFTs agree with each
other and with librosa, its incremental framer and overlap-add rebuild the
whole-signal STFT from blocks of any size, and the presets scale with the
sample rate."""

import re
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from sksep import _dsp
from sksep._dsp import _torch as torch_dsp

GRID = [(256, 64, 256, "hann"), (100, 30, 80, "hamming"), (511, 77, 511, "hann"),
        (64, 16, 48, ("kaiser", 8.0))]
MODES = [(True, "reflect"), (True, "constant"), (True, "replicate"),
         (True, "circular"), (False, "constant")]


def _setup(n_fft, hop, win, window, center, pad_mode, n_times):
    return (_dsp.geometry(n_fft, hop, center, pad_mode, n_times),
            _dsp.window_values(window, win, n_fft))


@pytest.mark.parametrize("n_fft, hop, win, window", GRID)
@pytest.mark.parametrize("center, pad_mode", MODES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_torch_and_numpy_paths_give_the_same_stft_and_inverse(
        rng, n_fft, hop, win, window, center, pad_mode, dtype, tol):
    x = rng.standard_normal((2, 1500)).astype(dtype)
    geo, w = _setup(n_fft, hop, win, window, center, pad_mode, x.shape[1])
    S_np = _dsp.stft(x, geo, w)
    S_t = torch_dsp.spectrogram(x, geo, w)
    assert S_np.dtype == S_t.dtype and S_np.shape == (2, geo.n_freqs, geo.n_frames)
    peak = np.abs(S_t).max()
    np.testing.assert_allclose(S_np, S_t, atol=tol * peak, rtol=0)
    y_np, y_t = _dsp.istft(S_np, geo, w), torch_dsp.waveform(S_t, geo, w)
    assert y_np.dtype == y_t.dtype == dtype
    # samples that the windows cover (center=False leaves the first ones bare)
    env = _dsp.window_envelope(geo, w)[geo.left:geo.left + geo.n_times]
    ok = env > 1e-3 * env.max()
    assert ok.mean() > 0.95
    for y in (y_np, y_t):
        np.testing.assert_allclose(y[:, ok], x[:, ok], atol=10 * tol * np.abs(x).max(),
                                   rtol=0)


@pytest.mark.parametrize("n_fft, hop, win, window", GRID)
@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
def test_the_first_frames_are_librosas(rng, n_fft, hop, win, window, pad_mode):
    x = rng.standard_normal(3000)
    geo, w = _setup(n_fft, hop, win, window, True, pad_mode, x.size)
    ref = librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win,
                       window=window, center=True, pad_mode=pad_mode)
    ours = _dsp.stft(x, geo, w)
    assert ours.shape[-1] >= ref.shape[-1]     # frames until the end is covered
    np.testing.assert_allclose(ours[:, :ref.shape[-1]], ref,
                               atol=1e-9 * np.abs(ref).max(), rtol=0)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_numpy_edge_padding_is_torchs(rng, mode):
    x = rng.standard_normal((3, 50))
    ref = torch.nn.functional.pad(torch.from_numpy(x), (7, 11), mode=mode).numpy()
    np.testing.assert_array_equal(_dsp.pad_edges(x, 7, 11, mode), ref)
    np.testing.assert_array_equal(_dsp.pad_edges(x.T, 7, 11, mode, axis=0), ref.T)


def test_inverse_envelope_is_zero_where_no_window_reaches():
    geo = _dsp.geometry(64, 16, False, "constant", 400)
    inv = _dsp.inverse_envelope(geo, _dsp.window_values("hann", 64, 64))
    assert inv[0] == 0 and np.all(np.isfinite(inv)) and np.all(inv[1:] > 0)
    assert _dsp.reciprocal_envelope(np.array([0.0, 1e-320, 4.0])).tolist() == [
        0.0, 0.0, 0.25]


def _blocks(n, sizes):
    edges = np.cumsum(np.resize(sizes, n))
    return [slice(a, b) for a, b in zip(np.r_[0, edges], edges) if a < n]


@pytest.mark.parametrize("pad_mode", ["reflect", "constant", "replicate"])
@pytest.mark.parametrize("sizes", [[1], [7, 64, 333], [5000]])
def test_incremental_framer_gives_the_whole_signal_stft(rng, pad_mode, sizes):
    n_fft, hop = 128, 48
    x = rng.standard_normal((3001, 2))
    geo, w = _setup(n_fft, hop, n_fft, "hann", True, pad_mode, x.shape[0])
    framer = _dsp.Framer(n_fft, hop, pad_mode, n_channels=2)
    frames = [framer.push(x[s]) for s in _blocks(x.shape[0], sizes)]
    frames = np.concatenate(frames + [framer.finish()])        # (T, n_fft, C)
    assert frames.shape == (geo.n_frames, n_fft, 2)
    spec = np.fft.rfft(frames * w[None, :, None], axis=1)      # (T, F, C)
    np.testing.assert_allclose(spec.transpose(2, 1, 0), _dsp.stft(x.T, geo, w),
                               atol=1e-12 * np.abs(spec).max(), rtol=0)
    # and the overlap-adder, fed the inverse FFTs frame by frame, gives the
    # signal back
    ola = _dsp.OverlapAdder(n_fft, hop, w, n_outputs=2, left=geo.left)
    wave = np.fft.irfft(spec, n=n_fft, axis=1)
    for t in range(frames.shape[0]):
        ola.add(wave[t:t + 1], t)
    sums, inv = ola.read(0, x.shape[0])
    np.testing.assert_allclose(sums * inv[:, None], x, atol=1e-12, rtol=0)


def test_a_stream_too_short_for_the_padding_is_refused():
    framer = _dsp.Framer(64, 16, "reflect", n_channels=1)
    framer.push(np.zeros((20, 1)))
    with pytest.raises(ValueError, match="too few for the STFT's padding"):
        framer.finish()


def test_presets_scale_room_windows_with_the_rate():
    assert _dsp.SPEECH_8K == {"n_fft": 256, "hop_length": 64}
    for rate, n_fft in [(None, 2048), (8000, 2048), (16000, 4096), (44100, 8192),
                        (48000, 16384), (100, 64)]:
        assert _dsp.room(rate) == {"n_fft": n_fft, "hop_length": n_fft // 4}


def test_resolved_lengths_and_their_errors():
    assert _dsp.resolve_lengths(512) == (128, 512)
    assert _dsp.resolve_lengths(512, None, 200) == (50, 200)
    with pytest.raises(ValueError, match="win_length=600 is larger than n_fft"):
        _dsp.resolve_lengths(512, None, 600)
    with pytest.raises(ValueError, match="samples between windows would be lost"):
        _dsp.resolve_lengths(512, 300, 256)


def test_torch_stft_is_called_in_one_place_only():
    root = Path(_dsp.__file__).resolve().parents[1]
    calls = [str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
             for line in p.read_text().splitlines()
             if re.search(r"\btorch\.stft\(", line)]
    assert calls == ["_dsp/_torch.py"]


def test_the_dsp_layer_imports_nothing_above_it():
    root = Path(_dsp.__file__).resolve().parent
    for path in root.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (sksep|\.\.)", text, re.M), path.name
