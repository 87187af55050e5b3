"""``sksep stream`` and ``sksep demo`` read, name, check and write through
the file service, as ``sksep separate`` does: an empty input, an output
folder that is a file, an output in the way, a model that is not there
are refused in the same words, ``--force`` replaces, and the outputs keep
the input's sample format."""

from pathlib import Path

import numpy as np
import pytest
import soundfile

from sksep.cli import main

SR = 8000


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """call.wav: 1 s of two tones, 24-bit; empty.wav: 0 bytes."""
    folder = tmp_path_factory.mktemp("call")
    t = np.arange(SR) / SR
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 1300 * t)
    soundfile.write(folder / "call.wav", x, SR, subtype="PCM_24")
    (folder / "empty.wav").write_bytes(b"")
    return folder


def run(command, *args, capsys):
    """``sksep <command> <args>``: (status, its error's words, stdout)."""
    status = main([command, *map(str, args)])
    out = capsys.readouterr()
    prefix = f"sksep {command}: error: "
    said = [x[len(prefix):] for x in out.err.splitlines() if x.startswith(prefix)]
    return status, (said[0] if said else ""), out.out


@pytest.mark.parametrize("name, args, says", [
    ("empty.wav", [], "'{dir}/empty.wav' is empty (0 bytes): there is no audio in it."),
    ("call.wav", ["--model", "{dir}/missing.pt"], "missing.pt"),
])
def test_stream_refuses_an_input_as_separate_does(call, tmp_path, capsys, name, args,
                                                  says):
    words = {}
    for command in ("separate", "stream"):
        status, words[command], _ = run(
            command, call / name, "-o", tmp_path / command,
            *[a.format(dir=call) for a in args], capsys=capsys)
        assert status == 1
        assert not (tmp_path / command).exists()
    assert words["stream"] == words["separate"]
    assert says.format(dir=call) in words["stream"]


def test_stream_and_demo_refuse_an_output_folder_that_is_a_file(call, tmp_path,
                                                                capsys):
    out = tmp_path / "out.wav"
    out.write_text("a file")
    words = {command: run(command, *args, capsys=capsys)[1] for command, args in (
        ("separate", [call / "call.wav", "-o", out]),
        ("stream", [call / "call.wav", "-o", out]),
        ("demo", ["--out", out]))}
    assert set(words.values()) == {f"'{out}' exists and is not a directory."}
    assert out.read_text() == "a file"


def test_stream_checks_and_replaces_outputs_as_separate_does(call, tmp_path, capsys):
    """An output in the way is refused in the same words before any work;
    --force replaces it; the outputs are 24-bit, as the input is."""
    words = {}
    for command in ("separate", "stream"):
        out = tmp_path / command
        out.mkdir()
        (out / "call_source2.wav").write_bytes(b"earlier")
        status, said, _ = run(command, call / "call.wav", "-o", out, capsys=capsys)
        assert status == 1
        words[command] = said.replace(str(out), "<out>")
        assert sorted(p.name for p in out.iterdir()) == ["call_source2.wav"]
        status, said, printed = run(command, call / "call.wav", "-o", out, "--force",
                                    capsys=capsys)
        assert status == 0, said
        for k in (1, 2):
            info = soundfile.info(str(out / f"call_source{k}.wav"))
            assert (info.subtype, info.samplerate, info.frames) == ("PCM_24", SR, SR)
            assert str(out / f"call_source{k}.wav") in printed
    assert words["stream"] == words["separate"] == (
        "1 output file(s) exist, e.g. '<out>/call_source2.wav'; nothing was "
        "written. Pass --force to overwrite them.")


def test_demo_refuses_an_output_in_the_way_before_any_work(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "room_voice1.wav").write_bytes(b"earlier")
    status, said, printed = run("demo", "--out", out, capsys=capsys)
    assert status == 1 and printed == ""
    assert said == (f"1 output file(s) exist, e.g. '{out / 'room_voice1.wav'}'; "
                    "nothing was written. Pass --force to overwrite them.")
    assert [p.name for p in Path(out).iterdir()] == ["room_voice1.wav"]
