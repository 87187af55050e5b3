"""Neural separators: scikit-learn estimators trained through skorch.

The estimators are imported on first use (PEP 562), so the modules beside
them that need torch alone (:mod:`._inference`, the light inference path)
load without scikit-learn.
"""

import importlib

_ESTIMATORS = {"CNNAutoencoderSeparator": "._cnn", "MaskEstimator": "._mask"}

__all__ = ["CNNAutoencoderSeparator", "MaskEstimator"]


def __getattr__(name):
    if name not in _ESTIMATORS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ESTIMATORS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
