"""Continuous speech: the speech8k loader, training on clips of different
lengths, the contract details of the deep separators, and long recordings
separated without swapping voices."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_methods_subset_invariance

from sksep import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
from sksep.datasets import load_demo, load_speech8k, load_speech_demo, make_conversation
from sksep.metrics import pit_si_sdr, si_sdr_improvement
from sksep.neural._callbacks import valid_si_sdr

SR = 8000


# -- the loader --------------------------------------------------------------

def test_loader_splits_are_disjoint_by_speaker_and_carry_sex(speech8k_home):
    data = load_speech8k(speech8k_home, max_files_per_speaker=1)
    assert data.sr == SR
    assert len(data.waveforms) == 501  # one recording of each speaker
    by_split = {s: set(data.speaker[data.split == s]) for s in ("train", "valid", "test")}
    assert [len(by_split[s]) for s in ("train", "valid", "test")] == [411, 20, 70]
    assert not (by_split["train"] & by_split["test"])
    assert not (by_split["valid"] & by_split["test"])
    assert set(data.sex) == {"F", "M"}
    assert all(w.ndim == 1 and w.dtype == np.float32 for w in data.waveforms)
    assert "CC BY 4.0" in data.DESCR


def test_loader_filters_and_reads_the_environment(speech8k_home, monkeypatch):
    monkeypatch.setenv("SKSEP_SPEECH8K", str(speech8k_home))
    valid = load_speech8k(split="valid", sex="F")
    assert set(valid.split) == {"valid"} and set(valid.sex) == {"F"}
    assert len(set(valid.speaker)) == 10
    lengths = {len(w) for w in valid.waveforms}
    assert len(lengths) > 1  # continuous speech: clips of many lengths


def test_loader_missing_folder_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SKSEP_SPEECH8K", raising=False)
    with pytest.raises(FileNotFoundError, match="SKSEP_SPEECH8K"):
        load_speech8k()
    with pytest.raises(FileNotFoundError, match="files.csv"):
        load_speech8k(tmp_path)


@pytest.mark.parametrize("ci, outcome", [("", pytest.skip.Exception),
                                         ("false", pytest.skip.Exception),
                                         ("1", pytest.fail.Exception),
                                         ("true", pytest.fail.Exception)])
def test_a_missing_corpus_or_extra_fails_under_ci(monkeypatch, ci, outcome):
    """The corpus fixtures and the test extras skip on a developer's
    machine, and fail when the environment variable CI is set."""
    from conftest import require, skip_or_fail

    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="speech8k not found"):
        skip_or_fail("speech8k not found at /nowhere")
    with pytest.raises(outcome, match="no_such_extra is not installed"):
        require("no_such_extra")


def test_loader_rejects_unknown_split(speech8k_home):
    with pytest.raises(ValueError, match="Unknown split"):
        load_speech8k(speech8k_home, split="dev")


# -- training on clips of different lengths ----------------------------------

@pytest.fixture(scope="module")
def ragged_demo():
    demo = load_demo()
    return demo.waveforms, demo.speaker  # 120 digits, 0.3 to 0.9 s


def test_clips_of_different_lengths_train_with_segment_length(ragged_demo):
    clips, speakers = ragged_demo
    assert len({len(c) for c in clips}) > 10
    train = ~np.isin(speakers, ["george", "jackson"])
    est = MaskEstimator(kind="tcn", hidden_size=32, num_layers=4, segment_length=4000,
                        max_epochs=6, lr=3e-3, random_state=0)
    est.fit([c for c, t in zip(clips, train) if t], speakers[train])
    assert est.n_features_in_ == 4000
    mix = np.zeros((1, 4000), dtype=np.float32)
    assert est.transform(mix).shape == (1, 8000)
    # mixtures of the two voices it never heard get better
    held = [c for c, t in zip(clips, train) if not t]
    assert est.score(held, speakers[~train]) > 1.0


def test_clips_of_different_lengths_need_segment_length(ragged_demo):
    clips, speakers = ragged_demo
    with pytest.raises(ValueError, match="different lengths.*segment_length"):
        MaskEstimator(max_epochs=1).fit(clips, speakers)


def test_validation_set_of_other_speakers_is_used(ragged_demo):
    clips, speakers = ragged_demo
    train = ~np.isin(speakers, ["george", "jackson"])
    held = [c for c, t in zip(clips, train) if not t]
    # valid_fraction=0: a validation score can only come from `validation`
    est = MaskEstimator(hidden_size=8, num_layers=1, segment_length=2000, max_epochs=2,
                        valid_fraction=0.0, random_state=0)
    est.fit([c for c, t in zip(clips, train) if t], speakers[train],
            validation=(held, speakers[~train]))
    history = est.net_.history[:, "valid_si_sdr"]
    assert len(history) == 2
    # scored on mixtures of the given clips, with the network it keeps
    valid = est.net_.train_split.keywords["valid_ds"]
    assert len(valid.clips) == len(held)
    assert all(np.array_equal(a, b) for a, b in zip(valid.clips, held))
    assert valid_si_sdr(est.net_, valid) == pytest.approx(max(history), abs=1e-4)
    with pytest.raises(ValueError, match="validation must be a pair"):
        est.fit(clips, speakers, validation=clips)


# -- contract details -----------------------------------------------------------

def test_one_speaker_training_warns(ragged_demo):
    clips, speakers = ragged_demo
    one = [c for c, s in zip(clips, speakers) if s == "theo"]
    with pytest.warns(UserWarning, match="single label.*itself"):
        MaskEstimator(hidden_size=4, num_layers=1, segment_length=2000, max_epochs=1,
                      random_state=0).fit(one, ["theo"] * len(one))


@pytest.mark.parametrize("cls", [CNNAutoencoderSeparator, MaskEstimator])
def test_outputs_do_not_depend_on_batch_composition(cls):
    # default networks (only the STFT made tiny for sklearn's 3-feature data)
    est = cls(stft=STFTTransformer(n_fft=2, hop_length=1), max_epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_methods_subset_invariance(cls.__name__, est)


def test_neural_layer_does_not_import_pretrained():
    code = ("import sys, sksep.neural._base, sksep.neural._mask, sksep.neural._cnn; "
            "print('sksep.pretrained' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# -- long recordings -----------------------------------------------------------------

@pytest.fixture(scope="module")
def default_model():
    from sksep.pretrained import load

    return load("speech8k-2voices")


def _swapped_windows(ref, est, perm, window=4 * SR):
    swapped = []
    for start in range(0, ref.shape[1] - window + 1, window):
        w = slice(start, start + window)
        _, p = pit_si_sdr(ref[None, :, w], est[None, :, w])
        if not np.array_equal(p[0], perm[0]):
            swapped.append(start / SR)
    return swapped


# a woman and a man the model never heard (speech8k test speakers)
@pytest.mark.parametrize("pair", [(0, 2), (1, 3)])
def test_long_conversation_keeps_each_voice_on_one_output(default_model, pair):
    demo = load_speech_demo()
    mix, ref = make_conversation([[demo.waveforms[k]] for k in pair],
                                 n_times=40 * SR, random_state=0)
    whole = default_model.separate(mix, chunk_size=None)
    # 8 s chunks: five stitching decisions, each must keep the order (here
    # a woman and a man; chunks this short are warned of, as they can swap)
    with pytest.warns(UserWarning, match="shorter than 20 s"):
        chunked = default_model.separate(mix, chunk_size=8 * SR)
    scores = {}
    for name, est in (("whole", whole), ("chunked", chunked)):
        _, perm = pit_si_sdr(ref[None], est[None])  # ONE order for all 40 s
        scores[name] = np.mean(si_sdr_improvement(ref, est[perm[0]], mix))
        assert _swapped_windows(ref, est, perm) == [], name
    assert scores["whole"] > 3.0
    assert abs(scores["chunked"] - scores["whole"]) < 0.5


def test_conversation_sums_exactly_and_keeps_its_levels():
    demo = load_speech_demo()
    mix, ref = make_conversation([[demo.waveforms[0]], [demo.waveforms[2]]],
                                 n_times=30 * SR, snr_db=6.0, random_state=1)
    np.testing.assert_allclose(mix, ref.sum(0), atol=1e-6)
    power = np.mean(ref.astype(np.float64) ** 2, axis=1)
    assert 10 * np.log10(power[0] / power[1]) == pytest.approx(6.0, abs=1e-4)
    with pytest.raises(ValueError, match="at least 2 speakers"):
        make_conversation([[demo.waveforms[0]]], n_times=8000)
