"""Streaming: blocks of any size in, the offline causal output out, shifted
by a stated latency; state lives in the stream; non-causal models refuse."""

import numpy as np
import pytest

from sksep import MaskEstimator, STFTTransformer
from sksep.datasets import load_demo, load_speech_demo
from sksep.pretrained import load

SR = 8000


@pytest.fixture(scope="module")
def mixture():
    demo = load_speech_demo()
    return (demo.waveforms[0][:3 * SR] + demo.waveforms[2][:3 * SR]).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_lstm():
    digits = load_demo()
    return MaskEstimator(kind="lstm", hidden_size=8, num_layers=1, segment_length=2000,
                         stft=STFTTransformer(n_fft=128, hop_length=48),
                         max_epochs=1, random_state=0).fit(digits.waveforms,
                                                            digits.speaker)


@pytest.fixture(params=["numba", "numpy"])
def tcn_path(request, monkeypatch):
    """The causal TCN stepper's two paths: the compiled kernel (skipped
    without numba) and the NumPy reference."""
    import sksep.nn._stepper as stepper

    if request.param == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(stepper, "FUSED", request.param == "numba")
    return request.param


def _stream(sep, x, sizes):
    stream = sep.streamer()
    out, i, k = [], 0, 0
    while i < len(x):
        n = int(sizes[k % len(sizes)])
        out.append(stream.process(x[i:i + n]))
        i, k = i + n, k + 1
    out.append(stream.flush())
    return stream, np.concatenate(out, axis=1)


@pytest.mark.parametrize("model", ["speech8k-2voices-causal-8ms",
                                   "speech8k-2voices-causal-16ms",
                                   "speech8k-speech-noise-causal-16ms", "lstm"])
def test_stream_equals_offline_causal_output_shifted_by_the_latency(
        model, mixture, tiny_lstm, tcn_path):
    sep = tiny_lstm if model == "lstm" else load(model)
    offline = sep.separate(mixture, chunk_size=None)
    # random block sizes, single samples and sizes that are no multiple of the hop
    sizes = np.random.default_rng(0).integers(1, 400, size=64)
    for blocks in (sizes, [1, 7, 64, 333]):
        stream, out = _stream(sep, mixture, blocks)
        lat = stream.latency_
        assert lat == sep.stft_.n_fft - 1
        assert out.shape == (2, mixture.size + lat)
        assert np.all(out[:, :lat] == 0)
        err = np.abs(out[:, lat:] - offline).max()
        assert err <= 1e-5 * np.abs(offline).max()


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_causal_tcn_stepper_equals_the_network_on_the_whole_sequence(
        activation, tcn_path):
    import torch

    from sksep.nn import MaskNet

    torch.manual_seed(0)
    net = MaskNet(17, 2, hidden_size=8, num_layers=10, kind="causal-tcn",
                  activation=activation).eval()
    with torch.no_grad():
        for p in net.parameters():             # affines far from the initial 1 and 0
            p.add_(0.5 * torch.randn_like(p))
        net.body[1].norm1.norm.weight[3] = 0   # a scale that cannot be folded
        net.body[2].act1.weight.fill_(1.5)     # PReLU slopes above 1 and below 0
        net.body[3].act2.weight.fill_(-0.5)
        net.skip_act.weight.fill_(2.0)
        features = 3 * torch.randn(1, 1500, 17)
        offline = net(features)[0].numpy()
        offline64 = net.double()(features.double())[0].numpy()
    net.float()

    def stepped(step):
        # single frames, a call longer than one pass, and enough frames that
        # the convolutions' history wraps around several times
        out, i = [], 0
        for n in [1, 1, 3, 600, 2, 5, 1, 64, 4] * 20:
            out.append(step(features[0, i:i + n].numpy()))
            i += n
            if i >= 1500:
                return np.concatenate(out, axis=1)

    # the algorithm is exact: in float64 it gives the float64 network's masks
    step64 = net._tcn_stepper(dtype=np.float64)
    assert step64.fused_ == (tcn_path == "numba")
    assert np.abs(stepped(step64) - offline64).max() < 1e-10
    # the streams compute in float32 (torch's float32 masks differ from
    # float64 by 6e-6 here, with these large weights)
    out = stepped(net.stepper())
    assert out.shape == offline.shape and out.dtype == np.float32
    assert np.abs(out - offline).max() < 5e-5


def test_latency_is_stated_in_samples_and_milliseconds():
    stream = load("speech8k-2voices-causal-8ms").streamer()
    assert stream.latency_ == 63 and stream.latency_ms_ == pytest.approx(7.875)


def test_state_lives_in_the_stream_not_the_model(mixture):
    sep = load("speech8k-2voices-causal-16ms")
    a, b = sep.streamer(), sep.streamer()
    x1, x2 = mixture, mixture[::-1].copy()
    out1, out2 = [], []
    for i in range(0, mixture.size, 500):        # interleaved
        out1.append(a.process(x1[i:i + 500]))
        out2.append(b.process(x2[i:i + 500]))
    _, alone = _stream(sep, x2, [500])
    np.testing.assert_array_equal(np.concatenate(out2 + [b.flush()], axis=1), alone)


def test_non_causal_models_refuse_and_name_the_causal_ones():
    with pytest.raises(ValueError, match="causal-tcn.*speech8k-2voices-causal-8ms"):
        load("speech8k-2voices").streamer()


def test_bad_blocks_and_reuse_after_flush_are_refused(mixture):
    stream = load("speech8k-2voices-causal-8ms").streamer()
    with pytest.raises(ValueError, match="shape"):
        stream.process(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        stream.process(np.full(10, np.nan))
    stream.process(mixture[:1000])
    stream.flush()
    with pytest.raises(RuntimeError, match="flushed"):
        stream.process(mixture[:10])


# -- online AuxIVA ------------------------------------------------------------------

@pytest.fixture(scope="module")
def room():
    from sksep.datasets import make_room_mixture

    demo = load_speech_demo()
    n = 12 * SR
    S = np.stack([demo.waveforms[1][:n], demo.waveforms[3][:n]], axis=1)
    return make_room_mixture(S, SR, rt60=0.15, random_state=0)


def _online(mix, sizes, **params):
    from sksep import IVASeparator

    stream = IVASeparator(stft=STFTTransformer(n_fft=1024, hop_length=256)).streamer(
        2, forgetting=0.96, sample_rate=SR, **params)
    out, i, k = [], 0, 0
    while i < mix.shape[0]:
        n = int(sizes[k % len(sizes)])
        out.append(stream.process(mix[i:i + n]))
        i, k = i + n, k + 1
    out.append(stream.flush())
    return stream, np.concatenate(out)[stream.latency_:]


def test_online_iva_converges_within_seconds_in_a_room(room):
    from sksep.metrics import image_scores

    mix, images = room
    stream, out = _online(mix, [80])
    assert out.shape == mix.shape and stream.latency_ == 1023
    late = slice(6 * SR, None)             # after 6 s
    gain = image_scores(images[:, late], out[late], mixture=mix[late])
    assert np.mean(gain["sdr_improvement"]) > 6


def test_online_iva_does_not_depend_on_block_sizes(room):
    mix, _ = room
    _, a = _online(mix[:4 * SR], [80])
    _, b = _online(mix[:4 * SR], np.random.default_rng(1).integers(1, 700, size=50))
    assert np.abs(a - b).max() < 1e-9 * np.abs(a).max()


def test_online_iva_refuses_what_it_cannot_do():
    from sksep import IVASeparator

    with pytest.raises(ValueError, match="n_channels"):
        IVASeparator().streamer()
    with pytest.raises(ValueError, match="laplace' or 'gauss'"):
        IVASeparator(source_model="nmf").streamer(2)


def test_online_iva_passes_the_microphone_through_then_separates_well(room):
    # an unfitted start: the reference microphone shared equally until the
    # warm start (2 s) has arrived, then the separated voices. Measured
    # (RT60 150 ms, 8 kHz, forgetting 0.96): 13.4 dB SDR improvement from
    # 5 s on (offline IVA on the whole recording: 18.4 dB), 13.2, 12.6 and
    # 14.4 dB in the 2 s windows from 5, 7 and 9 s
    from sksep.metrics import image_scores

    mix, images = room
    stream, out = _online(mix, [64])
    assert stream.converged_at_ == pytest.approx(2.048)
    early = slice(0, int(1.5 * SR))
    np.testing.assert_allclose(out[early], np.repeat(mix[early, :1] / 2, 2, axis=1),
                               atol=1e-9)
    late = slice(5 * SR, None)
    assert np.mean(image_scores(images[:, late], out[late],
                                mixture=mix[late])["sdr_improvement"]) > 11
    for a in (5, 7, 9):
        w = slice(a * SR, (a + 2) * SR)
        assert np.mean(image_scores(images[:, w], out[w],
                                    mixture=mix[w])["sdr_improvement"]) > 8


def test_a_fitted_online_iva_separates_from_its_first_frame(room):
    # a streamer of a fitted IVASeparator starts from the offline filters:
    # measured (RT60 150 ms, forgetting 0.96, 64-sample blocks) 11.2 dB SDR
    # improvement in the first 2 s (offline 16.5; before its covariances
    # started consistent with the filters, 3.1) and from 4 s on what an
    # unfitted stream reaches (11.7 against 11.9 dB)
    from sksep import IVASeparator
    from sksep.metrics import image_scores

    mix, images = room
    iva = IVASeparator(stft=STFTTransformer(n_fft=1024, hop_length=256)).fit(mix)
    stream = iva.streamer(forgetting=0.96, sample_rate=SR)
    out = np.concatenate([stream.process(mix[i:i + 64]) for i in range(0, len(mix), 64)]
                         + [stream.flush()])[stream.latency_:]
    _, unfitted = _online(mix, [64])

    def gain(y, w):
        return np.mean(image_scores(images[:, w], y[w], mixture=mix[w])["sdr_improvement"])

    assert gain(out, slice(0, 2 * SR)) > 8
    late = slice(4 * SR, None)
    assert gain(out, late) > gain(unfitted, late) - 0.5


def test_online_iva_reports_when_it_converged(room):
    from sksep import IVASeparator

    mix, _ = room
    stream = IVASeparator(stft=STFTTransformer(n_fft=1024, hop_length=256)).streamer(
        2, sample_rate=SR, warm_start=1.0)
    stream.process(mix[:SR // 2])
    assert stream.converged_at_ is None                  # still passing through
    stream.process(mix[SR // 2:2 * SR])
    assert 1.0 <= stream.converged_at_ <= 1.2
    fitted = IVASeparator(stft=STFTTransformer(n_fft=1024, hop_length=256)).fit(mix)
    assert fitted.streamer(sample_rate=SR).converged_at_ == 0.0
    with pytest.raises(ValueError, match="warm_start"):
        IVASeparator().streamer(2, warm_start=-1)
