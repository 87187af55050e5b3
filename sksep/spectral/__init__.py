"""Time-frequency front end: the STFT as a scikit-learn transformer, and
ideal (oracle) masks."""

from ._masks import ideal_mask_separation
from ._stft import STFTTransformer

__all__ = ["STFTTransformer", "ideal_mask_separation"]
