"""The training loop: `Trainer` (and `fit`, its one-call form), `evaluate`, `predict`.

Small functions; nothing here knows about LSTMs, model types or files. A model answers batches through the hooks of
`hooks.BatchModel`; a `Trainer` can stop after any update and hand over its whole state (weights, optimiser,
schedule, generators, history, callbacks) so that a resumed run ends bit for bit where an uninterrupted one ends.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data import BatchStream, OnlineSource, SequenceData
from ..seeds import set_seed
from .callbacks import Callback
from .config import TrainConfig
from .distributed import Answering, World, all_ranks_say, shard, sum_over_ranks
from .hooks import BatchModel, batch_model
from .metrics import Scores, accuracy, classes_from_probabilities, loss, scores_of, valid_targets

__all__ = [
    "Advance",
    "Figures",
    "History",
    "Progress",
    "Trainer",
    "evaluate",
    "fit",
    "fused_kernel",
    "make_optimizer",
    "predict",
    "predict_classes",
    "train_step",
]

# figures() gives the running loss and accuracy of the epoch so far (and the validation figures at an epoch's end);
# a progress display calls it only when it draws, since reading the figures waits for the device
Figures = Callable[[], dict[str, float]]
# progress(total) gives a context manager yielding advance(updates, figures)
Advance = Callable[[int, Figures], None]
Progress = Callable[[int], AbstractContextManager[Advance]]
STATE_FORMAT = "lstmlab-trainer/1"


@dataclass
class History:
    """Per-epoch logs (loss, accuracy, val_loss, val_accuracy) and, online, the loss and accuracy of every update."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    update_loss: list[float] = field(default_factory=list)
    update_accuracy: list[float] = field(default_factory=list)


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, batch: SequenceData, clip_norm: float | None
) -> tuple[Tensor, Tensor]:
    """One optimiser step on `batch`; returns its loss and accuracy (detached scalars, no device sync).

    A model with K learners (`BatchModel.training_answers`) is scored on all of them laid end to end along the
    batch axis: the mean over them times K gives each learner the gradient of its own loss.
    """
    return _step(batch_model(model), optimizer, batch, clip_norm)


def _step(
    hooks: BatchModel,
    optimizer: torch.optim.Optimizer,
    batch: SequenceData,
    clip_norm: float | None,
    answering: nn.Module | None = None,
    weight: float = 1.0,
    mixed: Mixed | None = None,
) -> tuple[Tensor, Tensor]:
    """`train_step` on the model's hooks, resolved once by the caller (a `Trainer`, once per run). Data-parallel:
    `answering` is the DDP module whose forward gives the answers, and `weight` scales this rank's loss. `mixed`:
    the forward pass under autocast (and fp16's loss scaling)."""
    optimizer.zero_grad(set_to_none=True)
    with nullcontext() if mixed is None else mixed.autocast(batch.x.device):
        answers = hooks.training_answers(batch) if answering is None else answering(batch)
    logits, targets, lengths = answers  # (K, B, [T,] C)
    logits = logits.float() if mixed is not None else logits  # the loss in float32
    learners = logits.shape[0]
    if learners > 1:
        targets = targets.repeat(learners, *([1] * (targets.dim() - 1)))  # (K * B, [T])
        lengths = None if lengths is None else lengths.repeat(learners, *([1] * (lengths.dim() - 1)))
    flat_logits, flat_targets = valid_targets(logits.reshape(-1, *logits.shape[2:]), targets, lengths)
    value = loss(flat_logits, flat_targets)
    scaled = value * (learners * weight)
    scaler = None if mixed is None else mixed.scaler
    (scaled if scaler is None else scaler.scale(scaled)).backward()  # type: ignore[no-untyped-call]
    if clip_norm is not None:
        if scaler is not None:
            scaler.unscale_(optimizer)
        for parameters in hooks.clip_groups():
            nn.utils.clip_grad_norm_(parameters, clip_norm)
    if scaler is None:
        optimizer.step()
    else:  # skips the step where the scaled gradients overflowed, and adjusts the scale
        scaler.step(optimizer)
        scaler.update()
    with torch.no_grad():
        return value.detach(), accuracy(flat_logits.detach(), flat_targets)


@functools.cache
def cpu_runs_bf16_lstm() -> bool:
    """Whether PyTorch's CPU LSTM kernel (oneDNN) runs in bfloat16 on this machine: it needs AVX-512, and without
    it refuses with "could not create a primitive descriptor". Probed once on a one-step LSTM."""
    probe = nn.LSTM(1, 1, batch_first=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        try:
            probe(torch.zeros(1, 1, 1))
        except RuntimeError as error:
            if "could not create a primitive descriptor" not in str(error):
                raise
            return False
    return True


@dataclass
class Mixed:
    """Mixed-precision training: the forward pass under autocast in `dtype`; for float16 a `GradScaler` (its loss
    scale is part of a checkpoint)."""

    dtype: torch.dtype
    scaler: torch.amp.GradScaler | None

    @staticmethod
    def of(precision: str, device: torch.device) -> Mixed | None:
        """None for fp32 (no autocast at all)."""
        if precision == "fp32":
            return None
        if precision == "bf16":
            if device.type == "cpu" and not cpu_runs_bf16_lstm():
                raise ValueError(
                    "Expected a CPU whose oneDNN runs the LSTM in bf16 (AVX-512) for precision bf16. Received: this "
                    "CPU has no bf16 LSTM kernel; train in fp32 here, or bf16 on a GPU"
                )
            return Mixed(torch.bfloat16, None)
        if device.type == "cpu":  # oneDNN has no float16 LSTM ("could not create a primitive descriptor")
            raise ValueError(
                "Expected precision fp16 on a CUDA device (PyTorch's CPU LSTM has no float16 kernel; bf16 runs on "
                "a CPU with AVX-512 bf16). Received: precision fp16 on the cpu"
            )
        return Mixed(torch.float16, torch.amp.GradScaler(device.type))

    def autocast(self, device: torch.device) -> AbstractContextManager[Any]:
        return torch.autocast(device.type, dtype=self.dtype)


def fused_kernel(params: Sequence[nn.Parameter]) -> bool | None:
    """The `fused` argument of PyTorch's Adam for `params`: True where it has a fused kernel for all of them (fewer
    small operations per step), else None (its default choice)."""
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64) for p in params)
    return True if fused and params else None


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (AdamW with `weight_decay`); the fused kernel where PyTorch has one for all parameters (`fused_kernel`).
    Only trainable weights: a BatchNormalization's moving statistics are weights without gradients."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.weight_decay > 0:
        return torch.optim.AdamW(
            params, lr=config.learning_rate, weight_decay=config.weight_decay, fused=fused_kernel(params)
        )
    return torch.optim.Adam(params, lr=config.learning_rate, fused=fused_kernel(params))


class Trainer:
    """Train `model` with Adam on a fixed data set (`epochs`) or on fresh examples (`updates`).

    Args:
        model: returns logits for `(x, lengths)`; its `BatchModel` hooks, where it has them, say how it answers.
        train: a `SequenceData`, or a source `(count, generator) -> SequenceData` of fresh examples.
        config: epochs or updates, batch size, learning rate, clipping, shuffling, validation split, seed.
        validation: data scored after every epoch (else the `validation_split` of a fixed set, if any).
        callbacks: e.g. `EarlyStopping`, `ModelCheckpoint`; any may stop training after an epoch.
        progress: `progress(total)` gives a context manager yielding `advance(n, figures)`; None shows nothing.

    `run()` trains to the end, or until `stop()` returns True after an update; `state()` and `load_state()` carry
    everything a resumed run needs.

    Example:
        >>> trainer = Trainer(model, data, config=TrainConfig(epochs=3))
        >>> history = trainer.run()
    """

    def __init__(
        self,
        model: nn.Module,
        train: SequenceData | BatchStream | OnlineSource,
        *,
        config: TrainConfig,
        validation: SequenceData | BatchStream | None = None,
        callbacks: Sequence[Callback] = (),
        progress: Progress | None = None,
        world: World | None = None,
    ) -> None:
        self.generator = set_seed(config.seed)
        online = not isinstance(train, (SequenceData, BatchStream))
        if online and config.updates is None:
            raise ValueError("Expected updates for online training (fresh examples each step). Received: epochs")
        if not online and config.epochs is None:
            raise ValueError("Expected epochs for a fixed training set. Received: updates")
        if isinstance(train, SequenceData) and config.validation_split > 0 and validation is None:
            train, validation = train.split(config.validation_split)
        self.model, self.train, self.validation, self.config = model, train, validation, config
        self.callbacks, self.progress = list(callbacks), progress
        self.optimizer = make_optimizer(model, config)
        self.total = _total_updates(train, config)
        self.scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=self.total)
            if config.schedule == "cosine"
            else None
        )
        self.hooks = batch_model(model)
        self.eval_batch = self.hooks.batch_size or max(config.batch_size, 256)
        self.history = History()
        self.epoch = 0  # epochs finished
        self.step = 0  # updates done in the current epoch
        self.updates = 0  # updates done in all
        self.epoch_losses: list[Tensor] = []
        self.epoch_accuracies: list[Tensor] = []
        self.epoch_start = self.generator.get_state()  # a fixed set's epoch draws its order from here
        self.finished = False
        self.interrupted = False
        # data-parallel: every rank draws the same global batches and trains on its rows of each (`distributed`)
        parameter = next(iter(model.parameters()), None)
        self.mixed = Mixed.of(config.precision, torch.device("cpu") if parameter is None else parameter.device)
        self.world = world or World()
        self.answering: nn.Module | None = None
        if self.world.distributed:
            module = Answering(model, self.hooks)
            self.answering = torch.nn.parallel.DistributedDataParallel(module)

    @property
    def epochs(self) -> int:
        """Epochs in all (online: rows of `updates_per_epoch` updates)."""
        if self.config.epochs is not None:
            return self.config.epochs
        return -(-self.total // self.config.updates_per_epoch)

    def run(self, *, stop: Callable[[], bool] | None = None, after_epoch: Callable[[], None] | None = None) -> History:
        """Train until the end (or early stopping), or until `stop()` is True after an update (`interrupted`);
        `after_epoch()` is called after each epoch but the last (e.g. to save a checkpoint)."""
        self.interrupted = False
        if self.updates == 0 and self.epoch == 0:
            for callback in self.callbacks:
                callback.on_train_begin(self.model)
        context = self.progress(self.total) if self.progress else nullcontext(_no_progress)
        with context as advance:
            advance(self.updates, dict)
            while self.epoch < self.epochs and not self.finished:
                if self._train_epoch(advance, stop):
                    return self.history
                if self._end_epoch(advance):
                    self.finished = True
                elif after_epoch is not None and self.epoch < self.epochs:
                    after_epoch()
        self.finished = True
        self.answering = None  # DDP's reducer goes before its process group does
        for callback in self.callbacks:
            callback.on_train_end(self.model)
        self.model.eval()
        return self.history

    def _train_epoch(self, advance: Advance, stop: Callable[[], bool] | None) -> bool:
        """The rest of the current epoch's updates; True when `stop` asked to stop after one of them."""
        self.model.train()
        for batch in self._remaining_batches():
            if self.answering is None:
                batch_loss, batch_accuracy = _step(
                    self.hooks, self.optimizer, batch, self.config.clip_norm, mixed=self.mixed
                )
            else:  # this rank's rows; its figures as its share of the global batch's (summed at the epoch's end)
                rows, weight = shard(batch, self.world)
                batch_loss, batch_accuracy = _step(
                    self.hooks, self.optimizer, rows, self.config.clip_norm, self.answering, weight, self.mixed
                )
                share = weight / self.world.size
                batch_loss, batch_accuracy = batch_loss * share, batch_accuracy * share
            if self.scheduler is not None:
                self.scheduler.step()
            self.epoch_losses.append(batch_loss)
            self.epoch_accuracies.append(batch_accuracy)
            self.step += 1
            self.updates += 1
            advance(1, self._running_figures)
            asked = stop is not None and stop()
            if self.world.distributed:
                asked = all_ranks_say(asked)  # every rank stops after the same update
            if asked:
                self.interrupted = True
                return True
        return False

    def _running_figures(self) -> dict[str, float]:
        """The epoch's mean loss and accuracy so far (a device sync)."""
        if not self.epoch_losses or self.world.distributed:  # a rank's shares mean nothing before the epoch's sum
            return {}
        values = torch.stack([torch.stack(self.epoch_losses).double(), torch.stack(self.epoch_accuracies)])
        loss_value, accuracy_value = values.mean(dim=1).tolist()
        return {"loss": loss_value, "accuracy": accuracy_value}

    def _end_epoch(self, advance: Advance) -> bool:
        """Log the finished epoch, score the validation set, ask the callbacks; True to stop training."""
        if self.world.distributed and self.epoch_losses:  # the global batches' figures: the ranks' shares summed
            summed = sum_over_ranks(torch.stack([torch.stack(self.epoch_losses), torch.stack(self.epoch_accuracies)]))
            self.epoch_losses, self.epoch_accuracies = list(summed[0].unbind()), list(summed[1].unbind())
        logs = _epoch_logs(self.epoch_losses, self.epoch_accuracies, self.history if self._online else None)
        if self.validation is not None:
            scores = evaluate(self.model, self.validation, batch_size=self.eval_batch)
            logs.update(val_loss=scores.loss, val_accuracy=scores.accuracy)
            advance(0, lambda: logs)
        self.history.epochs.append({"epoch": self.epoch, **logs})
        stopped = any([callback.on_epoch_end(self.epoch, logs, self.model) for callback in self.callbacks])
        self.epoch += 1
        self.step = 0
        self.epoch_losses, self.epoch_accuracies = [], []
        self.epoch_start = self.generator.get_state()
        return stopped

    @property
    def _online(self) -> bool:
        return not isinstance(self.train, (SequenceData, BatchStream))

    def _epoch_length(self) -> int:
        if isinstance(self.train, SequenceData):
            return -(-len(self.train) // self.config.batch_size)
        if isinstance(self.train, BatchStream):
            return self.train.epoch_length(self.epoch)
        return min(self.config.updates_per_epoch, self.total - self.epoch * self.config.updates_per_epoch)

    def _remaining_batches(self) -> Iterator[SequenceData]:
        """The current epoch's batches from `step` on: a fixed set's order redrawn from the epoch's generator
        state (so that a resumed epoch has the same order), a stream's batches of the epoch (those done are read
        again, unused), fresh examples from the generator as it stands."""
        if isinstance(self.train, (SequenceData, BatchStream)):
            if isinstance(self.train, SequenceData):
                self.generator.set_state(self.epoch_start)
                batches = self.train.batches(
                    self.config.batch_size, shuffle=self.config.shuffle, generator=self.generator
                )
            else:
                batches = self.train.epoch(self.epoch)
            for index, batch in enumerate(batches):
                if index >= self.step:
                    yield batch
            return
        for _ in range(self._epoch_length() - self.step):
            yield self.train(self.config.batch_size, self.generator)

    def state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """Everything a resumed run needs: tensors (weights, optimiser moments, generator states, the epoch's
        figures so far, callbacks' weights) and plain JSON (positions, optimiser and schedule settings, history)."""
        optimizer = self.optimizer.state_dict()
        tensors: dict[str, Tensor] = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        slots: dict[str, dict[str, Any]] = {}
        for index, slot in optimizer["state"].items():
            slots[str(index)] = {}
            for key, value in slot.items():
                if isinstance(value, Tensor):
                    tensors[f"optimizer.{index}.{key}"] = value
                else:
                    slots[str(index)][key] = value
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.data"] = self.generator.get_state()
        tensors["rng.epoch_start"] = self.epoch_start
        if self.epoch_losses:
            tensors["epoch.losses"] = torch.stack(self.epoch_losses)
            tensors["epoch.accuracies"] = torch.stack(self.epoch_accuracies)
        callbacks = []
        for number, callback in enumerate(self.callbacks):
            meta, weights = callback.state()
            callbacks.append(meta)
            tensors.update({f"callback.{number}.{k}": v for k, v in weights.items()})
        meta = {
            "format": STATE_FORMAT,
            "config": dataclasses.asdict(self.config),
            "epoch": self.epoch,
            "step": self.step,
            "updates": self.updates,
            "total": self.total,
            "optimizer": {"param_groups": optimizer["param_groups"], "slots": slots},
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.mixed is None or self.mixed.scaler is None else self.mixed.scaler.state_dict(),
            "history": dataclasses.asdict(self.history),
            "callbacks": callbacks,
        }
        return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, meta

    def load_state(self, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
        """Continue from `state()`; the trainer must be set up as the one that saved it (same model, data and
        config), which is checked as far as the state can tell.

        Raises:
            ValueError: if the state was saved by another kind of training.
        """
        saved = {"precision": "fp32", **(meta.get("config") or {})}  # checkpoints from before mixed precision
        if meta.get("format") != STATE_FORMAT or saved != _json_round_trip(self.config):
            raise ValueError(
                f"Expected a checkpoint of this training ({STATE_FORMAT}, the same settings). Received: "
                f"{meta.get('format')!r} with settings {meta.get('config')!r}"
            )
        if meta["total"] != self.total:
            raise ValueError(f"Expected a checkpoint of {self.total} updates in all. Received: {meta['total']}")
        self.model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
        device = next(iter(self.model.parameters())).device
        state: dict[int, dict[str, Any]] = {}
        for index, slot in meta["optimizer"]["slots"].items():
            state[int(index)] = dict(slot)
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value if name == "step" else value.to(device)
        self.optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
        if self.scheduler is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        if self.mixed is not None and self.mixed.scaler is not None:
            self.mixed.scaler.load_state_dict(meta["scaler"])
        torch.set_rng_state(tensors["rng.torch"])
        self.generator.set_state(tensors["rng.data"])
        self.epoch_start = tensors["rng.epoch_start"]
        self.epoch, self.step, self.updates = meta["epoch"], meta["step"], meta["updates"]
        self.epoch_losses = list(tensors["epoch.losses"].unbind()) if "epoch.losses" in tensors else []
        self.epoch_accuracies = list(tensors["epoch.accuracies"].unbind()) if "epoch.accuracies" in tensors else []
        self.history = History(**meta["history"])
        for number, (callback, saved) in enumerate(zip(self.callbacks, meta["callbacks"], strict=True)):
            callback.on_train_begin(self.model)  # as the saved run's callbacks were, before their state
            prefix = f"callback.{number}."
            callback.load_state(saved, {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})


def _json_round_trip(config: TrainConfig) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(config)))
    return value


def _no_progress(updates: int, figures: Figures) -> None:
    """Progress that shows nothing."""


def fit(
    model: nn.Module,
    train: SequenceData | BatchStream | OnlineSource,
    *,
    config: TrainConfig,
    validation: SequenceData | BatchStream | None = None,
    callbacks: Sequence[Callback] = (),
    progress: Progress | None = None,
) -> History:
    """Train `model` to the end: `Trainer(...).run()` (see `Trainer` for the arguments).

    Returns:
        The `History`: one row per epoch (online: per `updates_per_epoch` updates), and per-update figures online.
    """
    trainer = Trainer(model, train, config=config, validation=validation, callbacks=callbacks, progress=progress)
    return trainer.run()


def _total_updates(train: SequenceData | BatchStream | OnlineSource, config: TrainConfig) -> int:
    if isinstance(train, SequenceData):
        assert config.epochs is not None
        return config.epochs * -(-len(train) // config.batch_size)
    if isinstance(train, BatchStream):
        assert config.epochs is not None
        return sum(train.epoch_length(epoch) for epoch in range(config.epochs))
    assert config.updates is not None
    return config.updates


def _epoch_logs(losses: list[Tensor], accuracies: list[Tensor], history: History | None) -> dict[str, float]:
    """Mean training loss and accuracy over an epoch's updates (one device sync); online, keep each update's."""
    values = torch.stack([torch.stack(losses).double(), torch.stack(accuracies).double()]).tolist()
    if history is not None:
        history.update_loss += values[0]
        history.update_accuracy += values[1]
    return {"loss": float(np.mean(values[0])), "accuracy": float(np.mean(values[1]))}


def _answers(
    model: BatchModel, data: SequenceData | BatchStream, batch_size: int
) -> Iterator[tuple[Tensor, Tensor, Tensor | None]]:
    """The model's answers batch by batch: a set cut in order into `batch_size` rows, a stream in its own batches."""
    batches = (
        data.epoch(0)
        if isinstance(data, BatchStream)
        else data.batches(batch_size, shuffle=False, generator=torch.Generator())
    )
    for batch in batches:
        yield model.answer(batch)


@torch.no_grad()
def predict(model: nn.Module, data: SequenceData, *, batch_size: int = 256) -> Tensor:
    """Class probabilities: (N, [T,] 1) sigmoid for one logit, (N, [T,] C) softmax for several."""
    model.eval()
    hooks = batch_model(model)
    parts = []
    for logits, _, _ in _answers(hooks, data, hooks.batch_size or batch_size):
        parts.append(torch.sigmoid(logits) if logits.shape[-1] == 1 else torch.softmax(logits, dim=-1))
    return torch.cat(parts)


@torch.no_grad()
def predict_classes(model: nn.Module, data: SequenceData, *, batch_size: int = 256) -> Tensor:
    """Predicted class ids, (N,) or (N, T): probability above 0.5 for one logit, the most likely class otherwise."""
    return classes_from_probabilities(predict(model, data, batch_size=batch_size))


@torch.no_grad()
def evaluate(
    model: nn.Module, data: SequenceData | BatchStream, *, batch_size: int = 256, labels: Sequence[str] | None = None
) -> Scores:
    """Loss and accuracy over `data` (padded steps left out), per-class precision, recall, F1 and the confusion
    matrix (rows: true class, columns: predicted), the classes named by `labels` (default: their ids)."""
    model.eval()
    hooks = batch_model(model)
    logits_parts, target_parts = [], []
    for logits, targets, lengths in _answers(hooks, data, hooks.batch_size or batch_size):
        flat_logits, flat_targets = valid_targets(logits, targets, lengths)
        logits_parts.append(flat_logits)
        target_parts.append(flat_targets)
    return scores_of(torch.cat(logits_parts), torch.cat(target_parts), labels)
