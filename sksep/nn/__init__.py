"""Torch modules and losses of the neural separators (pure ``torch.nn``).

Nothing here imports scikit-learn: the estimators in :mod:`sksep.neural`
build these modules inside ``fit``.
"""

from ._losses import SeparationLoss, neg_si_sdr, pairwise_neg_si_sdr, pit_loss
from ._modules import CNNAutoencoder, MaskNet, SpectralSeparator

__all__ = [
    "CNNAutoencoder",
    "MaskNet",
    "SeparationLoss",
    "SpectralSeparator",
    "neg_si_sdr",
    "pairwise_neg_si_sdr",
    "pit_loss",
]
