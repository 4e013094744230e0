"""The tutorial's cumulative-sum problem, generated from a seed: no files needed.

Each sequence holds values drawn uniformly from [0, 1). Per-step labels (the tutorial's problem): step t is 1 once
the running sum of the row has passed `threshold * L`, with L the row's length (the tutorial's n / 4 for
threshold 1/4). Many-to-one labels (for whole-sequence models): 1 if the running sum ever passes L / 2; the sum of L
uniform values is symmetric about L / 2, so the two classes are equally likely.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .sequence import SequenceData

__all__ = ["CumsumConfig", "make_cumsum"]


@dataclass(frozen=True)
class CumsumConfig:
    steps: int = 10  # time steps per sequence (the longest, with variable lengths)
    threshold: float = 0.25  # per-step labels: the running sum must pass threshold * length
    min_steps: int | None = None  # variable lengths: each row's length uniform in min_steps..steps; None: all full
    per_step: bool = True  # True: a label per step (the tutorial); False: one label per sequence (balanced)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"Expected steps to be a positive integer. Received: steps={self.steps!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"Expected threshold in (0, 1), a fraction of the length. Received: {self.threshold!r}")
        if self.min_steps is not None and not 1 <= self.min_steps <= self.steps:
            raise ValueError(f"Expected min_steps in 1..{self.steps}. Received: min_steps={self.min_steps!r}")


def make_cumsum(config: CumsumConfig, count: int, generator: torch.Generator) -> SequenceData:
    """Draw `count` sequences of the cumulative-sum problem; right-padded with zeros where lengths vary.

    Shapes:
        x (N, T, 1); y (N, T) per step or (N,) per sequence; lengths (N,) or None.

    Example:
        >>> batch = make_cumsum(CumsumConfig(), 2, torch.Generator().manual_seed(0))
        >>> batch.x.shape, batch.y.shape
        (torch.Size([2, 10, 1]), torch.Size([2, 10]))
    """
    if count < 1:
        raise ValueError(f"Expected a positive number of sequences. Received: count={count}")
    steps = config.steps
    x = torch.rand(count, steps, generator=generator)  # (N, T)
    lengths = None
    length = torch.full((count,), float(steps))
    if config.min_steps is not None:
        lengths = torch.randint(config.min_steps, steps + 1, (count,), generator=generator)
        valid = torch.arange(steps) < lengths[:, None]  # (N, T)
        x = x * valid
        length = lengths.to(x.dtype)
    running = x.cumsum(dim=1)  # (N, T); padded steps add zeros
    if config.per_step:
        y = (running > config.threshold * length[:, None]).long()  # (N, T)
        if lengths is not None:
            y = y * valid
    else:
        y = (running[:, -1] > length / 2).long()  # (N,)
    return SequenceData(x.unsqueeze(-1), y, lengths)
