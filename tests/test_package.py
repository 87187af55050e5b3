"""The package contract for projects that depend on sksep."""

import subprocess
import sys
from pathlib import Path

import sksep


def test_import_is_light():
    # torch, librosa and scikit-learn load only when something needs them
    code = ("import sys, sksep; heavy = [m for m in ('torch', 'librosa', 'sklearn', "
            "'scipy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_every_public_name_resolves():
    for name in sksep.__all__:
        assert getattr(sksep, name) is not None
    for module in ("metrics", "io", "datasets", "decomposition", "spectral"):
        mod = getattr(sksep, module)
        for name in mod.__all__:
            assert getattr(mod, name) is not None, (module, name)


def test_version_and_typing_marker():
    assert sksep.__version__.count(".") >= 2
    assert (Path(sksep.__file__).parent / "py.typed").is_file()


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sksep.nope  # noqa: B018


def test_torch_modules_do_not_import_scikit_learn():
    code = "import sys, sksep.nn; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "False"
