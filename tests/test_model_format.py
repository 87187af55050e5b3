"""The model file's network (sksep.pretrained._format): read from the network
itself, it rebuilds that network exactly, so a file holds what was trained
even when it is not what the estimator's parameters would build."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from sksep.nn import CNNAutoencoder, MaskNet, SpectralSeparator
from sksep.pretrained import list_models, load, save
from sksep.pretrained._format import build_network, network_config

WINDOW = torch.hann_window(64, dtype=torch.float64).numpy()
MASK_NETS = [
    MaskNet(33, 2, hidden_size=6, num_layers=3, kind="blstm"),
    MaskNet(33, 3, hidden_size=5, num_layers=1, kind="lstm", activation="softmax"),
    MaskNet(33, 2, hidden_size=4, num_layers=10, kind="tcn"),
    MaskNet(33, 2, hidden_size=4, num_layers=2, kind="causal-tcn"),
    MaskNet(33, 2, hidden_size=5, num_layers=2, kind="dual-path"),
    CNNAutoencoder(33, 3, segment_frames=6, freq_filters=3, time_filters=2,
                   time_kernel=9, bottleneck=7, eps=1e-6),
]


@pytest.mark.parametrize("mask_net", MASK_NETS, ids=lambda m: getattr(m, "kind", "cnn"))
def test_the_config_rebuilds_the_network_that_gives_the_same_outputs(mask_net):
    torch.manual_seed(0)
    module = SpectralSeparator(mask_net, 64, 16, WINDOW, center=True,
                               pad_mode="constant")
    rebuilt = build_network(network_config(module), WINDOW)
    rebuilt.load_state_dict(module.state_dict())     # every weight fits
    x = torch.randn(2, 1000)
    module.eval(), rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(module(x)["wave"], rebuilt(x)["wave"])
    assert network_config(rebuilt) == network_config(module)


def test_a_network_that_is_not_a_separator_s_is_refused():
    module = SpectralSeparator(torch.nn.Identity(), 64, 16, WINDOW)
    with pytest.raises(ValueError, match="Only MaskNet and CNNAutoencoder"):
        network_config(module)


@pytest.mark.parametrize("name", sorted(list_models()))
def test_a_shipped_model_written_again_loads_with_the_same_outputs(tmp_path, name):
    """Shipped files predate the network entry; written now they carry it."""
    model = load(name)
    save(model, tmp_path / "m.pt")
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    assert state["network"] == network_config(model.net_.module_)
    x = np.random.default_rng(0).normal(size=3000).astype("float32") * 0.1
    np.testing.assert_array_equal(load(tmp_path / "m.pt").separate(x, sr=8000),
                                  model.separate(x, sr=8000))


def test_a_replaced_network_of_another_size_is_what_the_file_holds(tmp_path):
    model = load("fsdd-2speakers")
    old = model.net_.module_
    args = network_config(old)["mask_net"]["args"]
    torch.manual_seed(1)
    model.net_.module_ = SpectralSeparator(
        MaskNet(**{**args, "hidden_size": args["hidden_size"] + 3}), old.n_fft,
        old.hop_length, old.window.numpy(), center=old.center, pad_mode=old.pad_mode)
    save(model, tmp_path / "m.pt")
    back = load(tmp_path / "m.pt")
    assert back.net_.module_.mask_net.body.hidden_size == args["hidden_size"] + 3
    x = np.random.default_rng(1).normal(size=3000).astype("float32") * 0.1
    np.testing.assert_array_equal(back.separate(x, sr=8000), model.separate(x, sr=8000))


def test_a_file_written_now_separates_without_skorch(tmp_path):
    save(load("fsdd-2speakers-cnn"), tmp_path / "m.pt")
    code = f"""
import sys
import numpy as np
from sksep.pretrained import load
model = load({str(tmp_path / "m.pt")!r})
assert model.separate(np.zeros(4000, "float32"), sr=8000).shape == (2, 4000)
assert 'skorch' not in sys.modules, 'skorch imported'
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
