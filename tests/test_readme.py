"""The README stays true: CI runs exactly its quick-start commands, and every
Python block in it runs as written and does what it says."""

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_that_ci_runs():
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci  # the test command, verbatim
    install, run = commands[0].split(" && ")
    assert install in ci and run in ci


def test_stft_example_runs_with_the_stated_shapes():
    text = (ROOT / "README.md").read_text()
    code = text.split("### STFTTransformer", 1)[1].split("```python\n", 1)[1]
    code = code.split("```", 1)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["Z"].shape == (8, 2 * 257 * 64)
    assert scope["spec"].shape == (8, 257, 64)
    assert np.abs(scope["back"] - scope["clips"]).max() < 1e-10
    assert scope["activations"].shape == (8, 4)


def _block(heading, index=0):
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    return section.split("```python\n")[index + 1].split("```", 1)[0]


def test_pretrained_separation_example_separates_the_unseen_voices():
    from sksep.metrics import pit_si_sdr, si_sdr_improvement

    scope = {}
    exec(compile(_block("### MaskEstimator"), "README.md", "exec"), scope)
    voices, estimates, mixture = scope["voices"], scope["estimates"], scope["mixture"]
    assert estimates.shape == voices.shape == (2, mixture.size)
    _, perm = pit_si_sdr(voices[None], estimates[None])
    assert np.mean(si_sdr_improvement(voices, estimates[perm[0]], mixture)) > 3.0


def test_room_example_separates_the_voices():
    scope = {}
    exec(compile(_block("### IVASeparator"), "README.md", "exec"), scope)
    assert scope["voices"].shape == (48000, 2)
    from sksep.metrics import image_scores

    gains = image_scores(scope["images"], scope["voices"],
                         mixture=scope["X"])["sdr_improvement"]
    assert np.mean(gains) > 10


def _sections():
    """Each '### ' section's Python blocks, in order."""
    text = (ROOT / "README.md").read_text()
    out = {}
    for part in text.split("\n### ")[1:]:
        title = part.split("\n", 1)[0]
        blocks = [b.split("```", 1)[0] for b in part.split("```python\n")[1:]]
        if blocks:
            out[title] = blocks
    return out


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)           # whatever a block writes lands here
    sections = _sections()
    assert {"FastICASeparator", "IVASeparator", "STFTTransformer", "MaskEstimator",
            "CNNAutoencoderSeparator"} <= set(sections)
    for title, blocks in sections.items():
        scope = {}                        # a section's blocks build on each other
        for block in blocks:
            exec(compile(block, f"README.md ({title})", "exec"), scope)
        if title == "FastICASeparator":
            assert scope["search"].best_score_ > 30
        if title == "CNNAutoencoderSeparator":
            assert scope["parts"].shape == (2, 4000)
