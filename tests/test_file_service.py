"""One file service: ``sksep separate`` on one file and on many (a folder,
several files, ``--jobs 2``) separate a recording the same way, so every
option means the same in both modes, a refusal reads the same, and the
outputs keep the input's sample format."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sksep.cli import main
from sksep.datasets import load_speech_demo, make_instantaneous_mixture
from sksep.io import read_audio, write_audio

SR = 8000


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """mono.wav (two voices, 16 kHz), three.wav (three voices on 3
    microphones, instantaneous), room.wav (two voices in a room, 2 microphones, 6 s) and
    room24.wav (its first 3 s, 24-bit)."""
    import librosa

    from sksep.datasets import make_room_mixture

    demo = load_speech_demo()
    a, b = demo.waveforms[0][:6 * SR], demo.waveforms[2][:6 * SR]
    folder = tmp_path_factory.mktemp("recordings")
    mono = librosa.resample(0.4 * (a[:3 * SR] + b[:3 * SR]), orig_sr=SR,
                            target_sr=16000)
    write_audio(folder / "mono.wav", mono, 16000)
    c = demo.waveforms[1][:3 * SR]
    X, _ = make_instantaneous_mixture(np.stack([a[:3 * SR], b[:3 * SR], c], axis=1),
                                      random_state=0)
    write_audio(folder / "three.wav", 0.9 * X / np.abs(X).max(), SR)
    room, _ = make_room_mixture(np.stack([a, b], axis=1), SR, rt60=0.15,
                                random_state=0)
    room = 0.9 * room / np.abs(room).max()
    write_audio(folder / "room.wav", room, SR)
    soundfile.write(folder / "room24.wav", room[:3 * SR], SR, subtype="PCM_24")
    write_audio(folder / "other.wav", 0.1 * np.sin(np.arange(2 * SR) / 7.0), SR)
    return folder


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Batch mode pins each worker to one thread; a network's float rounding
    depends on the thread count, so the one-file run gets one thread too and
    the two modes can be compared byte for byte (the property here is that
    every option means the same, not the arithmetic of two thread counts)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run(args, capsys):
    """``sksep <args>`` in this process: (status, stdout, stderr)."""
    status = main([str(a) for a in args])
    out = capsys.readouterr()
    return status, out.out, out.err


def outputs(folder, stem):
    """``<stem>_source<k>.wav`` in ``folder``: name -> bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob(f"{stem}_source*"))}


def both_ways(recordings, tmp_path, capsys, name, options):
    """Separate ``name`` alone and, with a copy of it, as two files (batch
    mode) with the same options; returns the two folders' outputs."""
    path, stem = recordings / name, Path(name).stem
    copy = tmp_path / "copies" / f"{stem}_copy.wav"
    copy.parent.mkdir(parents=True)
    shutil.copy(path, copy)
    status, _, err = run(["separate", path, "-o", tmp_path / "one", "--quiet",
                          *options], capsys)
    assert status == 0, err
    status, out, err = run(["separate", path, copy, "-o", tmp_path / "many",
                            "--quiet", *options], capsys)
    assert status == 0, err
    assert "2 separated" in out
    many = outputs(tmp_path / "many", stem)
    copies = outputs(tmp_path / "many", f"{stem}_copy")
    assert list(copies.values()) == list(many.values())
    return outputs(tmp_path / "one", stem), many


@pytest.mark.parametrize("name, options, n_out, baseline", [
    ("mono.wav", ["--method", "cnn"], 2, []),                     # the mask model
    ("three.wav", ["--method", "ica", "--n-sources", "2"], 2, ["--method", "ica"]),
    ("three.wav", ["--method", "ica", "--random-state", "3"], 3, ["--method", "ica"]),
    # IVA learns from the middle 2 s of 6 s, against all of them
    ("room.wav", ["--fit-seconds", "2", "--chunk-seconds", "2"], 2,
     ["--chunk-seconds", "2"]),
])
def test_an_option_means_the_same_for_one_file_and_for_many(
        recordings, tmp_path, capsys, name, options, n_out, baseline):
    one, many = both_ways(recordings, tmp_path, capsys, name, options)
    assert len(one) == n_out
    assert many == one
    # and the option did something: without it the outputs differ
    status, _, err = run(["separate", recordings / name, "-o", tmp_path / "baseline",
                          "--quiet", *baseline], capsys)
    assert status == 0, err
    assert outputs(tmp_path / "baseline", Path(name).stem) != one


def test_cnn_on_a_folder_with_two_workers_gives_the_single_file_outputs(
        recordings, tmp_path):
    """Through the installed command, in worker processes."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(recordings / "mono.wav", archive / "mono.wav")
    shutil.copy(recordings / "other.wav", archive / "other.wav")
    script = Path(sys.executable).with_name("sksep")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "sksep"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for args in ([archive, "-o", "many", "--jobs", "2"],
                 [archive / "mono.wav", "-o", "one"],
                 [archive / "mono.wav", "-o", "default"]):
        extra = [] if args[-1] == "default" else ["--method", "cnn"]
        res = subprocess.run(cmd + ["separate", "--quiet"] + [str(a) for a in args]
                             + extra, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300, env=env)
        assert res.returncode == 0, res.stderr
    one = outputs(tmp_path / "one", "mono")
    assert len(one) == 2
    assert outputs(tmp_path / "many", "mono") == one
    assert outputs(tmp_path / "default", "mono") != one      # cnn is not the mask


def test_a_24_bit_file_gives_24_bit_outputs_in_batch_too(recordings, tmp_path, capsys):
    one, many = both_ways(recordings, tmp_path, capsys, "room24.wav", [])
    assert len(one) == 2 and many == one
    for folder in ("one", "many"):
        for k in (1, 2):
            info = soundfile.info(str(tmp_path / folder / f"room24_source{k}.wav"))
            assert info.subtype == "PCM_24" and info.samplerate == SR


def test_a_model_without_its_rate_runs_at_model_sr_in_both_modes(
        recordings, tmp_path, capsys):
    """A model file without sample_rate_ (trained outside 'sksep train'):
    --model-sr is the rate it runs at, for one file and for many."""
    from sksep.pretrained import load, save

    model = load("speech8k-2voices")
    del model.sample_rate_
    save(model, tmp_path / "norate.pt")
    found = {}
    for model_sr in ("8000", "16000"):
        one, many = both_ways(recordings, tmp_path / model_sr, capsys, "mono.wav",
                              ["--model", tmp_path / "norate.pt",
                               "--model-sr", model_sr])
        assert len(one) == 2 and many == one
        found[model_sr] = one
    assert found["8000"] != found["16000"]


def refusal(args, capsys, cwd, out):
    """The one-line error of ``sksep separate <args>`` alone and in batch
    (as one of two files), run in ``cwd``."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        status, _, err = run(["separate", *args, "-o", out / "one"], capsys)
        assert status == 1
        assert err.startswith("sksep separate: error: ") and err.count("\n") == 1
        single = err[len("sksep separate: error: "):].strip()
        copy = out / "copy.wav"
        shutil.copy(args[0], copy)
        status, _, err = run(["separate", args[0], copy, *args[1:], "-o",
                              out / "many"], capsys)
        assert status == 1
        line = next(x for x in err.splitlines() if x.startswith(f"  failed: {args[0]}"))
        return single, line[len(f"  failed: {args[0]}: "):]
    finally:
        os.chdir(old)


@pytest.mark.parametrize("args, message", [
    (["mono.wav", "--method", "ica"],
     "'mono.wav' has 1 channel; ICA needs at least as many channels as sources "
     "(use --method mask for a single microphone)."),
    (["room.wav", "--n-sources", "3"],
     "IVA cannot separate 3 sources from 2 channels of 'room.wav'"),
    (["mono.wav", "--n-sources", "3"],
     "the model separates 2 sources, --n-sources asked for 3 (--n-sources sets how "
     "many IVA or ICA recovers from a multichannel file)."),
    (["room.wav", "--model", "speech8k-2voices"],
     "--model applies to the single-microphone methods (mask, cnn), not to "
     "--method iva; pass --method mask"),
    (["room.wav", "--fit-seconds", "0.5"],
     "--fit-seconds must be at least 1.024 s (4 of IVA's 256 ms STFT windows), "
     "got 0.5."),
    (["mono.wav", "--chunk-seconds", "0.001"], "--chunk-seconds must be at least"),
])
def test_a_refused_option_reads_the_same_for_one_file_and_for_many(
        recordings, tmp_path, capsys, args, message):
    single, batch = refusal(args, capsys, recordings, tmp_path)
    assert single == batch
    assert message in single
    assert "=" not in single          # the command line's words, not Python's
    assert not (tmp_path / "one").exists()
    assert not list((tmp_path / "many").glob("*_source*"))


def test_a_batch_rerun_keeps_the_earlier_rows_of_the_table(recordings, tmp_path,
                                                           capsys):
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("mono.wav", "room24.wav"):
        shutil.copy(recordings / name, archive / name)
    (archive / "broken.wav").write_text("not audio")
    table = tmp_path / "out" / "sksep-results.csv"

    def rows():
        with open(table) as fh:
            return {Path(r["input"]).name: r for r in csv.DictReader(fh)}

    status, out, _ = run(["separate", archive, "-o", tmp_path / "out", "--quiet"],
                         capsys)
    assert status == 1 and "2 separated, 0 already done, 1 failed" in out
    first = rows()
    assert first["mono.wav"]["status"] == "done" and float(first["mono.wav"]["rtf"]) > 0
    # the same files again, and one of them with a new file
    shutil.copy(recordings / "other.wav", tmp_path / "new.wav")
    status, out, _ = run(["separate", archive / "mono.wav", tmp_path / "new.wav",
                          "-o", tmp_path / "out", "--quiet"], capsys)
    assert status == 0 and "1 separated, 1 already done, 0 failed" in out
    second = rows()
    assert list(second) == ["broken.wav", "mono.wav", "room24.wav", "new.wav"]
    assert second["mono.wav"] == first["mono.wav"]        # the run that did it
    assert second["room24.wav"] == first["room24.wav"]    # not in this run: kept
    assert second["broken.wav"] == first["broken.wav"]
    assert second["new.wav"]["status"] == "done"
    # a file that failed and now succeeds has its row updated
    (archive / "broken.wav").unlink()
    shutil.copy(recordings / "other.wav", archive / "broken.wav")
    status, out, _ = run(["separate", archive, "-o", tmp_path / "out", "--quiet"],
                         capsys)
    assert status == 0 and "1 separated, 2 already done, 0 failed" in out
    third = rows()
    assert third["broken.wav"]["status"] == "done" and not third["broken.wav"]["error"]
    assert [third[k] for k in ("mono.wav", "room24.wav", "new.wav")] == [
        second[k] for k in ("mono.wav", "room24.wav", "new.wav")]


def test_separate_files_takes_the_options_as_keywords(recordings, tmp_path):
    """The library call: the same outputs as the command line's, refusals as
    failed rows in the library's words."""
    from sksep.batch import separate_files

    rows = separate_files([recordings / "three.wav", recordings / "mono.wav"],
                          tmp_path / "lib", method="ica", n_sources=2)
    assert [r["status"] for r in rows] == ["done", "failed"]
    assert "has 1 channel; ICA needs" in rows[1]["error"]
    assert "method='mask'" in rows[1]["error"]
    status = main(["separate", str(recordings / "three.wav"), "-o",
                   str(tmp_path / "cli"), "--method", "ica", "--n-sources", "2",
                   "--quiet"])
    assert status == 0
    assert outputs(tmp_path / "lib", "three") == outputs(tmp_path / "cli", "three")
    with pytest.raises(ValueError, match=r"'fit_seconds' parameter of separate_files "
                       r"must be a float in the range \(0.0, inf\)\. Got 0 instead"):
        separate_files(recordings / "room.wav", tmp_path / "lib", fit_seconds=0)


def test_short_chunks_are_said_in_the_command_lines_words(recordings, tmp_path, capsys):
    """--chunk-seconds under 20 s with the two-voice model: a note that the
    voices may swap between chunks, naming --chunk-seconds (not the
    library's chunk_size); the default chunks, longer than this 3 s file,
    say nothing of it."""
    assert main(["separate", str(recordings / "mono.wav"), "-o", str(tmp_path / "a"),
                 "--chunk-seconds", "1"]) == 0
    err = capsys.readouterr().err
    assert ("note: chunks of 1 s: in chunks shorter than 20 s a two-voice model may "
            "swap the voices from one chunk to the next; --chunk-seconds of 20 or "
            "more keeps their order") in err
    assert "chunk_size" not in err and "UserWarning" not in err
    assert main(["separate", str(recordings / "mono.wav"), "-o", str(tmp_path / "b")]) == 0
    assert "chunks shorter than" not in capsys.readouterr().err


def test_a_room_method_that_stops_short_is_said_as_a_note(recordings, tmp_path,
                                                          capsys, monkeypatch):
    """IVA stopping at its iteration limit is said by sksep separate in its
    own words (the limit is no option of the command), not leaked as a
    scikit-learn ConvergenceWarning with a source path; the library still
    warns as scikit-learn does."""
    import warnings

    from sksep.decomposition._iva import IVASeparator

    demixing = IVASeparator._demixing

    def never_converged(self, *args, **kwargs):
        demix, info = demixing(self, *args, **kwargs)
        return demix, {**info, "converged": False}

    monkeypatch.setattr(IVASeparator, "_demixing", never_converged)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["separate", str(recordings / "room.wav"), "-o",
                     str(tmp_path / "one"), "--quiet"]) == 0
    assert "ConvergenceWarning" not in capsys.readouterr().err
    assert main(["separate", str(recordings / "room.wav"), "-o",
                 str(tmp_path / "two")]) == 0
    err = capsys.readouterr().err
    assert ("note: IVA stopped at its iteration limit before converging; the sources "
            "may be less well separated than they could be") in err
    assert "ConvergenceWarning" not in err


def test_a_batch_row_carries_the_notes(recordings, tmp_path):
    from sksep.batch import separate_files

    rows = separate_files([recordings / "mono.wav"], tmp_path / "out", chunk_seconds=1.0)
    assert rows[0]["status"] == "done"
    assert "chunks shorter than 20 s a two-voice model may swap" in rows[0]["notes"]


def test_a_silent_file_is_said_to_be_silent(tmp_path, capsys):
    write_audio(tmp_path / "quiet.wav", np.zeros(SR), SR)
    assert main(["separate", str(tmp_path / "quiet.wav"), "-o", str(tmp_path / "out")]) == 0
    assert ("note: the recording is silent (every sample is zero): its sources are "
            "silent too") in capsys.readouterr().err
    for name in ("quiet_source1.wav", "quiet_source2.wav"):
        assert not np.any(read_audio(tmp_path / "out" / name)[0])


def test_an_output_folder_under_a_file_is_refused_before_any_work(recordings, tmp_path,
                                                                  capsys):
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "voices"
    for args in (["mono.wav"], ["mono.wav", "other.wav"]):        # one file, a batch
        assert main(["separate", *[str(recordings / a) for a in args], "-o", str(out)]) == 1
        assert (f"cannot make the output folder '{out}': '{tmp_path / 'afile'}' is a "
                "file.") in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_keep_writes_only_the_named_output_with_the_samples_of_a_full_run(
        recordings, tmp_path, capsys):
    # the voice without its background, as a user of the speech-noise model
    # wants it: one file, the same samples as that output of a full run
    model = ["--model", "speech8k-speech-noise"]
    status, _, err = run(["separate", recordings / "mono.wav", "-o", tmp_path / "all",
                          *model, "--quiet"], capsys)
    assert status == 0, err
    for case in ("speech", "SPEECH"):     # a class name, whatever its case
        out = tmp_path / case
        status, _, err = run(["separate", recordings / "mono.wav", "-o", out, *model,
                              "--keep", case, "--quiet"], capsys)
        assert status == 0, err
        assert sorted(p.name for p in out.iterdir()) == ["mono_speech.wav"]
        assert ((out / "mono_speech.wav").read_bytes()
                == (tmp_path / "all" / "mono_speech.wav").read_bytes())
    # many files: each gets its speech output only
    status, _, err = run(["separate", recordings / "mono.wav", recordings / "other.wav",
                          "-o", tmp_path / "many", *model, "--keep", "speech",
                          "--quiet"], capsys)
    assert status == 0, err
    assert sorted(p.name for p in (tmp_path / "many").glob("*.wav")) == [
        "mono_speech.wav", "other_speech.wav"]


def test_keep_checks_only_the_outputs_it_writes(recordings, tmp_path, capsys):
    # a noise output from an earlier run is neither refused nor touched
    out = tmp_path / "out"
    out.mkdir()
    (out / "mono_noise.wav").write_bytes(b"earlier")
    status, _, err = run(["separate", recordings / "mono.wav", "-o", out, "--model",
                          "speech8k-speech-noise", "--keep", "speech", "--quiet"],
                         capsys)
    assert status == 0, err
    assert (out / "mono_noise.wav").read_bytes() == b"earlier"
    assert (out / "mono_speech.wav").is_file()


def test_keep_on_a_two_voice_model_file_is_refused_for_each_file_alike(
        recordings, tmp_path, capsys):
    # a model file is not in the registry: refused when loaded, in the same
    # words for one file and for many, and nothing is written
    from sksep.pretrained import load, save

    path = tmp_path / "voices.pt"
    save(load("speech8k-2voices"), path)
    single, batch = refusal(["mono.wav", "--model", path, "--keep", "speech"], capsys,
                            recordings, tmp_path)
    assert single == batch
    assert single.startswith("--keep needs a model whose outputs are named classes")
    assert "voices.pt" in single
    assert not list(tmp_path.rglob("mono_*.wav"))


def test_separate_files_keeps_a_class_by_keyword(recordings, tmp_path):
    from sksep.batch import separate_files

    rows = separate_files([recordings / "mono.wav"], tmp_path,
                          model="speech8k-speech-noise", keep=["speech"])
    assert [r["status"] for r in rows] == ["done"]
    assert rows[0]["outputs"].endswith("mono_speech.wav")
    assert not (tmp_path / "mono_noise.wav").exists()
    with pytest.raises(ValueError, match="keep names 'music'"):
        separate_files([recordings / "mono.wav"], tmp_path / "x",
                       model="speech8k-speech-noise", keep="music")


def test_a_batch_rerun_with_other_outputs_kept_is_not_skipped(recordings, tmp_path,
                                                               capsys):
    # rerun as it was: skipped; with another --keep: separated again, as
    # the file alone would be (its noise output written); with every
    # output: the speech output in the way is refused, not replaced
    inputs = [recordings / "mono.wav", recordings / "other.wav"]
    model = ["--model", "speech8k-speech-noise", "--quiet"]
    out = tmp_path / "out"

    def batch(*args):
        status, stdout, err = run(["separate", *inputs, "-o", out, *model, *args], capsys)
        return status, stdout + err

    assert batch("--keep", "speech")[0] == 0
    speech = (out / "mono_speech.wav").read_bytes()
    status, said = batch("--keep", "speech")
    assert status == 0 and "0 separated, 2 already done" in said
    status, said = batch("--keep", "noise")
    assert status == 0 and "2 separated, 0 already done" in said
    assert (out / "mono_noise.wav").is_file()
    status, said = batch()
    assert status == 1
    assert "output file(s) exist" in said and "Pass --force" in said
    assert (out / "mono_speech.wav").read_bytes() == speech
