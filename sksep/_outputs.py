"""The file service's outputs: their names, the overwrite checks, their
sample format, and writing them atomically.

Every command that writes separated sources (``sksep separate`` on one
file or many, :mod:`sksep.batch`, ``sksep stream``, ``sksep demo``) names,
checks and writes them here, so ``--force``, the output folder and the
sample format mean the same in all of them.
"""

import os
from pathlib import Path

import numpy as np

_WAV_SUBTYPES = {"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}


def output_paths(path, output_dir, n_sources, names=None):
    """``output_dir/<stem>_source<k>.wav``, k = 1 .. n_sources, or
    ``output_dir/<stem>_<name>.wav`` for each of ``names`` (the file-name
    parts :func:`output_names` gives a class-fixed model's outputs)."""
    stem = Path(path).stem
    if names is None:
        names = [f"source{k + 1}" for k in range(n_sources)]
    elif len(names) != n_sources:
        raise ValueError(f"{len(names)} output names for {n_sources} sources.")
    return [Path(output_dir) / f"{stem}_{name}.wav" for name in names]


_MAX_NAME = 100   # characters of a class name in a file name


def _file_part(name):
    """A class name as a safe part of a file name (:func:`output_names`)."""
    import re

    return re.sub(r"[^\w.-]+", "_", str(name)).strip("._-")[:_MAX_NAME]


def output_names(model):
    """The file-name part of each output of ``model``: its classes, in the
    order of ``classes_``, when it is class-fixed (``permutation_invariant``
    False); None for any other model (its outputs are ``source<k>``).

    A class name is made a safe part of a file name: white space, path
    separators and other characters that are neither letters, digits,
    ``.``, ``-`` nor ``_`` become ``_`` (``'crying baby'`` gives
    ``crying_baby``, ``'speech/clean'`` gives ``speech_clean``), leading
    and trailing ``.``, ``_`` and ``-`` are dropped, and the name is cut to
    100 characters. A class whose name is then empty, or two classes that
    would write the same file (also when they differ only in case), are
    refused with a ValueError that names them.
    """
    classes = fixed_classes(model)
    if classes is None:
        return None
    names, seen = [], {}
    for k, c in enumerate(classes):
        name = _file_part(c)
        if not name:
            raise ValueError(
                f"the model's class {k + 1} of {len(classes)} ({str(c)!r}) cannot "
                "name an output file (it holds no letter or digit); give the "
                "model's classes_ file-safe names (load it with "
                "sksep.pretrained.load, set classes_, save it again).")
        other = seen.get(name.lower())
        if other is not None:
            raise ValueError(
                f"the model's classes {other!r} and {str(c)!r} would both be written "
                f"to '<name>_{name}.wav'; give the model's classes_ names that differ "
                "in letters or digits (load it with sksep.pretrained.load, set "
                "classes_, save it again).")
        seen[name.lower()] = str(c)
        names.append(name)
    return names


def check_output_dir(output_dir):
    """Refuse, before any work, an output folder that is a file or that
    cannot be made: under a file, or where the folder it would go in is
    not writable."""
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise NotADirectoryError(f"'{output_dir}' exists and is not a directory.")
    parent = output_dir.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(
            f"cannot make the output folder '{output_dir}': '{parent}' is a file.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(
            f"cannot write the output folder '{output_dir}': '{parent}' is not "
            "writable.")


def check_outputs(paths, overwrite):
    """Refuse to touch any existing output unless ``overwrite``; all are
    checked before anything is written."""
    dirs = [str(p) for p in paths if Path(p).is_dir()]
    if dirs:
        raise IsADirectoryError(f"'{dirs[0]}' is a directory, not an output file.")
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{len(existing)} output file(s) exist, e.g. '{existing[0]}'; nothing was "
            "written. Pass overwrite=True to overwrite them.")


def fixed_classes(model):
    """The classes of a class-fixed ``model`` (``permutation_invariant``
    False), as strings in the order of its outputs; None for any other."""
    classes = getattr(model, "classes_", None)
    if classes is None or getattr(model, "permutation_invariant", True):
        return None
    return [str(c) for c in np.asarray(classes).tolist()]


def kept_outputs(classes, keep, what="the model"):
    """The indices of the outputs that ``keep`` names among ``classes`` (a
    class-fixed model's, :func:`fixed_classes`); None when ``keep`` is None
    (every output).

    ``keep`` is a class name or a list of them, matched without regard to
    case, as the class or as its file-name part (``crying_baby``). Refused
    with a ValueError in the user's words when it names no class, or when
    ``classes`` is None: the outputs of a permutation-invariant model, IVA
    or ICA come in no fixed order and have no names to keep by. ``what``
    names the separator in those messages.
    """
    if keep is None:
        return None
    keep = [keep] if isinstance(keep, str) else list(keep)
    if not keep:
        raise ValueError("keep names no output; give one of the model's classes, or "
                         "None to write every output.")
    if classes is None:
        raise ValueError(
            "keep needs a model whose outputs are named classes (such as "
            f"speech8k-speech-noise: noise, speech); the outputs of {what} come in "
            "no fixed order, so none can be named.")
    index = set()
    for k in keep:
        found = [i for i, c in enumerate(classes)
                 if str(k).lower() in (c.lower(), _file_part(c).lower())]
        if not found:
            raise ValueError(f"keep names {str(k)!r}, which is not an output of "
                             f"{what} (its classes: {', '.join(classes)}).")
        index.update(found)
    return sorted(index)


def plan_outputs(path, output_dir, n_sources, *, model=None, overwrite=False,
                 only=None):
    """The checked output paths of the ``n_sources`` sources of ``path``
    (:func:`output_paths`, named after a class-fixed ``model``'s classes),
    only those of the output indices ``only`` when given (those
    :func:`kept_outputs` gives): refused before any work when
    ``output_dir`` is a file or, unless ``overwrite``, when an output
    exists."""
    check_output_dir(output_dir)
    targets = output_paths(path, output_dir, n_sources, names=output_names(model))
    if only is not None:
        targets = [targets[i] for i in only]
    check_outputs(targets, overwrite)
    return targets


def output_subtype(path):
    """The input's sample format where WAV can hold it (24-bit stays 24-bit,
    float stays float), else 16-bit PCM."""
    import soundfile

    try:
        subtype = soundfile.info(str(path)).subtype
    except RuntimeError:  # pragma: no cover - read_audio already opened it
        return "PCM_16"
    return subtype if subtype in _WAV_SUBTYPES else "PCM_16"


def peak_normalise(x, peak=0.99):
    """Scale down (never up) so integer PCM files do not clip."""
    top = float(np.max(np.abs(x))) if np.size(x) else 0.0
    return x * (peak / top) if top > peak else x


def write_sources(paths, sources, sr, *, subtype=None, overwrite=False, written=None):
    """Write each source, peak-normalised, to its path atomically, or none
    when one is not finite; a Ctrl-C while writing removes the new files
    already written. ``written(path)`` is called after each file."""
    from ._audiofile import write_audio_file

    for path, s in zip(paths, sources):
        if not np.all(np.isfinite(s)):
            raise ValueError(f"non-finite samples in the output for '{path}'.")
    paths = [Path(p) for p in paths]
    if paths:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
    new = []
    try:
        for path, s in zip(paths, sources):
            existed = path.exists()
            write_audio_file(path, peak_normalise(s), sr, overwrite=overwrite,
                             subtype=subtype)
            if not existed:
                new.append(path)
            if written is not None:
                written(path)
    except KeyboardInterrupt:
        for path in new:
            path.unlink(missing_ok=True)
        raise
