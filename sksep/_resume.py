"""Resume markers for :mod:`sksep.batch`: a file's outputs are committed in
steps, each safe to interrupt and to repeat.

1. write every source into a private folder ``.<stem>.sksep-stage`` inside
   the output folder;
2. write a journal (``moving.json``) into that folder: from here on the
   outputs are complete and the commit only rolls forward;
3. move each output into place;
4. write the marker ``.<stem>.sksep-done.json``;
5. remove the private folder.

A rerun first finishes any commit whose journal exists (moving the files
still staged, writing the marker), removes a private folder without a
journal (an interrupted step 1), then skips every file whose marker and
outputs exist and whose marker records the options of this run
(:func:`done_before`): a file done with other options (another ``keep``,
model or chunk length) is separated again, as if alone, so its existing
outputs are refused unless ``overwrite``.
"""

import json
import os
import shutil
from pathlib import Path


def _marker(output_dir, stem):
    return Path(output_dir) / f".{stem}.sksep-done.json"


def _stage(output_dir, stem):
    return Path(output_dir) / f".{stem}.sksep-stage"


_JOURNAL = "moving.json"


def _checkpoint(step, name=None):
    """Called after each step of a file's commit; does nothing.

    The steps: ``"staged"`` (one output written to the private folder),
    ``"journal"``, ``"moved"`` (one output in place), ``"marked"`` and
    ``"cleaned"``. Tests replace this function to interrupt a commit at
    every point, deterministically.
    """


def _write_json(path, obj, tmp_dir):
    """Write ``obj`` to ``path`` atomically (the temporary in ``tmp_dir``)."""
    tmp = Path(tmp_dir) / f".{Path(path).name}.tmp"
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, path)


def _roll_forward(stage, marker):
    """Finish a commit whose journal is in ``stage``: move what is still
    staged, write the marker, remove ``stage``. Every step is idempotent, so
    an interruption here is finished by the next call. Returns the journal,
    or None (and removes ``stage``) when ``stage`` holds no complete commit.
    """
    journal = stage / _JOURNAL
    try:
        done = json.loads(journal.read_text())
    except (FileNotFoundError, ValueError):   # interrupted before the journal
        shutil.rmtree(stage, ignore_errors=True)
        return None
    for target in map(Path, done["outputs"]):
        staged = stage / target.name
        if staged.exists():
            os.replace(staged, target)
            _checkpoint("moved", target.name)
        elif not target.exists():    # moved, then deleted by someone: start over
            shutil.rmtree(stage, ignore_errors=True)
            return None
    _write_json(marker, done, stage)
    _checkpoint("marked")
    journal.unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    _checkpoint("cleaned")
    return done


def settings_of(options):
    """The separation options as a marker records them: JSON values as
    they are, paths as strings, an estimator or a random generator by its
    type only."""
    def plain(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, os.PathLike):
            return os.fspath(v)
        if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            return list(v)
        return f"<{type(v).__name__}>"

    return {k: plain(v) for k, v in sorted(options.items())}


def done_before(path, output_dir, *, overwrite=False, settings=None):
    """The marker of an earlier run that separated ``path`` into
    ``output_dir`` (its input, outputs and duration), when every output is
    still there, the marker records ``settings`` (:func:`settings_of`;
    a marker of a version that recorded none matches any) and not
    ``overwrite``; else None. An interrupted commit is finished first (or,
    with ``overwrite``, dropped)."""
    path = Path(path)
    marker, stage = _marker(output_dir, path.stem), _stage(output_dir, path.stem)
    if stage.exists():              # an earlier run was interrupted
        if overwrite:
            shutil.rmtree(stage)
        else:
            _roll_forward(stage, marker)
    if marker.exists() and not overwrite:
        done = json.loads(marker.read_text())
        same = settings is None or done.get("settings", settings) == settings
        if done.get("input") == str(path.resolve()) and same and all(
                Path(o).exists() for o in done["outputs"]):
            return done
    return None


def commit(path, output_dir, targets, write, duration_s, settings=None):
    """Put ``path``'s outputs ``targets`` in place, in the steps above;
    ``write(staged_paths, written)`` writes them into the private folder,
    calling ``written(staged_path)`` after each. The marker records
    ``settings``, the options they were separated with."""
    path = Path(path)
    marker, stage = _marker(output_dir, path.stem), _stage(output_dir, path.stem)
    stage.mkdir()
    try:
        write([stage / Path(t).name for t in targets],
              lambda staged: _checkpoint("staged", staged.name))
    except Exception:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _write_json(stage / _JOURNAL, {"input": str(path.resolve()),
                                   "outputs": [str(t) for t in targets],
                                   "duration_s": duration_s,
                                   "settings": settings}, stage)
    _checkpoint("journal")
    if _roll_forward(stage, marker) is None:
        raise RuntimeError(f"the outputs of '{path}' were removed while being "
                           "moved into place; run again.")
