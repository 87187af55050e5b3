"""Atomic file writes shared by audio, model and figure output."""

import os
import tempfile
from pathlib import Path


def _default_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write, *, overwrite=False):
    """Write ``path`` through ``write(tmp_path)`` and an atomic rename.

    The data go to a temporary file in the destination folder, which gets
    the permissions a plain ``open(path, "w")`` would give it and is then
    renamed over ``path``. A failure (or an existing ``path`` when
    ``overwrite`` is False, checked again just before the rename) leaves no
    partial file and any existing file intact.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, prefix=f".{path.name}.",
                               dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _default_mode())
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"'{path}' already exists; pass overwrite=True to replace it."
            )
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
