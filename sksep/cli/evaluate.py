"""``sksep evaluate``: scores of estimates against references.

Two layouts of the files:

* one mixture: ``--ref`` is a folder of reference files, ``--est`` a folder
  of estimate files, whatever their names;
* a corpus (wsj0-2mix, LibriMix, ...): ``--ref`` holds ``s1/``, ``s2/``, ...
  with one file per mixture in each, under the same file names; ``--est``
  holds ``s1/``, ``s2/``, ... likewise, or the ``<name>_source<k>.wav``
  files that ``sksep separate`` writes for each mixture ``<name>``.

Estimates are matched to references by the best one-to-one SI-SDR
assignment, so they may come in any order, and there may be more estimates
than references (the extra ones are left unmatched).
"""

import csv
import re
import sys
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from .._separate import check_outputs
from ..pretrained._table import text_table
from ._common import (
    _AUDIO_EXTENSIONS,
    CommandError,
    _audio_files,
    _check_folder,
    _plural,
)

_SOURCE_FOLDER = re.compile(r"s(\d+)")
CSV_FIELDS = ("mixture", "reference", "estimate", "si_sdr", "si_sdri", "sdr", "sir",
              "sar")


# -- which files belong together -----------------------------------------------

class _Item(NamedTuple):
    """One mixture: its reference files, estimate files and mixture file."""

    name: str
    refs: list
    ests: list
    mix: Optional[Path] = None


def _source_folders(folder):
    """The ``s1/``, ``s2/``, ... subfolders of ``folder``, in numeric order."""
    found = [(int(m.group(1)), p) for p in Path(folder).iterdir()
             if p.is_dir() and (m := _SOURCE_FOLDER.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def _names(folder):
    return {p.name: p for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in _AUDIO_EXTENSIONS}


def _items(ref, est, mix):
    """The mixtures to score, in either layout."""
    ref, est = _check_folder(ref, "reference"), _check_folder(est, "estimate")
    ref_dirs, est_dirs = _source_folders(ref), _source_folders(est)
    if not ref_dirs:
        if est_dirs:
            raise CommandError(
                f"'{est}' holds {', '.join(p.name + '/' for p in est_dirs)} (a "
                f"corpus) but '{ref}' does not; give --ref the folder holding s1/ s2/ "
                "... of the references.")
        if mix is not None and not Path(mix).is_file():
            raise CommandError(f"--mix '{mix}' is not a file; with one folder of "
                               "references, give the one mixture file.")
        return [_Item(Path(mix).name if mix else ref.name,
                      _audio_files(ref, "reference"), _audio_files(est, "estimate"),
                      Path(mix) if mix else None)]
    names = _corpus_names(ref_dirs)
    if mix is not None:
        mix = Path(mix)
        if not mix.is_dir():
            raise CommandError(f"--mix '{mix}' is not a folder; with s1/ s2/ ... "
                               "references, give the folder of mixtures (same names).")
        missing = [n for n in names if not (mix / n).is_file()]
        if missing:
            raise CommandError(f"no mixture '{mix / missing[0]}' for the reference "
                               f"'{ref_dirs[0] / missing[0]}' ({len(missing)} "
                               "missing).")
    if est_dirs:
        ests = _estimates_in_folders(names, ref_dirs, est_dirs)
    else:
        ests = _estimates_named_after(names, ref_dirs[0], est)
    return [_Item(n, [d / n for d in ref_dirs], ests[n], mix / n if mix else None)
            for n in names]


def _corpus_names(ref_dirs):
    """The file names shared by every source folder of the references."""
    first = _names(ref_dirs[0])
    if not first:
        raise CommandError(f"no audio files ({', '.join(sorted(_AUDIO_EXTENSIONS))}) "
                           f"in '{ref_dirs[0]}'.")
    for d in ref_dirs[1:]:
        other = _names(d)
        if set(other) != set(first):
            odd = sorted(set(first) ^ set(other))[0]
            here, there = (ref_dirs[0], d) if odd in first else (d, ref_dirs[0])
            raise CommandError(
                f"'{here / odd}' has no counterpart in '{there}'; every source "
                "folder needs one file per mixture, under the same name.")
    return sorted(first)


def _estimates_in_folders(names, ref_dirs, est_dirs):
    if len(est_dirs) < len(ref_dirs):
        raise CommandError(
            f"{_plural(len(ref_dirs), 'reference folder')} but "
            f"{_plural(len(est_dirs), 'estimate folder')}; give at least one estimate "
            "per reference.")
    for d in est_dirs:
        have = _names(d)
        lacking = [n for n in names if n not in have]
        if lacking:
            raise CommandError(
                f"no estimate '{d / lacking[0]}' for the reference "
                f"'{ref_dirs[0] / lacking[0]}' ({len(lacking)} of {len(names)} missing "
                "in that folder); estimates must have the references' file names.")
        extra = sorted(set(have) - set(names))
        if extra:
            raise CommandError(
                f"the estimate '{d / extra[0]}' has no reference of that name in "
                f"'{ref_dirs[0]}' ({len(extra)} such files); are these the estimates "
                "of these references?")
    return {n: [d / n for d in est_dirs] for n in names}


def _estimates_named_after(names, ref_dir, est):
    """``<stem>_source<k>.<ext>`` files, as ``sksep separate`` writes them."""
    pattern = re.compile(r"(.+)_source(\d+)")
    by_stem = {}
    unmatched = []
    for path in sorted(_names(est).values()):
        m = pattern.fullmatch(path.stem)
        if m:
            by_stem.setdefault(m.group(1), []).append((int(m.group(2)), path))
        else:
            unmatched.append(path)
    stems = {Path(n).stem: n for n in names}
    if not by_stem:
        raise CommandError(
            f"'{est}' holds neither s1/ s2/ ... folders nor <name>_source<k>.wav files "
            f"named after the references (e.g. '{Path(names[0]).stem}_source1.wav').")
    odd = unmatched + [p for s in sorted(set(by_stem) - set(stems))
                       for _, p in by_stem[s]]
    if odd:
        raise CommandError(
            f"the estimate '{odd[0]}' is named after no reference in '{ref_dir}' "
            f"({len(odd)} such files); are these the estimates of these references?")
    lacking = [n for n in names if Path(n).stem not in by_stem]
    if lacking:
        raise CommandError(
            f"no estimates '{est / Path(lacking[0]).stem}_source<k>.wav' for the "
            f"reference '{ref_dir / lacking[0]}' ({len(lacking)} of {len(names)} "
            "mixtures missing).")
    return {stems[s]: [p for _, p in sorted(v)] for s, v in by_stem.items()}


# -- reading and scoring -------------------------------------------------------

def _read(files, what, first_channel=False):
    """``(file, mono float64 signal, sample rate)`` of each of ``files``; the
    first channel of a multichannel file when ``first_channel``."""
    from ..io import read_audio

    out = []
    for f in files:
        data, sr = read_audio(f, dtype="float64")
        if data.shape[1] != 1 and not first_channel:
            raise CommandError(f"{what} '{f}' has {data.shape[1]} channels; "
                               "evaluate compares mono files.")
        out.append((f, data[:, 0], sr))
    return out


def _check_alike(signals):
    """Refuse files of one mixture whose rates or lengths differ."""
    f0, x0, sr0 = signals[0]
    for f, x, sr in signals[1:]:
        if sr != sr0:
            raise CommandError(f"'{f}' is at {sr} Hz but '{f0}' at {sr0} Hz; "
                               "the files of one mixture must share a sample rate.")
        if x.size != x0.size:
            raise CommandError(
                f"'{f}' has {x.size} samples but '{f0}' has {x0.size}; the files of "
                "one mixture must have equal lengths (are these the right files?).")


def _score(item):
    """Rows ``(mixture, reference, estimate, si_sdr, si_sdri, sdr, sir, sar)``
    of one mixture (``si_sdri`` None without a mixture file), and the
    estimates left unmatched."""
    from ..metrics import bss_eval, pit_si_sdr, si_sdr

    refs = _read(item.refs, "reference")
    ests = _read(item.ests, "estimate")
    mix = _read([item.mix], "mixture", first_channel=True) if item.mix else []
    if len(ests) < len(refs):
        raise CommandError(
            f"{len(refs)} reference files but {len(ests)} estimate files "
            f"(mixture '{item.name}'); give at least one estimate per reference.")
    _check_alike(refs + ests + mix)
    R = np.stack([x for _, x, _ in refs])
    E = np.stack([x for _, x, _ in ests])
    silent = [f for f, x, _ in refs if not np.any(x)]
    if silent:
        raise CommandError(f"the reference '{silent[0]}' is silent; SI-SDR is "
                           "undefined for it.")
    scores, perm = pit_si_sdr(R, E)
    bss = bss_eval(R, E[perm], compute_permutation=False)
    gain = (scores - si_sdr(R, np.broadcast_to(mix[0][1], R.shape)) if mix
            else [None] * len(refs))
    rows = [(item.name, item.refs[i], item.ests[j], s, g, d, r, a)
            for i, (j, s, g, d, r, a)
            in enumerate(zip(perm, scores, gain, bss.sdr, bss.sir, bss.sar))]
    unmatched = [f for k, f in enumerate(item.ests) if k not in perm]
    return rows, unmatched


# -- the CSV and the command ---------------------------------------------------

def _relative(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _write_csv(path, rows, force):
    from .._files import atomic_write

    def write(tmp):
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_FIELDS)
            for name, ref, est, *values in rows:
                writer.writerow([name, ref, est] + [
                    "" if v is None else f"{v:.4f}" for v in values])

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write, overwrite=force)


def cmd_evaluate(args):
    """Score estimated sources against references (best permutation)."""
    if args.csv is not None:
        check_outputs([Path(args.csv)], args.force)
    items = _items(args.ref, args.est, args.mix)
    rows, unmatched = [], []
    for item in items:
        item_rows, extra = _score(item)
        rows += item_rows
        unmatched += extra
    with_mix = args.mix is not None
    header = ("reference", "estimate", "SI-SDR") + (("SI-SDRi",) if with_mix else ()) \
        + ("SDR", "SIR", "SAR")

    def cells(values):
        return [f"{v:.2f}" for v in values if v is not None]

    table = [(_relative(ref, args.ref), _relative(est, args.est), *cells(values))
             for _, ref, est, *values in rows]
    means = [None if rows[0][k] is None else np.mean([r[k] for r in rows])
             for k in range(3, 8)]
    table.append(("mean", "", *cells(means)))
    print(text_table(header, table, right_align=True))
    if unmatched:
        print(f"note: {_plural(len(unmatched), 'estimate')} matched no reference "
              f"and {'was' if len(unmatched) == 1 else 'were'} left out, e.g. "
              f"'{unmatched[0]}'", file=sys.stderr)
    if args.csv is not None:
        _write_csv(Path(args.csv), rows, args.force)
        print(f"wrote {_plural(len(rows), 'row')} to {args.csv}", file=sys.stderr)
    return 0


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser(
        "evaluate", help="SI-SDR, SDR, SIR, SAR of estimates",
        description=cmd_evaluate.__doc__ + " Each reference file is paired with the "
        "estimate that matches it best; extra estimates are left out. Either one "
        "mixture (a folder of reference files, a folder of estimates) or a corpus: "
        "--ref holding s1/ s2/ ... with one file per mixture each under the same "
        "names, --est holding s1/ s2/ ... likewise or the <name>_source<k>.wav files "
        "of 'sksep separate'. Files of one mixture must have equal lengths and "
        "sample rates.")
    p.add_argument("--ref", required=True,
                   help="folder of reference sources, or of s1/ s2/ ... folders")
    p.add_argument("--est", required=True,
                   help="folder of estimated sources, or of s1/ s2/ ... folders")
    p.add_argument("--mix", default=None,
                   help="the mixture file (or, for a corpus, the folder of mixtures "
                   "with the references' file names): adds the SI-SDR improvement "
                   "over the unprocessed mixture (its first channel)")
    p.add_argument("--csv", default=None,
                   help="also write the per-file scores to this CSV file")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing --csv file (otherwise never touched)")
    p.set_defaults(func=cmd_evaluate)
