"""Test helpers shared by the layer tests."""

from __future__ import annotations

import os
from typing import Any

import pytest
import torch
from torch import Tensor, nn


def twin(layer: nn.Module, **changes: object) -> nn.Module:
    """A copy of an LSTM or Bidirectional layer with the same weights and some options changed."""
    from lstmlab import LSTM, Bidirectional

    if isinstance(layer, LSTM):
        other: nn.Module = layer.clone(**changes)
    else:
        assert isinstance(layer, Bidirectional)
        other = Bidirectional(layer.forward_layer.clone(**changes), merge_mode=layer.merge_mode)
    other.to(next(layer.parameters()).dtype).load_state_dict(layer.state_dict())
    return other


def flatten_outputs(result: object) -> list[Tensor]:
    """All tensors of a (possibly nested) layer result, in order."""
    if isinstance(result, Tensor):
        return [result]
    assert isinstance(result, tuple | list)
    return [t for item in result for t in flatten_outputs(item)]


def weighted_loss(tensors: list[Tensor], seed: int = 0) -> Tensor:
    """A scalar that depends on every element of every tensor with a different random weight."""
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros((), dtype=tensors[0].dtype)
    for t in tensors:
        total = total + (t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum()
    return total


def grads(layer: nn.Module, x: Tensor, result: object) -> list[Tensor]:
    """Gradients of `weighted_loss(result)` with respect to the input and every parameter."""
    loss = weighted_loss(flatten_outputs(result))
    return list(torch.autograd.grad(loss, [x, *layer.parameters()]))


def right_pad(rows: list[Tensor], steps: int) -> Tensor:
    """Stack (L_i, D) rows into a (B, steps, D) batch, padding with a value that must never matter."""
    out = torch.full((len(rows), steps, rows[0].shape[-1]), 123.0, dtype=rows[0].dtype)
    for b, row in enumerate(rows):
        out[b, : row.shape[0]] = row
    return out


def import_keras() -> Any:
    """Keras on its torch backend, or a skip that says why (the Keras oracles need the `dev` extra)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as error:  # pragma: no cover - depends on the environment
        pytest.skip(f"keras is not importable ({error}); the Keras oracle cannot run")
    return keras
