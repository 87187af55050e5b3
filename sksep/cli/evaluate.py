"""``sksep evaluate``: scores of estimates against references."""

import sys

import numpy as np

from ._common import (  # noqa: F401
    CommandError,
    _audio_files,
    _table,
)


# -- evaluate ------------------------------------------------------------------

def cmd_evaluate(args):
    """Score estimated sources against references (best permutation)."""
    from ..io import read_audio
    from ..metrics import bss_eval, pit_si_sdr

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


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("evaluate", help="SI-SDR, SDR, SIR, SAR of estimates",
                       description=cmd_evaluate.__doc__ + " Each reference file is "
                       "paired with the estimate that matches it best.")
    p.add_argument("--ref", required=True, help="folder of reference sources")
    p.add_argument("--est", required=True, help="folder of estimated sources")
    p.set_defaults(func=cmd_evaluate)
