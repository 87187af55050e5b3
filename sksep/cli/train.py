"""``sksep train``: a separator from folders of clean recordings."""

import os
import re
import sys
from pathlib import Path

import numpy as np

from .._defaults import DEFAULT_SAMPLE_RATE, TRAIN
from .._dsp import SPEECH_8K
from ._common import (
    CommandError,
    _StripAnsi,
    _audio_files,
    _check_audio_input,
    _force_and_seed,
    _plural,
)


def cmd_train(args):
    """Train a deep separator on clean single-speaker recordings."""
    _check_options(args)
    target = _check_target(Path(args.output), args.force)
    _check_device(args.device)
    from .. import CNNAutoencoderSeparator, MaskEstimator, STFTTransformer
    from ..io import read_audio
    from ..pretrained import save

    files = _audio_files(args.data, "training")
    waves, labels = [], []
    regex = re.compile(args.label_regex) if args.label_regex else None  # checked
    for f in files:
        _check_audio_input(f)
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
    if args.class_fixed and (y is None or len(np.unique(y)) < 2):
        why = ("the files are not in class sub-folders" if y is None else
               f"every file is in the one sub-folder '{labels[0]}'")
        raise CommandError(
            f"--class-fixed needs at least 2 classes, but {why}; put each class's "
            "recordings in a sub-folder (for example speech/ and noise/) or give "
            "--label-regex.")
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
    pit = not args.class_fixed
    if args.method == "mask":
        model = MaskEstimator(hidden_size=args.hidden_size, permutation_invariant=pit,
                              **common)
    else:
        model = CNNAutoencoderSeparator(permutation_invariant=pit, **common)
    if y is None:
        labelled = ""
    elif args.class_fixed:
        labelled = (f" ({len(np.unique(y))} classes, one output each: "
                    f"{', '.join(map(str, np.unique(y)))})")
    else:
        labelled = f" ({len(np.unique(y))} speakers)"
    print(f"training {type(model).__name__} on {_plural(len(waves), 'recording')} "
          f"from '{args.data}'{labelled}, mixtures of random {args.clip_seconds} s "
          "segments", flush=True)
    stdout = sys.stdout
    if not stdout.isatty():
        sys.stdout = _StripAnsi(stdout)   # skorch colours its epoch table
    try:
        model.fit(waves, y)
    finally:
        sys.stdout = stdout
    model.sample_rate_ = args.sr
    target.parent.mkdir(parents=True, exist_ok=True)
    save(model, target, overwrite=args.force,
         metadata={"sample_rate": args.sr, "data": str(args.data)})
    print(f"saved {target} ({_plural(model.n_epochs_, 'epoch')})")
    return 0


def _check_options(args):
    """Every option, before any file is read or any work done."""
    checks = [
        (args.epochs >= 1, f"--epochs must be at least 1, got {args.epochs}."),
        (args.patience >= 1, f"--patience must be at least 1, got {args.patience}."),
        (args.batch_size >= 1,
         f"--batch-size must be at least 1, got {args.batch_size}."),
        (args.lr > 0, f"--lr must be positive, got {args.lr}."),
        (args.n_sources >= 2, f"--n-sources must be at least 2, got {args.n_sources}."),
        (args.sr > 0, f"--sr must be a positive sample rate in Hz, got {args.sr}."),
        (args.clip_seconds > 0,
         f"--clip-seconds must be positive, got {args.clip_seconds}."),
        (args.n_fft >= 4, f"--n-fft must be at least 4 samples (the hop is a quarter "
                          f"of it), got {args.n_fft}."),
        (args.hidden_size >= 1,
         f"--hidden-size must be at least 1, got {args.hidden_size}."),
        (0 <= args.valid_fraction < 1,
         f"--valid-fraction must be in [0, 1), got {args.valid_fraction}."),
    ]
    for ok, message in checks:
        if not ok:
            raise CommandError(message)
    if args.clip_seconds * args.sr < args.n_fft:
        raise CommandError(
            f"--clip-seconds must hold at least one STFT window (--n-fft {args.n_fft} "
            f"samples = {args.n_fft / args.sr:.3f} s at --sr {args.sr}), got "
            f"{args.clip_seconds}.")
    if args.label_regex:
        try:
            re.compile(args.label_regex)
        except re.error as exc:
            raise CommandError(f"--label-regex is not a valid regular expression: "
                               f"{exc}.") from exc


def _check_target(target, force):
    """The model file can be written (its folder is made when missing), and
    an existing one is only replaced with --force: checked before training."""
    if target.is_dir():
        raise CommandError(f"'{target}' is a directory; give a model file name.")
    if target.exists() and not force:
        raise CommandError(f"'{target}' exists; pass --force to overwrite it.")
    folder = target.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise CommandError(f"cannot write '{target}': '{folder}' is a file, not a "
                           "folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write '{target}': no permission to write in "
                           f"'{folder}'.")
    return target


def _check_device(device):
    """--device names a device this torch can use."""
    import torch

    if device == "auto":
        return
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise CommandError(f"--device must be cpu, cuda (cuda:N) or auto, got "
                           f"'{device}'.") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise CommandError(
            f"--device {device}: this torch has no GPU support or sees no GPU "
            f"(torch {torch.__version__}); train with --device cpu, or --device auto "
            "to use a GPU when there is one.")
    if kind not in ("cpu", "cuda"):
        raise CommandError(f"--device must be cpu, cuda (cuda:N) or auto, got "
                           f"'{device}'.")


_REFIT = (
    "Refitting a model: a model file (or a shipped model) keeps the parameters it "
    "was trained with, so sklearn.base.clone(model).fit(...) trains a new network "
    "from scratch with them, and partial_fit(...) continues from its weights for "
    "max_epochs more epochs. The shipped speech8k models were trained one epoch "
    "per partial_fit call: loaded, they show max_epochs=1, patience=1000000, "
    "valid_fraction=0.0, so clone(model).fit(...) trains a single epoch; set "
    "max_epochs, patience and valid_fraction (set_params) before refitting.")


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("train", help="train a deep separator on clean recordings",
                       description=cmd_train.__doc__ + " Mixtures are generated on "
                       "the fly; speakers are the sub-folder names (or "
                       "--label-regex), or with --class-fixed classes, each with its "
                       "own output.",
                       epilog=_REFIT)
    p.add_argument("data", help="folder of clean single-speaker audio files")
    p.add_argument("-o", "--output", required=True, help="model file to write (.pt)")
    p.add_argument("--method", choices=["mask", "cnn"], default="mask",
                   help="mask: MaskEstimator (BLSTM); cnn: CNNAutoencoderSeparator")
    p.add_argument("--n-sources", type=int, default=TRAIN["n_sources"],
                   help="voices per training mixture (and outputs)")
    p.add_argument("--class-fixed", action="store_true",
                   help="one output per sub-folder (class), for example speech/ and "
                   "noise/: every training mixture takes one recording of each "
                   "class, and 'sksep separate' names the outputs after the classes "
                   "(<name>_speech.wav, <name>_noise.wav); --n-sources is not used. "
                   "Without it the sub-folders are speakers and the outputs "
                   "<name>_source<k>.wav, in no fixed order")
    p.add_argument("--sr", type=int, default=DEFAULT_SAMPLE_RATE,
                   help="sample rate (Hz) the recordings are resampled to")
    p.add_argument("--clip-seconds", type=float, default=4.0,
                   help="length of the random segments mixed every epoch (s)")
    p.add_argument("--epochs", type=int, default=50,
                   help="most epochs to train (at least 1)")
    p.add_argument("--patience", type=int, default=10,
                   help="epochs without validation improvement before stopping")
    p.add_argument("--batch-size", type=int, default=TRAIN["batch_size"],
                   help="mixtures per step")
    p.add_argument("--lr", type=float, default=TRAIN["lr"], help="Adam learning rate")
    p.add_argument("--n-fft", type=int, default=SPEECH_8K["n_fft"],
                   help="STFT window in samples (hop: a quarter of it)")
    p.add_argument("--hidden-size", type=int, default=TRAIN["hidden_size"],
                   help="LSTM units per direction (mask method)")
    p.add_argument("--valid-fraction", type=float, default=TRAIN["valid_fraction"],
                   help="fraction of recordings held out for early stopping")
    p.add_argument("--label-regex", default=None,
                   help="regular expression whose first group is the speaker in a "
                   r"file name, e.g. '^\d+_([a-z]+)_' for FSDD")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    _force_and_seed(p)
    p.set_defaults(func=cmd_train)
