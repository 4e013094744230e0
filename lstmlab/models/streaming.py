"""Run a causal model one step at a time: the same weights, each LSTM carrying its state between calls."""

from __future__ import annotations

import copy

from ..layers import LSTM, Dense, Dropout, Embedding, TimeDistributed
from .ensemble import Ensemble
from .sequential import Sequential

__all__ = ["streaming"]

_PER_STEP = (Dense, Dropout, Embedding, TimeDistributed)  # layers that never look at another step


def streaming(model: Sequential) -> Sequential:
    """A copy of `model` that reads one step per call (input `(B, 1, ...)`) with every LSTM stateful.

    A forward-reading model trained on whole sequences gives, step by step, the outputs it gives on the whole
    sequence (per-step outputs at every step; a many-to-one model's answer so far after each step): it can answer
    as values arrive. Call `reset_states()` between sequences.

    Raises:
        ValueError: for an ensemble; naming the first layer that needs later steps (Bidirectional, go_backwards,
            Flatten, pooling over time, ReverseTime).
    """
    if isinstance(model, Ensemble):
        raise ValueError(f"Expected one model to stream. Received: an ensemble of {model.size} ({model.name})")
    for layer in model.layers:
        reads_backwards = isinstance(layer, LSTM) and layer.go_backwards
        if reads_backwards or not isinstance(layer, (LSTM, *_PER_STEP)):
            what = "LSTM(go_backwards=True)" if reads_backwards else type(layer).__name__
            raise ValueError(
                f"Expected a model that reads forwards, step by step, to stream. Received: {model.name} has {what}, "
                "which needs the steps after the current one"
            )
    if not model.input_shape:
        raise ValueError(f"Expected a model over sequences. Received: input shape {model.input_shape}")
    copied = copy.deepcopy(model)
    copied.input_shape = (1, *model.input_shape[1:])
    for layer in copied.layers:
        if isinstance(layer, LSTM):
            layer.stateful = True
    copied.reset_states()
    return copied
