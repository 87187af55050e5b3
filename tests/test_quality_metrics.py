"""STOI and PESQ through pystoi and pesq (the 'quality' extra), and the STOI
scorer."""

import sys
import warnings

import numpy as np
import pytest
from conftest import require

from sksep import FastICASeparator
from sksep.datasets import load_speech_demo
from sksep.metrics import make_stoi_scorer, pesq, stoi

SR = 8000


class Identity:
    """A "separator" that returns its input."""

    def transform(self, X):
        return X


@pytest.fixture(scope="module")
def speech():
    """Three seconds each of two demo voices (a woman, a man), float64."""
    demo = load_speech_demo(dtype="float64")
    return np.stack([demo.waveforms[0][:3 * SR], demo.waveforms[2][:3 * SR]])


@pytest.fixture(scope="module")
def noise(speech):
    return np.random.default_rng(0).standard_normal(speech.shape) * speech.std()


def test_stoi_is_one_for_clean_speech_and_low_for_noise(speech, noise):
    require("pystoi")
    clean = stoi(speech, speech, SR)
    assert clean.shape == (2,) and np.all(clean > 0.999)
    assert stoi(speech[0], 5 * speech[0], SR) > 0.999  # gain is free
    noisy = stoi(speech, speech + noise, SR)  # 0 dB white noise
    alone = stoi(speech, noise, SR)
    assert np.all(noisy < 0.85) and np.all(alone < 0.5) and np.all(alone < noisy)
    assert stoi(speech[0], noise[0], SR, extended=True) < 0.1


def test_stoi_is_vectorised_over_leading_axes_and_time_axis(speech, noise):
    require("pystoi")
    estimates = np.stack([speech, speech + noise, noise])  # (3, 2, n_times)
    scores = stoi(speech, estimates, SR)  # the reference broadcasts
    assert scores.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert scores[i, j] == stoi(speech[j], estimates[i, j], SR)
    np.testing.assert_array_equal(stoi(speech.T, estimates.transpose(0, 2, 1), SR,
                                       axis=-2), scores)
    assert isinstance(stoi(speech[0], speech[0], SR), float)


def test_pesq_orders_clean_above_noisy(speech, noise):
    require("pesq")
    scores = pesq(speech[0], [speech[0], speech[0] + 0.1 * noise[0],
                              speech[0] + noise[0]], SR)
    assert scores[0] > 4.0 and scores[0] > scores[1] > scores[2]
    import librosa
    wide = librosa.resample(speech[0], orig_sr=SR, target_sr=16000)
    noise16 = np.random.default_rng(1).standard_normal(wide.size) * wide.std()
    clean16, noisy16 = pesq(wide, [wide, wide + 0.3 * noise16], 16000)  # wide band
    assert clean16 > 4.5 and noisy16 < clean16 - 1
    assert pesq(wide, wide + 0.3 * noise16, 16000, mode="nb") < 4.0


def test_pesq_refuses_rates_and_modes_it_does_not_define(speech):
    with pytest.raises(ValueError, match="8000 Hz .* and 16000 Hz .* only"):
        pesq(speech[0], speech[0], 44100)
    with pytest.raises(ValueError, match="mode='wb'\\) needs sr=16000"):
        pesq(speech[0], speech[0], SR, mode="wb")
    with pytest.raises(ValueError, match="'mode' parameter of pesq must be a str among"):
        pesq(speech[0], speech[0], SR, mode="wide")
    require("pesq")
    with pytest.raises(ValueError, match="1/4 of a second"):
        pesq(speech[0, :800], speech[0, :800], SR)


def test_quality_metrics_refuse_bad_signals(speech):
    for metric in (stoi, pesq):
        with pytest.raises(ValueError, match="differ in length"):
            metric(speech[0], speech[0, :-1], SR)
        with pytest.raises(ValueError, match="silent"):
            metric(np.zeros(SR), speech[0, :SR], SR)
        with pytest.raises(ValueError, match="NaN"):
            metric(np.full(SR, np.nan), speech[0, :SR], SR)
        with pytest.raises(ValueError, match="sample rate"):
            metric(speech[0], speech[0], -8000)
        with pytest.raises(ValueError, match="do not broadcast"):
            metric(speech, speech[[0, 1, 0]], SR)


@pytest.mark.parametrize("package, call", [
    ("pystoi", lambda s: stoi(s, s, SR)),
    ("pesq", lambda s: pesq(s, s, SR)),
    ("pystoi", lambda s: make_stoi_scorer(SR)),
])
def test_missing_extra_says_how_to_install_it(monkeypatch, speech, package, call):
    monkeypatch.setitem(sys.modules, package, None)  # import now fails
    with pytest.raises(ImportError, match=r"pip install 'sksep\[quality\]'"):
        call(speech[0])


def test_stoi_scorer_in_a_grid_search_picks_the_separating_parameters(speech):
    require("pystoi")
    from sklearn.model_selection import GridSearchCV, KFold

    S = speech.T
    X = S @ np.array([[1.0, 0.6], [0.5, 1.0]]).T
    scorer = make_stoi_scorer(SR)
    assert repr(scorer) == "make_stoi_scorer(sr=8000, extended=False)"
    assert scorer(FastICASeparator(random_state=0).fit(X), X, S) > 0.99
    assert scorer(Identity(), X, S) < 0.8  # the mixture itself
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # max_iter=1 does not converge
        search = GridSearchCV(FastICASeparator(random_state=0),
                              {"max_iter": [1, 200]}, cv=KFold(2),
                              scoring=scorer).fit(X, S)
    assert search.best_params_ == {"max_iter": 200}
    assert search.best_score_ > 0.99 > search.cv_results_["mean_test_score"][0]


def test_stoi_scorer_leaves_a_silent_source_out_with_one_warning(speech):
    require("pystoi")
    S = np.c_[speech[0], np.zeros(speech.shape[1])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = make_stoi_scorer(SR)(Identity(), S[:, ::-1], S)
    assert score > 0.999  # matched to the right column despite the order
    assert [str(w.message) for w in caught] == [
        "True source(s) [1] are silent in this fold; they are left out of its "
        "mean STOI."]
    with pytest.raises(ValueError, match="'sr' parameter of make_stoi_scorer must be a positive integer"):
        make_stoi_scorer(0)
