"""lstmlab: LSTM and Bi-LSTM sequence classification on PyTorch, exact on padded batches and fast."""

from .layers import (
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LSTMCell,
    LSTMState,
    ReverseTime,
    TimeDistributed,
)
from .models import PRESETS, Sequential, build_model

__version__ = "0.1.0"

__all__ = [
    "LSTM",
    "PRESETS",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTMCell",
    "LSTMState",
    "ReverseTime",
    "Sequential",
    "TimeDistributed",
    "__version__",
    "build_model",
]
