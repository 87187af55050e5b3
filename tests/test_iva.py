"""IVASeparator and simulated rooms: voices recorded by a microphone array in
a reverberant room are separated, projected back to the reference
microphone, and bad input is refused."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sksep import FastICASeparator, IVASeparator, STFTTransformer
from sksep.datasets import load_speech_demo, make_room_mixture
from sksep.decomposition import _iva
from sksep.metrics import image_scores

SR = 8000


@pytest.fixture(scope="module")
def voices():
    demo = load_speech_demo()
    n = 6 * SR
    return np.stack([demo.waveforms[0][:n], demo.waveforms[2][:n]], axis=1)  # F, M


@pytest.fixture(scope="module")
def room(voices):
    return make_room_mixture(voices, SR, n_mics=2, mic_spacing=0.05, rt60=0.15,
                             random_state=0)


def test_room_mixture_sums_its_images_and_delays_the_far_microphone(voices):
    mix, images = make_room_mixture(voices, SR, n_mics=3, mic_spacing=0.2, rt60=0.0,
                                    random_state=1)
    assert mix.shape == (voices.shape[0], 3) and images.shape == (2, voices.shape[0], 3)
    np.testing.assert_allclose(mix, images.sum(0), atol=1e-10)
    # anechoic: each microphone hears a delayed copy of the dry voice
    lag = [np.argmax(np.correlate(images[0, :4000, m], voices[:4000, 0], "full"))
           for m in range(3)]
    assert len(set(lag)) > 1  # 20 cm apart: different arrival times


def test_iva_separates_a_reverberant_room_by_10_db(room):
    mix, images = room
    est = IVASeparator(random_state=0).fit_transform(mix)
    scores = image_scores(images, est, mixture=mix)
    assert np.mean(scores["sdr_improvement"]) >= 10
    assert np.all(scores["sdr_improvement"] >= 5)
    # the instantaneous model cannot: a 5 cm spacing already delays a voice
    ica = FastICASeparator(random_state=0).fit_transform(mix)
    ica_scores = image_scores(images, ica, mixture=mix)
    assert np.mean(scores["sdr_improvement"]) > np.mean(ica_scores["sdr_improvement"]) + 5


# ILRMA does not reach tol in 30 iterations on this room: its warning is expected
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("params", [
    dict(update="iss"), dict(source_model="gauss"),
    dict(source_model="nmf", n_basis=4), dict(algorithm="fdica", max_iter=100)])
def test_every_variant_separates_the_room(room, params):
    mix, images = room
    est = IVASeparator(random_state=0, **params).fit_transform(mix)
    assert np.mean(image_scores(images, est, mixture=mix)["sdr_improvement"]) >= 6


def test_outputs_sum_to_the_reference_microphone(room):
    mix, _ = room
    for ref in (0, 1):
        est = IVASeparator(ref_channel=ref, random_state=0).fit_transform(mix)
        err = np.abs(est.sum(axis=1) - mix[:, ref]).max()
        assert err < 1e-8 * np.abs(mix).max()


def test_inverse_transform_returns_the_microphones(room):
    mix, _ = room
    iva = IVASeparator(random_state=0).fit(mix)
    back = iva.inverse_transform(iva.transform(mix))
    # exact at the reference microphone, within 20 dB elsewhere (the outputs'
    # STFT is re-analysed, so the room's filters act on resynthesised audio)
    assert np.abs(back[:, 0] - mix[:, 0]).max() < 1e-8 * np.abs(mix).max()
    err = np.sum((back[:, 1] - mix[:, 1]) ** 2) / np.sum(mix[:, 1] ** 2)
    assert 10 * np.log10(err) < -20


def test_fewer_sources_than_microphones(voices):
    mix, images = make_room_mixture(voices, SR, n_mics=4, mic_spacing=0.05, rt60=0.15,
                                    random_state=0)
    est = IVASeparator(n_components=2, random_state=0).fit_transform(mix)
    assert est.shape == (mix.shape[0], 2)
    assert np.mean(image_scores(images, est, mixture=mix)["sdr_improvement"]) >= 10


def test_model_fitted_on_one_recording_separates_another_from_the_room(voices):
    mix, images = make_room_mixture(voices, SR, rt60=0.15, random_state=0)
    half = mix.shape[0] // 2
    iva = IVASeparator(random_state=0).fit(mix[:half])
    est = iva.transform(mix[half:])
    scores = image_scores(images[:, half:], est, mixture=mix[half:])
    # 3 s to learn from: somewhat below a fit on the recording itself
    assert np.mean(scores["sdr_improvement"]) >= 6
    assert np.all(scores["sdr_improvement"] >= 2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_output_order_is_loudest_first_and_reproducible(room):
    mix, _ = room
    a = IVASeparator(source_model="nmf", random_state=0).fit_transform(mix)
    b = IVASeparator(source_model="nmf", random_state=0).fit_transform(mix)
    np.testing.assert_array_equal(a, b)
    power = np.mean(a**2, axis=0)
    assert power[0] >= power[1]


def test_fitted_filters_are_attributes(room):
    mix, _ = room
    iva = IVASeparator(stft=STFTTransformer(n_fft=512, hop_length=128)).fit(mix)
    assert iva.demixing_.shape == (257, 2, 2) and iva.mixing_.shape == (257, 2, 2)
    assert iva.n_components_ == 2 and 1 <= iva.n_iter_ <= 30


def test_iterations_stop_at_convergence(room):
    mix, _ = room
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        iva = IVASeparator(random_state=0).fit(mix)
    assert 1 < iva.n_iter_ < iva.max_iter


@pytest.mark.parametrize("algorithm", ["iva", "fdica"])
def test_unfinished_iterations_warn(room, algorithm):
    mix, _ = room
    iva = IVASeparator(algorithm=algorithm, max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        iva.fit(mix)
    assert iva.n_iter_ == 2


def test_tol_zero_runs_every_iteration_silently(room):
    mix, _ = room
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        iva = IVASeparator(max_iter=5, tol=0).fit(mix[:SR])
    assert iva.n_iter_ == 5


def test_default_window_is_256_ms_at_the_given_rate(room):
    mix, _ = room
    for rate, n_fft in [(None, 2048), (8000, 2048), (16000, 4096), (44100, 8192)]:
        iva = IVASeparator(sample_rate=rate, max_iter=1, tol=0).fit(mix)
        assert iva.stft_.n_fft == n_fft and iva.stft_.hop_length_ == n_fft // 4
    # an explicit front end wins; the rate still gives the streamer's latency
    iva = IVASeparator(stft=STFTTransformer(n_fft=512, hop_length=128),
                       sample_rate=16000, max_iter=1, tol=0).fit(mix)
    assert iva.stft_.n_fft == 512
    assert iva.streamer().latency_ms_ == pytest.approx(511 / 16)
    unfitted = IVASeparator(sample_rate=16000).streamer(n_channels=2)
    assert unfitted.latency_ == 4095


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_command_line_and_estimator_share_the_default_window(rate):
    from sksep._separate import room_stft

    cli, api = room_stft(rate), _iva.default_stft(rate)
    assert (cli.n_fft, cli.hop_length) == (api.n_fft, api.hop_length)


def test_blas_runs_on_one_thread_while_fitting(room, monkeypatch):
    from threadpoolctl import threadpool_info

    seen = []

    def spy(*args, **kwargs):
        seen.extend(lib["num_threads"] for lib in threadpool_info()
                    if lib["user_api"] == "blas")
        return auxiva(*args, **kwargs)

    auxiva = _iva.auxiva
    monkeypatch.setattr(_iva, "auxiva", spy)
    IVASeparator(max_iter=1, tol=0).fit(room[0][:SR])
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("X, params, message", [
    (np.random.default_rng(0).standard_normal((8000, 2)), dict(n_components=3),
     "set n_components <= 2"),
    (np.c_[np.random.default_rng(0).standard_normal(8000), np.zeros(8000)], {},
     r"Channel\(s\) \[1\] of X are silent"),
    (np.random.default_rng(0).standard_normal((300, 2)), {}, "too short"),
    (np.random.default_rng(0).standard_normal((8000, 2)), dict(ref_channel=2),
     "ref_channel=2"),
])
def test_bad_input_is_refused_clearly(X, params, message):
    with pytest.raises(ValueError, match=message):
        IVASeparator(**params).fit(X)


def test_image_scores_find_the_permutation_and_check_shapes():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 4000, 2))
    est = images[::-1, :, 0].T
    scores = image_scores(images, est)
    assert scores["perm"].tolist() == [1, 0] and np.all(scores["si_sdr"] > 100)
    with pytest.raises(ValueError, match="estimates must have shape"):
        image_scores(images, est[:100])


@pytest.mark.parametrize("params", [{}, dict(source_model="laplace"),
                                    dict(update="iss")])
def test_single_precision_separates_as_double_does(room, params):
    mix, images = room
    scores = {}
    for precision in ("double", "single"):
        est = IVASeparator(precision=precision, tol=0, random_state=0, **params)
        out = est.fit_transform(mix)
        assert out.dtype == mix.dtype and est.demixing_.dtype == np.complex128
        scores[precision] = image_scores(images, out, mixture=mix)["sdr_improvement"]
    assert np.all(np.abs(scores["single"] - scores["double"]) < 0.1)


def test_an_empty_band_is_left_out_of_the_iterations(room):
    # an all-zero band made every IP update singular (LinAlgError); it now
    # keeps its whitening only (finite, silent outputs), and the other
    # frequencies are demixed as they are without it
    from sksep.decomposition._iva import _spectrogram

    mix, _ = room
    est = IVASeparator(tol=0, max_iter=5)
    spec = _spectrogram(STFTTransformer(n_fft=512, hop_length=128).fit(mix.T[:1]), mix)
    empty = spec.copy()
    empty[200:] = 0
    with pytest.raises(np.linalg.LinAlgError):
        _iva.auxiva(_iva._whitening(empty, 2) @ empty, n_iter=1)
    demix, _ = est._demixing(empty, 2)
    alone, _ = est._demixing(spec[:200], 2)
    assert np.all(np.isfinite(demix)) and np.all(demix[200:] @ empty[200:] == 0)
    np.testing.assert_allclose(demix[:200], alone, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("failure", ["singular", "overflow"])
def test_single_precision_that_goes_singular_is_run_again_in_double(room, failure,
                                                                     monkeypatch):
    # a zero pivot raises LinAlgError; an overflow (weights beyond float32's
    # range in a near-empty band) gives non-finite rows without one, which
    # the pseudo-inverse would then reject ("SVD did not converge")
    auxiva = _iva.auxiva

    def fragile(Z, **kwargs):
        if Z.dtype == np.complex64:
            if failure == "singular":
                raise np.linalg.LinAlgError("Singular matrix")
            W, info = auxiva(Z, **kwargs)
            W[3, 0, 1] = np.nan
            return W, info
        return auxiva(Z, **kwargs)

    mix = room[0][:2 * SR]
    double = IVASeparator(tol=0, max_iter=3).fit(mix).demixing_
    monkeypatch.setattr(_iva, "auxiva", fragile)
    with pytest.warns(RuntimeWarning, match="ran it again in double precision"):
        single = IVASeparator(tol=0, max_iter=3, precision="single").fit(mix)
    np.testing.assert_array_equal(single.demixing_, double)


def test_the_default_stft_tunes_as_stft__n_fft_in_a_grid_search(room, voices):
    # stft=None is the room preset; tuning stft__n_fft makes it explicit
    # (a quarter-window hop kept) instead of failing on None.set_params
    from sklearn.model_selection import GridSearchCV, KFold

    from sksep.metrics import pit_si_sdr_scorer

    mix, _ = room
    est = IVASeparator(sample_rate=SR).set_params(stft__n_fft=1024)
    assert est.stft.get_params()["n_fft"] == 1024
    assert est.fit(mix).stft_.hop_length_ == 256
    default = IVASeparator(sample_rate=SR).set_params(stft__window="hann").fit(mix)
    np.testing.assert_array_equal(default.transform(mix),
                                  IVASeparator(sample_rate=SR).fit(mix).transform(mix))
    search = GridSearchCV(IVASeparator(sample_rate=SR), {"stft__n_fft": [512, 2048]},
                          scoring=pit_si_sdr_scorer, cv=KFold(2)).fit(mix, voices)
    assert search.best_params_["stft__n_fft"] in (512, 2048)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_a_new_sample_rate_and_a_nested_stft_parameter_set_together():
    # the default window follows the new rate (16 kHz: 4096 samples), and a
    # refused parameter leaves the estimator as it was
    est = IVASeparator().set_params(sample_rate=16000, stft__window="hann")
    assert est.stft.get_params()["n_fft"] == 4096
    est = IVASeparator()
    for bad in ({"stft__n_fft": 512, "bogus": 1}, {"stft__bogus": 1}):
        with pytest.raises(ValueError):
            est.set_params(**bad)
        assert est.stft is None
