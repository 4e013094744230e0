"""Models out of lstmlab: exact ONNX graphs (`export_onnx`), and the standalone text reader written beside them."""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .onnx_graph import OPSET, Standardisation, export_onnx, model_to_onnx
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = ["OPSET", "Standardisation", "export_onnx", "model_to_onnx"]
