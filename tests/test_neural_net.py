"""Training through skorch (sksep.neural._net): the separator's net, its
callbacks, the hold-out for early stopping, and continued training of a
network that was not trained by this net."""

import copy

import numpy as np
import pytest
import torch
from skorch import NeuralNet

from sksep import MaskEstimator, STFTTransformer
from sksep.datasets import fix_length, load_demo
from sksep.neural._net import SeparatorNet, holdout
from sksep.nn import MaskNet, SeparationLoss, SpectralSeparator


@pytest.fixture(scope="module")
def clips():
    demo = load_demo()
    return fix_length(demo.waveforms, 2000), demo.speaker


def _names(net):
    return [name for name, _ in net.initialize().callbacks_]


def test_callbacks_follow_the_settings():
    module = SpectralSeparator(MaskNet(33, 2, hidden_size=4, num_layers=1), 64, 16,
                               torch.hann_window(64))
    plain = SeparatorNet(module, train_split=None)
    assert "valid_si_sdr" not in _names(plain) and "gradient_clip" not in _names(plain)
    full = SeparatorNet(module, train_split=lambda ds, y=None: (ds, ds),
                        gradient_clip=1.0, progress_bar=True, patience=3)
    names = _names(full)
    assert {"valid_si_sdr", "early_stopping", "epoch_counter", "gradient_clip",
            "progress_bar"} <= set(names)
    assert dict(full.callbacks_)["early_stopping"].patience == 3
    # the criterion scores on the module's own STFT
    assert isinstance(full.criterion_, SeparationLoss)
    assert (full.criterion_.n_fft, full.criterion_.hop_length) == (64, 16)
    assert torch.equal(full.criterion_.window, module.window)


@pytest.mark.parametrize("seed", range(20))
def test_class_fixed_holdout_keeps_every_class_on_both_sides(seed):
    codes = np.array([0] * 30 + [1] * 3 + [2] * 2)       # rare classes
    valid_idx, train_idx = holdout(len(codes), codes, 0.1,
                                   np.random.default_rng(seed), n_classes=3)
    assert sorted(np.concatenate([valid_idx, train_idx]).tolist()) == list(range(35))
    assert set(codes[valid_idx]) == set(codes[train_idx]) == {0, 1, 2}


def test_holdout_is_none_when_a_side_would_be_empty():
    rng = np.random.default_rng(0)
    assert holdout(4, None, 0.1, rng) is None              # rounds to no clip
    assert holdout(4, None, 0.0, rng) is None
    valid_idx, train_idx = holdout(20, None, 0.25, rng)
    assert len(valid_idx) == 5 and len(train_idx) == 15


def test_a_plain_skorch_net_continues_training_as_this_net_would(clips):
    """An older pickle holds a plain NeuralNet: training it continues with
    its optimizer state and history, exactly as the separator's own net."""
    X, y = clips
    est = MaskEstimator(hidden_size=8, num_layers=1, max_epochs=2, random_state=0,
                        stft=STFTTransformer(n_fft=128, hop_length=32)).fit(X, y)
    old = copy.deepcopy(est)
    net = old.net_
    plain = NeuralNet(net.module_, criterion=net.criterion_, optimizer=net.optimizer,
                      lr=net.lr, train_split=None).initialize()
    plain.optimizer_.load_state_dict(net.optimizer_.state_dict())
    plain.history = net.history
    old.net_ = plain
    est.set_params(max_epochs=1).partial_fit(X, y)
    old.set_params(max_epochs=1).partial_fit(X, y)
    assert isinstance(old.net_, SeparatorNet) and old.n_epochs_ == est.n_epochs_ == 3
    for a, b in zip(est.net_.module_.parameters(), old.net_.module_.parameters()):
        assert torch.equal(a, b)
