"""The batch type of lstmlab: inputs, targets and optional lengths of N sequences, with batching and Keras's
validation split. Data loaders return it; models, training, runs and comparisons read it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

__all__ = ["BatchStream", "OnlineSource", "SequenceData", "label_ids"]


@dataclass(frozen=True)
class SequenceData:
    """Inputs, targets and optional lengths of N examples.

    Shapes:
        x: (N, T, D) values or (N, T) token ids; y: (N,) one class per sequence or (N, T) one per step;
        lengths: (N,) valid steps of each padded row, or None.

    Attributes:
        padding_side: where the rows' padding is: "right", "left" (Keras's `pad_sequences` default), or None: as
            the model reads it (given lengths are right padding; padding ids for a first `Embedding(mask_zero=True)`
            show their side). Per-step targets are padded on the same side as their inputs.
    """

    x: Tensor
    y: Tensor
    lengths: Tensor | None = None
    padding_side: Literal["right", "left"] | None = None

    def __post_init__(self) -> None:
        if self.padding_side not in (None, "right", "left"):
            raise ValueError(
                f"Expected padding_side in {{'right', 'left', None}}. Received: padding_side={self.padding_side!r}"
            )
        n = self.x.shape[0]
        if self.y.shape[0] != n or (self.lengths is not None and self.lengths.shape != (n,)):
            lengths = None if self.lengths is None else tuple(self.lengths.shape)
            raise ValueError(
                f"Expected x, y and lengths with the same number of examples. Received: x {tuple(self.x.shape)}, "
                f"y {tuple(self.y.shape)}, lengths {lengths}"
            )
        if self.y.dim() == 2 and self.y.shape[1] != self.x.shape[1]:
            raise ValueError(
                f"Expected per-step targets with the input's {self.x.shape[1]} steps. Received: y {tuple(self.y.shape)}"
            )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def per_step(self) -> bool:
        """Whether there is a target per step (else one per sequence)."""
        return self.y.dim() == 2

    @property
    def scored_lengths(self) -> Tensor | None:
        """What masks the targets (only per-step targets have padded positions): the lengths (N,) of right-padded
        rows, or the (N, T) boolean mask of the valid steps of left-padded ones."""
        if not self.per_step or self.lengths is None:
            return None
        if self.padding_side != "left":
            return self.lengths
        steps = self.y.shape[1]
        return torch.arange(steps, device=self.lengths.device) >= (steps - self.lengths).unsqueeze(1)  # (N, T)

    def take(self, index: Tensor) -> SequenceData:
        """The examples at `index`, in that order."""
        lengths = None if self.lengths is None else self.lengths[index]
        return SequenceData(self.x[index], self.y[index], lengths, self.padding_side)

    def split(self, fraction: float) -> tuple[SequenceData, SequenceData]:
        """(first part, last `fraction`): Keras's `validation_split`, taken before any shuffling."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"Expected a validation fraction in (0, 1). Received: {fraction!r}")
        held = max(1, round(len(self) * fraction))
        if held >= len(self):
            raise ValueError(f"Expected more examples than a {fraction} split holds out. Received: {len(self)}")
        order = torch.arange(len(self))
        return self.take(order[:-held]), self.take(order[-held:])

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator) -> Iterator[SequenceData]:
        """Consecutive batches of `batch_size` (the last may be smaller), in a shuffled order if asked."""
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        for start in range(0, len(self), batch_size):
            yield self.take(order[start : start + batch_size])


# A source of fresh examples for online training: (count, generator) -> SequenceData
OnlineSource = Callable[[int, torch.Generator], SequenceData]


class BatchStream(ABC):
    """A fixed set too large to hold: it comes as batches, epoch by epoch (`data.stream.TextStream`). An epoch's
    batches are known in number beforehand and repeat for the same epoch (a resumed run skips those it did)."""

    @abstractmethod
    def __len__(self) -> int:
        """Examples in the set."""

    @abstractmethod
    def epoch_length(self, epoch: int) -> int:
        """Batches in epoch `epoch` (from 0)."""

    @abstractmethod
    def epoch(self, epoch: int) -> Iterator[SequenceData]:
        """Epoch `epoch`'s batches."""


def label_ids(labels: Sequence[str], classes: Sequence[str]) -> Tensor:
    """Class ids `(N,)` of `labels` by their position in `classes` (every label must be one of them)."""
    index = {label: i for i, label in enumerate(classes)}
    return torch.tensor([index[label] for label in labels], dtype=torch.long)
