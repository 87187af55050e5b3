import csv
import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FSDD = Path(os.environ.get("SKSEP_DATA", ROOT.parent / "shared" / "data" / "fsdd"))
SR = 8000


def in_ci():
    """True when the environment variable CI is set (to anything but
    '', '0', 'false' or 'no'), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def sksep(*args, cwd):
    """Run the installed entry point (python -m sksep when there is none)."""
    script = Path(sys.executable).with_name("sksep")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "sksep"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run(cmd + [str(a) for a in args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env)


def skip_or_fail(reason):
    """Skip a test whose corpus or test extra is missing; under CI
    (:func:`in_ci`) fail it instead, so nothing is left untested silently."""
    if in_ci():
        pytest.fail(f"{reason} [CI is set: a missing corpus or test extra is a "
                    "failure, not a skip]", pytrace=False)
    pytest.skip(reason)


def require(module):
    """``pytest.importorskip`` that fails under CI: the test extras
    (``pip install -e '.[test]'``) must be installed there."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        skip_or_fail(f"{module} is not installed ({exc}); pip install -e '.[test]'")


@pytest.fixture(scope="session")
def mir_eval():
    """The mir_eval package (a test extra)."""
    return require("mir_eval")


@pytest.fixture(scope="session")
def dask_distributed():
    """dask.distributed (a test extra)."""
    return require("dask.distributed")


@pytest.fixture(scope="session")
def fsdd_home():
    """The local Free Spoken Digit Dataset folder, or a skip saying why."""
    if not (FSDD / "recordings").is_dir():
        skip_or_fail(
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


SPEECH8K = Path(os.environ.get("SKSEP_SPEECH8K",
                               ROOT.parent / "shared" / "data" / "speech8k"))


@pytest.fixture(scope="session")
def speech8k_home():
    """The local speech8k folder, or a skip saying why."""
    if not (SPEECH8K / "files.csv").is_file():
        skip_or_fail(
            f"speech8k not found at {SPEECH8K} (set SKSEP_SPEECH8K to the "
            "folder holding files.csv)."
        )
    return SPEECH8K


def load_script(path):
    """A script of benchmarks/ (not a package) imported as a module."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    # registered, so that its functions can be pickled (worker processes)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_index(folder, rows):
    """A miniature corpus's files.csv: one row per file, columns in the
    first row's order."""
    with open(Path(folder) / "files.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
