"""What the training loop asks of a model, beyond `model(x, lengths) -> logits`.

The loop knows no model types: a model that answers a batch differently (a stateful model fed in pieces, an
ensemble whose members each learn from their own loss) says so through these hooks, and any other `nn.Module`
gets the plain behaviour of `PlainModel`. lstmlab's `Sequential` implements `BatchModel`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor, nn

from ..data import SequenceData

__all__ = ["Answers", "BatchModel", "PlainModel", "batch_model"]

# (logits, the targets they answer, what masks those targets or None: lengths (B,) of right-padded rows or a
# (B, T) boolean mask of left-padded ones, `SequenceData.scored_lengths`)
Answers = tuple[Tensor, Tensor, Tensor | None]


@runtime_checkable
class BatchModel(Protocol):
    """The hooks `fit`, `evaluate` and `predict` call on every model."""

    batch_size: int | None  # a fixed batch size the model needs (stateful models), or None

    def answer(self, batch: SequenceData) -> Answers:
        """Logits `(B, [T,] C)` for the batch, the targets they answer and the lengths that mask them."""
        ...

    def training_answers(self, batch: SequenceData) -> Answers:
        """What training scores: logits `(K, B, [T,] C)` of the model's K learners (1 for one model; an
        ensemble's members, each learning from its own loss), the targets and their lengths."""
        ...

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """The groups of parameters whose gradient norm is clipped on its own (one per learner)."""
        ...


class PlainModel:
    """The hooks of a model that answers every target of a batch in one call, as one learner."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        size = getattr(module, "batch_size", None)
        self.batch_size: int | None = size if isinstance(size, int) else None

    def answer(self, batch: SequenceData) -> Answers:
        if batch.padding_side == "left":
            raise ValueError(
                f"Expected right-padded data for a {type(self.module).__name__}, called as model(x, lengths) "
                "(lstmlab's models read left padding). Received: padding_side='left'"
            )
        return self.module(batch.x, batch.lengths), batch.y, batch.scored_lengths

    def training_answers(self, batch: SequenceData) -> Answers:
        logits, targets, lengths = self.answer(batch)
        return logits.unsqueeze(0), targets, lengths

    def clip_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.module.parameters())]


def batch_model(model: nn.Module) -> BatchModel:
    """The model's own hooks, or the plain ones."""
    return model if isinstance(model, BatchModel) else PlainModel(model)
