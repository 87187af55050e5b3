"""sksep: sound source separation with scikit-learn estimators.

``import sksep`` is cheap: the estimators and submodules are imported on first
use (PEP 562), so neither scikit-learn, torch nor librosa load until something
that needs them is touched.
"""

import importlib

from ._version import __version__

# public name -> module that defines it
_ESTIMATORS = {
    "FastICASeparator": "sksep.decomposition",
    "IVASeparator": "sksep.decomposition",
    "STFTTransformer": "sksep.spectral",
    "MaskEstimator": "sksep.neural",
    "CNNAutoencoderSeparator": "sksep.neural",
}
_SUBMODULES = ("batch", "datasets", "decomposition", "io", "metrics", "neural", "nn",
               "onnx", "plotting", "pretrained", "spectral", "streaming")

__all__ = [*_ESTIMATORS, *_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _ESTIMATORS:
        value = getattr(importlib.import_module(_ESTIMATORS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"sksep.{name}")
    else:
        raise AttributeError(f"module 'sksep' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
