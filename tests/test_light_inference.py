"""A loaded model separates without skorch (the light inference path), and
still trains, saves, pickles and clones as a fitted estimator does."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch import NeuralNet

from sksep.datasets import fix_length, load_demo
from sksep.io import write_audio
from sksep.neural._base import LoadedNet
from sksep.pretrained import load, load_network, save

NOT_LOADED = """
import gc, sys
import torch
assert 'skorch' not in sys.modules, 'skorch imported'
assert 'torch._dynamo' not in sys.modules, 'torch._dynamo imported (an optimizer?)'
assert 'scipy.signal' not in sys.modules, 'scipy.signal imported (for a hann window?)'
optimizers = [o for o in gc.get_objects() if isinstance(o, torch.optim.Optimizer)]
assert not optimizers, optimizers
"""


def _run(code, cwd):
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=cwd, timeout=300, env=None)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def test_separating_with_a_shipped_model_imports_no_skorch(tmp_path):
    code = """
import numpy as np
from sksep.pretrained import load
model = load("speech8k-2voices")
x = np.random.default_rng(0).normal(size=4000).astype("float32")
assert model.separate(x, sr=8000).shape == (2, 4000)
assert type(model.net_).__name__ == "LoadedNet", model.net_
assert not hasattr(model.net_, "optimizer_")
""" + NOT_LOADED
    _run(code, tmp_path)


def test_sksep_separate_on_a_file_imports_no_skorch(tmp_path):
    x = np.random.default_rng(0).normal(size=4000).astype("float32") * 0.1
    write_audio(tmp_path / "mix.wav", x, 8000)
    code = """
import sys
from sksep.cli import main
assert main(["separate", "mix.wav", "-o", "out", "--quiet"]) == 0
# the network alone is loaded: scikit-learn is most of a command's start-up
assert 'sklearn' not in sys.modules, 'scikit-learn imported'
""" + NOT_LOADED
    _run(code, tmp_path)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "mix_source1.wav", "mix_source2.wav"]


@pytest.fixture(scope="module")
def clips():
    demo = load_demo()
    keep = np.isin(demo.speaker, ["lucas", "theo"])
    X = fix_length([w for w, k in zip(demo.waveforms, keep) if k], 4000)[:16]
    return X, demo.speaker[keep][:16]


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_a_loaded_model_trains_its_own_network(clips, how):
    X, y = clips
    est = load("fsdd-2speakers").set_params(max_epochs=1, verbose=0)
    module = est.net_.module_
    before = {k: v.clone() for k, v in module.state_dict().items()}
    epochs = est.n_epochs_
    if how == "partial_fit":
        est.partial_fit(X, y)
    else:
        est.set_params(warm_start=True).fit(X, y)
    assert isinstance(est.net_, NeuralNet)       # a skorch net now
    assert est.net_.module_ is module             # trained in place
    assert est.n_epochs_ == epochs + 1
    after = module.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    mix = X[0] + X[-1]
    assert est.separate(mix, sr=8000).shape == (2, 4000)


def test_save_writes_the_weights_of_net_module_as_changed(tmp_path):
    x = np.random.default_rng(1).normal(size=4000).astype("float32") * 0.1
    est = load("fsdd-2speakers")
    original = est.separate(x, sr=8000)
    # trained in place, as benchmarks/train_voices.py trains est.net_.module_
    with torch.no_grad():
        for p in est.net_.module_.parameters():
            p.mul_(0.9)
    changed = est.separate(x, sr=8000)
    assert not np.array_equal(changed, original)     # separate runs net_.module_
    save(est, tmp_path / "a.pt")
    again = load(tmp_path / "a.pt")
    for (k, a), b in zip(est.net_.module_.state_dict().items(),
                         again.net_.module_.state_dict().values()):
        assert torch.equal(a, b), k
    np.testing.assert_array_equal(again.separate(x, sr=8000), changed)
    # or replaced by another module, as train_voices.py does on a new best
    other = load("fsdd-2speakers").net_.module_
    est.net_.module_ = other
    save(est, tmp_path / "b.pt")
    np.testing.assert_array_equal(load(tmp_path / "b.pt").separate(x, sr=8000),
                                  original)


def test_a_loaded_model_pickles_and_clones():
    x = np.random.default_rng(2).normal(size=4000).astype("float32") * 0.1
    est = load("fsdd-2speakers")
    back = pickle.loads(pickle.dumps(est))
    assert isinstance(back.net_, LoadedNet)
    np.testing.assert_array_equal(back.separate(x, sr=8000), est.separate(x, sr=8000))
    fresh = clone(est)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert repr(fresh) == repr(est)


@pytest.mark.parametrize("n_fft, win_length", [(2, 2), (64, 64), (255, 255),
                                               (256, 256), (512, 400), (4096, 4096)])
def test_the_hann_window_is_scipys_to_the_bit(n_fft, win_length):
    from scipy.signal import get_window

    from sksep._dsp._torch import make_window

    ours = make_window("hann", win_length, n_fft, dtype=torch.float64).numpy()
    left = (n_fft - win_length) // 2
    ref = np.zeros(n_fft)
    ref[left:left + win_length] = get_window("hann", win_length, fftbins=True)
    assert ours.tobytes() == ref.tobytes()


@pytest.mark.parametrize("name, sr, chunk", [
    ("speech8k-2voices", 8000, "auto"),
    ("speech8k-2voices", 16000, 5000),          # resampled, in chunks
    ("speech8k-speech-noise", 8000, 3000),      # class-fixed
    ("speech8k-2voices-cnn", 8000, None),
])
def test_the_network_alone_separates_as_the_estimator_does(name, sr, chunk):
    x = np.random.default_rng(3).normal(size=(2, 12000)).astype("float32") * 0.1
    net, est = load_network(name), load(name)
    np.testing.assert_array_equal(net.separate(x, sr=sr, chunk_size=chunk),
                                  est.separate(x, sr=sr, chunk_size=chunk))
    assert net.n_sources_ == est.n_sources_ and net.sample_rate_ == est.sample_rate_
    assert np.array_equal(getattr(net, "classes_", None), getattr(est, "classes_", None))
    assert net.estimator == type(est).__name__


def test_a_file_written_before_the_network_was_recorded_loads_alone(tmp_path):
    """Older files lack the "network" entry: their network is rebuilt from
    the estimator's parameters, with the same weights."""
    path = tmp_path / "old.pt"
    save(load("fsdd-2speakers"), path)
    state = torch.load(path, weights_only=True)
    del state["network"]
    torch.save(state, path)
    x = np.random.default_rng(4).normal(size=4000).astype("float32") * 0.1
    np.testing.assert_array_equal(load_network(path).separate(x),
                                  load("fsdd-2speakers").separate(x))


def test_every_shipped_model_records_its_network():
    """So that loading any of them for separation imports no scikit-learn."""
    from sksep.pretrained import _resolve, list_models

    for name in list_models():
        state = torch.load(_resolve(name)[0], weights_only=True)
        assert "network" in state, name


def test_sksep_stream_on_a_mono_file_imports_no_scikit_learn(tmp_path):
    x = np.random.default_rng(5).normal(size=4000).astype("float32") * 0.1
    write_audio(tmp_path / "mix.wav", x, 8000)
    code = """
import sys
from sksep.cli import main
assert main(["stream", "mix.wav", "-o", "out", "--block-ms", "8"]) == 0
assert 'sklearn' not in sys.modules, 'scikit-learn imported'
""" + NOT_LOADED
    _run(code, tmp_path)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "mix_source1.wav", "mix_source2.wav"]


@pytest.mark.parametrize("name", ["speech8k-2voices-causal-16ms",
                                  "speech8k-speech-noise-causal-16ms"])
def test_the_network_alone_streams_as_the_estimator_does(name):
    x = np.random.default_rng(6).normal(size=6000).astype("float32") * 0.1
    out = []
    for model in (load(name), load_network(name)):
        stream = model.streamer()
        out.append(np.concatenate([stream.process(x[i:i + 100])
                                   for i in range(0, x.size, 100)]
                                  + [stream.flush()], axis=1))
    np.testing.assert_array_equal(out[0], out[1])
    with pytest.raises(ValueError, match="cannot stream"):
        load_network("speech8k-2voices").streamer()
