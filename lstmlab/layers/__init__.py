"""Layers: LSTM cell and layer, Bidirectional, and the layers around them. They know nothing of files or the CLI."""

from .base import Layer, Shape
from .bidirectional import MERGE_MODES, Bidirectional, MergeMode, merge
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
from .lstm import IMPLS, LSTM, CallTrace, Impl, LSTMCell, LSTMState, fused_lstm, lstm_step
from .masking import Masking
from .parallel import Parallel
from .sequence import (
    PADDING_SIDES,
    DeviceCheck,
    Lengths,
    PaddingSide,
    as_lengths,
    check_lengths,
    lengths_from_padding,
    reverse_padded,
    run_checks,
    step_mask,
)

__all__ = [
    "IMPLS",
    "LSTM",
    "MERGE_MODES",
    "PADDING_SIDES",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "CallTrace",
    "Conv1D",
    "Dense",
    "DeviceCheck",
    "Dropout",
    "Embedding",
    "Flatten",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Impl",
    "LSTMCell",
    "LSTMState",
    "Layer",
    "Lengths",
    "Masking",
    "MergeMode",
    "PaddingSide",
    "Parallel",
    "ReverseTime",
    "Shape",
    "SpatialDropout1D",
    "TimeDistributed",
    "as_lengths",
    "check_lengths",
    "fused_lstm",
    "lengths_from_padding",
    "lstm_step",
    "merge",
    "reverse_padded",
    "run_checks",
    "step_mask",
]
