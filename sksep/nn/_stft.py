"""Former home of the torch STFT, now in :mod:`sksep._dsp`.

Kept so that STFTTransformers pickled before the move (their ``_geometry``
is a ``sksep.nn._stft.Geometry``) still load; new code imports
:mod:`sksep._dsp`.
"""

from .._dsp import Geometry  # noqa: F401
