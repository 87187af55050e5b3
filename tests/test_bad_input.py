"""One table of bad inputs for every public estimator, function and command.

Each case states the exception type and a message that names the problem,
and afterwards no file in the workspace has changed and no new (partial)
file exists.
"""

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from sksep import (
    CNNAutoencoderSeparator,
    FastICASeparator,
    IVASeparator,
    MaskEstimator,
    STFTTransformer,
)
from sksep import batch, cli, datasets, io as sio, metrics, nn, plotting, pretrained
from sksep import onnx as sksep_onnx
from sksep.spectral import ideal_mask_separation
from sksep.streaming import BlockStreamer

SR = 8000
RNG = np.random.default_rng(0)
CLIPS = RNG.laplace(size=(8, 256)).astype(np.float32) * 0.1
LABELS = np.array(["a", "b"] * 4)
X2 = RNG.laplace(size=(600, 2))


class CommandFailed(Exception):
    """A CLI run that returned a non-zero status; the message is its stderr."""


def run(*argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main([str(a) for a in argv])
    if status != 0:
        raise CommandFailed(f"[status {status}] {err.getvalue()}")


def with_nan(a):
    a = np.array(a, dtype=np.float64)
    a.flat[a.size // 2] = np.nan
    return a


def with_inf(a):
    a = np.array(a, dtype=np.float64)
    a.flat[a.size // 2] = np.inf
    return a


def strings(a):
    a = np.array(a, dtype=object)
    a.flat[0] = "loud"
    return a


@pytest.fixture(scope="module")
def fitted():
    tiny = dict(max_epochs=1, batch_size=8, random_state=0,
                stft=STFTTransformer(n_fft=32, hop_length=8))
    return {
        "ica": FastICASeparator(random_state=0).fit(X2),
        "stft": STFTTransformer(n_fft=32).fit(CLIPS),
        "mask": MaskEstimator(hidden_size=4, num_layers=1, **tiny).fit(CLIPS, LABELS),
        "cnn": CNNAutoencoderSeparator(freq_filters=2, time_filters=2, bottleneck=4,
                                       segment_frames=4, **tiny).fit(CLIPS, LABELS),
    }


@pytest.fixture
def ws(tmp_path, fitted):
    """A workspace of user files that no failing call may touch."""
    sio.write_audio(tmp_path / "mono.wav", CLIPS[0], SR)
    sio.write_audio(tmp_path / "stereo.wav", 0.2 * X2, SR)
    good = (tmp_path / "stereo.wav").read_bytes()
    (tmp_path / "truncated.wav").write_bytes(good[:60])
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF" + bytes(RNG.integers(0, 256, 200,
                                                                       dtype=np.uint8)))
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "folder").mkdir()
    (tmp_path / "exists.wav").write_bytes(b"user data")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stereo_source1.wav").write_bytes(b"user data")
    pretrained.save(fitted["mask"], tmp_path / "model.pt")
    (tmp_path / "clean" / "a").mkdir(parents=True)
    return tmp_path


def snapshot(folder):
    return {p: (p.read_bytes() if p.is_file() else None)
            for p in Path(folder).rglob("*")}


V, T = ValueError, TypeError
ICA, STFT, MASK, CNN = "ica", "stft", "mask", "cnn"
BOOL = "boolean dtype"
SHORT = "too short"

# (id, call(ws, fitted), exception, message pattern)
CASES = [
    # -- FastICASeparator
    ("ica-fit-nan", lambda w, f: FastICASeparator().fit(with_nan(X2)), V, "NaN"),
    ("ica-fit-inf", lambda w, f: FastICASeparator().fit(with_inf(X2)), V, "infinity"),
    ("ica-fit-empty", lambda w, f: FastICASeparator().fit(np.empty((0, 2))), V,
     "0 sample"),
    ("ica-fit-1d", lambda w, f: FastICASeparator().fit(X2[:, 0]), V, "Expected 2D"),
    ("ica-fit-3d", lambda w, f: FastICASeparator().fit(X2[None]), V, "dim 3"),
    ("ica-fit-object", lambda w, f: FastICASeparator().fit(strings(X2)), V, "loud"),
    ("ica-fit-bool", lambda w, f: FastICASeparator().fit(X2 > 0), V, BOOL),
    ("ica-fit-complex", lambda w, f: FastICASeparator().fit(X2 + 1j), V, "Complex"),
    ("ica-more-sources-than-mics", lambda w, f: FastICASeparator(n_components=3).fit(X2),
     V, "larger than the number of channels"),
    ("ica-transposed", lambda w, f: FastICASeparator().fit(X2[:1].T @ X2[:1]), V,
     "dependent|singular|silent"),
    ("ica-transform-channels", lambda w, f: f[ICA].transform(X2[:, :1]), V,
     "1 features, but FastICASeparator is expecting 2"),
    ("ica-transform-nan", lambda w, f: f[ICA].transform(with_nan(X2)), V, "NaN"),
    # -- STFTTransformer
    ("stft-fit-nan", lambda w, f: STFTTransformer().fit(with_nan(CLIPS)), V, "NaN"),
    ("stft-fit-inf", lambda w, f: STFTTransformer().fit(with_inf(CLIPS)), V, "infinity"),
    ("stft-fit-empty", lambda w, f: STFTTransformer().fit(np.empty((0, 5))), V,
     "0 sample"),
    ("stft-fit-1d", lambda w, f: STFTTransformer().fit(CLIPS[0]), V, "Expected 2D"),
    ("stft-fit-bool", lambda w, f: STFTTransformer().fit(CLIPS > 0), V, BOOL),
    ("stft-fit-complex", lambda w, f: STFTTransformer().fit(CLIPS + 1j), V, "Complex"),
    ("stft-fit-object", lambda w, f: STFTTransformer().fit(strings(CLIPS)), V, "loud"),
    ("stft-transform-length", lambda w, f: f[STFT].transform(CLIPS[:, :100]), V,
     "100 features, but STFTTransformer is expecting 256"),
    ("stft-inverse-shape", lambda w, f: f[STFT].inverse_transform(np.ones((2, 5))), V,
     "5 features"),
    ("stft-window-longer-than-fft",
     lambda w, f: STFTTransformer(n_fft=16, win_length=32).fit(CLIPS), V, "win_length"),
    # -- MaskEstimator / CNNAutoencoderSeparator
    ("mask-fit-nan", lambda w, f: MaskEstimator().fit(with_nan(CLIPS)), V, "NaN"),
    ("mask-fit-bool", lambda w, f: MaskEstimator().fit(CLIPS > 0), V, BOOL),
    ("mask-fit-complex", lambda w, f: MaskEstimator().fit(CLIPS + 1j), V, "Complex"),
    ("mask-fit-3d", lambda w, f: MaskEstimator().fit(CLIPS[None]), V, "dim 3"),
    ("mask-fit-y-length", lambda w, f: MaskEstimator().fit(CLIPS, LABELS[:3]), V,
     "inconsistent numbers of samples"),
    ("mask-fit-too-short", lambda w, f: MaskEstimator().fit(CLIPS[:, :100]), V,
     SHORT),
    ("mask-more-sources-than-clips",
     lambda w, f: MaskEstimator(n_sources=9).fit(CLIPS), V, "n_sources=9 but X has 8"),
    ("mask-transform-length", lambda w, f: f[MASK].transform(CLIPS[:, :100]), V,
     "100 features, but MaskEstimator is expecting 256"),
    ("mask-separate-nan", lambda w, f: f[MASK].separate(with_nan(CLIPS[0])), V, "NaN"),
    ("mask-separate-3d", lambda w, f: f[MASK].separate(CLIPS[None]), V,
     "Mixtures must be a non-empty waveform"),
    ("mask-separate-empty", lambda w, f: f[MASK].separate(np.array([])), V,
     "non-empty"),
    ("mask-separate-complex", lambda w, f: f[MASK].separate(CLIPS[0] + 1j), V,
     "real numbers"),
    ("mask-separate-bool", lambda w, f: f[MASK].separate(CLIPS[0] > 0), V,
     "real numbers"),
    ("mask-chunk-smaller-than-fft",
     lambda w, f: f[MASK].separate(CLIPS.ravel(), chunk_size=8), V,
     "chunk_size must be at least n_fft"),
    ("cnn-fit-without-labels", lambda w, f: CNNAutoencoderSeparator().fit(CLIPS), V,
     "requires y"),
    ("cnn-fit-one-class", lambda w, f: CNNAutoencoderSeparator().fit(
        CLIPS, ["a"] * 8), V, "1 class"),
    ("cnn-score-unseen-label", lambda w, f: f[CNN].score(CLIPS, ["c"] * 8), V,
     "unseen in fit"),
    # -- metrics
    ("si_sdr-nan", lambda w, f: metrics.si_sdr(with_nan(CLIPS[0]), CLIPS[0]), V, "NaN"),
    ("si_sdr-length", lambda w, f: metrics.si_sdr(CLIPS[0], CLIPS[1, :10]), V,
     "differ in length"),
    ("si_sdr-complex", lambda w, f: metrics.si_sdr(CLIPS[0] + 1j, CLIPS[0]), T,
     "real numbers"),
    ("si_sdr-empty", lambda w, f: metrics.si_sdr([], []), V, "empty"),
    ("si_sdr-silent-reference", lambda w, f: metrics.si_sdr(np.zeros(9), np.ones(9)), V,
     "silent"),
    ("si_sdri-mixture-shape", lambda w, f: metrics.si_sdr_improvement(
        CLIPS[:2], CLIPS[:2], CLIPS[0, :10]), V, "mixture of shape"),
    ("pit-1d", lambda w, f: metrics.pit_si_sdr(CLIPS[0], CLIPS[0]), V,
     "sources axis"),
    ("pairwise_si_sdr-length", lambda w, f: metrics.pairwise_si_sdr(
        CLIPS[:2], CLIPS[:2, :10]), V, "differ in length"),
    ("pit_si_sdr_scorer-y-length", lambda w, f: metrics.pit_si_sdr_scorer(
        f[ICA], X2, np.ones((3, 2))), V, "y has 3 samples"),
    ("pit-more-sources-than-estimates",
     lambda w, f: metrics.pit_si_sdr(CLIPS[:3], CLIPS[:2]), V, "n_estimates >="),
    ("bss_eval-inf", lambda w, f: metrics.bss_eval(with_inf(CLIPS[:2]), CLIPS[:2]), V,
     "infinity"),
    ("bss_eval-filter-too-long", lambda w, f: metrics.bss_eval(CLIPS[:2], CLIPS[:2]),
     V, "longer than the signals"),
    ("bss_eval-filter-length-zero", lambda w, f: metrics.bss_eval(
        CLIPS[:2], CLIPS[:2], filter_length=0), V,
     r"'filter_length' parameter of bss_eval must be an int in the range \[1, inf\)"),
    ("si_sdr-bool", lambda w, f: metrics.si_sdr(CLIPS[0] > 0, CLIPS[0]), T, BOOL),
    ("amari-nan", lambda w, f: metrics.amari_distance(with_nan(np.eye(3)), np.eye(3)),
     V, "non-finite"),
    ("solve_permutation-1d", lambda w, f: metrics.solve_permutation([1.0, 2.0]), V,
     "n_references, n_estimates"),
    # -- datasets and oracle masks
    ("mixture-nan", lambda w, f: datasets.make_instantaneous_mixture(with_nan(X2)), V,
     "NaN"),
    ("mixture-more-sources-than-channels",
     lambda w, f: datasets.make_instantaneous_mixture(X2, n_channels=1), V,
     "n_channels=1 < n_sources=2"),
    ("mixture-transposed", lambda w, f: datasets.make_instantaneous_mixture(X2.T), V,
     r"sources has shape \(2, 600\): 2 sample\(s\) .* Is it transposed"),
    ("mixing-matrix-shape", lambda w, f: datasets.make_instantaneous_mixture(
        X2, mixing=np.eye(3)), V, "3 columns but there are 2 sources"),
    ("clip-mixtures-more-sources", lambda w, f: datasets.make_clip_mixtures(
        list(CLIPS), n_sources=9, n_times=100), V, "n_sources=9 but only 8"),
    ("clip-mixtures-labels", lambda w, f: datasets.make_clip_mixtures(
        list(CLIPS), n_times=100, labels=LABELS[:3]), V, "one label per utterance"),
    ("fix_length-zero", lambda w, f: datasets.fix_length(list(CLIPS), 0), V,
     r"'n_times' parameter of fix_length must be an int in the range \[1, inf\)"),
    ("fix_length-nan", lambda w, f: datasets.fix_length([with_nan(CLIPS[0])], 9), V,
     "NaN"),
    ("load_fsdd-missing-folder", lambda w, f: datasets.load_fsdd(w / "nowhere"),
     FileNotFoundError, "No FSDD recordings"),
    ("load_fsdd_sources-missing-folder", lambda w, f: datasets.load_fsdd_sources(
        w / "nowhere", speakers=["theo"], n_samples=10), FileNotFoundError,
     "No FSDD recordings"),
    ("load_demo-unknown-speaker", lambda w, f: datasets.load_demo(speakers=["bob"]), V,
     r"Unknown FSDD speaker\(s\) \['bob'\]"),
    ("load_speech_demo-dtype", lambda w, f: datasets.load_speech_demo(dtype="int8"), V,
     "'dtype' parameter of load_speech_demo must be a str among"),
    ("random_mixing_matrix-condition", lambda w, f: datasets.random_mixing_matrix(
        2, 2, max_condition=0.5), V,
     r"'max_condition' parameter of random_mixing_matrix must be a float in the "
     r"range \[1.0, inf\)"),
    ("ideal-mask-shape", lambda w, f: ideal_mask_separation(CLIPS[:2]), V,
     r"\(n_clips, n_sources, n_times\)"),
    # -- audio I/O
    ("read-missing", lambda w, f: sio.read_audio(w / "nothing.wav"), FileNotFoundError,
     "No such audio file"),
    ("read-directory", lambda w, f: sio.read_audio(w / "folder"), IsADirectoryError,
     "is a directory"),
    ("read-truncated", lambda w, f: sio.read_audio(w / "truncated.wav"), V,
     "truncated.wav' is truncated: its header declares"),
    ("read-corrupted", lambda w, f: sio.read_audio(w / "corrupt.wav"), V,
     "Cannot read audio file .*corrupt.wav"),
    ("read-unsupported-format", lambda w, f: sio.read_audio(w / "notes.txt"), V,
     "Cannot read audio file .*notes.txt"),
    ("write-existing", lambda w, f: sio.write_audio(w / "exists.wav", CLIPS[0], SR),
     FileExistsError, "exists"),
    ("write-into-directory", lambda w, f: sio.write_audio(w / "folder", CLIPS[0], SR),
     IsADirectoryError, "is a directory"),
    ("write-nan", lambda w, f: sio.write_audio(w / "new.wav", with_nan(CLIPS[0]), SR),
     V, "NaN"),
    ("write-unsupported-format", lambda w, f: sio.write_audio(w / "new.xyz", CLIPS[0],
                                                              SR), V, "xyz"),
    ("write-transposed", lambda w, f: sio.write_audio(w / "new.wav", X2.T, SR), V,
     "Is it transposed"),
    ("write-bool", lambda w, f: sio.write_audio(w / "new.wav", CLIPS[0] > 0, SR), V,
     BOOL),
    ("write-rate", lambda w, f: sio.write_audio(w / "new.wav", CLIPS[0], 0), V,
     "'sr' parameter of write_audio must be a positive integer sample rate"),
    ("read-dtype", lambda w, f: sio.read_audio(w / "mono.wav", dtype="int16"), V,
     "'dtype' parameter of read_audio must be a str among"),
    ("write-3d", lambda w, f: sio.write_audio(w / "new.wav", CLIPS[None], SR), V,
     "non-empty"),
    # -- pretrained models
    ("load-missing", lambda w, f: pretrained.load(w / "nothing.pt"), FileNotFoundError,
     "neither a shipped model"),
    ("load-directory", lambda w, f: pretrained.load(w / "folder"), IsADirectoryError,
     "is a directory"),
    ("load-not-a-model", lambda w, f: pretrained.load(w / "notes.txt"), V,
     "Cannot load a model"),
    ("load_network-missing", lambda w, f: pretrained.load_network(w / "nothing.pt"),
     FileNotFoundError, "neither a shipped model"),
    ("load_network-directory", lambda w, f: pretrained.load_network(w / "folder"),
     IsADirectoryError, "is a directory"),
    ("load_network-not-a-model", lambda w, f: pretrained.load_network(w / "notes.txt"),
     V, "Cannot load a model"),
    ("save-existing", lambda w, f: pretrained.save(f[MASK], w / "model.pt"),
     FileExistsError, "overwrite=True"),
    ("save-unfitted", lambda w, f: pretrained.save(MaskEstimator(), w / "new.pt"),
     Exception, "not fitted"),
    # -- plotting
    ("plot-waveform-nan", lambda w, f: plotting.plot_waveform(with_nan(CLIPS[0]), SR),
     V, "NaN"),
    ("plot-bad-rate", lambda w, f: plotting.plot_waveform(CLIPS[0], -1), V,
     "'sr' parameter of plot_waveform must be a positive sample rate in Hz"),
    ("plot_spectrogram-2d", lambda w, f: plotting.plot_spectrogram(CLIPS[:2], SR), V,
     r"non-empty waveform \(n_times,\)"),
    ("plot_mask-3d", lambda w, f: plotting.plot_mask(np.ones((2, 2, 2)), SR, 64), V,
     r"non-empty \(n_freqs, n_frames\)"),
    ("plot_separation-nan", lambda w, f: plotting.plot_separation(
        with_nan(CLIPS[0]), CLIPS[:2], SR), V, "mixture contains NaN"),
    ("plot_separation-transposed", lambda w, f: plotting.plot_separation(
        CLIPS[0], CLIPS[:2].T, SR), V, "estimates has shape .* Is it transposed"),
    # -- sksep.batch
    ("expand_inputs-not-a-path", lambda w, f: batch.expand_inputs([w / "mono.wav", 3]),
     T, "got int 3"),
    ("separate_files-room-method", lambda w, f: batch.separate_files(
        w / "stereo.wav", w / "new", room_method="nmf"), V,
     "'room_method' parameter of separate_files must be a str among"),
    ("separate_files-chunk", lambda w, f: batch.separate_files(
        w / "mono.wav", w / "new", chunk_seconds=0), V,
     r"'chunk_seconds' parameter of separate_files must be a float in the range \(0.0, inf\)"),
    ("separate_files-method", lambda w, f: batch.separate_files(
        w / "mono.wav", w / "new", method="nmf"), V,
     "'method' parameter of separate_files must be a str among"),
    ("separate_files-model-sr", lambda w, f: batch.separate_files(
        w / "mono.wav", w / "new", model_sr=0), V,
     "'model_sr' parameter of separate_files must be a positive integer sample rate"),
    ("separate_files-output-is-a-file", lambda w, f: batch.separate_files(
        w / "mono.wav", w / "exists.wav"), NotADirectoryError, "is not a"),
    ("write_results_csv-existing", lambda w, f: batch.write_results_csv(
        [], w / "exists.wav"), FileExistsError, "overwrite=True"),
    # -- the command line
    ("cli-separate-missing", lambda w, f: run("separate", w / "nothing.wav", "-o",
                                              w / "new"), CommandFailed,
     "No such audio file"),
    ("cli-separate-folder-without-audio", lambda w, f: run(
        "separate", w / "folder", "-o", w / "new"), CommandFailed, "no audio files match"),
    ("cli-separate-truncated", lambda w, f: run("separate", w / "truncated.wav", "-o",
                                                w / "new"), CommandFailed,
     "is truncated"),
    ("cli-separate-unsupported", lambda w, f: run("separate", w / "notes.txt", "-o",
                                                  w / "new"), CommandFailed,
     "Cannot read audio file"),
    ("cli-separate-mono-ica", lambda w, f: run("separate", w / "mono.wav", "-o",
                                               w / "new", "--method", "ica"),
     CommandFailed, "1 channel; ICA needs"),
    ("cli-separate-more-sources-than-channels",
     lambda w, f: run("separate", w / "stereo.wav", "-o", w / "new", "--n-sources", "3"),
     CommandFailed, "3 sources from 2 channels"),
    ("cli-separate-more-sources-than-model",
     lambda w, f: run("separate", w / "mono.wav", "-o", w / "new", "--model",
                      w / "model.pt", "--n-sources", "3"), CommandFailed,
     "the model separates 2 sources"),
    ("cli-separate-output-exists", lambda w, f: run("separate", w / "stereo.wav", "-o",
                                                    w / "out"), CommandFailed,
     "exist.*--force"),
    ("cli-separate-output-is-a-file", lambda w, f: run("separate", w / "stereo.wav",
                                                       "-o", w / "exists.wav"),
     CommandFailed, "not a directory"),
    ("cli-train-missing", lambda w, f: run("train", w / "nowhere", "-o", w / "m2.pt"),
     CommandFailed, "does not exist"),
    ("cli-train-no-audio", lambda w, f: run("train", w / "clean", "-o", w / "m2.pt"),
     CommandFailed, "no audio files"),
    ("cli-train-output-exists", lambda w, f: run("train", w / "clean", "-o",
                                                 w / "model.pt"), CommandFailed,
     "exists; pass --force"),
    ("cli-evaluate-count", lambda w, f: run("evaluate", "--ref", w / "out", "--est",
                                            w / "clean"), CommandFailed,
     "no audio files|reference files but"),
    ("cli-evaluate-unreadable", lambda w, f: run("evaluate", "--ref", w / "out",
                                                 "--est", w / "out"), CommandFailed,
     "Cannot read audio file"),
    ("cli-demo-output-is-a-file", lambda w, f: run("demo", "--out", w / "exists.wav"),
     CommandFailed, "not a directory"),
    # -- IVASeparator
    ("iva-fit-nan", lambda w, f: IVASeparator().fit(with_nan(X2)), V, "NaN"),
    ("iva-more-sources-than-mics", lambda w, f: IVASeparator(n_components=3).fit(X2), V,
     "set n_components <= 2"),
    ("iva-silent-mic", lambda w, f: IVASeparator().fit(np.c_[X2[:, 0], np.zeros(600)]),
     V, "silent"),
    ("iva-too-short", lambda w, f: IVASeparator().fit(X2[:100]), V, "fewer than the STFT"),
    ("iva-bool", lambda w, f: IVASeparator().fit(X2 > 0), V, BOOL),
    # -- speech8k, conversations, rooms, image scores
    ("load_speech8k-missing-folder", lambda w, f: datasets.load_speech8k(w / "nowhere"),
     FileNotFoundError, "files.csv"),
    ("load_speech8k-bad-split", lambda w, f: datasets.load_speech8k(w, split="dev"), V,
     "Unknown split"),
    ("conversation-one-speaker", lambda w, f: datasets.make_conversation(
        [[np.ones(100)]], n_times=1000), V, "at least 2 speakers"),
    ("conversation-nan", lambda w, f: datasets.make_conversation(
        [[with_nan(np.ones(100))], [np.ones(100)]], n_times=1000), V, "NaN"),
    ("room-1d-sources", lambda w, f: datasets.make_room_mixture(np.ones(100), SR), V,
     "sources must be"),
    ("room-transposed", lambda w, f: datasets.make_room_mixture(X2.T, SR), V,
     "Is it transposed"),
    ("room-negative-rt60", lambda w, f: datasets.make_room_mixture(
        np.ones((100, 2)), SR, rt60=-1), V, "rt60"),
    ("image_scores-shape", lambda w, f: metrics.image_scores(
        np.ones((2, 100, 2)), np.ones((50, 2))), V, "estimates must have shape"),
    # -- streaming
    ("stream-non-causal", lambda w, f: MaskEstimator(max_epochs=1, hidden_size=4).fit(
        CLIPS, LABELS).streamer(), V, "cannot stream"),
    ("stream-bad-block", lambda w, f: pretrained.load(
        "speech8k-2voices-causal-8ms").streamer().process(np.ones((4, 3))), V, "shape"),
    ("blockstreamer-pad-mode", lambda w, f: BlockStreamer(
        lambda z: z, n_fft=32, hop_length=8, window=np.hanning(32), pad_mode="edge"),
     V, "pad_mode 'reflect', 'constant' or 'replicate'"),
    ("blockstreamer-nan-block", lambda w, f: BlockStreamer(
        lambda z: z, n_fft=32, hop_length=8, window=np.hanning(32)).process(
        with_nan(CLIPS[0])), V, "block contains NaN"),
    # -- ONNX export
    ("export_onnx-non-causal", lambda w, f: sksep_onnx.export_onnx(
        "speech8k-2voices", w / "x.onnx"), V, "cannot stream"),
    ("onnxstreamer-missing", lambda w, f: sksep_onnx.OnnxStreamer(w / "nothing.onnx"),
     FileNotFoundError, "No ONNX model file"),
    # -- torch layer
    ("masknet-kind", lambda w, f: nn.MaskNet(129, 2, kind="gru"), V,
     "kind must be 'blstm', 'lstm', 'tcn', 'causal-tcn' or 'dual-path'"),
    # -- speech in noise: noise8k, noisy mixtures, STOI and PESQ
    ("load_noise8k-missing-folder", lambda w, f: datasets.load_noise8k(w / "nowhere"),
     FileNotFoundError, "files.csv"),
    ("load_noise8k-bad-split", lambda w, f: datasets.load_noise8k(w, split="dev"), V,
     "Unknown split"),
    ("noisy-mixture-snr-range", lambda w, f: datasets.make_noisy_mixture(
        CLIPS[0], CLIPS[1], (10, 5)), V, "snr_db must be"),
    ("noisy-mixture-silent-noise", lambda w, f: datasets.make_noisy_mixture(
        CLIPS[0], np.zeros(100), 0), V, "noise is silent"),
    ("stoi-length", lambda w, f: metrics.stoi(CLIPS[0], CLIPS[1, :10], SR), V,
     "differ in length"),
    ("stoi-rate", lambda w, f: metrics.stoi(CLIPS[0], CLIPS[0], 0), V,
     "'sr' parameter of stoi must be a positive integer sample rate"),
    ("pesq-rate", lambda w, f: metrics.pesq(CLIPS[0], CLIPS[0], 44100), V,
     "16000 Hz"),
    ("pesq-mode", lambda w, f: metrics.pesq(CLIPS[0], CLIPS[0], SR, mode="swb"), V,
     "'mode' parameter of pesq must be a str among"),
    ("pesq-wide-band-at-8k", lambda w, f: metrics.pesq(CLIPS[0], CLIPS[0], SR,
                                                       mode="wb"), V, "needs sr=16000"),
    ("make_stoi_scorer-rate", lambda w, f: metrics.make_stoi_scorer(-1), V,
     "'sr' parameter of make_stoi_scorer must be a positive integer sample rate"),
]


@pytest.mark.parametrize("call, exc, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_touches_nothing(ws, fitted, call, exc, message):
    before = snapshot(ws)
    with pytest.raises(exc, match=message):
        call(ws, fitted)
    assert snapshot(ws) == before


# Every public name (the __all__ of sksep and of each public module) ->
# the prefix of its cases in CASES.
ROWS = {
    "FastICASeparator": "ica-", "STFTTransformer": "stft-", "MaskEstimator": "mask-",
    "CNNAutoencoderSeparator": "cnn-", "IVASeparator": "iva-",
    # sksep.metrics
    "si_sdr": "si_sdr-", "si_sdr_improvement": "si_sdri-", "pit_si_sdr": "pit-",
    "pairwise_si_sdr": "pairwise_si_sdr-", "pit_si_sdr_scorer": "pit_si_sdr_scorer-",
    "bss_eval": "bss_eval-", "amari_distance": "amari-",
    "solve_permutation": "solve_permutation-", "image_scores": "image_scores-",
    "stoi": "stoi-", "pesq": "pesq-", "make_stoi_scorer": "make_stoi_scorer-",
    # sksep.datasets and sksep.spectral
    "make_instantaneous_mixture": "mixture-", "make_clip_mixtures": "clip-mixtures-",
    "fix_length": "fix_length-", "load_fsdd": "load_fsdd-",
    "load_fsdd_sources": "load_fsdd_sources-", "load_demo": "load_demo-",
    "load_speech_demo": "load_speech_demo-", "random_mixing_matrix":
    "random_mixing_matrix-", "load_speech8k": "load_speech8k-",
    "make_conversation": "conversation-", "make_room_mixture": "room-",
    "load_noise8k": "load_noise8k-", "make_noisy_mixture": "noisy-mixture-",
    "ideal_mask_separation": "ideal-mask-",
    # sksep.io, sksep.pretrained, sksep.plotting, sksep.batch, sksep.streaming
    "read_audio": "read-", "write_audio": "write-", "load": "load-", "save": "save-",
    "load_network": "load_network-",
    "plot_waveform": "plot-", "plot_spectrogram": "plot_spectrogram-",
    "plot_mask": "plot_mask-", "plot_separation": "plot_separation-",
    "expand_inputs": "expand_inputs-", "separate_files": "separate_files-",
    "write_results_csv": "write_results_csv-", "BlockStreamer": "blockstreamer-",
    # sksep.nn, sksep.onnx
    "MaskNet": "masknet-", "export_onnx": "export_onnx-", "OnnxStreamer": "onnxstreamer-",
}
# Public names with no bad input to test, and why.
EXEMPT = {
    "__version__": "a string",
    "FSDD_SPEAKERS": "a constant", "SPEECH8K_SPLITS": "a constant",
    "BSSEvalResult": "the result type of bss_eval, built by it",
    "SksepVersionWarning": "a warning class",
    "ModelRegistry": "the dict list_models returns, built by it",
    "list_models": "takes no arguments",
    # the torch layer: modules and losses that the estimators build and call
    # on tensors they made; they do not check their input (a wrong shape
    # raises torch's RuntimeError)
    "CNNAutoencoder": "torch layer", "SpectralSeparator": "torch layer",
    "SeparationLoss": "torch layer", "neg_si_sdr": "torch layer",
    "pairwise_neg_si_sdr": "torch layer", "pit_loss": "torch layer",
}


def _public_names():
    """Every name in the __all__ of sksep and of its public modules (the
    command line is covered by its subcommands below), submodules left out."""
    import importlib
    import inspect
    import pkgutil

    import sksep

    modules = ["sksep"] + [
        m.name for m in pkgutil.walk_packages(sksep.__path__, "sksep.")
        if not any(part.startswith("_") for part in m.name.split(".")[1:])
        and not m.name.startswith("sksep.cli")]
    names = {}
    for name in modules:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            if not inspect.ismodule(getattr(module, attr)):
                names.setdefault(attr, name)
    return names


def test_every_public_callable_is_in_the_table():
    """Each public function, estimator and subcommand has at least one case,
    so a new public name without a bad-input row fails here."""
    public = _public_names()
    assert {"separate_files", "BlockStreamer", "plot_mask", "list_models",
            "load_demo", "pit_loss"} <= set(public)        # the walk finds them
    missing = sorted(f"{m}.{n}" for n, m in public.items()
                     if n not in ROWS and n not in EXEMPT)
    assert not missing, f"public names without a bad-input case: {missing}"
    assert not (set(ROWS) | set(EXEMPT)) - set(public), "stale entries"
    ids = [c[0] for c in CASES]
    uncovered = sorted(n for n, prefix in ROWS.items()
                       if not any(i.startswith(prefix) for i in ids))
    assert not uncovered, f"no case in CASES for {uncovered}"
    for command in ("separate", "train", "evaluate", "demo"):
        assert any(i.startswith(f"cli-{command}") for i in ids)
