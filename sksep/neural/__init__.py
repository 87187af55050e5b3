"""Neural separators: scikit-learn estimators trained through skorch."""

from ._cnn import CNNAutoencoderSeparator
from ._mask import MaskEstimator

__all__ = ["CNNAutoencoderSeparator", "MaskEstimator"]
