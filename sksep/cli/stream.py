"""``sksep stream``: a recording block by block, as a live input arrives.

The blocks are the stream's own; the rest is the file service's
(:mod:`sksep._separate`), as for ``sksep separate``: the input read, the
model loaded and its rate (``--model``, ``--model-sr``), the outputs named,
checked (``-o``, ``--force``) and written in the input's sample format.
"""

import argparse
import time

import numpy as np

from .._defaults import FORGETTING, MODEL_SAMPLE_RATE, STREAM_MODEL, WARM_START_SECONDS
from .._separate import (
    estimator_name,
    load_model,
    model_rate,
    fixed_classes,
    kept_outputs,
    output_names,
    output_subtype,
    plan_outputs,
    read_recording,
    resample,
    room_estimator,
    write_sources,
)
from ._common import CommandError, _keep_option


def cmd_stream(args):
    """Separate a recording block by block, exactly as a live input arrives."""
    if args.block_ms <= 0:
        raise CommandError(f"--block-ms must be positive, got {args.block_ms}.")
    data, sr = read_recording(args.input)                 # (n_samples, n_channels)
    stream, model, what = _streamer(args, data.shape[1], sr)
    # a file is no live stream: it goes to the model's rate on the way in
    # and back to its own on the way out
    if model is None:
        x, block_sr = data, sr
    else:
        block_sr = model_rate(model, args.model_sr)
        x = resample(data[:, 0], sr, block_sr)
    index = kept_outputs(fixed_classes(model), args.keep,
                         what="online IVA" if model is None else args.model or STREAM_MODEL)
    targets = plan_outputs(args.input, args.output, stream.n_outputs, model=model,
                           overwrite=args.force, only=index)
    block = max(1, int(round(args.block_ms * block_sr / 1000)))
    y, times = _run_blocks(stream, x, block)
    y = resample(y, block_sr, sr, size=data.shape[0])
    if index is not None:
        y = y[index]
    write_sources(targets, y, sr, subtype=output_subtype(args.input),
                  overwrite=args.force)
    _report(stream, what, times, block, block_sr, sr, x.shape[0], data.shape[0])
    for t in targets:
        print(t)
    return 0


def _streamer(args, n_channels, sr):
    """(streamer, model or None, what it is): online IVA for a multichannel
    file, a causal model for a mono one."""
    if n_channels > 1:
        if args.model is not None:
            raise CommandError(
                "--model applies to single-microphone streams; a multichannel file "
                "streams through online IVA.")
        stream = room_estimator("iva", sr).streamer(
            n_channels, forgetting=args.forgetting, warm_start=args.warm_start,
            sample_rate=sr)
        return stream, None, f"online IVA, {n_channels} microphones"
    name = args.model or STREAM_MODEL
    model = load_model(name, network_only=True)
    try:
        stream = model.streamer()
    except (ValueError, AttributeError) as exc:
        raise CommandError(
            f"--model {name} cannot stream: it looks ahead in time; stream with "
            "a causal model (--model speech8k-2voices-causal-8ms, -16ms or "
            "-32ms, or one trained with a causal kind).") from exc
    kinds = (f"{model.n_sources_} voices" if output_names(model) is None
             else "outputs " + ", ".join(map(str, model.classes_)))
    return stream, model, f"{name} ({estimator_name(model)}, {kinds})"


def _run_blocks(stream, x, block):
    """The stream's outputs ``(n_outputs, n)`` for ``x`` fed ``block``
    samples at a time, latency removed, and each block's compute time."""
    pieces, times = [], []
    for start in range(0, x.shape[0], block):
        t0 = time.perf_counter()
        pieces.append(stream.process(x[start:start + block]))
        times.append(time.perf_counter() - t0)
    pieces.append(stream.flush())
    axis = 1 if x.ndim == 1 else 0
    y = np.concatenate(pieces, axis=axis)
    return (y[:, stream.latency_:] if axis == 1 else y[stream.latency_:].T), times


def _report(stream, what, times, block, block_sr, sr, n_block, n_input):
    block_ms = 1000 * block / block_sr
    print(f"{what}: {len(times)} blocks of {block} samples ({block_ms:.1f} ms)")
    if block_sr != sr:
        lost = (f"content above {block_sr / 2:g} Hz is not kept" if sr > block_sr
                else "nothing is lost")
        print(f"resampled from {sr} Hz to the model's {block_sr} Hz (and the outputs "
              f"back to {sr} Hz); {lost}")
    print(f"algorithmic latency: {stream.latency_} samples = "
          f"{1000 * stream.latency_ / block_sr:.1f} ms (plus one block of buffering)")
    print(timing_report(np.array(times) * 1000, block_ms, 1000 * n_block / block_sr))
    if hasattr(stream, "converged_at_"):
        print(convergence_report(stream.converged_at_, n_input / sr))


def convergence_report(converged_at, duration_s):
    """One line: when online IVA's separation took over from the microphone.

    Parameters
    ----------
    converged_at : float or None
        The stream's ``converged_at_`` (seconds of input), None if never.
    duration_s : float
        Duration of the recording in seconds.

    Returns
    -------
    report : str
    """
    if converged_at is None:
        return (f"not converged: the recording ({duration_s:.1f} s) ended before the "
                "warm start; every output is the reference microphone shared "
                "equally (use a longer recording)")
    return (f"converged at {converged_at:.2f} s: before it every output is the "
            "reference microphone shared equally, after it the separated voices")


def timing_report(times_ms, block_ms, duration_ms):
    """The compute time per block, and how many blocks came late.

    Parameters
    ----------
    times_ms : array-like of shape (n_blocks,)
        Time taken by each block, in milliseconds.
    block_ms : float
        Duration of the audio in one block, in milliseconds: a live input
        delivers a block that often, so a block that took longer was late.
    duration_ms : float
        Duration of the whole recording, for the real-time factor.

    Returns
    -------
    report : str
        Two lines: the median, 99th percentile and worst times with the
        real-time factor, then how many of the blocks were late.
    """
    times = np.asarray(times_ms, dtype=float)
    late = int(np.sum(times > block_ms))
    lines = [f"compute per block: median {np.median(times):.2f} ms, 99th percentile "
             f"{np.percentile(times, 99):.2f} ms, worst {times.max():.2f} ms "
             f"(real-time factor {times.sum() / duration_ms:.3f})"]
    if late:
        lines.append(
            f"late: {late} of {len(times)} blocks took longer than the block "
            f"({block_ms:.1f} ms); live, this machine would have dropped audio or "
            "needed more buffering than one block")
    else:
        lines.append(f"on time: none of the {len(times)} blocks took longer than "
                     f"the block ({block_ms:.1f} ms)")
    return "\n".join(lines)


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("stream", help="separate a recording block by block, as live",
                       description=cmd_stream.__doc__ + " A mono file goes through "
                       f"a causal mask estimator (default {STREAM_MODEL}), a "
                       "multichannel file through online IVA. A file at another rate "
                       "than the model's is resampled to it on the way in and back on "
                       "the way out. Prints the algorithmic latency, the compute time "
                       "per block and how many blocks took longer than a block lasts.")
    p.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    p.add_argument("input", help="audio file (WAV, FLAC, ...)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--block-ms", type=float, default=8.0,
                   help="block length in milliseconds, as a sound card delivers it")
    p.add_argument("--model", default=None,
                   help="causal model file or shipped name (mono files; default: "
                   f"{STREAM_MODEL})")
    p.add_argument("--model-sr", type=int, default=None,
                   help="sample rate (Hz) of a --model file that does not record "
                        f"the rate it was trained at (default: {MODEL_SAMPLE_RATE}); "
                        "refused for a model that records another")
    _keep_option(p, "speech8k-speech-noise-causal-16ms")
    p.add_argument("--forgetting", type=float, default=FORGETTING,
                   help="online IVA: weight of the past per STFT frame")
    p.add_argument("--warm-start", type=float, default=WARM_START_SECONDS,
                   help="online IVA: seconds passed through from the reference "
                        "microphone, then separated offline once to start from")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing outputs (otherwise never touched)")
    p.set_defaults(func=cmd_stream)
