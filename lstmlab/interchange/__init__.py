"""Runs in and out of other formats: a Keras file becomes a run directory and a run a `.keras` file; a run becomes
an exact ONNX graph with what it reads beside it.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .keras_files import export_keras, import_keras
    from .onnx_run import export_onnx_run
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = ["export_keras", "export_onnx_run", "import_keras"]
