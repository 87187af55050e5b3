"""Separation quality: SI-SDR, BSS Eval, STOI and PESQ, permutation solving,
Amari distance, scorers."""

from ._bss_eval import BSSEvalResult, bss_eval, image_scores
from ._ica import amari_distance
from ._quality import pesq, stoi
from ._scorer import make_stoi_scorer, pit_si_sdr_scorer
from ._sdr import (
    pairwise_si_sdr,
    pit_si_sdr,
    si_sdr,
    si_sdr_improvement,
    solve_permutation,
)

__all__ = [
    "BSSEvalResult",
    "amari_distance",
    "bss_eval",
    "image_scores",
    "make_stoi_scorer",
    "pairwise_si_sdr",
    "pesq",
    "pit_si_sdr",
    "pit_si_sdr_scorer",
    "si_sdr",
    "si_sdr_improvement",
    "solve_permutation",
    "stoi",
]
