"""Every option of ``sksep separate`` means the same for one file and for a
folder of files: each option is run both ways, and both runs give the same
outputs, or refuse in the same words. A success either changes the
outputs or does not, as stated for the option. An option added to the
command without a case here makes ``test_every_option_has_a_case`` fail."""

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from sksep.cli import build_parser, main
from sksep.datasets import load_speech_demo, make_instantaneous_mixture
from sksep.io import write_audio

SR = 8000


@dataclass
class Case:
    option: str            # the option (its long name) or 'input'
    name: str
    recording: str         # a folder of the `recordings` fixture
    args: list
    expect: str            # 'same', 'changes' (against `base`) or the refusal's words
    base: list = field(default_factory=list)
    existing: bool = False   # an output of the recording is already there
    output_is_a_file: bool = False
    no_dask: bool = False    # dask.distributed cannot be imported
    wait_1s: bool = False    # Dask gives up connecting after 1 s


CASES = [
    Case("input", "not-audio", "broken", [], "Cannot read audio file 'broken.wav'"),
    Case("input", "empty", "empty", [],
         "'empty.wav' is empty (0 bytes): there is no audio in it."),
    Case("--output", "a-file", "mono", [], "exists and is not a directory.",
         output_is_a_file=True),
    Case("--jobs", "2", "mono", ["--jobs", "2"], "same"),
    Case("--jobs", "0", "mono", ["--jobs", "0"],
         "--jobs must be a positive number or -1, got 0."),
    Case("--scheduler", "local-cluster", "three", ["--scheduler", "{scheduler}"],
         "same"),
    Case("--scheduler", "without-dask", "mono", ["--scheduler", "tcp://127.0.0.1:1"],
         "A Dask scheduler needs dask.distributed", no_dask=True),
    Case("--scheduler", "unreachable", "mono", ["--scheduler", "tcp://127.0.0.1:1"],
         "--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler: ",
         wait_1s=True),
    Case("--method", "iva", "room", ["--method", "iva"], "same"),
    Case("--method", "ica", "three", ["--method", "ica"], "changes"),
    Case("--method", "mask", "room", ["--method", "mask"], "changes"),
    Case("--method", "cnn", "mono", ["--method", "cnn"], "changes"),
    Case("--method", "ica-on-mono", "mono", ["--method", "ica"],
         "'mono.wav' has 1 channel; ICA needs at least as many channels as sources "
         "(use --method mask for a single microphone)."),
    Case("--method", "unknown", "mono", ["--method", "nmf"], "invalid choice: 'nmf'"),
    Case("--n-sources", "2", "three", ["--method", "ica", "--n-sources", "2"],
         "changes", base=["--method", "ica"]),
    Case("--n-sources", "0", "mono", ["--n-sources", "0"],
         "--n-sources must be at least 1, got 0."),
    Case("--n-sources", "more-than-the-model", "mono", ["--n-sources", "3"],
         "the model separates 2 sources, --n-sources asked for 3 (--n-sources sets how "
         "many IVA or ICA recovers from a multichannel file)."),
    Case("--fit-seconds", "1.5", "room", ["--fit-seconds", "1.5"], "changes"),
    Case("--fit-seconds", "under-4-windows", "room", ["--fit-seconds", "0.5"],
         "--fit-seconds must be at least 1.024 s (4 of IVA's 256 ms STFT windows), "
         "got 0.5."),
    Case("--fit-seconds", "0", "room", ["--fit-seconds", "0"],
         "--fit-seconds must be positive, got 0.0."),
    Case("--model", "cnn", "mono", ["--model", "speech8k-2voices-cnn"], "changes"),
    Case("--model", "missing", "mono", ["--model", "missing.pt"], "missing.pt"),
    Case("--model", "on-a-room", "room", ["--model", "speech8k-2voices"],
         "--model applies to the single-microphone methods (mask, cnn), not to "
         "--method iva"),
    Case("--model-sr", "16000", "mono", ["--model", "{norate}", "--model-sr", "16000"],
         "changes", base=["--model", "{norate}"]),
    Case("--model-sr", "0", "mono", ["--model-sr", "0"],
         "--model-sr must be positive, got 0."),
    Case("--model-sr", "contradicting-the-model", "mono", ["--model-sr", "16000"],
         "--model-sr 16000 was given, but the default model, speech8k-2voices, records "
         "the rate it was "
         "trained at, 8000 Hz: --model-sr is only for a model file that does not; "
         "leave it out."),
    Case("--keep", "two-voices", "mono", ["--method", "mask", "--keep", "speech"],
         "--keep needs a model whose outputs are named classes (such as "
         "speech8k-speech-noise: noise, speech); the outputs of the default model, "
         "speech8k-2voices, come in no fixed order, so none can be named."),
    Case("--keep", "no-such-class", "mono",
         ["--model", "speech8k-speech-noise", "--keep", "music"],
         "--keep names 'music', which is not an output of speech8k-speech-noise (its "
         "classes: noise, speech)."),
    Case("--keep", "on-a-room", "room", ["--keep", "speech"],
         "--keep needs a model whose outputs are named classes (such as "
         "speech8k-speech-noise: noise, speech); the outputs of the default "
         "separators (speech8k-2voices for a mono file, IVA for a multichannel one) "
         "come in no fixed order, so none can be named."),
    Case("--keep", "on-iva", "room", ["--method", "iva", "--keep", "speech"],
         "--keep needs a model whose outputs are named classes (such as "
         "speech8k-speech-noise: noise, speech); the outputs of IVA come in no fixed "
         "order, so none can be named."),
    Case("--chunk-seconds", "0.5", "mono", ["--chunk-seconds", "0.5"], "changes"),
    Case("--chunk-seconds", "under-a-window", "mono", ["--chunk-seconds", "0.001"],
         "--chunk-seconds must be at least 0.032 s (one STFT window of the model, "
         "256 samples at 8000 Hz), got 0.001."),
    Case("--chunk-seconds", "0", "mono", ["--chunk-seconds", "0"],
         "--chunk-seconds must be positive, got 0.0."),
    Case("--quiet", "on", "mono", ["--quiet"], "same"),
    Case("--force", "given", "mono", ["--force"], "same", existing=True),
    Case("--force", "absent", "mono", [], "1 output file(s) exist, e.g. "
         "'<out>/mono_source1.wav'; nothing was written. Pass --force to overwrite "
         "them.", existing=True),
    Case("--random-state", "3", "three", ["--method", "ica", "--random-state", "3"],
         "changes", base=["--method", "ica"]),
]


def test_every_option_has_a_case():
    parser = build_parser()
    command = parser._subparsers._group_actions[0].choices["separate"]
    options = {max(a.option_strings, key=len) if a.option_strings else a.dest
               for a in command._actions if a.dest != "help"}
    assert options == {case.option for case in CASES}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """One folder per recording: ``<name>.wav`` and a copy of it,
    ``<name>_copy.wav``. mono (two voices, 16 kHz, 2 s), three (three voices
    on 3 microphones, instantaneous, 2 s), room (two voices in a room, 2
    microphones, 3 s), broken (not audio), empty (0 bytes)."""
    import librosa

    from sksep.datasets import make_room_mixture

    demo = load_speech_demo()
    a, b, c = (demo.waveforms[k][:3 * SR] for k in (0, 2, 1))
    top = tmp_path_factory.mktemp("options")

    def folder(name):
        (top / name).mkdir()
        return top / name / f"{name}.wav"

    write_audio(folder("mono"), librosa.resample(
        0.4 * (a[:2 * SR] + b[:2 * SR]), orig_sr=SR, target_sr=16000), 16000)
    X, _ = make_instantaneous_mixture(np.stack([a, b, c], axis=1)[:2 * SR],
                                      random_state=0)
    write_audio(folder("three"), 0.9 * X / np.abs(X).max(), SR)
    room, _ = make_room_mixture(np.stack([a, b], axis=1), SR, rt60=0.15,
                                random_state=0)
    write_audio(folder("room"), 0.9 * room / np.abs(room).max(), SR)
    folder("broken").write_text("not audio")
    folder("empty").write_bytes(b"")
    for path in top.glob("*/*.wav"):
        shutil.copy(path, path.with_name(f"{path.stem}_copy.wav"))
    return top


@pytest.fixture(scope="module")
def norate(tmp_path_factory):
    """The shipped model saved without its rate (as trained outside
    'sksep train'): --model-sr is the rate it runs at."""
    from sksep.pretrained import load, save

    model = load("speech8k-2voices")
    del model.sample_rate_
    path = tmp_path_factory.mktemp("model") / "norate.pt"
    save(model, path)
    return path


@pytest.fixture(scope="module")
def scheduler(dask_distributed):
    """A Dask cluster in this process, by its address (as a user gives it)."""
    with dask_distributed.LocalCluster(n_workers=1, threads_per_worker=1,
                                       processes=False, dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Batch tasks run on one thread; a network's float rounding depends on
    the thread count, so the one-file run gets one thread too."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclass
class Run:
    status: int
    message: str          # the recording's refusal, '' when it was separated
    outputs: dict         # <stem>_<k>.wav -> bytes


def separate(inp, stem, args, out, capsys):
    """``sksep separate <inp> -o <out> <args>``, in the current folder."""
    try:
        status = main(["separate", inp, "-o", str(out), *args])
    except SystemExit as exc:           # argparse: a malformed command line
        status = exc.code
    err = capsys.readouterr().err.replace(str(out), "<out>")
    failed = f"  failed: {stem}.wav: "
    lines = [x for x in err.splitlines() if x.startswith(failed)] or [
        x for x in err.splitlines() if x.startswith("sksep separate: error: ")]
    message = ""
    if status:
        assert lines, err
        message = lines[0].split(": ", 2)[2] if lines[0].startswith(failed) else \
            lines[0][len("sksep separate: error: "):]
    files = {p.name: p.read_bytes() for p in sorted(Path(out).glob(f"{stem}_s*.wav"))}
    return Run(status, message, files)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.option}-{c.name}")
def test_an_option_means_the_same_for_one_file_and_a_folder(
        case, recordings, tmp_path, capsys, monkeypatch, request):
    stem = case.recording
    places = {}
    for key in ("norate", "scheduler"):
        if any(f"{{{key}}}" in a for a in case.args + case.base):
            places[key] = str(request.getfixturevalue(key))
    args, base = ([a.format(**places) for a in x] for x in (case.args, case.base))
    if case.no_dask:
        monkeypatch.setitem(sys.modules, "dask.distributed", None)
    if case.wait_1s:
        request.getfixturevalue("dask_distributed")     # or a skip saying why
        import dask

        timeout = dask.config.set({"distributed.comm.timeouts.connect": "1s"})
        request.addfinalizer(lambda: timeout.__exit__(None, None, None))
    monkeypatch.chdir(recordings / stem)
    runs = {}
    for mode, inp in (("one", f"{stem}.wav"), ("many", ".")):
        out = tmp_path / mode
        if case.output_is_a_file:
            out.write_text("a file")
        if case.existing:
            out.mkdir()
            (out / f"{stem}_source1.wav").write_bytes(b"earlier")
        runs[mode] = separate(inp, stem, args, out, capsys)
    one, many = runs["one"], runs["many"]
    assert one.message == many.message
    if case.expect in ("same", "changes"):
        assert one.status == 0, one.message
        assert many.status == 0, many.message
        assert len(one.outputs) >= 2 and many.outputs == one.outputs
        was = separate(f"{stem}.wav", stem, base, tmp_path / "base", capsys)
        assert was.status == 0, was.message
        assert (was.outputs == one.outputs) == (case.expect == "same")
    else:
        assert one.status == many.status != 0
        assert case.expect in one.message
        assert "=" not in one.message        # the command line's words
        assert many.outputs == one.outputs   # nothing written, nothing replaced
        if case.existing:
            assert one.outputs == {f"{stem}_source1.wav": b"earlier"}
        else:
            assert not one.outputs
