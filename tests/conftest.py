import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FSDD = Path(os.environ.get("SKSEP_DATA", ROOT.parent / "shared" / "data" / "fsdd"))
SR = 8000


@pytest.fixture(scope="session")
def fsdd_home():
    """The local Free Spoken Digit Dataset folder, or a skip saying why."""
    if not (FSDD / "recordings").is_dir():
        pytest.skip(
            f"FSDD recordings not found at {FSDD} (set SKSEP_DATA to the "
            "folder holding 'recordings')."
        )
    return FSDD


@pytest.fixture(scope="session")
def speech_sources(fsdd_home):
    """180 s of each of the six FSDD speakers, mean removed, float64."""
    from sksep.datasets import FSDD_SPEAKERS, load_fsdd_sources

    S = load_fsdd_sources(fsdd_home, speakers=list(FSDD_SPEAKERS),
                          n_samples=180 * SR, dtype="float64")
    return S - S.mean(axis=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


SPEECH8K = Path(os.environ.get("SKSEP_SPEECH8K", ROOT.parent / "shared" / "data" / "speech8k"))


@pytest.fixture(scope="session")
def speech8k_home():
    """The local speech8k folder, or a skip saying why."""
    if not (SPEECH8K / "files.csv").is_file():
        pytest.skip(
            f"speech8k not found at {SPEECH8K} (set SKSEP_SPEECH8K to the "
            "folder holding files.csv)."
        )
    return SPEECH8K
