"""The ``sksep`` command: demo, separate, stream, train, evaluate, models, export.

One module per subcommand. Separating a recording, naming its outputs,
checking them for overwrites and writing them belong to the file service
(``sksep._separate``, ``sksep._outputs``), which :mod:`sksep.batch` calls
too; ``_common`` holds what only the commands share (errors, help format,
options, library errors said in the command line's terms); the options'
defaults come from ``sksep._defaults``.

Run ``sksep --help`` or ``sksep COMMAND --help``. Errors caused by the input
(a missing file, a mono file given to ICA, an output that exists, ...) print
one line ``sksep COMMAND: error: ...`` to standard error and exit with
status 1 (2 for a malformed command line), and leave every existing file as
it was. Ctrl-C stops a command with one line ``sksep COMMAND: interrupted``
and status 130, leaving no file half-written.
"""

import argparse
import sys

from . import demo, evaluate, export, models, separate, stream, train
from ._common import CommandError, _HelpFormatter, _in_cli_terms

__all__ = ["CommandError", "build_parser", "main"]


def build_parser():
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="sksep",
        description="Sound source separation: IVA and ICA for microphone arrays, "
        "deep separators for one microphone.",
        epilog="Exit status: 0 on success, 1 when a command fails (a one-line "
        "message says why; no output is left half-written), 2 for a usage error "
        "(unknown or malformed options), 130 when stopped by Ctrl-C.")
    parser.add_argument("--version", action="version", version=f"sksep {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (demo, separate, stream, export, train, evaluate, models):
        command.add_parser(sub)
    for command_parser in sub.choices.values():   # each default shown once
        command_parser.formatter_class = _HelpFormatter
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:           # Ctrl-C: one line, no traceback
        _close_progress_bars()
        said = f"; {exc}" if str(exc) else ""
        print(f"sksep {args.command}: interrupted{said}", file=sys.stderr)
        return 130
    except (CommandError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
            FileExistsError, PermissionError, ValueError) as exc:
        print(f"sksep {args.command}: error: {_in_cli_terms(str(exc), args)}",
              file=sys.stderr)
        return 1


def _close_progress_bars():
    """End any progress bar's line, so the last message starts a line."""
    tqdm = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(tqdm, "tqdm", None), "_instances", ())):
        bar.close()
