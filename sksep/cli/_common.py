"""What every sksep subcommand shares: its errors, help format and
options, the audio files of a folder, and library errors said in
the command line's own terms (output names, checks, writes and the sample
format are the file service's, ``sksep._separate`` and ``sksep._outputs``)."""

import argparse
import os
import re
from pathlib import Path

from .._defaults import RANDOM_STATE

_AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".aiff", ".aif"}


class CommandError(Exception):
    """An error in the user's input: reported in one line, exit status 1."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what was done: reported in one line, exit status 130."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default, once: not for required options, switches or
    options without one, nor where the help already states it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (action.required or action.default in (None, False, argparse.SUPPRESS)
                or not action.option_strings or "default" in text.lower()):
            return text
        return super()._get_help_string(action)


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


def _check_audio_input(path):
    """Refuse an empty input file in plain words (libsndfile would say
    'Format not recognised')."""
    path = Path(path)
    if path.is_file() and os.path.getsize(path) == 0:
        raise CommandError(f"'{path}' is empty (0 bytes): there is no audio in it.")


def _check_folder(folder, what):
    """``folder`` as a Path; a CommandError when it is missing or a file."""
    folder = Path(folder)
    if not folder.exists():
        raise CommandError(f"{what} folder '{folder}' does not exist.")
    if not folder.is_dir():
        raise CommandError(f"{what} '{folder}' is a file; give a folder of audio files.")
    return folder


def _audio_files(folder, what):
    """The audio files anywhere under ``folder``, sorted; a CommandError
    when there are none."""
    folder = _check_folder(folder, what)
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in _AUDIO_EXTENSIONS and p.is_file())
    if not files:
        raise CommandError(f"no audio files ({', '.join(sorted(_AUDIO_EXTENSIONS))}) "
                           f"in '{folder}'.")
    return files


def _force_and_seed(parser):
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing outputs (otherwise never touched)")
    parser.add_argument("--random-state", type=int, default=RANDOM_STATE,
                        help="seed of every random choice (default: %(default)s)")


def _keep_option(parser, model):
    """``--keep CLASS`` (repeatable), shown with ``model``, a shipped
    class-fixed model the command takes."""
    parser.add_argument("--keep", action="append", default=None, metavar="CLASS",
                        help="write only this output of a model whose outputs are "
                        f"named classes (--model {model} --keep speech: the voice "
                        "without its background); repeat for several")


# library parameter -> the option a command-line user typed
_OPTION_NAMES = {"n_components": "--n-sources", "n_sources": "--n-sources",
                 "chunk_size": "--chunk-seconds", "chunk_seconds": "--chunk-seconds",
                 "ref_channel": "the reference channel", "fit_seconds": "--fit-seconds",
                 "model_sr": "--model-sr", "random_state": "--random-state",
                 "keep": "--keep"}
# the file service's phrases (sksep._separate) -> the command line's
_PHRASES = [(r"\bmethod='(\w+)'", r"--method \1"),
            (r"\bthe model argument\b", "--model"),
            (r"\boverwrite=True\b", "--force")]


def _in_cli_terms(message, args):
    """Say a library error in the command line's own terms, in one place."""
    first = message.split("\n", 1)[0]
    if "contains NaN" in first or "contains infinity" in first:
        what = "NaN" if "NaN" in first else "infinite"
        where = getattr(args, "input", None) or getattr(args, "data", None) or "the input"
        return (f"'{where}' holds {what} samples; sksep cannot separate audio "
                "with missing or infinite values. Repair or re-export the file.")
    first = re.sub(r"^[A-Z]\w*(Error|Exception): ", "", first)  # the message only
    first = first.replace(" (give a longer recording or a shorter stft)",
                          " (give a longer recording)")
    for name, option in _OPTION_NAMES.items():
        first = re.sub(rf"\b{name}\b", option, first)
    for phrase, option in _PHRASES:
        first = re.sub(phrase, option, first)
    return first

