"""Callbacks for `fit`: early stopping (with restore-best) and best-model checkpointing."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, Literal

from torch import Tensor, nn

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint"]

Mode = Literal["auto", "min", "max"]


class Callback:
    """Hooks `fit` calls; `on_epoch_end` returns True to stop training."""

    def on_train_begin(self, model: nn.Module) -> None:
        """Reset state: one callback object can serve several runs."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: nn.Module) -> bool:
        return False

    def on_train_end(self, model: nn.Module) -> None:
        """Called once after the last epoch."""

    def state(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """What a resumed run needs of this callback: plain JSON values and tensors."""
        return {}, {}

    def load_state(self, values: dict[str, Any], tensors: dict[str, Tensor]) -> None:
        """Continue from `state()`."""


class _Monitor:
    """Tracks the best value of one logged metric."""

    def __init__(self, monitor: str, mode: Mode, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"Expected mode in {{'auto', 'min', 'max'}}. Received: mode={mode!r}")
        self.monitor = monitor
        # auto: accuracies go up, everything else (losses) goes down, as in Keras
        self.higher_is_better = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.min_delta = abs(min_delta)
        self.best = -math.inf if self.higher_is_better else math.inf

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise ValueError(f"Expected a logged metric in {sorted(logs)} to monitor. Received: {self.monitor!r}")
        return logs[self.monitor]

    def improved(self, value: float) -> bool:
        if self.higher_is_better:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    With `restore_best`, the model ends with the weights of its best epoch. Messages go to `sink` (print by
    default; None is silent).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 0,
        min_delta: float = 0.0,
        mode: Mode = "auto",
        restore_best: bool = False,
        sink: Callable[[str], None] | None = print,
    ) -> None:
        if patience < 0:
            raise ValueError(f"Expected patience >= 0. Received: patience={patience}")
        self.options = (monitor, mode, min_delta)
        self.patience = patience
        self.restore_best = restore_best
        self.sink = sink
        self.on_train_begin(nn.Module())

    def on_train_begin(self, model: nn.Module) -> None:
        self.tracker = _Monitor(*self.options)
        self.wait = 0
        self.best_epoch: int | None = None
        self.best_weights: dict[str, Tensor] | None = None
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: nn.Module) -> bool:
        value = self.tracker.value(logs)
        if self.tracker.improved(value):
            self.tracker.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        if self.wait < max(self.patience, 1):
            return False
        self.stopped_epoch = epoch
        if self.sink is not None:
            self.sink(
                f"early stopping at epoch {epoch}: {self.tracker.monitor} has not improved for {self.wait} epochs "
                f"(best {self.tracker.best:.4f} at epoch {self.best_epoch})"
            )
        return True

    def on_train_end(self, model: nn.Module) -> None:
        if self.restore_best and self.best_weights is not None:
            model.load_state_dict(self.best_weights)

    def state(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        values = {
            "best": self.tracker.best,
            "wait": self.wait,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
        }
        return values, dict(self.best_weights or {})

    def load_state(self, values: dict[str, Any], tensors: dict[str, Tensor]) -> None:
        self.tracker.best, self.wait = values["best"], values["wait"]
        self.best_epoch, self.stopped_epoch = values["best_epoch"], values["stopped_epoch"]
        self.best_weights = dict(tensors) if tensors else None


class ModelCheckpoint(Callback):
    """Call `save(model)` whenever `monitor` reaches a new best (every epoch when `monitor` is None)."""

    def __init__(
        self, save: Callable[[nn.Module], None], *, monitor: str | None = "val_loss", mode: Mode = "auto"
    ) -> None:
        self.save = save
        self.monitor = monitor
        self.mode: Mode = mode

    def on_train_begin(self, model: nn.Module) -> None:
        self.tracker = None if self.monitor is None else _Monitor(self.monitor, self.mode, 0.0)

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: nn.Module) -> bool:
        if self.tracker is None:
            self.save(model)
            return False
        value = self.tracker.value(logs)
        if self.tracker.improved(value):
            self.tracker.best = value
            self.save(model)
        return False

    def state(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        return {"best": None if self.tracker is None else self.tracker.best}, {}

    def load_state(self, values: dict[str, Any], tensors: dict[str, Tensor]) -> None:
        if self.tracker is not None:
            self.tracker.best = values["best"]
