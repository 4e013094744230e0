"""Models out of lstmlab: exact ONNX graphs (`export_onnx`), and the standalone text reader written beside them."""

from .onnx_graph import OPSET, Standardisation, export_onnx, model_to_onnx

__all__ = ["OPSET", "Standardisation", "export_onnx", "model_to_onnx"]
