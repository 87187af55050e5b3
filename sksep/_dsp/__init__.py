"""The one DSP layer: frames, windows, the STFT and its inverse, presets.

Everything in sksep that cuts audio into frames sits on this package: the
torch STFT the neural separators train through, :class:`STFTTransformer`
(a thin scikit-learn adapter), IVA's front end and the block streamer. It
imports nothing from sksep, so every layer may import it.

- :mod:`._frames` (NumPy): the frame layout (:class:`Geometry`,
  :func:`geometry`), windows, edge padding, overlap-add and its inverse
  envelope, and a NumPy :func:`stft` / :func:`istft`;
- :mod:`._torch`: the same transform on torch tensors (differentiable; the
  only call of :func:`torch.stft` in sksep), Griffin-Lim, thread pinning;
- :mod:`._stream`: the incremental framer and overlap-adder of streaming;
- :mod:`._presets`: named STFT settings (the speech models' 256/64 at
  8 kHz, room windows given in seconds).

Importing this package does not import torch; ``from sksep._dsp import
_torch`` does.
"""

from ._frames import (
    PAD_MODES,
    Geometry,
    geometry,
    inverse_envelope,
    istft,
    pad_edges,
    reciprocal_envelope,
    resolve_lengths,
    stft,
    window_envelope,
    window_values,
)
from ._presets import (
    DEFAULT_SAMPLE_RATE,
    ROOM_WINDOW_SECONDS,
    SPEECH_8K,
    room,
)
from ._stream import Framer, OverlapAdder

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "Framer",
    "Geometry",
    "OverlapAdder",
    "PAD_MODES",
    "ROOM_WINDOW_SECONDS",
    "SPEECH_8K",
    "geometry",
    "inverse_envelope",
    "istft",
    "pad_edges",
    "reciprocal_envelope",
    "resolve_lengths",
    "room",
    "stft",
    "window_envelope",
    "window_values",
]
