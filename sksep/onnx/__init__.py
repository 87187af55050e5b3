"""Deployment without the training stack: causal separators as ONNX files.

:func:`export_onnx` (``sksep export MODEL OUT.onnx``) writes one streaming
step of a causal mask estimator as an ONNX graph, the stream's state as its
inputs and outputs; :class:`OnnxStreamer` runs that file block by block with
NumPy and onnxruntime alone (its module imports nothing else, so it can be
copied into a project without sksep). Needs the ``onnx`` extra:
``pip install 'sksep[onnx]'``.
"""

from ._export import export_onnx
from ._streamer import OnnxStreamer

__all__ = ["OnnxStreamer", "export_onnx"]
