"""Ensemble: several copies of one model, trained side by side from different initial weights, answering with the
mean of their class probabilities."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from ..data import SequenceData
from ..layers import PaddingSide
from .sequential import Sequential

__all__ = ["Ensemble", "combine_logits", "ensemble_of", "ensemble_size", "first_member"]


def combine_logits(member_logits: Tensor) -> Tensor:
    """Logits whose probabilities are the mean of the members' probabilities.

    One logit (sigmoid): `log(mean p) - log(mean (1 - p))`; several (softmax): `log(mean softmax)`, whose softmax is
    the mean itself. Computed in log space (logsumexp), so confident members neither overflow nor round to 0 or 1.

    Shapes:
        member_logits: (K, B, [T,] C). Returns (B, [T,] C).
    """
    if member_logits.shape[-1] == 1:  # log K cancels between the two sums
        positive = torch.logsumexp(nn.functional.logsigmoid(member_logits), dim=0)  # log sum p
        negative = torch.logsumexp(nn.functional.logsigmoid(-member_logits), dim=0)  # log sum (1 - p)
        return positive - negative
    return torch.logsumexp(torch.log_softmax(member_logits, dim=-1), dim=0) - math.log(member_logits.shape[0])


class Ensemble(Sequential):
    """`K` models of the same architecture (each a `Sequential`), read together: the answer is the mean of their
    class probabilities (`combine_logits`), and `fit` trains each member on its own loss, as if alone (one
    optimiser holds them all, Adam's update being per weight; gradient clipping is per member).

    Members differ by their initial weights and dropout masks; they see the same batches. A training history's
    loss and accuracy are the members' mean; validation, `evaluate` and `predict` score the ensemble's answer.

    An ensemble is a `Sequential` to the rest of lstmlab: its input and output shapes, batch size and `layers` are
    the first member's (every member has the same), so checks on the architecture read it as they read one model.

    Args:
        members: two or more `Sequential` models with the same layers and shapes.

    Shapes:
        x: (B, *input_shape); lengths: (B,). `forward` returns (B, [T,] C) combined logits, `member_logits`
        (K, B, [T,] C).

    Example:
        >>> import torch
        >>> from lstmlab.models import build_model
        >>> pair = Ensemble([build_model("qa-lstm"), build_model("qa-lstm")])
        >>> pair(torch.rand(3, 10, 1)).shape, pair.member_logits(torch.rand(3, 10, 1)).shape
        (torch.Size([3, 1]), torch.Size([2, 3, 1]))
    """

    def __init__(self, members: Sequence[Sequential]) -> None:
        nn.Module.__init__(self)  # not Sequential's: the layers are the members'
        if len(members) < 2 or not all(isinstance(m, Sequential) and not isinstance(m, Ensemble) for m in members):
            raise ValueError(
                f"Expected two or more Sequential models as members. Received: {len(members)} of types "
                f"{sorted({type(m).__name__ for m in members})}"
            )
        first = members[0]
        for number, member in enumerate(members[1:], start=2):
            if _layout(member) != _layout(first):
                raise ValueError(
                    f"Expected members of the same architecture. Received: member {number} ({member.name}) differs "
                    f"from member 1 ({first.name})"
                )
        if first.batch_size is not None:
            raise ValueError(
                f"Expected members without a fixed batch size (stateful models carry state between calls). "
                f"Received: {first.name} with batch size {first.batch_size}"
            )
        self.members = nn.ModuleList(members)
        self.input_shape = first.input_shape
        self.batch_size = None
        self.name = f"{first.name} x{len(members)}"
        self.output_shapes = first.output_shapes
        # the first member's layers, for architecture checks; set past nn.Module so that they are not registered a
        # second time (the state dict would hold each weight under two names)
        object.__setattr__(self, "layers", first.layers)

    @property
    def size(self) -> int:
        return len(self.members)

    def forward(self, x: Tensor, lengths: Tensor | None = None, *, padding_side: PaddingSide | None = None) -> Tensor:
        return combine_logits(self.member_logits(x, lengths, padding_side=padding_side))

    def member_logits(
        self, x: Tensor, lengths: Tensor | None = None, *, padding_side: PaddingSide | None = None
    ) -> Tensor:
        """Each member's logits, stacked: (K, B, [T,] C). The input is checked once for all members (they share the
        first member's input shape and first layer); `padding_side` as for `Sequential`."""
        checked = next(self._members()).check_call(x, lengths, padding_side=padding_side)
        return torch.stack([member.run_checked(x, checked) for member in self._members()])

    def training_answers(self, batch: SequenceData) -> tuple[Tensor, Tensor, Tensor | None]:
        """Every member's logits `(K, B, [T,] C)`: each member learns from its own loss (the training hook)."""
        logits = self.member_logits(batch.x, batch.lengths, padding_side=batch.padding_side)
        return logits, batch.y, batch.scored_lengths

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """Each member's parameters: each member's gradient is clipped on its own (the training hook)."""
        return [list(member.parameters()) for member in self._members()]

    def summary(self, print_fn: Callable[[str], None] | None = print) -> str:
        """One member's Keras-like table, then the ensemble's totals."""
        member = next(self._members()).summary(print_fn=None)
        heading = f'Ensemble "{self.name}": {self.size} members, the mean of their probabilities; each member:'
        text = "\n".join([heading, member, "", *self._totals("Ensemble ")])
        if print_fn is not None:
            print_fn(text)
        return text

    def _members(self) -> Iterator[Sequential]:
        for member in self.members:
            assert isinstance(member, Sequential)
            yield member


def first_member(model: Sequential) -> Sequential:
    """The model itself, or an ensemble's first member (every member has the same layers)."""
    if isinstance(model, Ensemble):
        member = model.members[0]
        assert isinstance(member, Sequential)
        return member
    return model


def ensemble_size(model: Sequential) -> int:
    """Members of an `Ensemble`; 1 for one model."""
    return model.size if isinstance(model, Ensemble) else 1


def _layout(model: Sequential) -> tuple[object, ...]:
    """What members must share: the input shape, and each layer's type and output shape."""
    layers = tuple(
        (type(layer).__name__, shape) for layer, shape in zip(model.layers, model.output_shapes, strict=True)
    )
    return (model.input_shape, layers)


def ensemble_of(build: Callable[[], Sequential], size: int) -> Sequential:
    """`size` models from `build` (called in turn, so each draws its own initial weights), as an `Ensemble`; the
    model itself for size 1."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"Expected an ensemble size that is a positive integer. Received: {size!r}")
    if size == 1:
        return build()
    return Ensemble([build() for _ in range(size)])
