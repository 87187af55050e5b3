"""Speech in noise: the noise8k loader and mixtures at an exact SNR."""

import os
from pathlib import Path

import numpy as np
import pytest

from sksep.datasets import load_noise8k, make_noisy_mixture

ROOT = Path(__file__).resolve().parents[1]
NOISE8K = Path(os.environ.get("SKSEP_NOISE8K",
                              ROOT.parent / "shared" / "data" / "noise8k"))
SR = 8000


@pytest.fixture(scope="module")
def noise8k_home():
    """The local noise8k folder, or a skip saying why."""
    from conftest import skip_or_fail

    if not (NOISE8K / "files.csv").is_file():
        skip_or_fail(
            f"noise8k not found at {NOISE8K} (set SKSEP_NOISE8K to the folder "
            "holding files.csv)."
        )
    return NOISE8K


def snr(speech, noise):
    speech, noise = np.asarray(speech, np.float64), np.asarray(noise, np.float64)
    return 10 * np.log10(np.sum(speech**2, axis=-1) / np.sum(noise**2, axis=-1))


# -- the loader --------------------------------------------------------------

def test_loader_splits_are_disjoint_by_source_recording(noise8k_home):
    data = load_noise8k(noise8k_home)
    assert data.sr == SR and len(data.waveforms) == 390
    counts = [np.sum(data.split == s) for s in ("train", "valid", "test")]
    assert counts == [274, 57, 59]
    assert all(w.ndim == 1 and w.dtype == np.float32 for w in data.waveforms)
    # ESC-50 names files {fold}-{freesound id}-{take}-{class}: one recording,
    # cut into several clips, never reaches two splits
    recording = np.array([Path(f).stem.split("-")[1] if s == "esc50" else Path(f).stem
                          for f, s in zip(data.filenames, data.source)])
    by_split = {s: set(recording[data.split == s]) for s in ("train", "valid", "test")}
    assert not (by_split["train"] & by_split["valid"])
    assert not (by_split["train"] & by_split["test"])
    assert not (by_split["valid"] & by_split["test"])
    assert "CC BY" in data.DESCR
    assert all(data.attribution[data.license == "CC-BY"])


def test_loader_filters_by_category_and_speechlike(noise8k_home, monkeypatch):
    monkeypatch.setenv("SKSEP_NOISE8K", str(noise8k_home))
    rain = load_noise8k(split=["valid", "test"], category="rain")
    assert set(rain.category) == {"rain"} and set(rain.split) <= {"valid", "test"}
    voices = load_noise8k(noise8k_home, speechlike=True)
    assert voices.speechlike.all() and len(voices.waveforms) == 54
    assert {"laughing", "coughing", "dude_miaowing"} <= set(voices.category)
    quiet = load_noise8k(noise8k_home, split="test", speechlike=False)
    assert not quiet.speechlike.any() and len(quiet.waveforms) == 59 - 8
    assert not set(quiet.category) & set(voices.category)
    two = load_noise8k(noise8k_home, category=["running_tap", "white_noise"])
    assert sorted(two.category) == ["running_tap", "white_noise"]
    assert min(len(w) for w in two.waveforms) >= 60 * SR  # long recordings
    with pytest.raises(ValueError, match="No noise8k recording matches"):
        load_noise8k(noise8k_home, category="laughing", speechlike=False)


def test_loader_missing_folder_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SKSEP_NOISE8K", raising=False)
    with pytest.raises(FileNotFoundError, match="SKSEP_NOISE8K"):
        load_noise8k()
    with pytest.raises(FileNotFoundError, match="noise8k index 'files.csv'"):
        load_noise8k(tmp_path)


def test_loader_rejects_unknown_category_split_and_speechlike(noise8k_home):
    with pytest.raises(ValueError, match=r"Unknown category \['dgo'\].*'dog'"):
        load_noise8k(noise8k_home, category=["dog", "dgo"])
    with pytest.raises(ValueError, match="Unknown split"):
        load_noise8k(noise8k_home, split="dev")
    with pytest.raises(ValueError, match="'speechlike' parameter of load_noise8k must be an instance of 'bool'"):
        load_noise8k(noise8k_home, speechlike="yes")


# -- mixtures ----------------------------------------------------------------

@pytest.mark.parametrize("n_noise", [300, 8000, 20000])  # tiled, same, cropped
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mixture_has_the_stated_snr_and_is_the_exact_sum(n_noise, dtype):
    rng = np.random.default_rng(0)
    speech = (0.1 * rng.standard_normal(8000)).astype(dtype)
    noise = rng.uniform(-1, 1, n_noise)
    for target in (-5.0, 0.0, 12.5):
        mix, clean, scaled = make_noisy_mixture(speech, noise, target, random_state=0)
        assert mix.shape == clean.shape == scaled.shape == (8000,)
        assert mix.dtype == clean.dtype == scaled.dtype == dtype
        np.testing.assert_array_equal(clean, speech)
        np.testing.assert_array_equal(mix, clean + scaled)
        assert abs(snr(clean, scaled) - target) < 0.01


def test_mixture_cuts_the_noise_at_a_random_offset_or_tiles_it():
    speech = np.random.default_rng(1).standard_normal(1000)
    ramp = np.arange(1.0, 5001.0)  # sample k of the noise is k + 1
    starts = set()
    for seed in range(5):
        _, _, scaled = make_noisy_mixture(speech, ramp, 0, random_state=seed)
        gain = scaled[1] - scaled[0]
        window = scaled / gain  # a window of the ramp: start + 1, start + 2, ...
        np.testing.assert_allclose(window, window[0] + np.arange(1000), rtol=1e-9)
        assert 1 <= round(window[0]) <= 4001
        starts.add(round(window[0]))
    assert len(starts) > 1  # random offsets
    short = np.arange(1.0, 301.0)
    _, _, tiled = make_noisy_mixture(speech, short, 0, random_state=0)
    np.testing.assert_allclose(tiled[300:], tiled[:-300])  # repeats the noise
    values = np.round(tiled / tiled.min()).astype(int)
    assert set(values) == set(range(1, 301))


def test_mixture_never_draws_a_silent_window():
    speech = np.random.default_rng(2).standard_normal(500)
    noise = np.zeros(10_000)
    noise[7000:7600] = 1.0  # one burst, like an ESC-50 clip padded with silence
    for seed in range(20):
        _, _, scaled = make_noisy_mixture(speech, noise, 3.0, random_state=seed)
        assert abs(snr(speech, scaled) - 3.0) < 0.01


def test_mixture_is_reproducible_and_draws_snr_per_clip():
    rng = np.random.default_rng(3)
    speech = rng.standard_normal((4, 2000)).astype(np.float32)
    noise = rng.standard_normal(9000)
    first = make_noisy_mixture(speech, noise, (0, 20), random_state=7)
    again = make_noisy_mixture(speech, noise, (0, 20), random_state=7)
    other = make_noisy_mixture(speech, noise, (0, 20), random_state=8)
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], other[0])
    snrs = snr(first[1], first[2])
    assert snrs.shape == (4,) and np.all((snrs > 0) & (snrs < 20))
    assert np.ptp(snrs) > 1  # one SNR per clip
    # one noise per clip
    mix, clean, scaled = make_noisy_mixture(speech, [noise[:700]] * 4, 5,
                                            random_state=0)
    assert mix.shape == (4, 2000)
    np.testing.assert_allclose(snr(clean, scaled), 5, atol=0.01)


@pytest.mark.parametrize("bad", [(10, 5), (0, np.nan), np.inf, "loud", (1, 2, 3),
                                 None, True])
def test_mixture_refuses_a_bad_snr(bad):
    with pytest.raises(ValueError, match="snr_db must be a finite number"):
        make_noisy_mixture(np.ones(100), np.ones(200), bad)


def test_mixture_refuses_silence_and_mismatched_noises():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="silent"):
        make_noisy_mixture(np.zeros(100), rng.standard_normal(200), 0)
    with pytest.raises(ValueError, match="noise is silent"):
        make_noisy_mixture(rng.standard_normal(100), np.zeros(200), 0)
    with pytest.raises(ValueError, match="2 noises for 3 speech clip"):
        make_noisy_mixture(rng.standard_normal((3, 100)), [np.ones(50)] * 2, 0)
    with pytest.raises(ValueError, match="NaN"):
        make_noisy_mixture(np.full(100, np.nan), np.ones(200), 0)
    with pytest.raises(ValueError, match="non-empty"):
        make_noisy_mixture(np.ones((2, 2, 100)), np.ones(200), 0)


def test_mixture_with_real_noise(noise8k_home):
    noise = load_noise8k(noise8k_home, split="test", category="running_tap")
    speech = np.random.default_rng(5).standard_normal((2, 4 * SR)).astype(np.float32)
    mix, clean, scaled = make_noisy_mixture(speech, noise.waveforms[0], (5, 15),
                                            random_state=0)
    assert mix.dtype == np.float32 and mix.shape == (2, 4 * SR)
    snrs = snr(clean, scaled)
    assert np.all((snrs >= 5 - 0.01) & (snrs <= 15 + 0.01))
