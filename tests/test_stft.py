"""STFTTransformer: agreement with librosa, exact round trips, layouts,
Griffin-Lim, pipelines and errors."""

import warnings

import joblib
import librosa
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import NMF
from sklearn.pipeline import Pipeline

from sksep import STFTTransformer

TOL = {np.float32: 1e-5, np.float64: 1e-10}


def _direct_stft(x, n_fft, hop, win, window, center, pad_mode):
    """A slow, obvious STFT: pad, cut frames one by one, window, rfft."""
    from scipy.signal import get_window

    win = n_fft if win is None else win
    w = np.zeros(n_fft)
    left = (n_fft - win) // 2
    w[left:left + win] = get_window(window, win, fftbins=True)
    if center:
        x = np.pad(x, n_fft // 2, mode=pad_mode)
    n_frames = 1 + (len(x) - n_fft) // hop
    return np.stack([np.fft.rfft(x[t * hop:t * hop + n_fft] * w)
                     for t in range(n_frames)], axis=-1)


PARAMS = [(512, 128, None, "hann"), (256, 64, 200, "hamming"),
          (400, 100, None, "blackman"), (511, 77, None, "hann"),
          (64, 32, 64, ("kaiser", 8.0))]


@pytest.mark.parametrize("n_fft, hop, win, window", PARAMS)
@pytest.mark.parametrize("center, pad_mode", [(True, "reflect"), (True, "constant"),
                                              (False, "constant")])
def test_matches_direct_stft(rng, n_fft, hop, win, window, center, pad_mode):
    X = rng.standard_normal((3, 4000))
    stft = STFTTransformer(n_fft, hop_length=hop, win_length=win, window=window,
                           center=center, pad_mode=pad_mode).fit(X)
    S = stft.to_spectrogram(stft.transform(X))
    for x, s in zip(X, S):
        ref = _direct_stft(x, n_fft, hop, win, window, center, pad_mode)
        n = ref.shape[-1]  # we may add a final frame so that no sample is lost
        assert stft.n_frames_ >= n
        np.testing.assert_allclose(s[:, :n], ref, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("n_fft, hop, win, window", PARAMS)
def test_matches_librosa_stft(rng, n_fft, hop, win, window):
    X = rng.standard_normal((3, 4000))
    stft = STFTTransformer(n_fft, hop_length=hop, win_length=win, window=window,
                           pad_mode="constant").fit(X)
    S = stft.to_spectrogram(stft.transform(X))
    ref = librosa.stft(X, n_fft=n_fft, hop_length=hop, win_length=win,
                       window=window, center=True, pad_mode="constant")
    np.testing.assert_allclose(S[..., :ref.shape[-1]], ref,
                               atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_times", [1, 2, 3, 100, 255, 256, 257, 513, 8000])
@pytest.mark.parametrize("kwargs", [
    {}, {"hop_length": 100}, {"win_length": 400}, {"pad_mode": "constant"},
    {"n_fft": 511, "hop_length": 77}, {"n_fft": 64, "hop_length": 32},
    {"center": False, "window": "hamming"}, {"window": "boxcar", "hop_length": 512},
    {"pad_mode": "circular", "n_fft": 64, "hop_length": 16},
    {"pad_mode": "replicate", "n_fft": 63, "hop_length": 20},
])
def test_complex_round_trip_is_exact(rng, dtype, n_times, kwargs):
    X = rng.standard_normal((3, n_times)).astype(dtype)
    stft = STFTTransformer(**kwargs).fit(X)
    Z = stft.transform(X)
    assert Z.dtype == dtype
    with warnings.catch_warnings():
        if kwargs.get("center", True):  # every sample is well inside a window
            warnings.simplefilter("error")
        Y = stft.inverse_transform(Z)
    assert Y.shape == X.shape and Y.dtype == dtype
    assert np.abs(Y - X).max() <= TOL[dtype] * np.abs(X).max()


def test_center_false_with_hann_warns_about_the_uncovered_first_sample(rng):
    X = rng.standard_normal((2, 2000))
    stft = STFTTransformer(center=False).fit(X)
    with pytest.warns(UserWarning, match="barely covered"):
        Y = stft.inverse_transform(stft.transform(X))
    # the interior is still exact
    assert np.abs(Y - X)[:, 200:].max() <= 1e-10 * np.abs(X).max()


def test_feature_layout_is_documented_order(rng):
    X = rng.standard_normal((2, 3000))
    stft = STFTTransformer(n_fft=128, hop_length=32).fit(X)
    Z = stft.transform(X)
    S = stft.to_spectrogram(Z)
    assert S.shape == (2, 65, stft.n_frames_)
    for z, s in zip(Z, S):  # frame-major, real and imaginary parts interleaved
        np.testing.assert_array_equal(z, np.stack([s.T.real, s.T.imag], -1).ravel())
    np.testing.assert_array_equal(stft.from_spectrogram(S), Z)
    mag = STFTTransformer(n_fft=128, hop_length=32, output="magnitude").fit(X)
    M = mag.transform(X)
    # same layout for the magnitude outputs (values equal up to rounding of
    # torch's and numpy's abs)
    np.testing.assert_allclose(M, np.abs(S).transpose(0, 2, 1).reshape(2, -1),
                               rtol=1e-14)
    np.testing.assert_array_equal(mag.from_spectrogram(mag.to_spectrogram(M)), M)


def test_magnitude_power_db_are_consistent(rng):
    X = rng.standard_normal((2, 3000))
    S = STFTTransformer(n_fft=256).fit(X)
    spec = S.to_spectrogram(S.transform(X))
    mag = STFTTransformer(n_fft=256, output="magnitude").fit_transform(X)
    power = STFTTransformer(n_fft=256, output="power").fit_transform(X)
    db = STFTTransformer(n_fft=256, output="db").fit_transform(X)
    np.testing.assert_allclose(mag, np.abs(spec).transpose(0, 2, 1).reshape(2, -1),
                               rtol=1e-10)
    np.testing.assert_allclose(power, mag**2, rtol=1e-10)
    np.testing.assert_allclose(db, 10 * np.log10(np.maximum(power, 1e-10)),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("output", ["magnitude", "power", "db"])
def test_griffin_lim_reconstructs_a_consistent_signal(output, rng):
    # A harmonic signal: Griffin-Lim recovers a waveform whose magnitude
    # spectrogram is close to the target (spectral convergence < 0.15).
    t = np.arange(8000) / 8000
    X = np.stack([np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 660 * t)])
    stft = STFTTransformer(n_fft=256, output=output, n_iter=60, random_state=0)
    Z = stft.fit_transform(X)
    Y = stft.inverse_transform(Z)
    assert Y.shape == X.shape
    mag = STFTTransformer(n_fft=256, output="magnitude").fit(X)
    target, rebuilt = mag.transform(X), mag.transform(Y)
    assert np.linalg.norm(rebuilt - target) / np.linalg.norm(target) < 0.15
    # reproducible for a given random_state
    np.testing.assert_array_equal(Y, clone(stft).fit(X).inverse_transform(Z))


def test_nmf_pipeline_on_clips_with_clone_and_joblib(tmp_path, rng):
    # Clips mixing two notes in varying proportions: their magnitude
    # spectrograms have rank 2, which NMF with 2 components explains.
    t = np.arange(4000) / 8000
    notes = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 1100 * t)])
    gains = rng.uniform(0.1, 1.0, size=(6, 2))
    X = gains @ notes
    pipe = Pipeline([("stft", STFTTransformer(n_fft=256, output="magnitude")),
                     ("nmf", NMF(n_components=2, init="nndsvda", max_iter=1000,
                                 random_state=0))])
    W = pipe.fit_transform(X)
    assert W.shape == (6, 2)
    mags = pipe[0].transform(X)
    rebuilt = pipe[-1].inverse_transform(W)
    assert np.linalg.norm(rebuilt - mags) / np.linalg.norm(mags) < 0.05
    # the whole pipeline inverts: NMF reconstruction -> Griffin-Lim clips
    # whose magnitude spectrograms match the originals
    Y = pipe.inverse_transform(W)
    assert Y.shape == X.shape
    rebuilt_mags = pipe[0].transform(Y)
    assert np.linalg.norm(rebuilt_mags - mags) / np.linalg.norm(mags) < 0.2
    np.testing.assert_allclose(clone(pipe).fit_transform(X), W)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "pipe.joblib").transform(X),
                                  pipe.transform(X))


def test_n_jobs_restores_torch_threads(rng):
    import torch

    before = torch.get_num_threads()
    X = rng.standard_normal((2, 1000))
    STFTTransformer(n_jobs=2).fit_transform(X)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("params, match", [
    ({"win_length": 600}, "win_length=600 is larger than n_fft=512"),
    ({"hop_length": 600}, "hop_length=600 is larger than win_length=512"),
    ({"window": np.ones(10)}, "window has shape"),
    ({"n_fft": 1}, "n_fft"),
    ({"output": "phase"}, "output"),
])
def test_bad_parameters_raise(rng, params, match):
    with pytest.raises(ValueError, match=match):
        STFTTransformer(**params).fit(rng.standard_normal((2, 1000)))


@pytest.mark.parametrize("X, match", [
    (np.full((2, 100), np.nan), "NaN"),
    (np.zeros((2, 0)), "0 feature"),
    (np.zeros(100), "Expected 2D array"),
    (np.zeros((2, 3, 100)), "dim 3"),
    (np.zeros((2, 100), dtype=complex), "Complex data not supported"),
])
def test_bad_clips_raise(X, match):
    with pytest.raises(ValueError, match=match):
        STFTTransformer().fit(X)


def test_wrong_length_or_feature_count_raises(rng):
    stft = STFTTransformer(n_fft=128).fit(rng.standard_normal((2, 1000)))
    with pytest.raises(ValueError, match="X has 900 features"):
        stft.transform(rng.standard_normal((2, 900)))
    with pytest.raises(ValueError, match="produces"):
        stft.inverse_transform(rng.standard_normal((2, 10)))


@pytest.mark.parametrize("kind", ["irm", "ibm", "psm"])
def test_ideal_masks_match_a_direct_computation(rng, kind):
    from sksep.spectral import ideal_mask_separation

    S = rng.standard_normal((2, 3, 2000))
    est = ideal_mask_separation(S, kind=kind, stft=STFTTransformer(n_fft=128))
    # direct: librosa STFT, mask, inverse
    for c in range(2):
        specs = librosa.stft(S[c], n_fft=128, hop_length=32, pad_mode="reflect")
        mix = specs.sum(0)
        mag = np.abs(specs)
        if kind == "irm":
            masks = mag / mag.sum(0)
        elif kind == "ibm":
            masks = (mag == mag.max(0)).astype(float)
        else:
            masks = np.clip(mag * np.cos(np.angle(specs) - np.angle(mix)) / np.abs(mix), 0, 1)
        ref = librosa.istft(masks * mix, n_fft=128, hop_length=32, length=2000)
        # interior samples (librosa's last frame differs, see above)
        np.testing.assert_allclose(est[c, :, :1900], ref[:, :1900], atol=1e-8)
    if kind == "irm":  # ratio masks sum to 1: the estimates add up to the mixture
        np.testing.assert_allclose(est.sum(1), S.sum(1), atol=1e-9)


def test_the_window_is_public_and_old_pickles_with_the_private_one_load(rng):
    import torch

    X = rng.standard_normal((2, 1000))
    stft = STFTTransformer(n_fft=128, win_length=100, window="hamming").fit(X)
    assert stft.window_.shape == (128,) and stft.window_[:14].tolist() == [0.0] * 14
    np.testing.assert_array_equal(stft._window.numpy(), stft.window_)
    # the state an STFTTransformer had before window_ (torch tensors)
    state = stft.__getstate__()
    state["_window"] = torch.from_numpy(state.pop("window_"))
    state["_inv_envelope"] = torch.from_numpy(state["_inv_envelope"])
    old = STFTTransformer.__new__(STFTTransformer)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.window_, stft.window_)
    Z = stft.transform(X)
    np.testing.assert_array_equal(old.transform(X), Z)
    np.testing.assert_array_equal(old.inverse_transform(Z), stft.inverse_transform(Z))


@pytest.mark.parametrize("channels", [1, 2])
def test_a_recording_in_read_audios_layout_is_refused_with_the_fix(channels):
    # (n_samples, n_channels) from read_audio is not n_samples one-sample
    # clips (which took 774 features per sample of a 10 s file): refused,
    # and the transpose it names gives one clip per channel
    from sksep import STFTTransformer

    X = np.random.default_rng(0).standard_normal((8000, channels))
    for method in ("fit", "fit_transform"):
        with pytest.raises(ValueError, match=r"clips of .* pass X\.T"):
            getattr(STFTTransformer(n_fft=256), method)(X)
    fitted = STFTTransformer(n_fft=256).fit(X.T)
    assert fitted.transform(X.T).shape[0] == channels
    with pytest.raises(ValueError, match="pass X.T"):
        STFTTransformer(n_fft=256).fit(np.zeros((1, 8000))).transform(
            np.zeros((8000, 1)))
