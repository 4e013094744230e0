"""Train a preset on a task and save the run; evaluate and predict with a saved run."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..models import Sequential, get_preset, preset_config
from ..training import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    Scores,
    SequenceData,
    TrainConfig,
    evaluate,
    fit,
)
from ..training import predict as predict_probabilities
from ..training.engine import set_seed
from .runs import load_model, run_config, save_model, write_history, write_json
from .tasks import Task, check_fits, get_task, is_stateful, model_options, task_config

__all__ = ["RunSpec", "evaluate_run", "make_test_set", "predict_run", "train_run"]

Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]
TEST_SEED_OFFSET = 1_000_003  # the test set's seed is the run's seed plus this: never the training stream's


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a training run."""

    task: str = "cumsum"  # a name from TASKS
    preset: str = "tutorial-bilstm"  # a name from PRESETS
    task_options: dict[str, Any] = field(default_factory=dict)  # task config fields to change
    model_options: dict[str, Any] = field(default_factory=dict)  # preset config fields to change
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields to change from the task's defaults
    train_size: int | None = None  # a fixed training set of this many examples; None: online, fresh examples
    test_size: int = 200  # fresh test examples (the tutorial's 200 sequences)
    patience: int | None = None  # early stopping on val_loss, restoring the best weights (fixed sets only)


def train_config(task: Task, spec: RunSpec) -> TrainConfig:
    """The task's training defaults, then the spec's changes; a fixed set switches updates to epochs."""
    defaults = dict(task.training)
    if spec.train_size is not None:
        defaults.pop("updates")
        defaults.update(epochs=10, validation_split=0.1)
    if "epochs" in spec.train:
        defaults.pop("updates", None)
    if "updates" in spec.train:
        defaults.pop("epochs", None)
    return TrainConfig(**{**defaults, **spec.train})


def prepare_directory(out: Path) -> None:
    """Create the run directory (failing before training if it cannot be written) and clear a previous run's
    history and metrics, so that a directory never mixes two runs' files."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"Expected a directory for the run. Received: {out} is a file")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("history.csv", "updates.csv", "metrics.json"):
        (out / name).unlink(missing_ok=True)


def model_config(task: Task, task_conf: Any, preset: str, overrides: dict[str, Any]) -> Any:
    """The preset's config with the fields the task implies (input length, vocabulary), then the user's changes."""
    fields = {f.name for f in dataclasses.fields(get_preset(preset).config)}
    if get_preset(preset).streaming:
        fields.discard("steps")  # its steps are one call's piece; the task's sequences arrive piece by piece
    return preset_config(preset, **{**model_options(task, task_conf, fields), **overrides})


def piece_steps(model: Sequential) -> int | None:
    """A stateful model reads sequences in pieces of its input length; others read them whole."""
    return model.input_shape[0] if is_stateful(model) else None


def make_test_set(task: Task, task_conf: Any, size: int, seed: int) -> SequenceData:
    return task.sample(task_conf, size, torch.Generator().manual_seed(seed + TEST_SEED_OFFSET))


def train_run(spec: RunSpec, out: Path, *, progress: Progress | None = None) -> tuple[Sequential, Scores, History]:
    """Train `spec.preset` on `spec.task`, save the run directory `out`, and score a fresh test set."""
    task = get_task(spec.task)
    task_conf = task_config(spec.task, **spec.task_options)
    config = train_config(task, spec)
    set_seed(config.seed)
    model_conf = model_config(task, task_conf, spec.preset, spec.model_options)
    model = get_preset(spec.preset).build(model_conf)
    check_fits(task, model)
    pieces = piece_steps(model)
    if model.batch_size is not None and config.batch_size != model.batch_size:
        raise ValueError(f"Expected batch size {model.batch_size} for {spec.preset}. Received: {config.batch_size}")
    description = run_config(
        spec.preset,
        model_conf,
        {
            "task": {"name": task.name, "config": dataclasses.asdict(task_conf)},
            "train": dataclasses.asdict(config),
            "data": {"train_size": spec.train_size, "test_size": spec.test_size, "patience": spec.patience},
        },
    )
    train: SequenceData | Callable[[int, torch.Generator], SequenceData]
    if spec.train_size is None:
        train = lambda count, generator: task.sample(task_conf, count, generator)  # noqa: E731
    else:
        train = task.sample(task_conf, spec.train_size, torch.Generator().manual_seed(config.seed + 1))
    callbacks: list[Callback] = []
    if spec.train_size is not None and config.validation_split > 0:
        # the run keeps its best epoch by val_loss: on disk as training goes, and in the end
        patience = spec.patience if spec.patience is not None else config.epochs or 0
        callbacks.append(EarlyStopping("val_loss", patience=patience, restore_best=True, sink=None))
        callbacks.append(ModelCheckpoint(lambda m: save_model(out, model, description), monitor="val_loss"))
    elif spec.patience is not None:
        raise ValueError("Expected a fixed training set (--train-size) with a validation split for early stopping")
    prepare_directory(out)
    history = fit(model, train, config=config, callbacks=callbacks, progress=progress, piece_steps=pieces)
    save_model(out, model, description)
    scores = evaluate(model, make_test_set(task, task_conf, spec.test_size, config.seed), **_batching(model, pieces))
    write_history(out / "history.csv", history.epochs)
    if history.update_loss:
        rows = [
            {"update": float(i + 1), "loss": loss, "accuracy": acc}
            for i, (loss, acc) in enumerate(zip(history.update_loss, history.update_accuracy, strict=True))
        ]
        write_history(out / "updates.csv", rows)
    write_json(out / "metrics.json", {"test": dataclasses.asdict(scores)})
    return model, scores, history


def _batching(model: Sequential, pieces: int | None) -> dict[str, Any]:
    return {"batch_size": model.batch_size or 256, "piece_steps": pieces}


def load_run(directory: Path) -> tuple[Sequential, Task, Any, dict[str, Any]]:
    """A saved run's model, task, task config and description."""
    model, description = load_model(directory)
    missing = [key for key in ("task", "train", "data") if key not in description]
    if missing:
        raise ValueError(f"Expected a training run in {directory}. Received: no {', '.join(missing)} in its config")
    task = get_task(description["task"]["name"])
    return model, task, task_config(task.name, **description["task"]["config"]), description


def evaluate_run(directory: Path, *, test_size: int | None = None, seed: int | None = None) -> Scores:
    """Score a saved run on a fresh test set of its task (the run's own test set by default)."""
    model, task, task_conf, description = load_run(directory)
    size = test_size or description["data"]["test_size"]
    data = make_test_set(task, task_conf, size, description["train"]["seed"] if seed is None else seed)
    return evaluate(model, data, **_batching(model, piece_steps(model)))


def predict_run(directory: Path, data: SequenceData) -> torch.Tensor:
    """Class probabilities of a saved run's model for `data`."""
    model, _, _, _ = load_run(directory)
    return predict_probabilities(model, data, **_batching(model, piece_steps(model)))
