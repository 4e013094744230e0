"""Parallel: branches of layers reading the same input, their outputs joined on the last axis."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor, nn

from .base import Layer, Shape, apply_layers, build_layers
from .core import Embedding
from .sequence import Lengths, as_lengths

__all__ = ["Parallel"]


class Parallel(Layer):
    """Run each branch (a list of layers, applied in order) on the same input and lengths, then concatenate the
    branches' outputs on the last axis: Keras's functional API with two paths joined by `Concatenate`, as in
    LSTM-FCN (an LSTM path beside a convolutional path).

    The branches must give outputs that differ only in their last axis: all pooled, (B, D_i) -> (B, sum D_i), or
    all keeping the time axis, (B, T, D_i) -> (B, T, sum D_i), with the input's lengths. Lengths are checked
    once (unless they are `Lengths` already) for every branch.

    Args:
        branches: two or more non-empty lists of lstmlab layers.

    Example:
        >>> from lstmlab import LSTM, Conv1D, GlobalAveragePooling1D, Sequential
        >>> both = Parallel([LSTM(8)], [Conv1D(4, 3), GlobalAveragePooling1D()])
        >>> Sequential([both], input_shape=(None, 2))(torch.rand(5, 7, 2)).shape
        torch.Size([5, 12])
    """

    uses_lengths = True

    def __init__(self, *branches: Sequence[Layer]) -> None:
        super().__init__()
        if len(branches) < 2 or any(isinstance(b, Layer) or not isinstance(b, Sequence) or not b for b in branches):
            raise ValueError(
                f"Expected two or more branches, each a non-empty list of layers. Received: {len(branches)} branch(es)"
                + ("" if len(branches) < 2 else f" of types {[type(b).__name__ for b in branches]}")
            )
        for number, branch in enumerate(branches, start=1):
            for layer in branch:
                if not isinstance(layer, Layer):
                    raise ValueError(f"Expected lstmlab layers in each branch. Received: {type(layer).__name__}")
                if isinstance(layer, Embedding):  # its lengths (from padding ids) would stay inside the branch
                    raise ValueError(
                        "Expected no Embedding inside a Parallel branch (put it before the Parallel, so every branch "
                        f"and the layers after it get the lengths). Received: an Embedding in branch {number}"
                    )
        self.branches = nn.ModuleList(nn.ModuleList(branch) for branch in branches)
        self.keeps_time = False
        self.branch_shapes: list[list[Shape]] = []  # each branch's layers' output shapes, once built

    def build(self, input_shape: Shape) -> Shape:
        self.branch_shapes = [build_layers(list(self._branch(i)), input_shape) for i in range(len(self.branches))]
        outputs = [shapes[-1] for shapes in self.branch_shapes]
        leading = {shape[:-1] for shape in outputs}
        if len(leading) != 1 or any(not shape or shape[-1] is None for shape in outputs):
            raise ValueError(
                f"Parallel expected branch outputs that differ only in their last axis. Received: {outputs}"
            )
        self.keeps_time = len(outputs[0]) > 1
        total = 0
        for shape in outputs:
            size = shape[-1]
            assert size is not None
            total += size
        return (*outputs[0][:-1], total)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        return lengths if self.keeps_time else None

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        checked = None if lengths is None else as_lengths(lengths, x)
        outputs = [apply_layers(self._branch(i), x, checked) for i in range(len(self.branches))]
        return torch.cat(outputs, dim=-1)

    def inner_layers(self) -> Iterator[tuple[int, Layer, Shape]]:
        """(branch number from 1, layer, its output shape) of every layer of every branch, in order."""
        for index, shapes in enumerate(self.branch_shapes):
            for layer, shape in zip(self._branch(index), shapes, strict=True):
                yield index + 1, layer, shape

    def _branch(self, index: int) -> Iterator[Layer]:
        branch = self.branches[index]
        assert isinstance(branch, nn.ModuleList)
        for layer in branch:
            assert isinstance(layer, Layer)
            yield layer
