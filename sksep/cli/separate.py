"""``sksep separate``: one recording, or a whole archive in parallel."""

import sys
import warnings
from pathlib import Path

from ._common import (
    CommandError,
    Interrupted,
    _in_cli_terms,
    _force_and_seed,
    _keep_option,
    _plural,
)
from .._defaults import CHUNK_SECONDS, DEFAULT_MODEL, FIT_SECONDS, MODEL_SAMPLE_RATE
from .._separate import check_options, default_model


def cmd_separate(args):
    """Separate recordings into one file per source."""
    check_options(**_options(args))
    if len(args.input) > 1 or Path(args.input[0]).is_dir() or any(
            ch in args.input[0] for ch in "*?[") or args.scheduler or args.jobs != 1:
        return _separate_batch(args)
    args.input = args.input[0]
    return _separate_one_file(args)


def _options(args):
    """The separation options, as the file service (and sksep.batch) take them."""
    return dict(method=args.method, model=args.model, n_sources=args.n_sources,
                fit_seconds=args.fit_seconds, chunk_seconds=args.chunk_seconds,
                model_sr=args.model_sr, keep=args.keep)


def _interrupted(n_done):
    return Interrupted(f"{_plural(n_done, 'file')} done, nothing half-written")


RESULTS_CSV = "sksep-results.csv"


def _separate_batch(args):
    """Many files: sksep.batch, one progress bar, a results table."""
    from .._outputs import check_output_dir
    from ..batch import expand_inputs, separate_files, write_results_csv

    if args.jobs == 0 or args.jobs < -1:
        raise CommandError(f"--jobs must be a positive number or -1, got {args.jobs}.")
    out = Path(args.output)
    check_output_dir(out)
    paths = expand_inputs(args.input)
    if not paths:
        raise CommandError(f"no audio files match {' '.join(args.input)}.")
    markers = _done_markers(out)
    try:
        rows = separate_files(
            paths, out, n_jobs=args.jobs, scheduler=args.scheduler,
            overwrite=args.force, random_state=args.random_state,
            progress=not args.quiet, **_options(args))
    except KeyboardInterrupt:      # joblib has stopped its workers
        done = sum(1 for m, t in _done_markers(out).items() if markers.get(m) != t)
        raise _interrupted(done) from None
    except (ImportError, ConnectionError) as exc:   # no dask.distributed, no scheduler
        if not args.scheduler:
            raise
        raise CommandError(f"--scheduler {args.scheduler}: {exc}") from exc
    for r in rows:
        if r["status"] == "failed":
            r["error"] = _in_cli_terms(r["error"], args)
    write_results_csv(rows, out / RESULTS_CSV, overwrite=True, update=True)
    count = {k: sum(r["status"] == k for r in rows) for k in ("done", "skipped", "failed")}
    print(f"{count['done']} separated, {count['skipped']} already done, "
          f"{count['failed']} failed; table: {out / RESULTS_CSV}"
          f"{_lost_band(rows, args.model or default_model(args.method))}")
    for r in rows:
        if r["status"] == "failed":
            print(f"  failed: {r['input']}: {r['error']}", file=sys.stderr)
    if count["failed"]:
        raise CommandError(f"{_plural(count['failed'], 'file')} could not be separated "
                           f"(see {out / RESULTS_CSV}).")
    return 0


def _say_warnings(caught, done, say):
    """IVA or ICA stopping at its iteration limit, said as a note in the
    command's words (the limit is no option of it); other warnings shown
    as Python shows them."""
    for w in caught:
        if w.category.__name__ == "ConvergenceWarning":
            say(f"note: {done.method.upper()} stopped at its iteration limit before "
                "converging; the sources may be less well separated than they could be")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _separate_one_file(args):
    from .._outputs import check_output_dir, write_sources
    from .._separate import separate_file

    def say(text):
        if not args.quiet:
            print("\n".join(_in_cli_terms(line, args) for line in text.split("\n")),
                  file=sys.stderr)

    check_output_dir(args.output)
    try:
        with warnings.catch_warnings(record=True) as caught:   # this command's thread
            warnings.simplefilter("default")
            done = separate_file(args.input, args.output, overwrite=args.force,
                                 random_state=args.random_state, progress=not args.quiet,
                                 say=say, **_options(args))
        _say_warnings(caught, done, say)
        write_sources(done.targets, done.sources, done.sr, subtype=done.subtype,
                      overwrite=args.force)
    except KeyboardInterrupt:
        raise _interrupted(0) from None
    for t in done.targets:
        print(t)
    band = f"; {done.lost_band}" if done.lost_band else ""
    say(f"wrote {_plural(len(done.targets), 'file')}: WAV {done.subtype}, {done.sr} Hz "
        f"(the input's rate and sample format){band}")
    return 0


def _done_markers(out):
    """The files sksep.batch marks as done in ``out``, with their times."""
    if not out.is_dir():
        return {}
    return {m: m.stat().st_mtime_ns for m in out.glob(".*.sksep-done.json")}


def _lost_band(rows, model):
    """'; N mono files ...' when a shipped model dropped the top of mono
    files recorded above its rate."""
    import soundfile

    from ..pretrained import list_models

    model_sr = list_models().get(str(model), {}).get("sample_rate")
    if model_sr is None:
        return ""
    n = 0
    for row in rows:
        if row["status"] == "done":
            info = soundfile.info(row["input"])
            n += info.channels == 1 and info.samplerate > model_sr
    if not n:
        return ""
    rate, top = f"{model_sr / 1000:g} kHz", f"{model_sr / 2000:g} kHz"
    return (f"\n{_plural(n, 'mono file')} sampled above {rate}: the model works at "
            f"{rate}, content above {top} is not kept")


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("separate", help="separate a recording into one file per source",
                       description=cmd_separate.__doc__ + " A multichannel file goes to "
                       "IVA (rooms), a mono file to the pretrained mask estimator.")
    p.add_argument("input", nargs="+",
                   help="audio file (WAV, FLAC, OGG, ...); several files, folders or "
                   "glob patterns separate a whole archive in parallel")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes for many files (-1: all cores; default: 1)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (tcp://host:8786): separate the files "
                   "on that cluster (needs sksep[dask])")
    p.add_argument("--method", choices=["iva", "ica", "mask", "cnn"], default=None,
                   help="iva: rooms (frequency-domain IVA); ica: instantaneous "
                   "mixtures (FastICA); mask/cnn: one microphone (pretrained). "
                   "Default: iva for multichannel files, mask for mono ones")
    p.add_argument("--n-sources", type=int, default=None,
                   help="sources to recover (IVA/ICA: at most the channels; "
                   "default: as many as channels)")
    p.add_argument("--fit-seconds", type=float, default=FIT_SECONDS,
                   help="IVA learns its filters from at most this much of the "
                   "recording (its middle), then separates all of it "
                   "(default: %(default)s)")
    p.add_argument("--model", default=None,
                   help=f"model file from 'sksep train' or a shipped model name "
                   f"('sksep models'; default: {DEFAULT_MODEL}, or "
                   f"{DEFAULT_MODEL}-cnn with --method cnn)")
    p.add_argument("--model-sr", type=int, default=None,
                   help="sample rate of a --model file that does not record its own "
                   f"(one trained outside 'sksep train'; default: {MODEL_SAMPLE_RATE}); "
                   "refused for a model that records another")
    _keep_option(p, "speech8k-speech-noise")
    p.add_argument("--chunk-seconds", type=float, default=CHUNK_SECONDS,
                   help="process long files in chunks of this length (default: "
                   "%(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _force_and_seed(p)
    p.set_defaults(func=cmd_separate)
