"""Separate many files: in parallel on one machine, or on a Dask cluster.

:func:`separate_files` runs one task per file through joblib (processes on
this machine) or, given a Dask scheduler, through joblib's Dask backend on
the cluster's workers. Each task separates one file through the same
service as ``sksep separate`` on one file (so every option means the same:
mono files with a single-microphone model, multichannel files with
:class:`~sksep.decomposition.IVASeparator` unless asked otherwise, outputs
in the input's sample format), and writes one WAV per source. A file that
cannot be read or separated, or that an option cannot apply to, becomes a
row with its error; it never stops the batch.

Outputs are committed in steps, each safe to interrupt and to repeat
(``sksep._resume``: a private folder, a journal, the move into place, a
marker recording the options), and a rerun finishes or drops an
interrupted commit, then skips every file whose marker and outputs exist
and were made with the same options. So a batch interrupted at any point
(a crash, a Ctrl-C, a worker killed by Dask) and rerun as it was resumes
without losing, redoing or refusing work and leaves no private folder
behind; a file done with other options (another ``keep``, model or chunk
length) is separated again as if alone, so its existing outputs are
refused unless ``overwrite=True``. Existing outputs are never replaced
unless ``overwrite=True``.
"""

import csv
import glob
import os
import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._defaults import CHUNK_SECONDS, FIT_SECONDS, RANDOM_STATE
from ._resume import commit, done_before, settings_of
from ._separate import METHODS
from ._validation import SampleRate

__all__ = ["expand_inputs", "separate_files", "write_results_csv"]

_AUDIO = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3"}
RESULT_FIELDS = ("input", "status", "outputs", "duration_s", "seconds", "rtf", "error",
                 "notes")


def expand_inputs(inputs):
    """Files, folders (searched recursively for audio) and glob patterns ->
    a list of distinct paths, in the order given (each folder's and
    pattern's files sorted).

    Parameters
    ----------
    inputs : str, path-like or an iterable of them

    Returns
    -------
    paths : list of pathlib.Path

    Raises
    ------
    TypeError
        For an input that is not a str or path.

    See Also
    --------
    separate_files : Separates them.

    Examples
    --------
    >>> from sksep.batch import expand_inputs
    >>> expand_inputs([])
    []
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    try:
        inputs = list(inputs)
    except TypeError:
        inputs = [inputs]
    bad = [i for i in inputs if not isinstance(i, (str, os.PathLike))]
    if bad:
        raise TypeError(
            "inputs must be a file, folder or glob pattern (str or path) or a "
            f"list of them, got {type(bad[0]).__name__} {bad[0]!r}.")
    found = []
    for item in inputs:                 # in the order given; folders and globs sorted
        path = Path(item)
        if path.is_dir():
            found += sorted((p for p in path.rglob("*") if p.suffix.lower() in _AUDIO
                             and p.is_file()), key=str)
        elif any(ch in str(item) for ch in "*?["):
            found += sorted((Path(p) for p in glob.glob(str(item), recursive=True)
                             if Path(p).is_file()), key=str)
        else:
            found.append(path)       # missing files become error rows
    seen, out = set(), []
    for p in found:
        key = str(p.resolve()) if p.exists() else str(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# -- one task ---------------------------------------------------------------------

def _separate_one(path, output_dir, options, *, overwrite, threads):
    """Separate one file through the file service and commit its outputs
    (``sksep._resume``); returns its result row (never raises)."""
    path, output_dir = Path(path), Path(output_dir)
    row = {"input": str(path), "status": "failed", "outputs": "", "duration_s": np.nan,
           "seconds": np.nan, "rtf": np.nan, "error": "", "notes": ""}
    t0 = time.perf_counter()
    try:
        settings = settings_of(options)
        done = done_before(path, output_dir, overwrite=overwrite, settings=settings)
        if done is not None:
            row.update(status="skipped", outputs=";".join(done["outputs"]),
                       duration_s=done.get("duration_s", np.nan))
            return row
        from threadpoolctl import threadpool_limits

        from ._outputs import write_sources
        from ._separate import separate_file

        with threadpool_limits(threads):
            import torch

            old = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                result = separate_file(path, output_dir, overwrite=overwrite, **options)
            finally:
                torch.set_num_threads(old)
        commit(path, output_dir, result.targets,
               lambda staged, written: write_sources(
                   staged, result.sources, result.sr, subtype=result.subtype,
                   written=written),
               result.duration_s, settings)
        seconds = time.perf_counter() - t0
        row.update(status="done", outputs=";".join(str(t) for t in result.targets),
                   duration_s=result.duration_s, seconds=seconds,
                   rtf=seconds / result.duration_s,
                   notes=" / ".join(n.replace("\n", " ") for n in
                                    [*result.notes, result.lost_band] if n))
    except Exception as exc:  # a file's failure is a result, not the batch's end
        row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        row["seconds"] = time.perf_counter() - t0
    return row


# -- the batch ----------------------------------------------------------------------

_SECONDS = [Interval(Real, 0, None, closed="neither")]


@validate_params(
    {"inputs": "no_validation", "output_dir": [str, os.PathLike],
     "model": "no_validation",
     "method": [StrOptions(set(METHODS)), None],
     "n_sources": [Interval(Integral, 1, None, closed="left"), None],
     "fit_seconds": _SECONDS, "chunk_seconds": _SECONDS,
     "random_state": ["random_state"], "model_sr": [SampleRate(), None],
     "keep": [str, list, tuple, None],
     "n_jobs": [Integral, None], "scheduler": "no_validation",
     "overwrite": ["boolean"], "room_method": [StrOptions({"iva", "ica"})],
     "threads_per_worker": [Interval(Integral, 1, None, closed="left")],
     "progress": ["boolean"]},
    prefer_skip_nested_validation=True)
def separate_files(inputs, output_dir, model=None, *, method=None, n_sources=None,
                   fit_seconds=FIT_SECONDS, chunk_seconds=CHUNK_SECONDS,
                   random_state=RANDOM_STATE, model_sr=None, keep=None,
                   n_jobs=1, scheduler=None, overwrite=False, room_method="iva",
                   threads_per_worker=1, progress=False):
    """Separate many audio files, in parallel, resuming where a run stopped.

    Each file is separated as ``sksep separate`` separates one file, with
    the same options: the same outputs, in the input's sample format (a
    24-bit file gives 24-bit outputs), and the same refusals, which become
    that file's failed row.

    Parameters
    ----------
    inputs : str, path-like or list of them
        Files, folders (searched recursively) and glob patterns
        (:func:`expand_inputs`).
    output_dir : str or path-like
        Folder for the outputs, ``<stem>_source<k>.wav`` per input, or
        ``<stem>_<class>.wav`` for a class-fixed model (one per class of its
        ``classes_``), created if needed.
    model : str, path-like or estimator, default=None
        For the single-microphone methods: a shipped model name or a model
        file (loaded once per worker), or a fitted deep separator. None: the
        shipped ``'speech8k-2voices'`` (``'speech8k-2voices-cnn'`` with
        ``method='cnn'``). A model given with ``method=None`` is for mono
        files: a multichannel file is refused unless ``method='mask'`` or
        ``'cnn'`` (its channels mixed down to one). Given a (fitted or not)
        :class:`~sksep.IVASeparator` or :class:`~sksep.FastICASeparator`,
        every file is separated by a clone of it fitted on that file.
    method : {'iva', 'ica', 'mask', 'cnn'}, default=None
        How every file is separated. None: ``room_method`` for multichannel
        files, ``'mask'`` for mono ones. 'iva' (rooms) and 'ica'
        (instantaneous mixtures) need as many channels as sources, so a mono
        file is refused; 'mask' and 'cnn' mix multichannel files down to one
        channel.
    n_sources : int, default=None
        Sources to recover. IVA and ICA: at most the file's channels (None:
        as many as channels). 'mask' and 'cnn': must be the model's own
        number when given.
    fit_seconds : float, default=60.0
        IVA learns its filters from at most this much of each recording (its
        middle), then separates all of it with them.
    chunk_seconds : float, default=30.0
        Long files are separated in chunks of this length, so memory per
        worker stays bounded (for a model, at least one of its STFT windows).
    random_state : int, default=0
        Seed of IVA and ICA.
    model_sr : int, default=None
        Sample rate of a model that does not record its own
        (``sample_rate_``, which every model from ``sksep train`` has; None:
        8000): files are resampled to it and the sources back. Refused for a
        model that records a different rate.
    keep : str or list of str, default=None
        Only these outputs of a class-fixed model (class names, for example
        ``'speech'`` of ``'speech8k-speech-noise'``): the others are not
        written. Refused, before any file is read, for a shipped model whose
        outputs come in no fixed order (two voices) and for a class it does
        not have. None: every output.
    n_jobs : int, default=1
        Worker processes on this machine (joblib; -1 for all cores).
        Ignored with ``scheduler``, where the cluster's workers run the tasks.
    scheduler : str or dask.distributed.Client, default=None
        A Dask scheduler address (``"tcp://host:8786"``) or a connected
        ``Client``: the files are separated on that cluster through joblib's
        Dask backend (``pip install "sksep[dask]"``). A task lost with a
        worker is rerun by Dask; it finds its outputs written atomically or
        not at all.
    overwrite : bool, default=False
        Replace existing outputs (and redo files already done).
    room_method : {'iva', 'ica'}, default='iva'
        Method for multichannel files when ``method`` and ``model`` are None.
    threads_per_worker : int, default=1
        BLAS and torch threads inside each task (workers x threads should not
        exceed the cores).
    progress : bool, default=False
        One progress bar over the batch (tqdm).

    Returns
    -------
    results : list of dict
        One row per input, in input order: ``input``, ``status`` ('done',
        'skipped' when done by an earlier run, 'failed'), ``outputs``
        (';'-separated), ``duration_s`` (audio), ``seconds`` (wall time of
        the task), ``rtf`` (seconds / duration_s), ``error`` and ``notes``
        (what ``sksep separate`` on the file alone would have said, e.g.
        chunks too short to keep the voices' order; ' / '-separated).

    See Also
    --------
    write_results_csv : Save the table.
    sksep.pretrained.load : The models a name refers to.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sksep.batch import separate_files
    >>> from sksep.datasets import load_speech_demo
    >>> from sksep.io import write_audio
    >>> folder = Path(tempfile.mkdtemp())
    >>> demo = load_speech_demo()
    >>> write_audio(folder / "a.wav", 0.5 * (demo.waveforms[0][:16000]
    ...                                      + demo.waveforms[2][:16000]), 8000)
    >>> (folder / "b.wav").write_text("not audio")
    9
    >>> rows = separate_files([folder / "a.wav", folder / "b.wav"], folder / "out")
    >>> [r["status"] for r in rows]
    ['done', 'failed']
    >>> [r["status"] for r in separate_files(folder / "a.wav", folder / "out")]
    ['skipped']
    """
    from joblib import Parallel, delayed

    from ._outputs import check_output_dir
    from ._separate import check_options

    options = dict(method=method, model=model, n_sources=n_sources,
                   fit_seconds=float(fit_seconds), chunk_seconds=float(chunk_seconds),
                   random_state=random_state, model_sr=model_sr, keep=keep,
                   room_method=room_method)
    check_options(**{k: v for k, v in options.items()
                     if k not in ("random_state", "room_method")})
    paths = expand_inputs(inputs)
    output_dir = Path(output_dir)
    check_output_dir(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    stems = {}
    for p in paths:
        stems.setdefault(p.stem, []).append(p)
    task = delayed(_separate_one)
    # workers get absolute paths: a reused worker process may sit in another
    # working directory than the caller (os.chdir between calls)
    abs_out = output_dir.resolve()
    jobs = []
    for p in paths:
        if len(stems[p.stem]) > 1:
            jobs.append(None)     # reported below: outputs would collide
        else:
            jobs.append(task(p.resolve(), abs_out, options, overwrite=overwrite,
                             threads=int(threads_per_worker)))
    runnable = [j for j in jobs if j is not None]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(runnable), unit="file", desc="separating")
    try:
        if scheduler is not None:
            rows = _run_on_dask(runnable, scheduler, bar)
        else:
            rows = []
            for row in Parallel(n_jobs=n_jobs, return_as="generator")(runnable):
                rows.append(row)
                if bar is not None:
                    bar.update()
    finally:        # the bar's line ends before any message that follows
        if bar is not None:
            bar.close()
    out, it = [], iter(rows)
    for p, job in zip(paths, jobs):
        if job is None:
            out.append({"input": str(p), "status": "failed", "outputs": "",
                        "duration_s": np.nan, "seconds": 0.0, "rtf": np.nan,
                        "error": f"another input is also named '{p.stem}': outputs "
                                 "would collide; rename one or separate them apart",
                        "notes": ""})
        else:
            out.append(_as_given(next(it), p, output_dir, abs_out))
    return out


def _as_given(row, path, output_dir, abs_out):
    """A worker's result row with the input and outputs named as the caller
    gave them (relative stays relative)."""
    def shown(o):
        o = Path(o)
        return str(output_dir / o.relative_to(abs_out)) if o.is_relative_to(abs_out) else str(o)

    outputs = [shown(o) for o in row["outputs"].split(";") if o]
    error = str(row.get("error", "")).replace(str(path.resolve()), str(path)).replace(
        str(abs_out), str(output_dir))
    return {**row, "input": str(path), "outputs": ";".join(outputs), "error": error}


def _run_on_dask(jobs, scheduler, bar):
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError(
            "A Dask scheduler needs dask.distributed: pip install 'sksep[dask]'."
        ) from exc
    from joblib import Parallel, parallel_config

    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    except OSError as exc:      # a timeout, a refused connection
        raise ConnectionError(f"cannot reach the Dask scheduler: {exc}") from exc
    try:
        rows = []
        with parallel_config(backend="dask", wait_for_workers_timeout=60):
            for row in Parallel(n_jobs=-1, return_as="generator")(jobs):
                rows.append(row)
                if bar is not None:
                    bar.update()
        return rows
    finally:
        if client is not scheduler:
            client.close()


def write_results_csv(results, path, *, overwrite=False, update=False):
    """Write the rows of :func:`separate_files` as CSV, atomically.

    Parameters
    ----------
    results : list of dict
    path : str or path-like
    overwrite : bool, default=False
        Replace an existing table.
    update : bool, default=False
        Update an existing table instead of replacing it (implies
        ``overwrite``): the rows of inputs in ``results`` are replaced, in
        place, except that a 'skipped' row keeps the earlier row of the run
        that did the work; rows of other inputs are kept; new inputs are
        appended. Inputs are matched by their absolute paths.

    See Also
    --------
    separate_files : Produces the rows.

    Examples
    --------
    >>> import os, tempfile
    >>> from sksep.batch import write_results_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "results.csv")
    >>> write_results_csv([{"input": "a.wav", "status": "done"}], path)
    >>> open(path).readline().strip()
    'input,status,outputs,duration_s,seconds,rtf,error,notes'
    >>> write_results_csv([{"input": "b.wav", "status": "done"}], path, update=True)
    >>> [line.split(",")[0] for line in open(path).read().split()]
    ['input', 'a.wav', 'b.wav']
    """
    from ._files import atomic_write

    if update:
        results, overwrite = _updated_rows(path, results), True

    def write(tmp):
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=RESULT_FIELDS)
            writer.writeheader()
            for row in results:
                writer.writerow({k: row.get(k, "") for k in RESULT_FIELDS})

    atomic_write(Path(path), write, overwrite=overwrite)


def _updated_rows(path, results):
    """The rows of the table at ``path`` (if any) updated by ``results``."""
    try:
        with open(path, newline="") as fh:
            earlier = list(csv.DictReader(fh))
    except FileNotFoundError:
        return list(results)

    def key(row):
        return str(Path(row["input"]).absolute())

    fresh = {key(r): r for r in results}
    rows = []
    for row in earlier:
        new = fresh.pop(key(row), None)
        if new is None or (new.get("status") == "skipped"
                           and row.get("status") == "done"):
            rows.append(row)
        else:
            rows.append(new)
    return rows + [r for r in results if key(r) in fresh]
