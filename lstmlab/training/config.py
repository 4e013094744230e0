"""Training settings: one frozen dataclass, checked where it is made."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["PRECISIONS", "Precision", "Schedule", "TrainConfig"]

Schedule = Literal["constant", "cosine"]
Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    """How `fit` trains: budget, batch size, optimiser, schedule, validation split and seed.

    lstmlab's own defaults for a task, a kind of data or a preset are resolved elsewhere
    (`lstmlab.runs.defaults`); the values here are Keras's, for a user calling `fit` directly.
    """

    epochs: int | None = None  # passes over a fixed training set
    updates: int | None = None  # optimiser steps on fresh examples (online training), instead of epochs
    updates_per_epoch: int = 100  # online training: updates between two history rows / callback checks
    batch_size: int = 32  # examples per update (the tutorial: 1)
    learning_rate: float = 1e-3  # Adam's step size (Keras's default)
    clip_norm: float | None = None  # clip the gradient's global norm to this, or None
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) when > 0; 0: plain Adam
    schedule: Schedule = "constant"  # learning rate: constant (Keras's default) or cosine (decays to 0 at the end)
    shuffle: bool = True  # reshuffle a fixed training set every epoch
    validation_split: float = 0.0  # hold out this last fraction of a fixed training set (Keras's rule)
    seed: int = 0  # batch order, online examples and dropout: CPU runs repeat bit for bit
    # the forward pass of training under autocast in this dtype (weights, optimiser and loss stay float32; fp16
    # scales the loss against underflow); evaluation and prediction run in the model's dtype
    precision: Precision = "fp32"

    def __post_init__(self) -> None:
        if (self.epochs is None) == (self.updates is None):
            raise ValueError(
                f"Expected exactly one of epochs or updates. Received: epochs={self.epochs}, updates={self.updates}"
            )
        for name in ("epochs", "updates", "updates_per_epoch", "batch_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"Expected a finite learning_rate > 0. Received: learning_rate={self.learning_rate!r}")
        if self.clip_norm is not None and not (self.clip_norm > 0 and math.isfinite(self.clip_norm)):
            raise ValueError(f"Expected a finite clip_norm > 0, or None. Received: clip_norm={self.clip_norm!r}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"Expected schedule 'constant' or 'cosine'. Received: schedule={self.schedule!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"Expected a finite weight_decay >= 0. Received: weight_decay={self.weight_decay!r}")
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"Expected validation_split in [0, 1). Received: {self.validation_split!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"Expected precision one of {', '.join(PRECISIONS)}. Received: {self.precision!r}")
