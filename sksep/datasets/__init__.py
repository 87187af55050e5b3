"""Mixture generation and loaders of local corpora (nothing is downloaded)."""

from ._fsdd import FSDD_SPEAKERS, load_demo, load_fsdd, load_fsdd_sources
from ._mixtures import (
    fix_length,
    make_clip_mixtures,
    make_instantaneous_mixture,
    random_mixing_matrix,
)

__all__ = [
    "FSDD_SPEAKERS",
    "fix_length",
    "load_demo",
    "load_fsdd",
    "load_fsdd_sources",
    "make_clip_mixtures",
    "make_instantaneous_mixture",
    "random_mixing_matrix",
]
