"""The batch type of lstmlab: inputs, targets and optional lengths of N sequences, with batching and Keras's
validation split. Data loaders return it; models, training and experiments read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["OnlineSource", "SequenceData", "label_ids"]


@dataclass(frozen=True)
class SequenceData:
    """Inputs, targets and optional lengths of N examples.

    Shapes:
        x: (N, T, D) values or (N, T) token ids; y: (N,) one class per sequence or (N, T) one per step;
        lengths: (N,) valid steps of each right-padded row, or None.
    """

    x: Tensor
    y: Tensor
    lengths: Tensor | None = None

    def __post_init__(self) -> None:
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
        """The lengths that mask the targets: only per-step targets have padded positions."""
        return self.lengths if self.per_step else None

    def take(self, index: Tensor) -> SequenceData:
        """The examples at `index`, in that order."""
        lengths = None if self.lengths is None else self.lengths[index]
        return SequenceData(self.x[index], self.y[index], lengths)

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


def label_ids(labels: Sequence[str], classes: Sequence[str]) -> Tensor:
    """Class ids `(N,)` of `labels` by their position in `classes` (every label must be one of them)."""
    index = {label: i for i, label in enumerate(classes)}
    return torch.tensor([index[label] for label in labels], dtype=torch.long)
