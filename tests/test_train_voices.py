"""benchmarks/train_voices.py, the resumable training of the shipped
single-microphone model: a run cut in two and resumed from its checkpoint
ends exactly where an uninterrupted run does, and its mixtures are
reproducible."""

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sksep import MaskEstimator, STFTTransformer
from sksep.pretrained import load, save

from conftest import load_script, write_index

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_voices.py"
SR = 8000


@pytest.fixture(scope="module")
def tv():
    return load_script(SCRIPT)


def _voice(rng, f0, seconds):
    t = np.arange(int(seconds * SR)) / SR
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t) ** 2
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.1 * envelope * wave + 0.001 * rng.normal(size=t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A miniature of ../shared/data: speech8k, voices8k-extra, noise8k."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    rows = []
    for i, (corpus, split) in enumerate([(c, s) for c in ("librispeech", "speechocean762")
                                         for s in ("train", "train", "valid", "valid")]):
        spk = f"{corpus[:2]}{i}"
        path = f"{corpus}/{spk}/a.flac"
        (root / "speech8k" / corpus / spk).mkdir(parents=True)
        sf.write(root / "speech8k" / path, _voice(rng, 90 + 30 * i, 3.0), SR)
        rows.append({"path": path, "speaker": spk, "sex": "FM"[i % 2], "age": "30",
                     "corpus": corpus, "seconds": "3.0", "split": split})
    write_index(root / "speech8k", rows)
    (root / "voices8k-extra" / "x").mkdir(parents=True)
    sf.write(root / "voices8k-extra" / "x" / "a.flac", _voice(rng, 330, 2.0), SR)
    sf.write(root / "voices8k-extra" / "x" / "b.flac", _voice(rng, 150, 1.0), SR)
    write_index(root / "voices8k-extra", [
        {"path": "x/a.flac", "speaker": "lj", "sex": "F"},
        {"path": "x/b.flac", "speaker": "pv00001", "sex": ""}])
    rows = []
    for split in ("train", "valid"):
        (root / "noise8k" / split).mkdir(parents=True)
        sf.write(root / "noise8k" / split / "n.flac",
                 (0.05 * rng.normal(size=5 * SR)).astype(np.float32), SR)
        rows.append({"path": f"{split}/n.flac", "source": "esc50", "category": "rain",
                     "split": split, "license": "CC0", "attribution": "test noise",
                     "speechlike": "0"})
    write_index(root / "noise8k", rows)
    return root


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    rng = np.random.default_rng(1)
    clips = rng.normal(size=(8, 800)).astype(np.float32) * 0.1
    est = MaskEstimator(kind="tcn", hidden_size=8, num_layers=2, max_epochs=1,
                        stft=STFTTransformer(n_fft=64, hop_length=16), random_state=0)
    est.fit(clips, np.arange(8) % 4)
    path = tmp_path_factory.mktemp("init") / "tiny.pt"
    save(est, path)
    return path


def _run(tv, data, init, checkpoints, steps, *extra):
    tv.main(["--data", str(data), "--init", str(init), "--name", "tiny",
             "--checkpoints", str(checkpoints), "--max-steps", str(steps),
             "--batch-size", "2", "--n-valid", "2", "--valid-minutes", "1e6",
             "--warmup-minutes", "0", "--hours", "1e6", "--lr", "1e-2", *extra])
    return torch.load(Path(checkpoints) / "tiny.state.pt", weights_only=False)


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tv, data, init, tmp_path):
    whole = _run(tv, data, init, tmp_path / "whole", 4)
    _run(tv, data, init, tmp_path / "cut", 2)
    resumed = _run(tv, data, init, tmp_path / "cut", 4)
    assert whole["progress"]["step"] == resumed["progress"]["step"] == 4
    start = load(init).net_.module_.state_dict()
    moved = False
    for key, value in whole["module"].items():
        torch.testing.assert_close(resumed["module"][key], value, rtol=0, atol=0)
        moved |= not torch.equal(value, start[key])
    assert moved  # four steps of training changed the network
    # Adam's moments came back too: a resumed run without them would differ
    state = whole["optimizer"]["state"]
    assert state and all(int(s["step"]) == 4 for s in state.values())
    # the best network so far is a loadable model file
    assert load(tmp_path / "cut" / "tiny.best.pt").separate(
        np.zeros(1600, np.float32), sr=SR).shape == (2, 1600)


def test_so_tolerance_keeps_no_network_that_loses_speechocean762(tv, data, init,
                                                                 tmp_path, capsys):
    """--so-tolerance: a network is kept as the best only if the
    speechocean762 valid score stays within it of the run's start (here
    one that cannot be met, then one that always is), and the log says
    which check held it back."""
    strict = _run(tv, data, init, tmp_path / "strict", 1, "--so-tolerance", "-1000",
                  "--clean-tolerance", "1000")
    assert "best_step" not in strict["progress"]
    assert not (tmp_path / "strict" / "tiny.best.pt").exists()
    valid_lines = [ln for ln in capsys.readouterr().out.splitlines() if "valid libri" in ln]
    assert valid_lines and all(ln.endswith("(speechocean762 below start)")
                               for ln in valid_lines)
    loose = _run(tv, data, init, tmp_path / "loose", 1, "--so-tolerance", "1000")
    assert loose["progress"]["best_step"] in (0, 1)
    assert (tmp_path / "loose" / "tiny.best.pt").exists()


def _batch(tv, voices, noises, args, rooms=None):
    """The training batch that seed [0, 7] draws."""
    return tv.training_batch(np.random.default_rng([0, 7]), voices, noises, args, rooms)


def test_training_mixtures_are_reproducible_and_varied(tv, data):
    voices = tv.Voices(data, "train")
    noises = tv.Noises(data, "train")

    class Args:
        batch_size, p_libri, p_so, p_speed, p_eq, p_noise, p_single = 4, .4, .3, .5, .5, .5, .25

    a = _batch(tv, voices, noises, Args)
    b = _batch(tv, voices, noises, Args)
    c = tv.training_batch(np.random.default_rng([0, 8]), voices, noises, Args)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])
    mix, refs = a
    assert mix.shape == (4, 4 * SR) and refs.shape == (4, 2, 4 * SR)
    # the mixture holds the voices (plus, sometimes, noise)
    residual = mix - refs.sum(1)
    assert np.all(np.sum(residual**2, -1) < np.sum(mix**2, -1))


def test_reverberant_mixtures_are_reproducible_and_hold_the_room(tv, data):
    """--p-reverb: the voices pass through a simulated room, drawn from the
    seed; the targets are the reverberant voices, which sum to the mixture."""
    voices = tv.Voices(data, "train")
    noises = tv.Noises(data, "train")
    rooms = tv.Rooms(0, n=3)
    assert len(rooms.rirs) == 3 and all(len(r) == 2 for r in rooms.rirs)

    class Args:
        batch_size, p_libri, p_so, p_speed, p_eq, p_noise, p_single = 3, .4, .3, 0, 0, 0, 0
        p_reverb = 1.0

    a = _batch(tv, voices, noises, Args, rooms)
    b = _batch(tv, voices, noises, Args,
                          tv.Rooms(0, n=3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[0], a[1].sum(1), atol=1e-6)
    # the dry draw of the same seed differs: a room was applied
    Args.p_reverb = 0.0
    dry = _batch(tv, voices, noises, Args, rooms)
    assert not np.allclose(a[1], dry[1], atol=1e-4)
    # without --p-reverb the draws are those of a run without rooms
    plain = _batch(tv, voices, noises, Args)
    np.testing.assert_array_equal(dry[0], plain[0])


def test_a_fresh_machine_continues_from_the_committed_model_file(tv, data, init, tmp_path):
    """Only the exported model file travels between machines (the optimizer
    state lives in a git-ignored folder): a run started from it continues
    its step count and wall time instead of starting over."""
    _run(tv, data, init, tmp_path / "first", 3)
    best = tmp_path / "first" / "tiny.best.pt"
    recorded = torch.load(best, weights_only=True)["metadata"]["progress"]
    later = _run(tv, data, best, tmp_path / "fresh", recorded["step"] + 2)
    assert later["progress"]["step"] == recorded["step"] + 2
    assert later["progress"]["minutes"] > recorded["minutes"]
    assert later["progress"]["warm_from"] == recorded["minutes"]


def test_arch_trains_a_fresh_network_of_that_kind_and_resumes_it(tv, data, init, tmp_path):
    """--arch: a freshly initialised network of the asked kind on --init's
    STFT (the same seed, the same start), resumable, saved as a model file
    of that kind; a resume that asks for another network is refused."""
    arch = ("--arch", "dual-path", "--hidden-size", "6", "--num-layers", "2")
    whole = _run(tv, data, init, tmp_path / "whole", 2, *arch)
    _run(tv, data, init, tmp_path / "cut", 1, *arch)
    resumed = _run(tv, data, init, tmp_path / "cut", 2, *arch)
    assert whole["progress"]["init"] == f"fresh dual-path 6x2 on {init}"
    for key, value in whole["module"].items():
        torch.testing.assert_close(resumed["module"][key], value, rtol=0, atol=0)
    model = load(tmp_path / "cut" / "tiny.best.pt")
    assert (model.kind, model.hidden_size, model.num_layers) == ("dual-path", 6, 2)
    assert model.stft_.n_fft == load(init).stft_.n_fft
    assert model.separate(np.zeros(1600, np.float32), sr=SR).shape == (2, 1600)
    with pytest.raises(SystemExit, match="holds a run of 'fresh dual-path 6x2 on "):
        _run(tv, data, init, tmp_path / "cut", 3)
    with pytest.raises(SystemExit, match="holds a run of 'fresh dual-path 6x2 on "):
        _run(tv, data, init, tmp_path / "cut", 3, "--arch", "tcn", "--hidden-size", "6",
             "--num-layers", "2")


@pytest.mark.parametrize("kind", ["tcn", "dual-path"])
def test_swap_outputs_swaps_the_two_masks(tv, kind):
    """speech-noise runs give 'speech' to the output that holds more of it
    by swapping a network's outputs: the masks trade places, nothing else
    changes."""
    from sksep.nn import MaskNet, SpectralSeparator

    torch.manual_seed(0)
    module = SpectralSeparator(MaskNet(33, 2, hidden_size=4, num_layers=2, kind=kind),
                               64, 16, torch.hann_window(64))
    x = torch.randn(2, 800)
    with torch.no_grad():
        before = module(x)["masks"]
        tv.swap_outputs(module)
        after = module(x)["masks"]
    torch.testing.assert_close(after, before.flip(1))
    assert not torch.allclose(before[:, 0], before[:, 1])


def test_hidden_size_without_arch_is_refused(tv, data, init, tmp_path):
    with pytest.raises(SystemExit):
        _run(tv, data, init, tmp_path, 1, "--hidden-size", "8")


class _NoiseArgs:
    batch_size, p_libri, p_so, p_speed, p_eq, p_single = 6, .4, .3, .5, .0, .0
    snr = (-5.0, 5.0)


def test_speech_noise_mixtures_hold_one_voice_over_noise_at_the_asked_snr(tv, data):
    voices = tv.Voices(data, "train")
    noises = tv.Noises(data, "train")
    mix, refs = tv.noise_batch(np.random.default_rng([0, 3]), voices, noises, _NoiseArgs)
    again, _ = tv.noise_batch(np.random.default_rng([0, 3]), voices, noises, _NoiseArgs)
    np.testing.assert_array_equal(mix, again)
    assert refs.shape == (6, 2, 4 * SR)  # classes in np.unique order: noise, speech
    np.testing.assert_allclose(mix, refs.sum(1), atol=1e-6)
    snr = 10 * np.log10(np.sum(refs[:, 1]**2, -1) / np.sum(refs[:, 0]**2, -1))
    assert np.all((snr > -5.01) & (snr < 5.01)) and np.ptp(snr) > 1


def test_the_class_loss_rewards_each_class_on_its_own_output(tv):
    rng = np.random.default_rng(0)
    refs = torch.from_numpy(rng.normal(size=(3, 2, 800)).astype(np.float32))
    mix = refs.sum(1)
    right = tv.class_loss(refs, refs, mix)
    swapped = tv.class_loss(refs.flip(1), refs, mix)
    assert right < -40 and swapped > 0  # no permutation forgives the swap
    # speech alone: the noise output is trained towards silence
    alone = refs.clone()
    alone[:, 0] = 0
    quiet = tv.class_loss(torch.stack([0 * mix, mix], 1), alone, mix)
    loud = tv.class_loss(torch.stack([mix, mix], 1), alone, mix)
    assert quiet < loud


def test_a_speech_noise_run_gives_a_class_fixed_model(tv, data, init, tmp_path):
    # started from a two-voice run's model file, whose recorded progress
    # belongs to another task and must not be continued
    _run(tv, data, init, tmp_path / "voices", 3)
    voices_model = tmp_path / "voices" / "tiny.best.pt"
    tv.main(["--task", "speech-noise", "--data", str(data), "--init", str(voices_model),
             "--name", "tiny-sn", "--checkpoints", str(tmp_path), "--max-steps", "2",
             "--batch-size", "2", "--n-valid", "4", "--valid-minutes", "1e6",
             "--warmup-minutes", "0", "--hours", "1e6", "--lr", "1e-2"])
    est = load(tmp_path / "tiny-sn.best.pt")
    assert est.classes_.tolist() == ["noise", "speech"]
    assert not est.permutation_invariant
    state = torch.load(tmp_path / "tiny-sn.state.pt", weights_only=False)
    assert state["progress"]["task"] == "speech-noise"
    assert state["progress"]["step"] == 2 and "warm_from" not in state["progress"]


def test_same_sex_draws_give_a_speaker_of_that_sex_and_leave_old_runs_unchanged(tv, data):
    """--p-same-sex: the second voice is of the first voice's sex; at 0 the
    mixtures are those drawn before the option existed (no extra draw)."""
    voices = tv.Voices(data, "train")
    weights = {"libri": .4, "so": .3, "extra": .3}
    rng = np.random.default_rng(0)
    for sex in ("F", "M"):
        drawn = {voices.speaker(rng, weights, avoid="li0", sex=sex)[1] for _ in range(50)}
        assert {voices.sex[s] for s in drawn} == {sex} and "li0" not in drawn
    noises = tv.Noises(data, "train")

    class Old:
        batch_size, p_libri, p_so, p_speed, p_eq, p_noise, p_single = 4, .4, .3, .5, .5, .5, .25

    class Zero(Old):
        p_same_sex = 0.0

    class All(Old):
        p_same_sex = 1.0

    a = _batch(tv, voices, noises, Old)
    b = _batch(tv, voices, noises, Zero)
    c = _batch(tv, voices, noises, All)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])
    np.testing.assert_array_equal(
        c[0], _batch(tv, voices, noises, All)[0])


def test_a_share_outside_0_1_is_refused_in_the_option_s_words(tv, data, init, tmp_path, capsys):
    with pytest.raises(SystemExit):
        tv.main(["--data", str(data), "--init", str(init), "--checkpoints",
                 str(tmp_path), "--p-same-sex", "1.5"])
    assert "--p-same-sex is a share of mixtures, in [0, 1]; got 1.5" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tv.main(["--data", str(data), "--init", str(init), "--checkpoints",
                 str(tmp_path), "--p-libri", "0.7", "--p-so", "0.5"])
    assert "--p-libri 0.7 and --p-so 0.5 add up to more than 1" in capsys.readouterr().err


def test_a_new_criterion_scores_the_saved_best_again_rather_than_dropping_it(
        tv, data, init, tmp_path, capsys):
    """Resuming with a criterion the saved best was not scored for (here a
    state from before valid conversations existed) scores that network
    again on valid, so a worse network cannot take its place."""
    _run(tv, data, init, tmp_path, 2)
    path = tmp_path / "tiny.state.pt"
    state = torch.load(path, weights_only=False)
    assert state["progress"]["best_step"] in (0, 1, 2)
    del state["progress"]["best_scores"]["libri-conv"]
    torch.save(state, path)
    capsys.readouterr()
    resumed = _run(tv, data, init, tmp_path, 3, "--criterion", "libri+noise+conv")
    out = capsys.readouterr().out
    assert f"({tmp_path / 'tiny.best.pt'}) scored again for --criterion libri+noise+conv" in out
    prog = resumed["progress"]
    assert "libri-conv" in prog["best_scores"]
    assert prog["best"] == pytest.approx(tv.CRITERIA["libri+noise+conv"](prog["best_scores"]))


def test_worker_processes_make_the_batches_the_run_would_make_alone(tv, data):
    """``--workers``: batches made ahead in other processes are those of the
    step, in order, also when a run asks for a step out of order."""
    voices, noises = tv.Voices(data, "train"), tv.Noises(data, "train")

    class Args:
        seed, batch_size, task = 3, 2, "voices"
        p_libri, p_so, p_speed, p_eq, p_noise, p_single = 0.5, 0.3, 0.5, 0.5, 0.5, 0.1

    batches = tv.Batches(2, voices, noises, Args)
    try:
        for step in (0, 1, 2, 7, 8, 3):
            mix, refs = batches.get(step)
            want_mix, want_refs = tv.make_batch(step, voices, noises, Args)
            np.testing.assert_array_equal(mix, want_mix)
            np.testing.assert_array_equal(refs, want_refs)
    finally:
        batches.close()
    assert not np.array_equal(tv.make_batch(1, voices, noises, Args)[0],
                              tv.make_batch(2, voices, noises, Args)[0])


def test_a_run_with_workers_trains_the_network_it_trains_without(tv, data, init,
                                                                   tmp_path):
    alone = _run(tv, data, init, tmp_path / "alone", 3)
    helped = _run(tv, data, init, tmp_path / "helped", 3, "--workers", "2")
    for key, value in alone["module"].items():
        torch.testing.assert_close(helped["module"][key], value, rtol=0, atol=0)


def test_new_schedule_starts_the_cosine_at_the_run_s_start(tv, data, init, tmp_path):
    """A GPU run continuing a long CPU run from its model file: with
    ``--new-schedule`` its learning rate starts again from the top of a
    schedule of ``--hours`` instead of where the recorded run left off, and
    a later run from the GPU run's file does not inherit that schedule."""
    _run(tv, data, init, tmp_path / "first", 2)
    best = tmp_path / "first" / "tiny.best.pt"
    saved = torch.load(best, weights_only=True)
    saved["metadata"]["progress"]["minutes"] = 60.0  # an hour in: past a 0.5 h schedule
    torch.save(saved, best)
    steps = saved["metadata"]["progress"]["step"] + 1
    short = ("--hours", "0.5")
    old = _run(tv, data, best, tmp_path / "old", steps, *short)
    new = _run(tv, data, best, tmp_path / "new", steps, *short, "--new-schedule")
    assert new["progress"]["schedule_from"] == 60.0
    # _run's --lr 1e-2: the floor of the old schedule, the top of the new
    assert old["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-4)
    assert new["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-2, rel=1e-3)
    # the best file of a --new-schedule run records its schedule's start
    saved["metadata"]["progress"]["schedule_from"] = 60.0
    gpu_best = tmp_path / "gpu.best.pt"
    torch.save(saved, gpu_best)
    later = _run(tv, data, gpu_best, tmp_path / "later", steps, *short)
    assert "schedule_from" not in later["progress"]
    assert later["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-4)


def _failing_batches(tv, data, monkeypatch, how):
    voices, noises = tv.Voices(data, "train"), tv.Noises(data, "train")

    class Args:
        seed, batch_size, task = 3, 1, "voices"
        p_libri, p_so, p_speed, p_eq, p_noise, p_single = 0.5, 0.3, 0.5, 0.5, 0.5, 0.1

    made = tv.make_batch

    def make_batch(step, *work):
        if step == 2:
            how()
        return made(step, *work)

    monkeypatch.setattr(tv, "make_batch", make_batch)  # the workers fork with it
    return tv.Batches(1, voices, noises, Args)


def test_a_batch_that_fails_in_a_worker_stops_the_run_with_its_error(tv, data,
                                                                     monkeypatch):
    def fail():
        raise ValueError("no such speaker")

    batches = _failing_batches(tv, data, monkeypatch, fail)
    try:
        batches.get(0), batches.get(1)
        with pytest.raises(RuntimeError, match="step 2 failed") as info:
            batches.get(2)
        assert "no such speaker" in str(info.value.__cause__)
    finally:
        batches.close()


def test_a_worker_that_dies_stops_the_run_instead_of_hanging_it(tv, data, monkeypatch):
    batches = _failing_batches(tv, data, monkeypatch, lambda: os._exit(3))
    try:
        with pytest.raises(RuntimeError, match="worker died"):
            for step in range(4):
                batches.get(step)
    finally:
        batches.close()


def test_negative_workers_are_refused_in_the_option_s_words(tv, data, init, tmp_path,
                                                            capsys):
    with pytest.raises(SystemExit):
        _run(tv, data, init, tmp_path / "w", 1, "--workers", "-1")
    assert "--workers" in capsys.readouterr().err


@pytest.fixture(scope="module")
def gp():
    return load_script(SCRIPT.parent / "gpu_pack.py")


def test_the_gpu_pack_holds_valid_and_librispeech_train_whole_and_no_test(gp, data,
                                                                           tmp_path):
    """What a GPU run trains on: the valid splits and the LibriSpeech train
    readers whole, the test split never, the audio within 11 bits of the
    original (SI-SDR over 45 dB), loadable as the corpora are."""
    from sksep.datasets import load_noise8k, load_speech8k
    from sksep.metrics import si_sdr

    src = tmp_path / "data"
    shutil.copytree(data, src)
    rows = list(csv.DictReader(open(src / "speech8k" / "files.csv")))
    sf.write(src / "speech8k" / "test.flac", _voice(np.random.default_rng(9), 200, 2.0), SR)
    rows.append({**rows[0], "path": "test.flac", "speaker": "t9", "split": "test"})
    write_index(src / "speech8k", rows)
    out = tmp_path / "gpu"
    (out / "whl").mkdir(parents=True)
    (out / "whl" / "x-1-py3-none-any.whl").write_bytes(b"w")
    gp.main(["--data", str(src), "--out", str(out), "--no-wheels"])
    packed = load_speech8k(out / "data" / "speech8k")
    assert "test" not in set(packed.split)
    whole = load_speech8k(src / "speech8k", split=["train", "valid"])
    want = {(s, sp) for s, sp, c in zip(whole.speaker, whole.split, whole.corpus)
            if sp == "valid" or c == "librispeech"}
    assert want <= set(zip(packed.speaker, packed.split))
    by_path = dict(zip(whole.filenames, whole.waveforms))
    for name, wave in zip(packed.filenames, packed.waveforms):
        original = by_path[str(src / "speech8k" / Path(name).relative_to(out / "data" / "speech8k"))]
        assert si_sdr(original, wave) > 45
    assert set(load_noise8k(out / "data" / "noise8k").split) >= {"valid"}
    assert (out / "data" / "PACKED.md").is_file()


def test_a_pack_that_cannot_fit_says_so(gp, data, tmp_path, capsys):
    out = tmp_path / "gpu"
    (out / "whl").mkdir(parents=True)
    (out / "whl" / "x-1-py3-none-any.whl").write_bytes(b"w")
    with pytest.raises(SystemExit, match="LibriSpeech train readers alone take"):
        gp.main(["--data", str(data), "--out", str(out), "--no-wheels",
                 "--margin-mb", "63.99"])


def test_save_last_writes_the_network_the_run_ends_with(tv, data, init, tmp_path):
    """--save-last: the final network comes back as a model file even when
    valid never called it the best (a GPU run scored on another valid)."""
    state = _run(tv, data, init, tmp_path / "run", 3, "--save-last")
    last = load(tmp_path / "run" / "tiny.last.pt")
    for key, value in last.net_.module_.state_dict().items():
        torch.testing.assert_close(value.float(), state["module"][key].float(),
                                   rtol=0, atol=2e-3 * float(value.abs().max()) + 1e-6)
    meta = torch.load(tmp_path / "run" / "tiny.last.pt", weights_only=True)["metadata"]
    assert meta["progress"]["step"] == 3


def test_partial_overlap_silences_a_voice_for_part_of_the_mixture(tv, data):
    """--p-partial: the voices overlap only in part (one enters late, leaves
    early, or they take turns); the mixture is still the sum of the voices,
    the draws follow the seed, and at 0 the mixtures are those drawn before
    the option existed."""
    voices = tv.Voices(data, "train")
    noises = tv.Noises(data, "train")

    class Old:
        batch_size, p_libri, p_so, p_speed, p_eq, p_noise, p_single = 6, .4, .3, .5, .5, 0, 0

    class Zero(Old):
        p_partial = 0.0

    class All(Old):
        p_partial = 1.0

    old = _batch(tv, voices, noises, Old)
    zero = _batch(tv, voices, noises, Zero)
    np.testing.assert_array_equal(old[0], zero[0])
    mix, refs = _batch(tv, voices, noises, All)
    again = _batch(tv, voices, noises, All)
    np.testing.assert_array_equal(mix, again[0])
    np.testing.assert_allclose(mix, refs.sum(1), atol=1e-6)
    # in every mixture some voice is exactly silent over at least 0.45 s
    assert all(max(np.sum(v == 0) for v in pair) >= 0.45 * SR for pair in refs)


def test_turn_taking_lets_each_voice_speak_at_least_a_second(tv):
    rng = np.random.default_rng(0)
    ones = np.ones(4 * SR)
    shapes = set()
    for _ in range(200):
        a, b = tv.turn_taking(rng, ones, ones)
        assert a.sum() >= SR - 1 and b.sum() >= SR - 1
        assert max(np.sum(a == 0), np.sum(b == 0)) >= 0.45 * SR
        shapes.add((a[0] > 0, a[-1] > 0, b[0] > 0, b[-1] > 0))
    # late entry, early exit and turns all occur
    assert shapes == {(True, True, False, True), (True, True, True, False),
                      (True, False, False, True)}


def test_gate_is_one_inside_zero_outside_and_smooth(tv):
    g = tv._gate(8000, 2000, 6000)
    assert g[:1840].max() == 0 and g[6160:].max() == 0
    assert np.all(g[2160:5840] == 1)
    assert np.abs(np.diff(g)).max() < 0.05  # 20 ms ramps, no click


def test_longer_training_mixtures_on_request_and_4_s_otherwise(tv, data, init, tmp_path,
                                                               capsys):
    """--seconds: the training mixtures' length; without it (older runs)
    they are the 4 s drawn before; under 3 s it is refused in its words."""
    voices = tv.Voices(data, "train")
    noises = tv.Noises(data, "train")

    class Old:
        batch_size, p_libri, p_so, p_speed, p_eq, p_noise, p_single = 3, .4, .3, .5, .5, .5, .25
        p_partial = 0.5

    class Four(Old):
        seconds = 4.0

    class Six(Old):
        seconds = 6.0

    old = _batch(tv, voices, noises, Old)
    four = _batch(tv, voices, noises, Four)
    np.testing.assert_array_equal(old[0], four[0])
    mix, refs = _batch(tv, voices, noises, Six)
    assert mix.shape == (3, 6 * SR) and refs.shape == (3, 2, 6 * SR)
    assert np.all(np.sum(mix[:, 4 * SR:] ** 2, -1) > 0)  # not zero-padded 4 s
    with pytest.raises(SystemExit):
        tv.main(["--data", str(data), "--init", str(init), "--checkpoints",
                 str(tmp_path), "--seconds", "2"])
    assert "--seconds is the length of a training mixture, at least 3; got 2" in \
        capsys.readouterr().err
