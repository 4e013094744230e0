"""Shared fixtures of the training tests: the tutorial's problem as a source and as fixed sets, a constant model."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmlab.data import CumsumConfig, SequenceData, make_cumsum


def cumsum_source(count: int, generator: torch.Generator) -> SequenceData:
    return make_cumsum(CumsumConfig(), count, generator)


def fixed_set(count: int = 64, seed: int = 0, **task: object) -> SequenceData:
    return make_cumsum(CumsumConfig(**task), count, torch.Generator().manual_seed(seed))  # type: ignore[arg-type]


class Constant(nn.Module):
    """Logits that no parameter moves: a model that cannot improve."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return 0.0 * self.weight + torch.zeros(*x.shape[:2], 1)
