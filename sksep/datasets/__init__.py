"""Mixture generation and loaders of local corpora (nothing is downloaded)."""

from ._fsdd import FSDD_SPEAKERS, load_demo, load_fsdd, load_fsdd_sources
from ._noise8k import load_noise8k, make_noisy_mixture
from ._rooms import make_room_mixture
from ._speech8k import SPEECH8K_SPLITS, load_speech8k, load_speech_demo
from ._mixtures import (
    fix_length,
    make_clip_mixtures,
    make_conversation,
    make_instantaneous_mixture,
    random_mixing_matrix,
)

__all__ = [
    "FSDD_SPEAKERS",
    "SPEECH8K_SPLITS",
    "fix_length",
    "load_demo",
    "load_fsdd",
    "load_fsdd_sources",
    "load_noise8k",
    "load_speech8k",
    "load_speech_demo",
    "make_clip_mixtures",
    "make_conversation",
    "make_instantaneous_mixture",
    "make_noisy_mixture",
    "make_room_mixture",
    "random_mixing_matrix",
]
