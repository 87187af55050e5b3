"""The ``sksep`` command: demo, separate, train, evaluate.

Run ``sksep --help`` or ``sksep COMMAND --help``. Errors caused by the input
(a missing file, a mono file given to ICA, an output that exists, ...) print
one line ``sksep COMMAND: error: ...`` to standard error and exit with
status 1 (2 for a malformed command line), and leave every existing file as
it was.
"""

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from ._separate import room_stft as _room_stft
from ._separate import transform_chunked

DEFAULT_MODEL = "speech8k-2voices"
_AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".aiff", ".aif"}


class CommandError(Exception):
    """An error in the user's input: reported in one line, exit status 1."""


def _check_outputs(paths, force):
    """Refuse to touch any existing output unless ``force``; all checked first."""
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise CommandError(
            f"{len(existing)} output file(s) exist, e.g. '{existing[0]}'; nothing "
            "was written. Pass --force to overwrite them."
        )
    dirs = [str(p) for p in paths if p.is_dir()]
    if dirs:
        raise CommandError(f"'{dirs[0]}' is a directory, not an output file.")


def _write_all(items, sr, force, subtype=None):
    """Write every (path, data) pair, or none when one fails validation."""
    from .io import write_audio

    for path, data in items:
        if not np.all(np.isfinite(data)):
            raise CommandError(f"non-finite samples in the output for '{path}'.")
    for path, data in items:
        write_audio(path, data, sr, overwrite=force, subtype=subtype)


_WAV_SUBTYPES = {"PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}


def _output_subtype(path):
    """The input's sample format where WAV can hold it (24-bit stays 24-bit,
    float stays float), else 16-bit PCM."""
    import soundfile

    try:
        subtype = soundfile.info(str(path)).subtype
    except RuntimeError:  # pragma: no cover - read_audio already opened it
        return "PCM_16"
    return subtype if subtype in _WAV_SUBTYPES else "PCM_16"


class _StripAnsi:
    """A stream that drops ANSI colour codes (for logs and pipes)."""

    _CODE = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(self._CODE.sub("", text))

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _peak_normalise(x, peak=0.99):
    """Scale down (never up) so integer PCM files do not clip."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return x * (peak / top) if top > peak else x


def _table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)),
                      *(line.format(*r) for r in rows)])


# -- demo ----------------------------------------------------------------------

def _voices(demo, speakers):
    voices = [np.concatenate([w for w, s in zip(demo.waveforms, demo.speaker)
                              if s == sp]) for sp in speakers]
    n = min(len(v) for v in voices)
    return np.stack([v[:n] for v in voices])


def cmd_demo(args):
    """Separate 3 voices from 3 microphones (ICA) and 2 from one (pretrained)."""
    from . import FastICASeparator
    from .datasets import load_demo, make_instantaneous_mixture
    from .metrics import pit_si_sdr, si_sdr
    from .pretrained import load

    out = Path(args.out)
    ica_speakers = ["george", "jackson", "theo"]
    mask_speakers = ["woman", "man"]
    paths = {"ica_mix": out / "ica_mixture.wav",
             **{f"ica_{s}": out / f"ica_{s}.wav" for s in ica_speakers},
             "room_mix": out / "room_mixture.wav",
             "room_iva_1": out / "room_voice1.wav", "room_iva_2": out / "room_voice2.wav",
             "mask_mix": out / "mask_mixture.wav",
             **{f"mask_{s}": out / f"mask_{s}.wav" for s in mask_speakers},
             "figure": out / "demo.png"}
    if out.exists() and not out.is_dir():
        raise CommandError(f"'{out}' exists and is not a directory.")
    _check_outputs(paths.values(), args.force)

    demo = load_demo()
    sr = demo.sr
    # (a) 3 voices, 3 microphones, instantaneous mixing: ICA
    S = _voices(demo, ica_speakers)                       # (3, n)
    X, _ = make_instantaneous_mixture(S.T, random_state=args.random_state)
    X = X / np.abs(X).max()
    ica = FastICASeparator(ref_channel=0, random_state=args.random_state)
    S_ica = ica.fit_transform(X).T
    ica_scores, perm = pit_si_sdr(S, S_ica, zero_mean=True)
    S_ica = S_ica[perm]
    ica_before = si_sdr(S, np.broadcast_to(X[:, 0], S.shape), zero_mean=True)

    # (b) 2 voices in a reverberant room, 2 microphones: IVA (and ICA's failure)
    room_rows, room_mix, room_est = _room_scene(args.random_state)

    # (c) 2 voices, 1 microphone: the default pretrained mask estimator on a
    # conversation of two readers it never heard, separated as a whole
    model = load(DEFAULT_MODEL)
    V, mix, V_hat, masks = _conversation(model, sr)
    mask_scores = si_sdr(V, V_hat)
    mask_before = si_sdr(V, np.broadcast_to(mix, V.shape))

    rows = [("ICA, 3 mics", sp, f"{b:.1f}", f"{a:.1f}", f"{a - b:+.1f}")
            for sp, b, a in zip(ica_speakers, ica_before, ica_scores)]
    rows += room_rows
    rows += [("pretrained mask, 1 mic", sp, f"{b:.1f}", f"{a:.1f}", f"{a - b:+.1f}")
             for sp, b, a in zip(mask_speakers, mask_before, mask_scores)]
    print(f"sksep demo at {sr} Hz: {S.shape[1] / sr:.1f} s of three FSDD voices on "
          f"3 microphones (mixed without echo),\n{room_mix.shape[0] / sr:.0f} s of two "
          "readers in a simulated room (RT60 300 ms, 2 microphones 5 cm apart),\n"
          f"{V.shape[1] / sr:.1f} s of two LibriSpeech readers talking at once on 1 "
          "microphone\n")
    print(_table(("method", "voice", "SI-SDR mix (dB)", "SI-SDR out (dB)",
                  "SI-SDRi (dB)"), rows))
    print(
        f"\nThe mask estimator ({DEFAULT_MODEL}) separates the whole "
        f"{V.shape[1] / sr:.0f} s at once; its two\noutputs are matched to the "
        "readers by one permutation for the whole recording,\nso a voice swap "
        "anywhere would cost quality. It was trained on 411 other speakers\n"
        "(speech8k train); these two readers are speech8k test speakers it never "
        "heard." + _test_scores(DEFAULT_MODEL)
    )

    out.mkdir(parents=True, exist_ok=True)
    items = [(paths["ica_mix"], X)]
    items += [(paths[f"ica_{s}"], _peak_normalise(S_ica[k]))
              for k, s in enumerate(ica_speakers)]
    items += [(paths["room_mix"], _peak_normalise(room_mix))]
    items += [(paths[f"room_iva_{k + 1}"], _peak_normalise(room_est[:, k]))
              for k in range(2)]
    items += [(paths["mask_mix"], _peak_normalise(mix))]
    items += [(paths[f"mask_{s}"], _peak_normalise(V_hat[k]))
              for k, s in enumerate(mask_speakers)]
    _write_all(items, sr, args.force)
    _demo_figure(paths["figure"], X, S, S_ica, ica_scores, ica_speakers, mix, V,
                 V_hat, masks, mask_scores, mask_speakers, sr,
                 model.stft_.hop_length_, args.force)
    print(f"\nwrote {len(items)} WAV files and {paths['figure'].name} to {out}/")
    return 0


def _room_scene(seed, sr=8000, rt60=0.3):
    """A woman and a man in a simulated room, 2 microphones 5 cm apart:
    SI-SDR of each voice's image at microphone 0 before and after IVA (and
    FastICA, whose instantaneous model does not fit a room)."""
    from . import FastICASeparator, IVASeparator
    from .datasets import load_speech_demo, make_room_mixture
    from .metrics import image_scores

    speech = load_speech_demo()
    pair = [int(np.flatnonzero(speech.sex == sex)[1]) for sex in ("F", "M")]
    n = 10 * sr
    S = np.stack([speech.waveforms[k][:n] for k in pair], axis=1)
    mix, images = make_room_mixture(S, sr, n_mics=2, mic_spacing=0.05, rt60=rt60,
                                    random_state=seed)
    rows, est_iva = [], None
    for label, est in (("IVA, room, 2 mics", IVASeparator(
            stft=_room_stft(sr), random_state=seed)),
                       ("ICA, room, 2 mics", FastICASeparator(
                           ref_channel=0, random_state=seed))):
        Y = est.fit_transform(mix)
        scores = image_scores(images, Y, mixture=mix)
        est_iva = Y if est_iva is None else est_iva
        before = scores["si_sdr"] - scores["si_sdr_improvement"]
        rows += [(label, who, f"{b:.1f}", f"{a:.1f}", f"{a - b:+.1f}")
                 for who, b, a in zip(("woman", "man"), before, scores["si_sdr"])]
    return rows, mix, est_iva


def _test_scores(name):
    """The model's measured test scores, from the registry."""
    from .pretrained import list_models

    metrics = list_models()[name].get("metrics", {})
    row = next((v for k, v in metrics.items() if k.startswith("speech8k test, 4 s")),
               None)
    if row is None:
        return ""
    text = (f"\nOn speech8k test mixtures of unseen voices it gains "
            f"{row['si_sdri_db']:+.1f} dB on average")
    if "si_sdri_db_same_sex" in row:
        text += (f":\n{row['si_sdri_db_mixed_sex']:+.1f} dB for a woman and a man, "
                 f"{row['si_sdri_db_same_sex']:+.1f} dB for two voices of one sex")
    return text + "\n(sksep.pretrained.list_models())."


def _conversation(model, sr, seconds=20):
    """A woman and a man (LibriSpeech readers, speech8k test speakers) talking
    partly at once, separated whole; outputs matched by one permutation."""
    from .datasets import load_speech_demo, make_conversation
    from .metrics import pit_si_sdr

    speech = load_speech_demo()
    pair = [int(np.flatnonzero(speech.sex == sex)[0]) for sex in ("F", "M")]
    mix, Y = make_conversation([[speech.waveforms[k]] for k in pair],
                               n_times=seconds * sr, random_state=0)
    scale = 0.5 / np.abs(mix).max()
    mix, Y = mix * scale, Y * scale
    est, masks = model.separate(mix), model.predict_masks(mix)
    _, perm = pit_si_sdr(Y[None], est[None])
    return Y, mix, est[perm[0]], masks[perm[0]]


def _demo_figure(path, X, S, S_ica, ica_scores, ica_speakers, mix, V, V_hat, masks,
                 mask_scores, mask_speakers, sr, hop, force):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._files import atomic_write
    from .plotting import plot_separation

    fig = plt.figure(figsize=(20, 8.5), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[2, 3])
    # the references at the scale of the estimates (SI-SDR ignores scale)
    S = S * (np.sum(S * S_ica, axis=1) / np.sum(S * S, axis=1))[:, None]
    plot_separation(X.T, S_ica, sr, references=S, scores=ica_scores,
                    labels=ica_speakers, hop_length=hop, fig=left,
                    title="FastICASeparator: 3 voices, 3 microphones")
    plot_separation(mix, V_hat, sr, references=V, masks=masks, scores=mask_scores,
                    labels=mask_speakers, hop_length=hop, fig=right,
                    title="pretrained MaskEstimator: 2 voices, 1 microphone")
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=80, format="png"),
                     overwrite=force)
    finally:
        plt.close(fig)


# -- separate ------------------------------------------------------------------

def cmd_separate(args):
    """Separate recordings into one file per source."""
    if len(args.input) > 1 or Path(args.input[0]).is_dir() or any(
            ch in args.input[0] for ch in "*?[") or args.scheduler or args.jobs != 1:
        return _separate_batch(args)
    args.input = args.input[0]
    return _separate_one_file(args)


RESULTS_CSV = "sksep-results.csv"


def _separate_batch(args):
    """Many files: sksep.batch, one progress bar, a results table."""
    from .batch import expand_inputs, separate_files, write_results_csv

    if args.jobs == 0 or args.jobs < -1:
        raise CommandError(f"--jobs must be a positive number or -1, got {args.jobs}.")
    if args.chunk_seconds <= 0:
        raise CommandError(f"--chunk-seconds must be positive, got {args.chunk_seconds}.")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CommandError(f"'{out}' exists and is not a directory.")
    paths = expand_inputs(args.input)
    if not paths:
        raise CommandError(f"no audio files match {' '.join(args.input)}.")
    rows = separate_files(
        paths, out, args.model or DEFAULT_MODEL, n_jobs=args.jobs,
        scheduler=args.scheduler, overwrite=args.force,
        room_method="ica" if args.method == "ica" else "iva",
        chunk_seconds=args.chunk_seconds, progress=not args.quiet)
    write_results_csv(rows, out / RESULTS_CSV, overwrite=True)
    count = {k: sum(r["status"] == k for r in rows) for k in ("done", "skipped", "failed")}
    print(f"{count['done']} separated, {count['skipped']} already done, "
          f"{count['failed']} failed; table: {out / RESULTS_CSV}")
    for r in rows:
        if r["status"] == "failed":
            print(f"  failed: {r['input']}: {r['error']}", file=sys.stderr)
    if count["failed"]:
        raise CommandError(f"{_plural(count['failed'], 'file')} could not be separated "
                           f"(see {out / RESULTS_CSV}).")
    return 0


def _separate_one_file(args):
    from .io import read_audio

    inp = Path(args.input)
    data, sr = read_audio(inp, dtype="float32")           # (n_samples, n_channels)
    n_channels = data.shape[1]
    method = args.method or ("iva" if n_channels > 1 else "mask")
    if args.chunk_seconds <= 0:
        raise CommandError(f"--chunk-seconds must be positive, got {args.chunk_seconds}.")
    if args.n_sources is not None and args.n_sources < 1:
        raise CommandError(f"--n-sources must be at least 1, got {args.n_sources}.")
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
        model = _load_model(args, method)
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

    if method == "ica":
        from . import FastICASeparator

        if data.shape[0] < 2 * n_channels:
            raise CommandError(f"'{inp}' is too short for ICA ({data.shape[0]} samples).")
        ica = FastICASeparator(n_components=n_sources, ref_channel=0,
                               random_state=args.random_state)
        sources = ica.fit_transform(data).T
    elif method == "iva":
        sources = _separate_room(data, sr, n_sources, args).T
    else:
        sources = _separate_mono(model, data, sr, args)
    out.mkdir(parents=True, exist_ok=True)
    subtype = _output_subtype(inp)
    _write_all([(t, _peak_normalise(s)) for t, s in zip(targets, sources)], sr,
               args.force, subtype=subtype)
    for t in targets:
        print(t)
    if not args.quiet:
        print(f"wrote {_plural(len(targets), 'file')}: WAV {subtype}, {sr} Hz "
              "(the input's rate and sample format)", file=sys.stderr)
    return 0


def _separate_room(data, sr, n_sources, args):
    """IVA fitted on at most --fit-seconds of the recording (its middle), then
    applied to the whole file in cross-faded chunks: the demixing filters are
    fixed, so memory stays bounded and the chunks cannot swap sources."""
    from . import IVASeparator

    iva = IVASeparator(n_components=n_sources, stft=_room_stft(sr), ref_channel=0,
                       random_state=args.random_state)
    n = data.shape[0]
    fit_len = min(n, max(int(args.fit_seconds * sr), 1))
    start = (n - fit_len) // 2
    try:
        iva.fit(data[start:start + fit_len])
    except ValueError as exc:
        raise CommandError(f"IVA cannot separate '{args.input}': {exc}") from exc
    chunk = max(int(args.chunk_seconds * sr), 4 * iva.stft_.n_fft)
    return transform_chunked(iva, data, chunk)


def _load_model(args, method):
    from .pretrained import load

    name = args.model or (DEFAULT_MODEL if method == "mask" else f"{DEFAULT_MODEL}-cnn")
    try:
        model = load(name)
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    expected = {"mask": "MaskEstimator", "cnn": "CNNAutoencoderSeparator"}[method]
    if args.model and args.method and type(model).__name__ != expected:
        raise CommandError(
            f"--method {method} expects a {expected}, but '{args.model}' holds a "
            f"{type(model).__name__}."
        )
    return model


def _separate_mono(model, data, sr, args):
    import librosa

    mono = data.mean(axis=1)
    if data.shape[1] > 1:
        print(f"mixing {data.shape[1]} channels down to one for the mask estimator",
              file=sys.stderr)
    model_sr = getattr(model, "sample_rate_", None) or args.model_sr
    x = mono if sr == model_sr else librosa.resample(mono, orig_sr=sr,
                                                      target_sr=model_sr)
    if x.size < model.stft_.n_fft:
        raise CommandError(
            f"the recording is too short: {x.size} samples at {model_sr} Hz, the "
            f"model needs at least {model.stft_.n_fft}."
        )
    if args.model is None and not args.quiet:
        print(f"note: {DEFAULT_MODEL} separates a woman and a man much better than "
              "two voices\nof one sex (see sksep.pretrained.list_models())",
              file=sys.stderr)
    chunk = int(args.chunk_seconds * model_sr)
    if chunk < model.stft_.n_fft:
        raise CommandError(
            f"--chunk-seconds must be at least {model.stft_.n_fft / model_sr:.3f} s "
            f"(one STFT window of the model, {model.stft_.n_fft} samples at "
            f"{model_sr} Hz), got {args.chunk_seconds}."
        )
    sources = model.separate(x, chunk_size=chunk, progress=not args.quiet)
    if sr != model_sr:
        sources = librosa.resample(sources, orig_sr=model_sr, target_sr=sr)
        sources = librosa.util.fix_length(sources, size=mono.size, axis=-1)
    return sources


# -- stream --------------------------------------------------------------------

STREAM_MODEL = "speech8k-2voices-causal-16ms"


def cmd_stream(args):
    """Separate a recording block by block, exactly as a live input arrives."""
    import time

    from .io import read_audio

    if args.block_ms <= 0:
        raise CommandError(f"--block-ms must be positive, got {args.block_ms}.")
    inp = Path(args.input)
    data, sr = read_audio(inp, dtype="float32")
    n_channels = data.shape[1]
    if n_channels > 1:
        from . import IVASeparator

        if args.model is not None:
            raise CommandError(
                "--model applies to single-microphone streams; a multichannel file "
                "streams through online IVA.")
        stream = IVASeparator(stft=_room_stft(sr)).streamer(
            n_channels, forgetting=args.forgetting, sample_rate=sr)
        what = f"online IVA, {n_channels} microphones"
        x, block_sr = data, sr
    else:
        from .pretrained import load

        name = args.model or STREAM_MODEL
        try:
            model = load(name)
            stream = model.streamer()
        except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        model_sr = getattr(model, "sample_rate_", None) or sr
        if sr != model_sr:
            raise CommandError(
                f"'{inp}' is at {sr} Hz but the model streams at {model_sr} Hz; a live "
                "stream cannot be resampled after the fact: resample the file first "
                "(or record at the model's rate).")
        what = f"{name} ({type(model).__name__}, {model.n_sources_} voices)"
        x, block_sr = data[:, 0], model_sr
    n_out = stream.n_outputs
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise CommandError(f"'{out}' exists and is not a directory.")
    targets = [out / f"{inp.stem}_source{k + 1}.wav" for k in range(n_out)]
    _check_outputs(targets, args.force)
    block = max(1, int(round(args.block_ms * block_sr / 1000)))
    pieces, times = [], []
    for start in range(0, x.shape[0], block):
        t0 = time.perf_counter()
        pieces.append(stream.process(x[start:start + block]))
        times.append(time.perf_counter() - t0)
    pieces.append(stream.flush())
    axis = 1 if x.ndim == 1 else 0
    y = np.concatenate(pieces, axis=axis)
    y = (y[:, stream.latency_:] if axis == 1 else y[stream.latency_:].T)
    out.mkdir(parents=True, exist_ok=True)
    _write_all([(t, _peak_normalise(s)) for t, s in zip(targets, y)], block_sr,
               args.force, subtype=_output_subtype(inp))
    times = np.array(times) * 1000
    block_ms = 1000 * block / block_sr
    print(f"{what}: {len(times)} blocks of {block} samples ({block_ms:.1f} ms)")
    print(f"algorithmic latency: {stream.latency_} samples = "
          f"{1000 * stream.latency_ / block_sr:.1f} ms (plus one block of buffering)")
    print(f"compute per block: median {np.median(times):.2f} ms, 99th percentile "
          f"{np.percentile(times, 99):.2f} ms, worst {times.max():.2f} ms "
          f"(real-time factor {times.sum() / (1000 * x.shape[0] / block_sr):.3f})")
    for t in targets:
        print(t)
    return 0


# -- train ---------------------------------------------------------------------

def _audio_files(folder, what):
    folder = Path(folder)
    if not folder.exists():
        raise CommandError(f"{what} folder '{folder}' does not exist.")
    if not folder.is_dir():
        raise CommandError(f"{what} '{folder}' is a file; give a folder of audio files.")
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in _AUDIO_EXTENSIONS and p.is_file())
    if not files:
        raise CommandError(f"no audio files ({', '.join(sorted(_AUDIO_EXTENSIONS))}) "
                           f"in '{folder}'.")
    return files


def cmd_train(args):
    """Train a deep separator on clean single-speaker recordings."""
    from . import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
    from .io import read_audio
    from .pretrained import save

    target = Path(args.output)
    if target.is_dir():
        raise CommandError(f"'{target}' is a directory; give a model file name.")
    if target.exists() and not args.force:
        raise CommandError(f"'{target}' exists; pass --force to overwrite it.")
    files = _audio_files(args.data, "training")
    waves, labels = [], []
    regex = re.compile(args.label_regex) if args.label_regex else None
    for f in files:
        data, _ = read_audio(f, sr=args.sr, mono=True)
        waves.append(data[:, 0])
        if regex is not None:
            match = regex.search(f.name)
            if match is None:
                raise CommandError(f"--label-regex does not match '{f.name}'.")
            labels.append(match.group(1) if match.groups() else match.group(0))
        else:
            labels.append(f.parent.name if f.parent != Path(args.data) else None)
    y = None if any(lab is None for lab in labels) else np.asarray(labels)
    if len(files) < 2:
        raise CommandError("training needs at least 2 recordings.")
    if y is None or len(np.unique(y)) < 2:
        why = ("the files are not in speaker sub-folders" if y is None else
               f"every file is in the one sub-folder '{labels[0]}'")
        print(f"sksep train: warning: no speaker labels ({why}), so the training "
              "mixtures pair\nrecordings at random and some mix a voice with "
              "itself, which teaches the separator\nnothing about telling voices "
              "apart. Put each speaker's recordings in a sub-folder\n(or give "
              "--label-regex) to train on mixtures of different voices.",
              file=sys.stderr)
        y = None
    segment = int(round(args.clip_seconds * args.sr))
    stft = STFTTransformer(n_fft=args.n_fft, hop_length=args.n_fft // 4)
    common = dict(n_sources=args.n_sources, stft=stft, max_epochs=args.epochs,
                  segment_length=segment, gradient_clip=5.0,
                  batch_size=args.batch_size, lr=args.lr,
                  valid_fraction=args.valid_fraction, patience=args.patience,
                  device=args.device, verbose=1, random_state=args.random_state)
    if args.method == "mask":
        model = MaskEstimator(hidden_size=args.hidden_size, **common)
    else:
        model = CNNAutoencoderSeparator(permutation_invariant=True, **common)
    print(f"training {type(model).__name__} on {_plural(len(waves), 'recording')} "
          f"from '{args.data}'{'' if y is None else f' ({len(np.unique(y))} speakers)'}"
          f", mixtures of random {args.clip_seconds} s segments", flush=True)
    stdout = sys.stdout
    if not stdout.isatty():
        sys.stdout = _StripAnsi(stdout)   # skorch colours its epoch table
    try:
        model.fit(waves, y)
    finally:
        sys.stdout = stdout
    model.sample_rate_ = args.sr
    save(model, target, overwrite=args.force,
         metadata={"sample_rate": args.sr, "data": str(args.data)})
    print(f"saved {target} ({_plural(model.n_epochs_, 'epoch')})")
    return 0


# -- evaluate ------------------------------------------------------------------

def cmd_evaluate(args):
    """Score estimated sources against references (best permutation)."""
    from .io import read_audio
    from .metrics import bss_eval, pit_si_sdr

    refs = _audio_files(args.ref, "reference")
    ests = _audio_files(args.est, "estimate")
    if len(ests) != len(refs):
        raise CommandError(
            f"{len(refs)} reference files but {len(ests)} estimate files; "
            "give one estimate per reference."
        )
    R, E, srs = [], [], set()
    for group, files in ((R, refs), (E, ests)):
        for f in files:
            data, sr = read_audio(f, dtype="float64")
            if data.shape[1] != 1:
                raise CommandError(f"'{f}' has {data.shape[1]} channels; "
                                   "evaluate compares mono files.")
            group.append(data[:, 0])
            srs.add(sr)
    if len(srs) > 1:
        raise CommandError(f"the files have different sample rates: {sorted(srs)}.")
    n = min(len(x) for x in R + E)
    if any(len(x) != n for x in R + E):
        print(f"note: files differ in length; scoring their first {n} samples",
              file=sys.stderr)
    R = np.stack([x[:n] for x in R])
    E = np.stack([x[:n] for x in E])
    if np.any(np.sum(R**2, axis=1) == 0):
        raise CommandError("a reference file is silent; SI-SDR is undefined for it.")
    scores, perm = pit_si_sdr(R, E)
    bss = bss_eval(R, E[perm], compute_permutation=False)
    rows = [(r.name, ests[j].name, f"{s:.2f}", f"{d:.2f}", f"{i:.2f}", f"{a:.2f}")
            for r, j, s, d, i, a in zip(refs, perm, scores, bss.sdr, bss.sir, bss.sar)]
    rows.append(("mean", "", f"{np.mean(scores):.2f}", f"{np.mean(bss.sdr):.2f}",
                 f"{np.mean(bss.sir):.2f}", f"{np.mean(bss.sar):.2f}"))
    print(_table(("reference", "estimate", "SI-SDR", "SDR", "SIR", "SAR"), rows))
    return 0


# -- entry point ---------------------------------------------------------------

def _force_and_seed(parser):
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing outputs (otherwise never touched)")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed of every random choice (default: %(default)s)")


def build_parser():
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="sksep",
        description="Sound source separation: IVA and ICA for microphone arrays, "
        "deep separators for one microphone.",
        epilog="Exit status: 0 on success, 1 when a command fails (a one-line "
        "message says why; no output is left half-written), 2 for a usage error "
        "(unknown or malformed options).")
    parser.add_argument("--version", action="version", version=f"sksep {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="separate the bundled demo voices (no data needed)",
                       description=cmd_demo.__doc__)
    p.add_argument("--out", default="sksep-demo",
                   help="folder for the WAV files and figure (default: %(default)s)")
    _force_and_seed(p)
    p.set_defaults(func=cmd_demo)

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
                   f"(default: {DEFAULT_MODEL})")
    p.add_argument("--model-sr", type=int, default=8000,
                   help="sample rate of a --model trained outside 'sksep train' "
                   "(default: %(default)s)")
    p.add_argument("--chunk-seconds", type=float, default=30.0,
                   help="process long files in chunks of this length (default: "
                   "%(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _force_and_seed(p)
    p.set_defaults(func=cmd_separate)

    p = sub.add_parser("stream", help="separate a recording block by block, as live",
                       description=cmd_stream.__doc__ + " A mono file goes through "
                       f"a causal mask estimator (default {STREAM_MODEL}), a "
                       "multichannel file through online IVA. Prints the algorithmic "
                       "latency and the compute time per block.")
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("input", help="audio file (WAV, FLAC, ...)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--block-ms", type=float, default=8.0,
                   help="block length in milliseconds, as a sound card delivers it")
    p.add_argument("--model", default=None,
                   help="causal model file or shipped name (mono files; default: "
                   f"{STREAM_MODEL})")
    p.add_argument("--forgetting", type=float, default=0.97,
                   help="online IVA: weight of the past per STFT frame")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing outputs (otherwise never touched)")
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("train", help="train a deep separator on clean recordings",
                       description=cmd_train.__doc__ + " Mixtures are generated on "
                       "the fly; speakers are the sub-folder names (or --label-regex).")
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("data", help="folder of clean single-speaker audio files")
    p.add_argument("-o", "--output", required=True, help="model file to write (.pt)")
    p.add_argument("--method", choices=["mask", "cnn"], default="mask",
                   help="mask: MaskEstimator (BLSTM); cnn: CNNAutoencoderSeparator")
    p.add_argument("--n-sources", type=int, default=2,
                   help="voices per training mixture (and outputs)")
    p.add_argument("--sr", type=int, default=8000,
                   help="sample rate (Hz) the recordings are resampled to")
    p.add_argument("--clip-seconds", type=float, default=4.0,
                   help="length of the random segments mixed every epoch (s)")
    p.add_argument("--epochs", type=int, default=50, help="most epochs to train")
    p.add_argument("--patience", type=int, default=10,
                   help="epochs without validation improvement before stopping")
    p.add_argument("--batch-size", type=int, default=16, help="mixtures per step")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--n-fft", type=int, default=256,
                   help="STFT window in samples (hop: a quarter of it)")
    p.add_argument("--hidden-size", type=int, default=128,
                   help="LSTM units per direction (mask method)")
    p.add_argument("--valid-fraction", type=float, default=0.1,
                   help="fraction of recordings held out for early stopping")
    p.add_argument("--label-regex", default=None,
                   help="regular expression whose first group is the speaker in a "
                   r"file name, e.g. '^\d+_([a-z]+)_' for FSDD")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    _force_and_seed(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="SI-SDR, SDR, SIR, SAR of estimates",
                       description=cmd_evaluate.__doc__ + " Each reference file is "
                       "paired with the estimate that matches it best.")
    p.add_argument("--ref", required=True, help="folder of reference sources")
    p.add_argument("--est", required=True, help="folder of estimated sources")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CommandError, FileNotFoundError, IsADirectoryError, FileExistsError,
            ValueError) as exc:
        print(f"sksep {args.command}: error: {_in_cli_terms(str(exc), args)}",
              file=sys.stderr)
        return 1


# library parameter -> the option a command-line user typed
_OPTION_NAMES = {"n_components": "--n-sources", "n_sources": "--n-sources",
                 "chunk_size": "--chunk-seconds", "ref_channel": "the reference channel"}


def _in_cli_terms(message, args):
    """Say a library error in the command line's own terms, in one place."""
    first = message.split("\n", 1)[0]
    if "contains NaN" in first or "contains infinity" in first:
        what = "NaN" if "NaN" in first else "infinite"
        where = getattr(args, "input", None) or getattr(args, "data", None) or "the input"
        return (f"'{where}' holds {what} samples; sksep cannot separate audio "
                "with missing or infinite values. Repair or re-export the file.")
    for name, option in _OPTION_NAMES.items():
        first = re.sub(rf"\b{name}\b", option, first)
    return first


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
