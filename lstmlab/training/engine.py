"""The training loop: `fit`, `evaluate`, `predict`. Small functions; nothing here knows about LSTMs or files."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from ..models.ensemble import Ensemble
from .callbacks import Callback
from .data import OnlineSource, SequenceData
from .metrics import accuracy, classes_from_logits, classes_from_probabilities, loss, valid_targets

__all__ = [
    "History",
    "Scores",
    "TrainConfig",
    "evaluate",
    "fit",
    "forward_batch",
    "predict",
    "predict_classes",
    "set_seed",
    "train_step",
]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int | None = None  # passes over a fixed training set
    updates: int | None = None  # optimiser steps on fresh examples (online training), instead of epochs
    updates_per_epoch: int = 100  # online training: updates between two history rows / callback checks
    batch_size: int = 32  # examples per update (the tutorial: 1)
    learning_rate: float = 1e-3  # Adam's step size (Keras's default)
    clip_norm: float | None = None  # clip the gradient's global norm to this, or None
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) when > 0; 0: plain Adam
    schedule: str = "constant"  # learning rate: constant (Keras's default) or cosine (decays to 0 at the last update)
    shuffle: bool = True  # reshuffle a fixed training set every epoch
    validation_split: float = 0.0  # hold out this last fraction of a fixed training set (Keras's rule)
    seed: int = 0  # one seed for weights, data order and dropout: CPU runs repeat bit for bit

    def __post_init__(self) -> None:
        if (self.epochs is None) == (self.updates is None):
            raise ValueError(
                f"Expected exactly one of epochs or updates. Received: epochs={self.epochs}, updates={self.updates}"
            )
        for name in ("epochs", "updates", "updates_per_epoch", "batch_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
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


@dataclass
class History:
    """Per-epoch logs (loss, accuracy, val_loss, val_accuracy) and, online, the loss and accuracy of every update."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    update_loss: list[float] = field(default_factory=list)
    update_accuracy: list[float] = field(default_factory=list)


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a generator for data order and sampling."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _score_lengths(batch: SequenceData) -> Tensor | None:
    """Lengths that mask the targets: only per-step targets have padded positions."""
    return batch.lengths if batch.per_step else None


def forward_batch(
    model: nn.Module, batch: SequenceData, piece_steps: int | None = None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Logits, the targets they answer, and the lengths that mask those targets.

    With `piece_steps`, a stateful model reads each sequence in pieces of that many steps, its state carried from
    piece to piece and reset before the batch (the Q&A's model 2): each call answers for its piece's last step, so
    per-step targets are taken at those steps, and a per-sequence target is answered by the last call.
    """
    if piece_steps is None:
        return model(batch.x, batch.lengths), batch.y, _score_lengths(batch)
    steps = batch.x.shape[1]
    if batch.lengths is not None or steps % piece_steps:
        raise ValueError(
            f"Expected full-length sequences of a multiple of {piece_steps} steps for a model fed in pieces. "
            f"Received: {steps} steps, lengths {'given' if batch.lengths is not None else 'none'}"
        )
    reset = getattr(model, "reset_states", None)
    if callable(reset):
        reset()
    answers = [model(batch.x[:, start : start + piece_steps]) for start in range(0, steps, piece_steps)]  # (B, C)
    if not batch.per_step:
        return answers[-1], batch.y, None
    return torch.stack(answers, dim=1), batch.y[:, piece_steps - 1 :: piece_steps], None  # (B, P, C), (B, P)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: SequenceData,
    clip_norm: float | None,
    piece_steps: int | None = None,
) -> tuple[Tensor, Tensor]:
    """One optimiser step on `batch`; returns its loss and accuracy (detached scalars, no device sync)."""
    optimizer.zero_grad(set_to_none=True)
    members = model if isinstance(model, Ensemble) else None
    if members is None:
        logits, targets, lengths = forward_batch(model, batch, piece_steps)
    else:
        logits, targets, lengths = _member_batch(members, batch, piece_steps)
    flat_logits, flat_targets = valid_targets(logits, targets, lengths)  # once, for the loss and the accuracy
    value = loss(flat_logits, flat_targets)
    # an ensemble's loss is the members' mean: times K, each member's gradient is its own loss's
    (value if members is None else value * members.size).backward()  # type: ignore[no-untyped-call]
    if clip_norm is not None:
        for parameters in [list(model.parameters())] if members is None else members.member_parameters():
            nn.utils.clip_grad_norm_(parameters, clip_norm)
    optimizer.step()
    with torch.no_grad():
        return value.detach(), accuracy(flat_logits.detach(), flat_targets)


def _member_batch(
    model: Ensemble, batch: SequenceData, piece_steps: int | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Every member's logits on `batch`, members laid end to end along the batch axis, with the targets (and the
    lengths that mask them) repeated to match: the loss over them is the mean of the members' own losses."""
    if piece_steps is not None:
        raise ValueError("Expected a model that reads whole sequences for an ensemble. Received: pieces of steps")
    logits = model.member_logits(batch.x, batch.lengths)  # (K, B, [T,] C)
    lengths = _score_lengths(batch)
    repeat = model.size
    targets = batch.y.repeat(repeat, *([1] * (batch.y.dim() - 1)))  # (K * B, [T])
    return (
        logits.reshape(-1, *logits.shape[2:]),
        targets,
        None if lengths is None else lengths.repeat(repeat),
    )


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (AdamW with `weight_decay`); the fused kernel where PyTorch has one for all parameters (fewer small ops
    per step). Only trainable weights: a BatchNormalization's moving statistics are weights without gradients."""
    params = [p for p in model.parameters() if p.requires_grad]
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64) for p in params)
    if config.weight_decay > 0:
        return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay, fused=fused or None)
    return torch.optim.Adam(params, lr=config.learning_rate, fused=fused or None)


def _online_batches(source: OnlineSource, config: TrainConfig, generator: torch.Generator) -> Iterator[SequenceData]:
    assert config.updates is not None
    for _ in range(config.updates):
        yield source(config.batch_size, generator)


def fit(
    model: nn.Module,
    train: SequenceData | OnlineSource,
    *,
    config: TrainConfig,
    validation: SequenceData | None = None,
    callbacks: Sequence[Callback] = (),
    progress: Callable[[int], AbstractContextManager[Callable[[int], None]]] | None = None,
    piece_steps: int | None = None,
) -> History:
    """Train `model` with Adam on a fixed data set (`epochs`) or on fresh examples (`updates`).

    Args:
        model: returns logits for `(x, lengths)`.
        train: a `SequenceData`, or a source `(count, generator) -> SequenceData` of fresh examples.
        config: epochs or updates, batch size, learning rate, clipping, shuffling, validation split, seed.
        validation: data scored after every epoch (else the `validation_split` of a fixed set, if any).
        callbacks: e.g. `EarlyStopping`, `ModelCheckpoint`; any may stop training after an epoch.
        progress: `progress(total)` gives a context manager yielding `advance(n)`; None shows nothing.
        piece_steps: feed a stateful model each sequence in pieces of this many steps (see `forward_batch`).

    Returns:
        The `History`: one row per epoch (online: per `updates_per_epoch` updates), and per-update figures online.
    """
    generator = set_seed(config.seed)
    online = not isinstance(train, SequenceData)
    if online and config.updates is None:
        raise ValueError("Expected updates for online training (fresh examples each step). Received: epochs")
    if not online and config.epochs is None:
        raise ValueError("Expected epochs for a fixed training set. Received: updates")
    if isinstance(train, SequenceData) and config.validation_split > 0 and validation is None:
        train, validation = train.split(config.validation_split)
    optimizer = make_optimizer(model, config)
    total = _total_updates(train, config)
    scheduler = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total) if config.schedule == "cosine" else None
    )
    eval_batch = config.batch_size if piece_steps else max(config.batch_size, 256)  # stateful: a fixed batch
    history = History()
    for callback in callbacks:
        callback.on_train_begin(model)
    with progress(total) if progress else nullcontext(lambda n: None) as advance:
        for epoch, batches in enumerate(_epochs(train, config, generator)):
            model.train()
            losses, accuracies = [], []
            for batch in batches:
                batch_loss, batch_accuracy = train_step(model, optimizer, batch, config.clip_norm, piece_steps)
                if scheduler is not None:
                    scheduler.step()
                losses.append(batch_loss)
                accuracies.append(batch_accuracy)
                advance(1)
            logs = _epoch_logs(losses, accuracies, history if online else None)
            if validation is not None:
                scores = evaluate(model, validation, batch_size=eval_batch, piece_steps=piece_steps)
                logs.update(val_loss=scores.loss, val_accuracy=scores.accuracy)
            history.epochs.append({"epoch": float(epoch), **logs})
            if any([callback.on_epoch_end(epoch, logs, model) for callback in callbacks]):
                break
    for callback in callbacks:
        callback.on_train_end(model)
    model.eval()
    return history


def _total_updates(train: SequenceData | OnlineSource, config: TrainConfig) -> int:
    if isinstance(train, SequenceData):
        assert config.epochs is not None
        return config.epochs * -(-len(train) // config.batch_size)
    assert config.updates is not None
    return config.updates


def _epochs(
    train: SequenceData | OnlineSource, config: TrainConfig, generator: torch.Generator
) -> Iterator[Iterator[SequenceData]]:
    """Each epoch's batches: passes over a fixed set, or `updates_per_epoch` fresh batches at a time."""
    if isinstance(train, SequenceData):
        assert config.epochs is not None
        for _ in range(config.epochs):
            yield train.batches(config.batch_size, shuffle=config.shuffle, generator=generator)
        return
    fresh = _online_batches(train, config, generator)
    assert config.updates is not None
    for start in range(0, config.updates, config.updates_per_epoch):
        count = min(config.updates_per_epoch, config.updates - start)
        yield (next(fresh) for _ in range(count))


def _epoch_logs(losses: list[Tensor], accuracies: list[Tensor], history: History | None) -> dict[str, float]:
    """Mean training loss and accuracy over an epoch's updates (one device sync); online, keep each update's."""
    values = torch.stack([torch.stack(losses).double(), torch.stack(accuracies).double()]).tolist()
    if history is not None:
        history.update_loss += values[0]
        history.update_accuracy += values[1]
    return {"loss": float(np.mean(values[0])), "accuracy": float(np.mean(values[1]))}


@torch.no_grad()
def predict(model: nn.Module, data: SequenceData, *, batch_size: int = 256, piece_steps: int | None = None) -> Tensor:
    """Class probabilities: (N, [T,] 1) sigmoid for one logit, (N, [T,] C) softmax for several."""
    model.eval()
    parts = []
    for batch in data.batches(batch_size, shuffle=False, generator=torch.Generator()):
        logits, _, _ = forward_batch(model, batch, piece_steps)
        parts.append(torch.sigmoid(logits) if logits.shape[-1] == 1 else torch.softmax(logits, dim=-1))
    return torch.cat(parts)


@torch.no_grad()
def predict_classes(
    model: nn.Module, data: SequenceData, *, batch_size: int = 256, piece_steps: int | None = None
) -> Tensor:
    """Predicted class ids, (N,) or (N, T): probability above 0.5 for one logit, the most likely class otherwise."""
    return classes_from_probabilities(predict(model, data, batch_size=batch_size, piece_steps=piece_steps))


@dataclass(frozen=True)
class Scores:
    """What `evaluate` measured; per-class figures only for more than two classes."""

    loss: float
    accuracy: float
    count: int  # scored items: sequences, or valid steps for per-step targets
    precision: list[float] | None = None
    recall: list[float] | None = None
    f1: list[float] | None = None
    confusion: list[list[int]] | None = None  # rows: true class, columns: predicted class


@torch.no_grad()
def evaluate(model: nn.Module, data: SequenceData, *, batch_size: int = 256, piece_steps: int | None = None) -> Scores:
    """Loss and accuracy over `data` (padded steps left out); for several classes also per-class precision,
    recall, F1 and the confusion matrix (rows: true class, columns: predicted)."""
    model.eval()
    logits_parts, target_parts = [], []
    for batch in data.batches(batch_size, shuffle=False, generator=torch.Generator()):
        logits, targets, lengths = forward_batch(model, batch, piece_steps)
        flat_logits, flat_targets = valid_targets(logits, targets, lengths)
        logits_parts.append(flat_logits)
        target_parts.append(flat_targets)
    logits, targets = torch.cat(logits_parts), torch.cat(target_parts)
    scores = Scores(float(loss(logits, targets)), float(accuracy(logits, targets)), len(targets))
    if logits.shape[-1] > 2:
        scores = _with_per_class(scores, classes_from_logits(logits), targets.long(), logits.shape[-1])
    return scores


def _with_per_class(scores: Scores, predicted: Tensor, targets: Tensor, classes: int) -> Scores:
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    confusion.index_put_((targets, predicted), torch.ones_like(targets), accumulate=True)
    hits = confusion.diag().double()
    precision = hits / confusion.sum(0).clamp(min=1)
    recall = hits / confusion.sum(1).clamp(min=1)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), torch.zeros_like(hits))
    return dataclasses.replace(
        scores, precision=precision.tolist(), recall=recall.tolist(), f1=f1.tolist(), confusion=confusion.tolist()
    )
