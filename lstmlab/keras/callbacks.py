"""Keras's callbacks for `Sequential.fit`: `History`, `EarlyStopping`, `ModelCheckpoint`, and the `Callback` base
with Keras's hooks (`on_train_begin`, `on_epoch_begin`, `on_epoch_end`, `on_train_batch_end`, `on_train_end`).

Metric names: a model compiled with `metrics=['accuracy']` logs `accuracy` and `val_accuracy` (Keras 2.3 and later);
`metrics=['acc']` logs `acc` and `val_acc`. A callback monitoring `val_acc` reads `val_accuracy` where only that is
logged (and the other way round), so the older articles' `EarlyStopping(monitor='val_acc')` works as written.

Example:
    >>> es = EarlyStopping(monitor="val_acc", patience=5, restore_best_weights=True)
    >>> model.fit(x, y, validation_split=0.1, epochs=20, callbacks=[es])
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, Protocol

from torch import Tensor

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Callback", "EarlyStopping", "History", "ModelCheckpoint"]

Logs = dict[str, float]


class FittedModel(Protocol):
    """What a callback reads of the model that `fit` trains (`keras.models.Sequential`), named here so that
    callbacks need not import the model, which imports them."""

    stop_training: bool

    @property
    def lstmlab_model(self) -> nn.Module: ...

    def save(self, filepath: str, **options: Any) -> None: ...

    def save_weights(self, filepath: str, **options: Any) -> None: ...


class Callback:
    """Keras's callback base: `fit` sets `model` (and `params`) and calls the hooks; set `model.stop_training` to
    stop after the current epoch."""

    def __init__(self) -> None:
        self.model: FittedModel | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: FittedModel) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once when `fit` starts."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once when `fit` ends (after the last epoch, or after a callback stopped training)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called before epoch `epoch` (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after epoch `epoch` with its figures: loss, accuracy and the validation figures."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each update with that batch's loss and accuracy (only where a callback defines it: reading
        the figures of every update waits for the device)."""

    def _model(self) -> FittedModel:
        if self.model is None:
            raise ValueError(f"Expected {type(self).__name__} to be used by a model's fit(). Received: no model")
        return self.model


def monitored(logs: Logs, monitor: str) -> float | None:
    """`logs[monitor]`, reading Keras 2's `acc` names as `accuracy` and the other way round; None when absent."""
    if monitor in logs:
        return logs[monitor]
    for old, new in (("acc", "accuracy"), ("accuracy", "acc")):
        if monitor == old or monitor.endswith("_" + old):
            alias = monitor[: len(monitor) - len(old)] + new
            if alias in logs:
                return logs[alias]
    return None


class History(Callback):
    """Keras's History: `history` maps each logged figure to its values by epoch; `epoch` lists the epochs run."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class _Monitor:
    """The best value of one logged figure, with Keras's `mode` ('auto': higher is better for accuracies)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"Expected mode in {{'auto', 'min', 'max'}}. Received: mode={mode!r}")
        self.monitor = monitor
        self.higher = mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.endswith("auc")))
        self.min_delta = abs(min_delta)
        self.best = -math.inf if self.higher else math.inf

    def value(self, logs: Logs | None) -> float:
        value = monitored(logs or {}, self.monitor)
        if value is None:
            raise ValueError(
                f"Expected a logged figure among {sorted(logs or {})} to monitor (validation figures need "
                f"validation_split or validation_data). Received: monitor={self.monitor!r}"
            )
        return value

    def improved(self, value: float, reference: float | None = None) -> bool:
        best = self.best if reference is None else reference
        return value - self.min_delta > best if self.higher else value + self.min_delta < best


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved for `patience` epochs (Keras 3's rule, as Keras 2's).

    Args:
        monitor: the logged figure: 'val_loss' (default), 'val_accuracy' (or Keras 2's 'val_acc'), 'loss', ...
        min_delta: a change smaller than this is no improvement.
        patience: epochs without improvement before stopping (0: stop at the first).
        verbose: 1 prints when it stops and restores.
        mode: 'auto' (accuracies up, losses down), 'min' or 'max'.
        baseline: the value to beat before `wait` restarts (None: none).
        restore_best_weights: at the end of training, go back to the weights of the best epoch (as Keras 3 does,
            also when training ran to the last epoch; Keras 2 restored only when it stopped early).
        start_from_epoch: epochs to wait before monitoring.

    Raises:
        ValueError: in `fit`, when `monitor` is not logged.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"Expected patience to be an integer >= 0. Received: patience={patience!r}")
        self.tracker = _Monitor(monitor, mode, min_delta)  # checks mode now, as Keras does
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.tracker = _Monitor(self.monitor, self.mode, self.min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights: dict[str, Tensor] | None = None

    @property
    def best(self) -> float:
        return self.tracker.best

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = self.tracker.value(logs)
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self._weights(), epoch  # the first epoch is the best so far
        self.wait += 1
        if self.tracker.improved(value):
            self.tracker.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            if self.baseline is None or self.tracker.improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self._model().stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self._model().lstmlab_model.load_state_dict(self.best_weights)

    def _weights(self) -> dict[str, Tensor]:
        return copy.deepcopy(self._model().lstmlab_model.state_dict())


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only on a new best of `monitor`), as Keras's ModelCheckpoint.

    Args:
        filepath: where to save; formatted with `epoch` (from 1) and the epoch's figures, e.g.
            "weights.{epoch:02d}-{val_loss:.2f}.keras".
        monitor: the figure `save_best_only` compares (default 'val_loss').
        verbose: 1 prints each save.
        save_best_only: save only when `monitor` improves.
        save_weights_only: `save_weights` (the weights alone) instead of `save`.
        mode: 'auto', 'min' or 'max'.
        save_freq: 'epoch' only.
        initial_value_threshold: the value to beat before the first save (save_best_only).
    """

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"Expected save_freq='epoch'. Received: save_freq={save_freq!r}")
        _Monitor(monitor, mode, 0.0)  # checks mode now
        self.filepath, self.monitor, self.mode, self.verbose = str(filepath), monitor, mode, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.initial_value_threshold = initial_value_threshold
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.tracker = _Monitor(self.monitor, self.mode, 0.0)
        if self.initial_value_threshold is not None:
            self.tracker.best = self.initial_value_threshold

    @property
    def best(self) -> float:
        return self.tracker.best

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = self.tracker.value(logs)
            if not self.tracker.improved(value):
                return
            self.tracker.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        model = self._model()
        model.save_weights(path) if self.save_weights_only else model.save(path)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
