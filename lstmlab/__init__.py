"""lstmlab: LSTM and Bi-LSTM sequence classification on PyTorch, exact on padded batches and fast."""

from .export import export_onnx
from .layers import (
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LSTMCell,
    LSTMState,
    Masking,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from .models import PRESETS, Ensemble, Sequential, Streamer, build_model

__version__ = "0.1.0"

__all__ = [
    "LSTM",
    "PRESETS",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Dense",
    "Dropout",
    "Embedding",
    "Ensemble",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTMCell",
    "LSTMState",
    "Masking",
    "Parallel",
    "ReverseTime",
    "Sequential",
    "SpatialDropout1D",
    "Streamer",
    "TimeDistributed",
    "__version__",
    "build_model",
    "export_onnx",
]
