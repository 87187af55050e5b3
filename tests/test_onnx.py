"""ONNX export of the causal models: streamed with onnxruntime and NumPy alone,
the output is the torch/NumPy streamer's; the state lives in the stream; the
command writes a file and never overwrites one unasked; models that look
ahead are refused in plain words."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require
from sksep.datasets import load_speech_demo
from sksep.pretrained import load

SR = 8000
CAUSAL = ["speech8k-2voices-causal-8ms", "speech8k-2voices-causal-16ms"]


@pytest.fixture(autouse=True)
def onnx_extra():
    require("onnx")
    require("onnxruntime")


@pytest.fixture(scope="module")
def mixture():
    demo = load_speech_demo()
    return (demo.waveforms[0][:3 * SR] + demo.waveforms[2][:3 * SR]).astype(np.float32)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Model name -> its exported file (each exported once)."""
    from sksep.onnx import export_onnx

    folder, files = tmp_path_factory.mktemp("onnx"), {}

    def get(name):
        if name not in files:
            files[name] = export_onnx(name, folder / f"{name}.onnx")
        return files[name]

    return get


def _stream(stream, x, sizes):
    out, i, k = [], 0, 0
    while i < len(x):
        n = int(sizes[k % len(sizes)])
        out.append(stream.process(x[i:i + n]))
        assert out[-1].shape == (stream.n_outputs, min(n, len(x) - i))
        i, k = i + n, k + 1
    out.append(stream.flush())
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("name", CAUSAL)
def test_onnx_stream_equals_the_numpy_streamer(name, mixture, exported):
    from sksep.onnx import OnnxStreamer

    reference = load(name).streamer()
    stream = OnnxStreamer(exported(name))
    assert stream.latency_ == reference.latency_
    assert stream.latency_ms_ == pytest.approx(reference.latency_ms_)
    # 8 ms blocks (as 'sksep stream'); single samples, sizes that are no
    # multiple of the hop and a long block
    random = np.random.default_rng(0).integers(1, 400, 64)
    for sizes in ([64], np.concatenate([[1, 7, 1000], random])):
        expected = _stream(reference, mixture, sizes)
        got = _stream(stream, mixture, sizes)
        assert got.shape == expected.shape == (2, mixture.size + stream.latency_)
        assert np.all(got[:, :stream.latency_] == 0)
        assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()
        reference, stream = load(name).streamer(), OnnxStreamer(exported(name))


def test_state_carries_across_blocks_and_lives_in_the_stream(mixture, exported):
    import onnxruntime as ort

    from sksep.onnx import OnnxStreamer

    path = exported("speech8k-2voices-causal-16ms")
    whole = OnnxStreamer(path)
    at_once = np.concatenate([whole.process(mixture), whole.flush()], axis=1)
    # one session, two streams interleaved block by block: neither disturbs
    # the other, and block by block equals all at once
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    a, b = OnnxStreamer(session), OnnxStreamer(session)
    other = mixture[::-1].copy()
    outs_a, outs_b = [], []
    for i in range(0, mixture.size, 64):
        outs_a.append(a.process(mixture[i:i + 64]))
        outs_b.append(b.process(other[i:i + 64]))
    block_by_block = np.concatenate(outs_a + [a.flush()], axis=1)
    err = np.abs(block_by_block - at_once).max()
    assert err <= 1e-5 * np.abs(at_once).max()
    alone = OnnxStreamer(session)
    other_alone = _stream(alone, other, [64])
    assert np.abs(np.concatenate(outs_b + [b.flush()], axis=1) - other_alone).max() \
        <= 1e-5 * np.abs(other_alone).max()


def test_runner_needs_numpy_and_onnxruntime_only(exported, tmp_path):
    # the runner's module, copied alone, runs the file: no sksep, torch,
    # scikit-learn or scipy
    import sksep.onnx._streamer as runner

    (tmp_path / "runner.py").write_text(Path(runner.__file__).read_text())
    code = ("import sys, numpy as np; from runner import OnnxStreamer; "
            f"s = OnnxStreamer({str(exported(CAUSAL[1]))!r}); "
            "y = s.process(np.zeros(800, np.float32)); s.flush(); "
            "print(y.shape, sorted(m for m in ('sksep', 'torch', 'sklearn', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == "(2, 800) []"


def test_command_writes_a_file_and_never_overwrites_unasked(tmp_path, capsys, mixture):
    from sksep.cli import main
    from sksep.onnx import OnnxStreamer

    out = tmp_path / "causal.onnx"
    assert main(["export", "speech8k-2voices-causal-16ms", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "algorithmic latency: 127 samples = 15.9 ms" in printed
    assert OnnxStreamer(out).process(mixture[:800]).shape == (2, 800)
    before = out.read_bytes()
    assert main(["export", "speech8k-2voices-causal-8ms", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (f"sksep export: error: '{out}' already exists; use --force "
                           "to replace it.")
    assert out.read_bytes() == before
    assert main(["export", "speech8k-2voices-causal-8ms", str(out), "--force"]) == 0
    assert OnnxStreamer(out).latency_ == 63


def test_a_model_that_looks_ahead_is_refused_in_plain_words(tmp_path, capsys):
    from sksep.cli import main
    from sksep.onnx import export_onnx

    out = tmp_path / "offline.onnx"
    with pytest.raises(ValueError, match=r"kind='tcn'\) looks at future frames and "
                       "cannot stream. Export a causal TCN"):
        export_onnx("speech8k-2voices", out)
    assert main(["export", "speech8k-2voices", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("sksep export: error: speech8k-2voices cannot be exported "
                          "for streaming: MaskEstimator(kind='tcn') looks at future")
    assert "'speech8k-2voices-causal-8ms'" in err
    assert main(["export", "no-such-model", str(out)]) == 1
    assert "'no-such-model' is neither a shipped model" in capsys.readouterr().err
    assert not out.exists()


def test_a_dual_path_model_is_refused_as_looking_ahead(tmp_path):
    from sksep import MaskEstimator
    from sksep.onnx import export_onnx

    clips = np.random.default_rng(0).normal(size=(8, 800)).astype(np.float32)
    est = MaskEstimator(kind="dual-path", hidden_size=4, num_layers=1, max_epochs=1,
                        random_state=0).fit(clips, np.arange(8) % 4)
    with pytest.raises(ValueError, match=r"kind='dual-path'\) looks at future frames "
                       "and cannot stream"):
        export_onnx(est, tmp_path / "dp.onnx")
    assert not (tmp_path / "dp.onnx").exists()


def test_a_file_sksep_did_not_write_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from sksep.onnx import OnnxStreamer

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, tmp_path / "other.onnx")
    with pytest.raises(ValueError, match="not a streaming model written by "
                       r"sksep.onnx.export_onnx \(sksep export\)"):
        OnnxStreamer(tmp_path / "other.onnx")
