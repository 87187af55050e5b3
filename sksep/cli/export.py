"""``sksep export``: a causal model as an ONNX file that streams without
torch (onnxruntime and NumPy only)."""

from pathlib import Path

from ._common import CommandError


def cmd_export(args):
    """Write a causal separator's streaming step as an ONNX file."""
    out = Path(args.output)
    if out.is_dir():
        raise CommandError(f"'{out}' is a directory; give the file to write, such as "
                           f"'{out / 'model.onnx'}'.")
    if out.exists() and not args.force:
        raise CommandError(f"'{out}' already exists; use --force to replace it.")
    if not out.parent.is_dir():
        raise CommandError(f"the folder '{out.parent}' of '{out}' does not exist.")
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise CommandError(f"exporting needs onnx and onnxruntime ({exc}); install "
                           "them with: pip install 'sksep[onnx]'") from exc
    from .._separate import load_model
    from ..onnx import OnnxStreamer, export_onnx

    try:
        model = load_model(args.model)
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    try:
        export_onnx(model, out, overwrite=args.force)
    except ValueError as exc:
        raise CommandError(f"{args.model} cannot be exported for streaming: "
                           f"{exc}") from exc
    stream = OnnxStreamer(out)
    rate = (f"{stream.sample_rate} Hz" if stream.sample_rate
            else "the rate it was trained at (not recorded in the model)")
    print(f"{args.model}: {stream.n_outputs} outputs at {rate}, STFT of "
          f"{stream.n_fft} samples every {stream.hop}")
    latency = (f" = {stream.latency_ms_:.1f} ms" if stream.latency_ms_ is not None
               else "")
    print(f"algorithmic latency: {stream.latency_} samples{latency} (plus one block "
          "of buffering)")
    print(f"run it with NumPy and onnxruntime only: sksep.onnx.OnnxStreamer('{out}')")
    print(out)
    return 0


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser(
        "export",
        help="write a causal model as an ONNX file that streams without torch",
        description=cmd_export.__doc__ + " The file holds one streaming step (any "
        "number of STFT hops) with the stream's state as inputs and outputs; "
        "sksep.onnx.OnnxStreamer runs it block by block with onnxruntime and NumPy "
        "alone, and its output equals 'sksep stream' with the same model to float32 "
        "rounding. Only causal mask estimators (causal TCNs) export: of the shipped "
        "models, those whose name has 'causal' ('sksep models'), e.g. "
        "speech8k-2voices-causal-16ms or speech8k-speech-noise-causal-16ms.")
    p.add_argument("model", help="shipped causal model name or model file")
    p.add_argument("output", help="ONNX file to write (.onnx)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing output (otherwise never touched)")
    p.set_defaults(func=cmd_export)
