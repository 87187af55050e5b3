"""Finding and reading a local copy of a corpus (nothing is ever downloaded)."""

import csv
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..io import read_audio


def local_folder(data_home, env_var, corpus, candidates, holds, what, how_to_get):
    """The first of ``candidates(root)`` for which ``holds(folder)``.

    ``root`` is ``data_home`` or, when it is None, the ``env_var``
    environment variable; a clear FileNotFoundError says what is missing
    (``what``) and how to get it otherwise.
    """
    if data_home is None:
        data_home = os.environ.get(env_var)
        if data_home is None:
            raise FileNotFoundError(
                f"No {corpus} folder given: data_home is None and {env_var} is not "
                "set. " + how_to_get
            )
    root = Path(data_home)
    for candidate in candidates(root):
        if holds(candidate):
            return candidate
    raise FileNotFoundError(f"No {what} found in '{root}'. " + how_to_get)


def as_set(values, name, allowed=None):
    """``values`` (one string or several) as a set, None for None; a
    ValueError names any that are not ``allowed``."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    values = set(values)
    if allowed is not None and values - set(allowed):
        raise ValueError(
            f"Unknown {name} {sorted(values - set(allowed))}; expected some of "
            f"{list(allowed)}."
        )
    return values


def indexed_folder(data_home, env_var, corpus, how_to_get):
    """The folder of a corpus indexed by ``files.csv``: ``root`` itself or
    ``root/<corpus>`` (see :func:`local_folder`)."""
    return local_folder(
        data_home, env_var, corpus,
        lambda root: (root, root / corpus),
        lambda folder: (folder / "files.csv").is_file(),
        f"{corpus} index 'files.csv'", how_to_get)


def read_index(folder):
    """The rows of ``folder/files.csv``, as dicts."""
    with open(Path(folder) / "files.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def load_indexed(folder, rows, corpus, columns, dtype):
    """A Bunch of the recordings listed in ``rows`` (mono ``waveforms``),
    ``columns`` of the index as string arrays, ``filenames``, ``sr`` and the
    corpus README as ``DESCR``; a listed file that is missing is a
    FileNotFoundError."""
    folder = Path(folder)
    waveforms, sr = [], None
    for row in rows:
        path = folder / row["path"]
        if not path.is_file():
            raise FileNotFoundError(
                f"'{path}' is listed in files.csv but missing: the {corpus} "
                "folder is incomplete."
            )
        data, sr = read_audio(path, mono=True, dtype=dtype)
        waveforms.append(data[:, 0])
    readme = folder / "README.md"
    return Bunch(
        waveforms=waveforms,
        **{name: np.array([r[name] for r in rows]) for name in columns},
        filenames=np.array([str(folder / r["path"]) for r in rows]),
        sr=sr,
        DESCR=readme.read_text() if readme.is_file() else "",
    )
