"""Time-frequency front end: the STFT as a scikit-learn transformer."""

from ._stft import STFTTransformer

__all__ = ["STFTTransformer"]
