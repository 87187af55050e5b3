"""Persistence and reproducibility of every estimator.

Every fitted estimator round-trips through pickle and joblib with identical
outputs, and the same random_state gives bit-identical outputs on the CPU,
with one thread or two.
"""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from sksep import CNNAutoencoderSeparator, FastICASeparator, MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_demo

SMALL_STFT = STFTTransformer(n_fft=64, hop_length=16)
ESTIMATORS = {
    "ica-parallel": FastICASeparator(random_state=3),
    "ica-deflation": FastICASeparator(algorithm="deflation", fun="exp", random_state=3),
    "stft-griffin-lim": STFTTransformer(n_fft=64, output="magnitude", n_iter=8,
                                        random_state=3),
    "mask-blstm": MaskEstimator(hidden_size=8, max_epochs=2, stft=SMALL_STFT,
                                random_state=3),
    "mask-lstm-softmax": MaskEstimator(hidden_size=8, kind="lstm",
                                       mask_activation="softmax", loss="psa",
                                       max_epochs=2, stft=SMALL_STFT, random_state=3),
    "mask-tcn": MaskEstimator(hidden_size=8, kind="causal-tcn", loss="magnitude", max_epochs=2,
                              stft=SMALL_STFT, speed_perturb=(0.9, 1.1), random_state=3),
    "cnn-class-fixed": CNNAutoencoderSeparator(freq_filters=4, time_filters=4,
                                               bottleneck=8, segment_frames=8,
                                               max_epochs=2, stft=SMALL_STFT,
                                               random_state=3),
    "cnn-pit-si-sdr": CNNAutoencoderSeparator(freq_filters=4, time_filters=4,
                                              bottleneck=8, segment_frames=8,
                                              permutation_invariant=True, loss="si_sdr",
                                              max_epochs=2, stft=SMALL_STFT,
                                              random_state=3),
}


@pytest.fixture(scope="module")
def data():
    demo = load_demo(speakers=["george", "lucas", "theo"], digits=range(5))
    clips = fix_length(demo.waveforms, 1600)
    rng = np.random.default_rng(0)
    mics = rng.laplace(size=(4000, 3)) @ rng.normal(size=(3, 3))
    return clips, demo.speaker, mics


def _fit_and_apply(est, data):
    clips, speakers, mics = data
    if isinstance(est, FastICASeparator):
        est.fit(mics)
        return est, est.transform(mics)
    if isinstance(est, STFTTransformer):
        est.fit(clips)
        return est, est.inverse_transform(est.transform(clips[:3]))
    est.fit(clips, speakers)
    return est, est.transform(clips[:4] + clips[20:24])


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_gives_bit_identical_outputs(name, threads, data):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _, first = _fit_and_apply(clone(ESTIMATORS[name]), data)
        _, second = _fit_and_apply(clone(ESTIMATORS[name]), data)
    finally:
        torch.set_num_threads(before)
    assert first.dtype == second.dtype
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_pickle_and_joblib_round_trips_give_identical_outputs(name, data, tmp_path):
    est, expected = _fit_and_apply(clone(ESTIMATORS[name]), data)
    joblib.dump(est, tmp_path / "est.joblib")
    clips, _, mics = data
    for loaded in (pickle.loads(pickle.dumps(est)), joblib.load(tmp_path / "est.joblib")):
        if isinstance(est, FastICASeparator):
            out = loaded.transform(mics)
        elif isinstance(est, STFTTransformer):
            out = loaded.inverse_transform(loaded.transform(clips[:3]))
        else:
            out = loaded.transform(clips[:4] + clips[20:24])
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("name", ["ica-parallel", "stft-griffin-lim", "mask-blstm"])
def test_pickles_from_another_sksep_version_warn(name, data):
    from sksep.pretrained import SksepVersionWarning

    est, expected = _fit_and_apply(clone(ESTIMATORS[name]), data)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SksepVersionWarning)
        pickle.loads(pickle.dumps(est))          # same version: silent
    state = est.__getstate__()
    state["_sksep_version"] = "0.0.1"
    old = type(est).__new__(type(est))
    with pytest.warns(SksepVersionWarning, match="pickled by sksep 0.0.1"):
        old.__setstate__(state)
