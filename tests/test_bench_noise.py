"""benchmarks/bench_noise.py, speech separated from noise: its mixtures
change only in level from one SNR to the next, its figures reach
models.json per corpus and SNR without disturbing anything else there, and
``sksep models`` shows a speech-vs-noise model by its LibriSpeech 0 dB
figure."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sksep import MaskEstimator, STFTTransformer
from sksep.datasets import load_speech_demo
from sksep.pretrained import list_models, save
from sksep.pretrained._table import models_table

from conftest import load_script, require, write_index

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_noise.py"
REGISTRY = SCRIPT.parents[1] / "sksep" / "pretrained" / "data" / "models.json"
SR = 8000
NAME = "speech8k-speech-noise"


@pytest.fixture(scope="module")
def bn():
    return load_script(SCRIPT)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A miniature of ../shared/data: the four voices of the speech demo
    (real speech, so that PESQ finds it) as test speakers of both corpora,
    test noise of three groups (one of it speech-like)."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    demo = load_speech_demo()
    rows = []
    for i, corpus in enumerate(["librispeech"] * 2 + ["speechocean762"] * 2):
        spk = f"{corpus[:2]}{i}"
        path = f"{corpus}/{spk}/a.flac"
        (root / "speech8k" / corpus / spk).mkdir(parents=True)
        sf.write(root / "speech8k" / path, demo.waveforms[i][:5 * SR], SR)
        rows.append({"path": path, "speaker": spk, "sex": demo.sex[i], "age": "30",
                     "corpus": corpus, "seconds": "5.0", "split": "test"})
    write_index(root / "speech8k", rows)
    rows = []
    (root / "noise8k" / "test").mkdir(parents=True)
    for source, category, speechlike in [("esc50", "rain", "0"),
                                         ("esc50", "coughing", "1"),
                                         ("speech_commands", "running_tap", "0")]:
        path = f"test/{category}.flac"
        sf.write(root / "noise8k" / path,
                 (0.05 * rng.normal(size=6 * SR)).astype(np.float32), SR)
        rows.append({"path": path, "source": source, "category": category,
                     "split": "test", "license": "CC0", "attribution": "test noise",
                     "speechlike": speechlike})
    write_index(root / "noise8k", rows)
    return root


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A tiny class-fixed speech-vs-noise model, saved under the name a
    shipped one would have."""
    rng = np.random.default_rng(1)
    speech = np.array([w[:SR // 2] for w in load_speech_demo().waveforms])
    noise = (0.05 * rng.normal(size=(4, SR // 2))).astype(np.float32)
    est = MaskEstimator(permutation_invariant=False, kind="tcn", hidden_size=8,
                        num_layers=1, max_epochs=1, valid_fraction=0,
                        stft=STFTTransformer(n_fft=64, hop_length=16), random_state=0)
    est.fit(np.concatenate([speech, noise]), ["speech"] * 4 + ["noise"] * 4)
    path = tmp_path_factory.mktemp("model") / f"{NAME}.pt"
    save(est, path, metadata={"sample_rate": SR})
    return path


@pytest.fixture(scope="module")
def run(bn, data, model_file):
    require("pystoi")
    require("pesq")
    return bn.run_benchmark(data, [model_file], n=3, peers=False,
                            seconds=2.0, log=lambda s: None)


def test_only_the_level_changes_from_one_snr_to_the_next(bn, data):
    d = bn.noisy_set(data, "librispeech", n=3)
    snrs = bn.SNRS
    for a, b in zip(snrs, snrs[1:]):
        # the same noise window, 10 ** ((b - a) / 20) times quieter
        louder = d[f"noise {b}"] * 10 ** ((b - a) / 20)
        np.testing.assert_allclose(d[f"noise {a}"], louder, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(d[f"noisy {b}"] - d[f"noise {b}"], d["clean"],
                                   atol=1e-6)
    power = np.sum(d["clean"].astype(float) ** 2, -1)
    for snr in snrs:
        noise = np.sum(d[f"noise {snr}"].astype(float) ** 2, -1)
        np.testing.assert_allclose(10 * np.log10(power / noise), snr, atol=1e-3)
    assert set(d["group"]) <= {"natural soundscapes", "human non-speech",
                               "Speech Commands background noise"}


def test_every_esc50_class_is_in_one_group_of_ten(bn):
    classes = [c for group in bn.ESC50_GROUPS.values() for c in group]
    assert len(classes) == len(set(classes)) == 50
    assert all(len(group) == 10 for group in bn.ESC50_GROUPS.values())
    assert bn.noise_group("speech_commands", "running_tap") == (
        "Speech Commands background noise")
    # the README's speech-like ESC-50 classes are all human non-speech sounds
    for c in ("crying_baby", "laughing", "coughing", "sneezing", "breathing",
              "snoring", "drinking_sipping"):
        assert bn.noise_group("esc50", c) == "human non-speech"
    with pytest.raises(ValueError, match="none of ESC-50's groups"):
        bn.noise_group("esc50", "jazz")


def test_figures_per_corpus_and_snr_reach_the_registry_and_nothing_else(
        bn, run, tmp_path):
    results, labels = run
    # the ceiling and the input are scored on every corpus and SNR; the
    # ideal ratio mask takes most of the noise out
    for corpus in bn.CORPORA:
        for snr in bn.SNRS:
            assert results["irm"][f"{corpus}, {snr} dB SNR"]["si_sdri_db"] > 3
            row = results[NAME][f"{corpus}, {snr} dB SNR"]
            assert np.isfinite([row["stoi_gain"], row["pesq_gain"]]).all(), row
        assert f"{corpus}, 0 dB SNR, group speech-like (any group)" in results[NAME]
        assert f"{corpus}, 0 dB SNR, category coughing *" in results[NAME]
    assert results[NAME]["rtf_1_thread"] > 0 and "rtf_1_thread" not in results["irm"]

    before = json.loads(REGISTRY.read_text())
    registry = json.loads(REGISTRY.read_text())
    registry[NAME] = {"sample_rate": 8000, "license": "shared under CC BY 4.0",
                      "classes": ["noise", "speech"], "headline": "kept",
                      "metrics": {"an earlier figure": {"si_sdri_db": 1.0}}}
    path = tmp_path / "models.json"
    path.write_text(json.dumps(registry))
    # through the log, as --write-registry --from-log does
    log = tmp_path / "run.log"
    log.write_text("# a comment\n" + "".join(
        f"{key} {json.dumps(row)}\n" for key, row in results.items()))
    assert bn.write_registry(bn._from_log(log), path) == [NAME]

    after = json.loads(path.read_text())
    metrics = after[NAME].pop("metrics")
    assert metrics.pop("an earlier figure") == {"si_sdri_db": 1.0}
    assert sorted(metrics) == sorted(
        f"noise8k test, {title}, {snr} dB SNR"
        for title in ("LibriSpeech readers", "speechocean762 readers")
        for snr in (-5, 0, 5, 10))
    libri0 = metrics["noise8k test, LibriSpeech readers, 0 dB SNR"]
    assert set(libri0) == {"si_sdri_db", "stoi_gain", "pesq_gain", "n_mixtures"}
    assert libri0["si_sdri_db"] == round(
        results[NAME]["librispeech, 0 dB SNR"]["si_sdri_db"], 2)
    assert after[NAME]["headline"] == "kept"
    del after[NAME]
    before.pop(NAME, None)   # a shipped model of that name was rewritten above
    assert after == before   # no other model changed, no peer recorded

    # sksep models: the new model by its LibriSpeech 0 dB SNR figure, the
    # shipped ones as before
    registry[NAME]["metrics"].update(metrics)
    rows = {line.split()[0]: line.split("  ") for line in
            models_table(registry).splitlines()[2:]}
    cells = [c.strip() for c in rows.pop(NAME) if c.strip()]
    assert cells[1] == "speech from noise, one mic"
    assert cells[4] == (f"{libri0['si_sdri_db']:+.1f} dB "
                        "(LibriSpeech in noise, 0 dB SNR)")
    shipped = {line.split()[0]: line.split("  ") for line in
               models_table(list_models()).splitlines()[2:]}
    shipped.pop(NAME, None)
    assert {k: [c.strip() for c in v if c.strip()] for k, v in rows.items()} == {
        k: [c.strip() for c in v if c.strip()] for k, v in shipped.items()}


def test_the_issues_targets_are_checked_for_models_only(bn, run):
    results, labels = run
    lines = bn.target_check(results, labels, "librispeech")
    assert len(lines) == 1 and lines[0].startswith(f"{NAME}, LibriSpeech readers:")
    met = bn.target_check(
        {**results, NAME: {f"librispeech, {s} dB SNR": {"si_sdri_db": 9.0,
                                                        "stoi_gain": 0.06}
                           for s in bn.SNRS}}, labels, "librispeech")[0]
    assert "NOT" not in met
    failed = bn.target_check(
        {**results, NAME: {f"librispeech, {s} dB SNR": {"si_sdri_db": 9.0 if s else 7.9,
                                                        "stoi_gain": 0.06}
                           for s in bn.SNRS}}, labels, "librispeech")[0]
    assert failed.count("NOT met") == 1 and "SI-SDRi at 0 dB +7.9" in failed


def test_noisereduce_as_users_run_it_keeps_the_length(bn, data):
    pytest.importorskip("noisereduce")   # the bench extra, not a test extra
    d = bn.noisy_set(data, "speechocean762", n=2)
    for stationary in (False, True):
        out = bn.noisereduce_method(stationary)(d["noisy 0"])
        assert out.shape == d["noisy 0"].shape and np.all(np.isfinite(out))
        assert not np.allclose(out, d["noisy 0"])
