"""Layers: LSTM cell and layer, Bidirectional, and the layers around them. They know nothing of files or the CLI."""

from .base import Layer, Shape
from .bidirectional import MERGE_MODES, Bidirectional
from .conv import Activation, BatchNormalization, Conv1D
from .core import (
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from .lstm import IMPLS, LSTM, LSTMCell, LSTMState
from .parallel import Parallel
from .sequence import lengths_from_padding, reverse_padded, step_mask

__all__ = [
    "IMPLS",
    "LSTM",
    "MERGE_MODES",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTMCell",
    "LSTMState",
    "Layer",
    "Parallel",
    "ReverseTime",
    "Shape",
    "SpatialDropout1D",
    "TimeDistributed",
    "lengths_from_padding",
    "reverse_padded",
    "step_mask",
]
