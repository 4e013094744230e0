"""What every lstmlab layer shares: shape inference for `Sequential` and the lengths protocol."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from .sequence import Lengths

__all__ = [
    "Layer",
    "Shape",
    "apply_layers",
    "build_layers",
    "check_feature_size",
    "check_floating",
    "check_positive_int",
    "check_rank",
    "check_steps",
]

# A shape without the batch axis; None marks a size that is only known at call time (a free time axis).
Shape = tuple[int | None, ...]


class Layer(nn.Module):
    """Base of lstmlab layers: a `torch.nn.Module` that can also infer its input size, as Keras does.

    A layer created without its input size gets its parameters in `build(input_shape)`, which `Sequential`
    calls with the previous layer's output shape; a layer created with it is ready to use at once.

    Lengths protocol: a layer with `uses_lengths = True` takes `lengths` as a keyword argument, either a plain
    (B,) tensor or list, which the layer checks (one device read: a host sync on a GPU), or `Lengths`, which it
    takes as they are (after comparing their shape with its input's, which needs no device read). `Sequential`
    checks a call's lengths once, with its first layer's input values (`Sequential.check_call`: one device read
    per call), and passes `Lengths` from layer to layer; `output_lengths` tells which lengths hold for a layer's
    output (None once the time axis is gone). Checked lengths have `values` None when no row is padded.
    """

    uses_lengths: bool = False

    def build(self, input_shape: Shape) -> Shape:
        """Create parameters for inputs of `input_shape` (no batch axis) and return the output shape."""
        raise NotImplementedError

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        """Lengths that hold for this layer's output, given its input and the input's lengths."""
        return lengths


def build_layers(layers: Sequence[Layer], input_shape: Shape) -> list[Shape]:
    """Build each layer for the previous one's output shape; returns every layer's output shape."""
    shapes = []
    shape = input_shape
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ValueError(f"Expected lstmlab layers. Received: {type(layer).__name__}")
        shape = layer.build(shape)
        shapes.append(shape)
    return shapes


def apply_layers(layers: Iterable[Layer], x: Tensor, lengths: Lengths | None) -> Tensor:
    """Run `layers` one after the other, passing checked lengths to those that use them until the time axis is
    gone (no layer checks them again)."""
    for layer in layers:
        next_lengths = layer.output_lengths(x, lengths)
        x = layer(x, lengths=lengths) if layer.uses_lengths else layer(x)
        lengths = next_lengths
    return x


def check_positive_int(name: str, value: object) -> None:
    """Raise a ValueError unless `value` is a positive integer (bool excluded)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")


def check_steps(name: str, x: Tensor) -> None:
    """Raise a ValueError unless the time axis (axis 1) of `x` has at least one step."""
    if x.shape[1] < 1:
        raise ValueError(f"{name} expected at least one time step. Received: shape={tuple(x.shape)}")


def check_rank(name: str, x: Tensor, ranks: tuple[int, ...], layout: str) -> None:
    """Raise a ValueError unless `x.dim()` is one of `ranks`."""
    if x.dim() not in ranks:
        raise ValueError(
            f"{name} expected an input of rank {' or '.join(map(str, ranks))} {layout}. "
            f"Received: shape={tuple(x.shape)}"
        )


def check_feature_size(name: str, x: Tensor, size: int) -> None:
    """Raise a ValueError unless the last axis of `x` has `size` features."""
    if x.shape[-1] != size:
        raise ValueError(f"{name} expected {size} features on the last axis. Received: shape={tuple(x.shape)}")


def check_floating(name: str, x: Tensor, weights: Tensor | None = None) -> None:
    """Raise a ValueError unless `x` holds floating-point values (of the dtype of `weights`, where given, unless
    autocast runs: mixed precision mixes them)."""
    if not torch.is_floating_point(x):
        raise ValueError(f"{name} expected a floating-point input. Received: dtype={x.dtype}")
    if weights is not None and x.dtype != weights.dtype and not torch.is_autocast_enabled(x.device.type):
        raise ValueError(
            f"{name} expected inputs of its weights' dtype {weights.dtype} (convert the model with .to(dtype)). "
            f"Received: dtype={x.dtype}"
        )
