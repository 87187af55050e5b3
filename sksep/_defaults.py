"""sksep's defaults, defined once.

The file service (:mod:`sksep._separate`), :mod:`sksep.batch`, the online
IVA and the command line read them here, so ``sksep separate`` on one file,
on a folder and :func:`sksep.batch.separate_files` start from the same
values. This module imports nothing heavy (no torch, no scikit-learn): the
command line builds its parsers from it, and ``sksep models`` does not
import torch.
"""

from ._dsp import DEFAULT_SAMPLE_RATE

__all__ = ["CHUNK_SECONDS", "DEFAULT_MODEL", "DEFAULT_SAMPLE_RATE", "FIT_SECONDS",
           "FORGETTING", "MIN_VOICE_CHUNK_SECONDS", "MODEL_SAMPLE_RATE",
           "RANDOM_STATE", "STREAM_MODEL",
           "TRAIN", "WARM_START_SECONDS"]

#: Seconds of a room recording IVA learns its filters from (its middle).
FIT_SECONDS = 60.0
#: Seconds per chunk when a long recording is separated piece by piece.
CHUNK_SECONDS = 30.0
#: Shortest chunk a permutation-invariant model keeps the voices' order
#: over: shorter chunks often hold a lone voice or turns, whose order the
#: network picks afresh, and the overlap cannot restore it (60 s speech8k
#: conversations, 25 % overlap, against one pass: 10 s chunks -2.9 dB, 15 s
#: -0.7 dB, 20 s -0.0 to -0.2 dB; benchmarks/README.md).
MIN_VOICE_CHUNK_SECONDS = 20.0
#: Seed of every random choice of the command line and of sksep.batch.
RANDOM_STATE = 0

#: The shipped model a mono recording goes to (``-cnn`` appended for
#: ``method='cnn'``).
DEFAULT_MODEL = "speech8k-2voices"
#: The shipped causal model ``sksep stream`` runs on a mono recording.
STREAM_MODEL = "speech8k-2voices-causal-16ms"
#: The rate assumed for a model that does not record its own
#: (``sample_rate_``).
MODEL_SAMPLE_RATE = DEFAULT_SAMPLE_RATE

#: Online IVA: weight of the past per STFT frame.
FORGETTING = 0.97
#: Online IVA: seconds passed through, then separated offline to start from.
WARM_START_SECONDS = 2.0

#: ``sksep train``'s model: MaskEstimator's own defaults for these parameters
#: (a test keeps them equal to its signature).
TRAIN = {"n_sources": 2, "hidden_size": 128, "batch_size": 16, "lr": 1e-3,
         "valid_fraction": 0.1}
