"""sksep.datasets: mixtures that sum exactly, loaders that never download
and fail clearly."""

import numpy as np
import pytest

from sksep.datasets import (
    FSDD_SPEAKERS,
    load_demo,
    load_fsdd,
    load_fsdd_sources,
    make_clip_mixtures,
    make_instantaneous_mixture,
    random_mixing_matrix,
)


def test_instantaneous_mixture_is_sources_times_mixing(rng):
    S = rng.laplace(size=(1000, 3)).astype(np.float32)
    X, A = make_instantaneous_mixture(S, n_channels=4, random_state=0)
    assert X.shape == (1000, 4) and A.shape == (4, 3) and X.dtype == np.float32
    np.testing.assert_allclose(X, S @ A.T.astype(np.float32), rtol=1e-6)
    assert np.linalg.cond(A) <= 10
    X2, A2 = make_instantaneous_mixture(S, mixing=A)
    np.testing.assert_array_equal(A2, A)
    with pytest.raises(ValueError, match="n_channels=2 < n_sources=3"):
        make_instantaneous_mixture(S, n_channels=2)
    with pytest.raises(ValueError, match="mixing has 2 columns"):
        make_instantaneous_mixture(S, mixing=np.eye(2))


def test_random_mixing_matrix_is_seeded(rng):
    np.testing.assert_array_equal(random_mixing_matrix(3, 3, random_state=1),
                                  random_mixing_matrix(3, 3, random_state=1))


@pytest.mark.parametrize("n_sources", [2, 3])
def test_clip_mixtures_sum_exactly_with_different_speakers(rng, n_sources):
    # utterances of "speaker" k are tones at (k + 1) * 500 Hz, so the speaker
    # behind every source can be read off its spectrum
    t = np.arange(2000) / 8000
    labels = np.repeat(np.arange(4), 6)
    utts = [np.sin(2 * np.pi * (k + 1) * 500 * t[: rng.integers(800, 2000)])
            for k in labels]
    X, Y = make_clip_mixtures(utts, n_sources=n_sources, n_times=3000,
                              labels=labels, snr_db=(-5, 5), random_state=0)
    assert X.shape == (len(utts) // n_sources, 3000)
    assert Y.shape == (X.shape[0], n_sources, 3000)
    np.testing.assert_array_equal(X, Y.sum(axis=1))
    peak_hz = np.argmax(np.abs(np.fft.rfft(Y, axis=-1)), axis=-1) * 8000 / 3000
    speaker = np.round(peak_hz / 500).astype(int) - 1
    assert all(len(set(row)) == n_sources for row in speaker)


def test_clip_mixture_levels_follow_snr_db():
    demo = load_demo()
    X, Y = make_clip_mixtures(demo.waveforms, n_times=8000, labels=demo.speaker,
                              snr_db=6.0, random_state=0)
    power = np.mean(Y.astype(np.float64) ** 2, axis=2)
    np.testing.assert_allclose(10 * np.log10(power[:, 0] / power[:, 1]), 6.0, atol=1e-3)


def test_clip_mixtures_are_seeded_and_offsets_vary():
    demo = load_demo()
    a = make_clip_mixtures(demo.waveforms, n_times=10_000, random_state=3)
    b = make_clip_mixtures(demo.waveforms, n_times=10_000, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    first_sample = [np.flatnonzero(y)[0] for y in a[1][:, 0]]
    assert len(set(first_sample)) > 5


def test_clip_mixture_errors():
    utts = [np.ones(100), np.ones(50)]
    with pytest.raises(ValueError, match="only 1 distinct labels"):
        make_clip_mixtures(utts, n_times=100, labels=["a", "a"])
    with pytest.raises(ValueError, match="labels has shape"):
        make_clip_mixtures(utts, n_times=100, labels=["a"])
    with pytest.raises(ValueError, match=r"utterances\[1\] contains NaN"):
        make_clip_mixtures([np.ones(10), np.array([np.nan])], n_times=10)
    with pytest.raises(ValueError, match="n_sources=3 but only 2"):
        make_clip_mixtures(utts, n_times=100, n_sources=3)
    with pytest.raises(ValueError, match="'n_times' parameter of make_clip_mixtures must be an int"):
        make_clip_mixtures(utts, n_times=0)


def test_load_demo_ships_all_speakers_with_attribution():
    demo = load_demo()
    assert len(demo.waveforms) == 120 and demo.sr == 8000
    assert set(demo.speaker.tolist()) == set(FSDD_SPEAKERS)
    assert "CC BY-SA 4.0" in demo.DESCR
    assert all(w.dtype == np.float32 and np.abs(w).max() <= 1 for w in demo.waveforms)


def test_load_fsdd_filters_and_labels(fsdd_home):
    data = load_fsdd(fsdd_home, speakers=["theo", "george"], digits=[3], indices=range(5))
    assert len(data.waveforms) == 10
    assert set(data.speaker.tolist()) == {"theo", "george"}
    assert set(data.digit.tolist()) == {3} and set(data.index.tolist()) == set(range(5))
    assert data.sr == 8000


def test_load_fsdd_reads_the_environment_variable(fsdd_home, monkeypatch):
    monkeypatch.setenv("SKSEP_DATA", str(fsdd_home))
    assert len(load_fsdd(speakers="lucas", digits=0).waveforms) == 50


def test_load_fsdd_sources_shape(fsdd_home):
    S = load_fsdd_sources(fsdd_home, speakers=["theo", "lucas"], n_samples=50_000,
                          indices=[0])
    assert S.shape == (50_000, 2)


def test_missing_data_folder_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SKSEP_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="SKSEP_DATA is not set"):
        load_fsdd()
    with pytest.raises(FileNotFoundError, match="free-spoken-digit-dataset"):
        load_fsdd(tmp_path)
    with pytest.raises(ValueError, match="Unknown FSDD speaker"):
        load_demo(speakers=["alice"])
