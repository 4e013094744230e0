"""Data-parallel training on `torch.distributed`: one model trained by several processes (`torchrun`), each on its
share of every batch, with PyTorch's DistributedDataParallel averaging the gradients.

Every rank draws the same global batches (the run's seed), takes its rows of each (rows rank, rank + N, ...) and
weighs its loss by its share of the batch's scored items, so that DDP's average of the ranks' gradients is the
gradient of the global batch's mean loss: the same update as one process on the whole batch (up to the order of
floating-point sums). A rank left without rows (a last batch smaller than the world) trains on a copy of one row
with weight 0: it still takes part in every all-reduce.

What cannot be split that way is refused in one line by the pipeline (`runs`): batch statistics
(`BatchNormalization` in training sees its rank's rows only), a stateful model (its state follows batch rows across
calls). Dropout masks are drawn per rank, so a model with dropout trains as well but not bit for bit as one process
does.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..data import SequenceData
from .hooks import BatchModel

__all__ = [
    "Answering",
    "World",
    "all_ranks_say",
    "init_from_environment",
    "joined",
    "launched_size",
    "shard",
    "sum_over_ranks",
    "world",
]


@dataclass(frozen=True)
class World:
    """This process's rank among `size` processes training one model."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes the run (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world() -> World:
    """The current process group's rank and size (rank 0 of 1 without one)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return World(torch.distributed.get_rank(), torch.distributed.get_world_size())
    return World()


def launched_size() -> int:
    """The number of processes `torchrun` started (WORLD_SIZE), 1 without it."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def init_from_environment() -> World:
    """Join the process group `torchrun` describes in the environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
    over gloo (training runs on the CPU). Without those variables (a plain `lstmlab train`), one process: rank 0 of 1.

    Raises:
        ValueError: where the environment names a world but torch has no distributed support.
    """
    size = launched_size()
    if size <= 1:
        return World()
    if not torch.distributed.is_available():
        raise ValueError(f"Expected a torch build with torch.distributed. Received: WORLD_SIZE={size} without it")
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo")
    return world()


@contextmanager
def joined() -> Iterator[World]:
    """`init_from_environment` for the length of a `with` block, then leave the group. On success the ranks first
    meet at a barrier, so that none tears its connections down while another still uses them (a rank that exits
    early can abort the other's gloo threads); after an error they leave at once (a barrier could wait forever)."""
    at = init_from_environment()
    if not at.distributed:
        yield at
        return
    try:
        yield at
    except BaseException:
        torch.distributed.destroy_process_group()
        raise
    gc.collect()  # a DDP wrapper left in a reference cycle goes before its process group does
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def _items(batch: SequenceData) -> Tensor:
    """Scored items of each row: 1 for a class per sequence, its valid steps for a class per step."""
    scored = batch.scored_lengths
    if scored is None:
        steps = batch.y.shape[1] if batch.per_step else 1
        return torch.full((len(batch),), steps, dtype=torch.float64)
    if scored.dim() == 2:  # a mask of the valid steps (left padding)
        return scored.sum(dim=1).to(torch.float64)
    return scored.to(torch.float64)


def shard(batch: SequenceData, at: World) -> tuple[SequenceData, float]:
    """This rank's rows of a global batch and the weight of its mean loss (DDP averages the ranks' gradients:
    `size` times the rank's share of the batch's scored items)."""
    rows = torch.arange(at.rank, len(batch), at.size)
    items = _items(batch)
    total = float(items.sum())
    if len(rows) == 0:  # a short last batch: a row to compute with, weighted 0
        return batch.take(torch.tensor([0])), 0.0
    return batch.take(rows), at.size * float(items[rows].sum()) / total


class Answering(nn.Module):
    """The module DDP wraps: its forward is the model's training answers to a batch (so that DDP sees the forward
    its reducer prepares for)."""

    def __init__(self, model: nn.Module, hooks: BatchModel) -> None:
        super().__init__()
        self.model = model
        self.hooks = hooks

    def forward(self, batch: SequenceData) -> Any:
        return self.hooks.training_answers(batch)


def sum_over_ranks(values: Tensor) -> Tensor:
    """`values` summed over every rank (all ranks get the sum)."""
    summed = values.clone()
    torch.distributed.all_reduce(summed, op=torch.distributed.ReduceOp.SUM)
    return summed


def all_ranks_say(flag: bool) -> bool:
    """Whether any rank says `flag` (every rank gets the same answer: they stop together)."""
    said = torch.tensor([1.0 if flag else 0.0])
    torch.distributed.all_reduce(said, op=torch.distributed.ReduceOp.MAX)
    return bool(said.item())
