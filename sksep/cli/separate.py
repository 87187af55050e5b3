"""``sksep separate``: one recording, or a whole archive in parallel."""

import sys
from pathlib import Path

import numpy as np

from ._common import (  # noqa: F401
    CommandError,
    DEFAULT_MODEL,
    Interrupted,
    _check_audio_input,
    _check_outputs,
    _in_cli_terms,
    _force_and_seed,
    _output_subtype,
    _peak_normalise,
    _plural,
    _room_stft,
    _write_all,
)


# -- separate ------------------------------------------------------------------

def cmd_separate(args):
    """Separate recordings into one file per source."""
    if args.chunk_seconds <= 0:
        raise CommandError(
            f"--chunk-seconds must be positive, got {args.chunk_seconds}.")
    if args.fit_seconds <= 0:
        raise CommandError(f"--fit-seconds must be positive, got {args.fit_seconds}.")
    if len(args.input) > 1 or Path(args.input[0]).is_dir() or any(
            ch in args.input[0] for ch in "*?[") or args.scheduler or args.jobs != 1:
        return _separate_batch(args)
    args.input = args.input[0]
    return _separate_one_file(args)


def _interrupted(n_done):
    return Interrupted(f"{_plural(n_done, 'file')} done, nothing half-written")


RESULTS_CSV = "sksep-results.csv"


def _separate_batch(args):
    """Many files: sksep.batch, one progress bar, a results table."""
    from ..batch import expand_inputs, separate_files, write_results_csv

    if args.jobs == 0 or args.jobs < -1:
        raise CommandError(f"--jobs must be a positive number or -1, got {args.jobs}.")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CommandError(f"'{out}' exists and is not a directory.")
    paths = expand_inputs(args.input)
    if not paths:
        raise CommandError(f"no audio files match {' '.join(args.input)}.")
    markers = _done_markers(out)
    try:
        rows = separate_files(
            paths, out, args.model or DEFAULT_MODEL, n_jobs=args.jobs,
            scheduler=args.scheduler, overwrite=args.force,
            room_method="ica" if args.method == "ica" else "iva",
            chunk_seconds=args.chunk_seconds, progress=not args.quiet)
    except KeyboardInterrupt:      # joblib has stopped its workers
        done = sum(1 for m, t in _done_markers(out).items() if markers.get(m) != t)
        raise _interrupted(done) from None
    for r in rows:
        if r["status"] == "failed":
            r["error"] = _row_error(r, args)
    write_results_csv(rows, out / RESULTS_CSV, overwrite=True)
    count = {k: sum(r["status"] == k for r in rows) for k in ("done", "skipped", "failed")}
    print(f"{count['done']} separated, {count['skipped']} already done, "
          f"{count['failed']} failed; table: {out / RESULTS_CSV}"
          f"{_lost_band(rows, args.model or DEFAULT_MODEL)}")
    for r in rows:
        if r["status"] == "failed":
            print(f"  failed: {r['input']}: {r['error']}", file=sys.stderr)
    if count["failed"]:
        raise CommandError(f"{_plural(count['failed'], 'file')} could not be separated "
                           f"(see {out / RESULTS_CSV}).")
    return 0


def _separate_one_file(args):
    from ..io import read_audio

    inp = Path(args.input)
    if args.n_sources is not None and args.n_sources < 1:
        raise CommandError(f"--n-sources must be at least 1, got {args.n_sources}.")
    _check_audio_input(inp)
    data, sr = read_audio(inp, dtype="float32")           # (n_samples, n_channels)
    n_channels = data.shape[1]
    method = args.method or ("iva" if n_channels > 1 else "mask")
    if method in ("ica", "iva"):
        name = method.upper()
        if n_channels < 2:
            raise CommandError(
                f"'{inp}' has 1 channel; {name} needs at least as many channels as "
                "sources (use --method mask for a single microphone)."
            )
        if args.model is not None:
            raise CommandError(
                f"--model applies to the single-microphone methods (mask, cnn), "
                f"not to --method {method}; pass --method mask to use the model on "
                "the channels mixed down to one."
            )
        n_sources = args.n_sources or n_channels
        if n_sources > n_channels:
            raise CommandError(
                f"{name} cannot separate {n_sources} sources from {n_channels} "
                f"channels of '{inp}': it needs at least as many channels as sources."
            )
    else:
        model, name = _load_model(args, method)
        n_sources = model.n_sources_
        if args.n_sources is not None and args.n_sources != n_sources:
            raise CommandError(
                f"the model separates {n_sources} sources, --n-sources asked for "
                f"{args.n_sources}."
            )
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CommandError(f"'{out}' exists and is not a directory.")
    targets = [out / f"{inp.stem}_source{k + 1}.wav" for k in range(n_sources)]
    _check_outputs(targets, args.force)

    if method == "ica" and data.shape[0] < 2 * n_channels:
        raise CommandError(f"'{inp}' is too short for ICA ({data.shape[0]} samples).")
    if method == "iva":
        _check_room_lengths(data, sr, args)
    try:
        if method == "ica":
            from .. import FastICASeparator

            ica = FastICASeparator(n_components=n_sources, ref_channel=0,
                                   random_state=args.random_state)
            sources = ica.fit_transform(data).T
        elif method == "iva":
            sources = _separate_room(data, sr, n_sources, args).T
        else:
            sources = _separate_mono(model, name, data, sr, args)
        out.mkdir(parents=True, exist_ok=True)
        subtype = _output_subtype(inp)
        _write_all([(t, _peak_normalise(s)) for t, s in zip(targets, sources)], sr,
                   args.force, subtype=subtype)
    except KeyboardInterrupt:
        raise _interrupted(0) from None
    for t in targets:
        print(t)
    if not args.quiet:
        band = ""
        model_sr = None if method in ("ica", "iva") else _model_rate(model, args)
        if model_sr is not None and sr > model_sr:
            band = (f"; the model works at {model_sr / 1000:g} kHz: content above "
                    f"{model_sr / 2000:g} kHz is not kept")
        print(f"wrote {_plural(len(targets), 'file')}: WAV {subtype}, {sr} Hz "
              f"(the input's rate and sample format){band}", file=sys.stderr)
    return 0


def _check_room_lengths(data, sr, args):
    """IVA needs a whole STFT window of the recording; --fit-seconds a few."""
    n_fft = _room_stft(sr).n_fft
    window = n_fft / sr
    if data.shape[0] < n_fft:
        raise CommandError(
            f"'{args.input}' is {data.shape[0] / sr:.2f} s long, too short for IVA, "
            f"which needs at least {window:.3f} s (one {1000 * window:.0f} ms STFT "
            "window); give a longer recording, or --method ica for a mixture "
            "recorded without echo.")
    least = _MIN_FIT_WINDOWS * window
    if args.fit_seconds < least and data.shape[0] / sr >= least:
        raise CommandError(
            f"--fit-seconds must be at least {least:.3f} s ({_MIN_FIT_WINDOWS} of "
            f"IVA's {1000 * window:.0f} ms STFT windows), got {args.fit_seconds}.")


_MIN_FIT_WINDOWS = 4


def _separate_room(data, sr, n_sources, args):
    """IVA fitted on at most --fit-seconds of the recording, then applied to
    all of it in chunks (sksep._separate.separate_room)."""
    from .. import IVASeparator
    from .._separate import separate_room

    iva = IVASeparator(n_components=n_sources, stft=_room_stft(sr), ref_channel=0,
                       random_state=args.random_state)
    try:
        return separate_room(iva, data, sr, fit_seconds=args.fit_seconds,
                             chunk_seconds=args.chunk_seconds)
    except ValueError as exc:
        raise CommandError(f"IVA cannot separate '{args.input}': {exc}") from exc


def _load_model(args, method):
    from ..pretrained import load

    name = args.model or (DEFAULT_MODEL if method == "mask" else f"{DEFAULT_MODEL}-cnn")
    try:
        model = load(name)
    except ValueError as exc:
        if exc.__cause__ is None:        # an sksep file of another version, ...
            raise CommandError(str(exc)) from exc
        raise CommandError(
            f"Cannot load a model from '{name}': it is not an sksep model file "
            "(one written by 'sksep train'), or it is truncated.") from exc
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise CommandError(str(exc)) from exc
    expected = {"mask": "MaskEstimator", "cnn": "CNNAutoencoderSeparator"}[method]
    if args.model and args.method and type(model).__name__ != expected:
        raise CommandError(
            f"--method {method} expects a {expected}, but '{args.model}' holds a "
            f"{type(model).__name__}."
        )
    return model, name


def _separate_mono(model, name, data, sr, args):
    from .._separate import resample

    mono = data.mean(axis=1)
    if data.shape[1] > 1:
        print(f"mixing {data.shape[1]} channels down to one for the mask estimator",
              file=sys.stderr)
    model_sr = _model_rate(model, args)
    x = resample(mono, sr, model_sr)
    if x.size < model.stft_.n_fft:
        raise CommandError(
            f"the recording is too short: {x.size} samples at {model_sr} Hz, the "
            f"model needs at least {model.stft_.n_fft}."
        )
    if not args.quiet:
        _sex_note(name)
    chunk = int(args.chunk_seconds * model_sr)
    if chunk < model.stft_.n_fft:
        raise CommandError(
            f"--chunk-seconds must be at least {model.stft_.n_fft / model_sr:.3f} s "
            f"(one STFT window of the model, {model.stft_.n_fft} samples at "
            f"{model_sr} Hz), got {args.chunk_seconds}."
        )
    # the rate is passed when the model knows it, only to say it is x's rate
    known = getattr(model, "sample_rate_", None)
    sources = model.separate(x, sr=model_sr if known else None, chunk_size=chunk,
                             progress=not args.quiet)
    return resample(sources, model_sr, sr, size=mono.size)


def _model_rate(model, args):
    return getattr(model, "sample_rate_", None) or args.model_sr


def _sex_note(name):
    """A shipped model's weak point, when its scores by sex are known."""
    from ..pretrained import list_models

    scores = next((v for k, v in list_models().get(name, {}).get("metrics", {}).items()
                   if "si_sdri_db_same_sex" in v), None)
    if scores is not None:
        print(f"note: {name} separates a woman and a man much better than two "
              f"voices\nof one sex ({scores['si_sdri_db_mixed_sex']:+.1f} dB against "
              f"{scores['si_sdri_db_same_sex']:+.1f} dB on test mixtures; see "
              "'sksep models')", file=sys.stderr)


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


def _row_error(row, args):
    """A failed file's error, in the command line's words, without the
    exception's class name."""
    path = Path(row["input"])
    if path.is_file() and path.stat().st_size == 0:
        return f"'{path}' is empty (0 bytes): there is no audio in it."
    return _in_cli_terms(row["error"], args)


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
    p.add_argument("--fit-seconds", type=float, default=60.0,
                   help="IVA learns its filters from at most this much of the "
                   "recording (its middle), then separates all of it "
                   "(default: %(default)s)")
    p.add_argument("--model", default=None,
                   help=f"model file from 'sksep train' or a shipped model name "
                   f"('sksep models'; default: {DEFAULT_MODEL}, or "
                   f"{DEFAULT_MODEL}-cnn with --method cnn)")
    p.add_argument("--model-sr", type=int, default=8000,
                   help="sample rate of a --model trained outside 'sksep train' "
                   "(default: %(default)s)")
    p.add_argument("--chunk-seconds", type=float, default=30.0,
                   help="process long files in chunks of this length (default: "
                   "%(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _force_and_seed(p)
    p.set_defaults(func=cmd_separate)
