"""Train a preset on a task and save the run; evaluate and predict with a saved run."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.series import SeriesScaler
from ..data.text import TextEncoder
from ..layers import Embedding
from ..models import Sequential, ensemble_of, ensemble_size, get_preset, preset_config
from ..training import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    Scores,
    SequenceData,
    TrainConfig,
    classes_from_probabilities,
    evaluate,
    fit,
)
from ..training import predict as predict_probabilities
from ..training.engine import set_seed
from .datasets import DataSets, DataSpec, Encoder, encoder_from_json, prepare_data, saved_test_set
from .runs import load_model, read_config, run_config, save_model, write_history, write_json
from .tasks import Task, check_fits, get_task, is_stateful, model_options, task_config

__all__ = [
    "DEFAULT_PRESETS",
    "RunSpec",
    "evaluate_run",
    "is_data_run",
    "load_data_run",
    "make_test_set",
    "predict_run",
    "predict_series",
    "predict_texts",
    "train_run",
]

# by the kind of --data; series: JapaneseVowels 0.993 +- 0.002 (series-bilstm 0.986 +- 0.002), benchmarks/accuracy.py
DEFAULT_PRESETS = {"text": "text-bilstm-pool", "series": "series-lstm-fcn"}
# Model options implied for the user's series (standardised, few examples), where the preset has them:
# Gaussian input noise in standard deviations and each LSTM's input dropout (JapaneseVowels: 0.981 -> 0.986)
SERIES_REGULARISATION = {"noise": 0.3, "input_dropout": 0.4}
# Training defaults for the user's data, a fixed training set. Texts: 10 epochs, the last 10 % held out and the
# epoch with the best val_loss kept (sentence polarity, 9,596 training texts: 0.780 +- 0.007; 20 epochs on all of it
# with a cosine decay overfit: 0.753 +- 0.011, benchmarks/results/accuracy-mr-all-e20.csv).
DATA_TRAINING: dict[str, dict[str, Any]] = {
    "text": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3, "validation_split": 0.1},
    # series: small training sets (JapaneseVowels: 270), so all of it trains and the last epoch is kept, the step
    # size decaying to 0 (JapaneseVowels with the noise alone: 0.977 -> 0.981; with the dropout too: 0.986)
    "series": {"epochs": 150, "batch_size": 16, "learning_rate": 3e-3, "validation_split": 0.0, "schedule": "cosine"},
}
# Fewer training texts than SMALL_TEXT: a tenth held out is too few to pick an epoch by (80 texts of 800) and costs a
# tenth of the data, so all of it trains for 20 epochs with a cosine decay and the last epoch is kept (UCI sentences,
# 800 training texts, tuning seeds 10-19, amazon / yelp / imdb: 0.825 / 0.774 / 0.744 -> 0.830 / 0.809 / 0.776,
# benchmarks/results/uci-tuning). The threshold lies between the two sizes measured; it was not tuned.
SMALL_TEXT = 2000
SMALL_TEXT_TRAINING: dict[str, Any] = {"epochs": 20, "validation_split": 0.0, "schedule": "cosine"}


def data_training(kind: str, train_size: int) -> dict[str, Any]:
    """The training defaults for `train_size` examples of the kind of data (`DATA_TRAINING`, `SMALL_TEXT_TRAINING`)."""
    return {**DATA_TRAINING[kind], **(SMALL_TEXT_TRAINING if _small_text(kind, train_size) else {})}


def _small_text(kind: str, train_size: int) -> bool:
    return kind == "text" and train_size < SMALL_TEXT


# Members of the default ensemble for fewer training texts than SMALL_TEXT: on a few hundred texts one model's
# answers vary with its initial weights by about as much as lstmlab leads a bag-of-words model; the mean of several
# members' probabilities varies less (UCI sentences, tuning seeds 10-19: see benchmarks/README.md)
SMALL_TEXT_ENSEMBLE = 5


def data_ensemble(kind: str, train_size: int) -> int:
    """The default ensemble size for `train_size` examples of the kind of data: 1 (one model) but for small text
    sets (`SMALL_TEXT_ENSEMBLE`)."""
    return SMALL_TEXT_ENSEMBLE if _small_text(kind, train_size) else 1


# Where a preset trains better with other settings than its data kind's: the convolutional path of series-lstm-fcn
# (BatchNormalization, 300k weights) overshoots at 3e-3 and needs fewer epochs
PRESET_TRAINING: dict[str, dict[str, Any]] = {"series-lstm-fcn": {"epochs": 100, "learning_rate": 1e-3}}

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
    data: DataSpec | None = None  # the user's labelled texts instead of a generated task
    ensemble: int | None = None  # members trained side by side (mean of their probabilities); None: the default


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


@dataclass(frozen=True)
class TaskSetup:
    """A task run's pieces before training: the task and its config, training settings, the model."""

    task: Task
    task_conf: Any
    config: TrainConfig
    model_conf: Any
    model: Sequential
    pieces: int | None  # piece_steps of the model

    def test_set(self, size: int) -> SequenceData:
        return make_test_set(self.task, self.task_conf, size, self.config.seed)


def set_up(spec: RunSpec) -> TaskSetup:
    """Task, training config and the seeded model of `spec`, checked to fit each other."""
    task = get_task(spec.task)
    task_conf = task_config(spec.task, **spec.task_options)
    config = train_config(task, spec)
    set_seed(config.seed)
    model_conf = model_config(task, task_conf, spec.preset, spec.model_options)
    model = ensemble_of(
        lambda: get_preset(spec.preset).build(model_conf), 1 if spec.ensemble is None else spec.ensemble
    )
    check_fits(task, model)
    if model.batch_size is not None and config.batch_size != model.batch_size:
        raise ValueError(f"Expected batch size {model.batch_size} for {spec.preset}. Received: {config.batch_size}")
    return TaskSetup(task, task_conf, config, model_conf, model, piece_steps(model))


def keep_best(
    patience: int | None, config: TrainConfig, out: Path, model: Sequential, description: dict[str, Any]
) -> list[Callback]:
    """The run keeps its best epoch by val_loss: on disk as training goes, and in the end (stopping after
    `patience` epochs without improvement; None: never)."""
    stop_after = patience if patience is not None else config.epochs or 0
    return [
        EarlyStopping("val_loss", patience=stop_after, restore_best=True, sink=None),
        ModelCheckpoint(lambda m: save_model(out, model, description), monitor="val_loss"),
    ]


def write_results(out: Path, history: History, scores: Scores) -> None:
    """history.csv, updates.csv (online runs) and metrics.json of a finished run."""
    write_history(out / "history.csv", history.epochs)
    if history.update_loss:
        rows = [
            {"update": float(i + 1), "loss": loss, "accuracy": acc}
            for i, (loss, acc) in enumerate(zip(history.update_loss, history.update_accuracy, strict=True))
        ]
        write_history(out / "updates.csv", rows)
    write_json(out / "metrics.json", {"test": dataclasses.asdict(scores)})


def train_run(spec: RunSpec, out: Path, *, progress: Progress | None = None) -> tuple[Sequential, Scores, History]:
    """Train `spec.preset` on `spec.task` (or on `spec.data`), save the run directory `out`, and score a test set."""
    if spec.data is not None:
        return train_data_run(spec, spec.data, out, progress=progress)
    setup = set_up(spec)
    task, task_conf, config, model = setup.task, setup.task_conf, setup.config, setup.model
    description = run_config(
        spec.preset,
        setup.model_conf,
        {
            "task": {"name": task.name, "config": dataclasses.asdict(task_conf)},
            "train": dataclasses.asdict(config),
            "data": {"train_size": spec.train_size, "test_size": spec.test_size, "patience": spec.patience},
        },
        ensemble=ensemble_size(model),
    )
    train: SequenceData | Callable[[int, torch.Generator], SequenceData]
    if spec.train_size is None:
        train = lambda count, generator: task.sample(task_conf, count, generator)  # noqa: E731
    else:
        train = task.sample(task_conf, spec.train_size, torch.Generator().manual_seed(config.seed + 1))
    callbacks: list[Callback] = []
    if spec.train_size is not None and config.validation_split > 0:
        callbacks = keep_best(spec.patience, config, out, model, description)
    elif spec.patience is not None:
        raise ValueError("Expected a fixed training set (--train-size) with a validation split for early stopping")
    prepare_directory(out)
    history = fit(model, train, config=config, callbacks=callbacks, progress=progress, piece_steps=setup.pieces)
    save_model(out, model, description)
    scores = evaluate(model, setup.test_set(spec.test_size), **_batching(model, setup.pieces))
    write_results(out, history, scores)
    return model, scores, history


def data_model(preset: str, sets: DataSets, overrides: dict[str, Any], ensemble: int = 1) -> tuple[Any, Sequential]:
    """The preset sized for the data (vocabulary and length, or channels; classes), then the user's changes, as
    one model or an ensemble of `ensemble` members; it must read what the data holds (token ids or series of any
    length) and give one answer per example."""
    fields = {f.name for f in dataclasses.fields(get_preset(preset).config)}
    encoder = sets.encoder
    classes = len(encoder.labels)
    implied: dict[str, Any] = {"num_classes": classes}
    if isinstance(encoder, TextEncoder):
        implied |= {"vocab_size": encoder.vocabulary.size, "max_len": encoder.max_len}
    else:
        implied |= {"features": encoder.channels, "steps": None, **SERIES_REGULARISATION}
    config = preset_config(preset, **{**{k: v for k, v in implied.items() if k in fields}, **overrides})
    model = ensemble_of(lambda: get_preset(preset).build(config), ensemble)
    first = model.layers[0]
    answers = model.output_shape == ((1,) if classes == 2 else (classes,))
    if isinstance(encoder, SeriesScaler):
        if isinstance(first, Embedding) or not answers or model.input_shape != (None, encoder.channels):
            raise ValueError(
                f"Expected a model that reads series of any length with {encoder.channels} channels and gives one "
                f"answer of {classes} classes per series. Received: {preset} with input {model.input_shape}, "
                f"output {model.output_shape}"
            )
        return config, model
    if not isinstance(first, Embedding) or not answers:
        raise ValueError(
            f"Expected a model that reads token ids and gives one answer per text for text data. Received: {preset}"
        )
    if first.mask_zero and encoder.settings.padding == "pre":
        raise ValueError(
            "Expected padding='post' with mask_zero=true (lengths keep padding out of both directions). Received: "
            "padding='pre'; use it only with --set mask_zero=false, where the model reads the padding as Keras does"
        )
    return config, model


def train_data_run(
    spec: RunSpec, data: DataSpec, out: Path, *, progress: Progress | None = None
) -> tuple[Sequential, Scores, History]:
    """Train on the user's texts or series with the data kind's settings for its size (`data_training`), the
    preset's own where it has them (`PRESET_TRAINING`), then the user's. With a validation split the best epoch by
    val_loss is kept, without one the last."""
    sets = prepare_data(data)
    defaults = data_training(data.kind, len(sets.train))
    config = TrainConfig(**{**defaults, **PRESET_TRAINING.get(spec.preset, {}), **spec.train})
    set_seed(config.seed)
    size = data_ensemble(data.kind, len(sets.train)) if spec.ensemble is None else spec.ensemble
    model_conf, model = data_model(spec.preset, sets, spec.model_options, size)
    description = run_config(
        spec.preset,
        model_conf,
        {
            "dataset": {"spec": data.to_json(), "encoder": sets.encoder.to_json()},
            "train": dataclasses.asdict(config),
            "data": {"train_size": len(sets.train), "test_size": len(sets.test), "patience": spec.patience},
        },
        ensemble=ensemble_size(model),
    )
    if config.validation_split == 0 and spec.patience is not None:
        raise ValueError("Expected a validation split (--validation-split) for early stopping. Received: none")
    if config.validation_split > 0:
        sets.train.split(config.validation_split)  # refuses a split that leaves nothing to train, before any write
    callbacks = keep_best(spec.patience, config, out, model, description) if config.validation_split > 0 else []
    prepare_directory(out)
    history = fit(model, sets.train, config=config, callbacks=callbacks, progress=progress)
    save_model(out, model, description)
    scores = evaluate(model, sets.test)
    write_results(out, history, scores)
    return model, scores, history


def _batching(model: Sequential, pieces: int | None) -> dict[str, Any]:
    return {"batch_size": model.batch_size or 256, "piece_steps": pieces}


def load_data_run(directory: Path) -> tuple[Sequential, DataSpec, Encoder, dict[str, Any]]:
    """A saved run's model, data spec, encoder (text or series) and description, for runs trained on --data."""
    model, description = load_model(directory)
    if "dataset" not in description:
        raise ValueError(f"Expected a run trained on your data (--data). Received: {directory} was trained on a task")
    saved = description["dataset"]
    return model, DataSpec.from_json(saved["spec"]), encoder_from_json(saved["encoder"]), description


def is_data_run(directory: Path) -> str | None:
    """'text' or 'series' for a run trained on --data, None for a task run; the description alone, no weights."""
    saved = read_config(directory).get("dataset")
    return None if saved is None else ("series" if "mean" in saved["encoder"] else "text")


def load_run(directory: Path) -> tuple[Sequential, Task, Any, dict[str, Any]]:
    """A saved run's model, task, task config and description."""
    model, description = load_model(directory)
    if "dataset" in description:
        raise ValueError(f"Expected a run trained on a task. Received: {directory} was trained on your data (--data)")
    missing = [key for key in ("task", "train", "data") if key not in description]
    if missing:
        raise ValueError(f"Expected a training run in {directory}. Received: no {', '.join(missing)} in its config")
    task = get_task(description["task"]["name"])
    return model, task, task_config(task.name, **description["task"]["config"]), description


def evaluate_run(directory: Path, *, test_size: int | None = None, seed: int | None = None) -> Scores:
    """Score a saved run on a fresh test set of its task (the run's own test set by default); a text run on its
    test split, rebuilt from the saved data spec and encoded with the saved vocabulary."""
    if is_data_run(directory):
        data_model_, data_spec, encoder, _ = load_data_run(directory)
        return evaluate(data_model_, saved_test_set(data_spec, encoder))
    model, task, task_conf, description = load_run(directory)
    size = test_size or description["data"]["test_size"]
    data = make_test_set(task, task_conf, size, description["train"]["seed"] if seed is None else seed)
    return evaluate(model, data, **_batching(model, piece_steps(model)))


def predict_run(model: Sequential, data: SequenceData) -> torch.Tensor:
    """Class probabilities of a task run's model (from `load_run`) for `data`, batched as the model needs."""
    return predict_probabilities(model, data, **_batching(model, piece_steps(model)))


def predict_texts(directory: Path, texts: list[str]) -> tuple[list[str], torch.Tensor]:
    """Raw texts through a saved text run: each text's predicted class name, and the class probabilities
    `(N, classes)` (for two classes the probability of the second, as one column)."""
    model, _, encoder, _ = load_data_run(directory)
    if not isinstance(encoder, TextEncoder):
        raise ValueError(f"Expected a run trained on text for --text. Received: {directory} was trained on series")
    ids, lengths = encoder.encode(texts)
    return _named(model, encoder.labels, SequenceData(ids, torch.zeros(len(texts), dtype=torch.long), lengths))


def predict_series(directory: Path, series: list[np.ndarray], source: str) -> tuple[list[str], torch.Tensor]:
    """Raw series `(steps, channels)` through a saved series run (standardised with the saved scaler): each one's
    predicted class name and the class probabilities, as `predict_texts`."""
    model, _, encoder, _ = load_data_run(directory)
    if not isinstance(encoder, SeriesScaler):
        raise ValueError(f"Expected a run trained on series for --series-file. Received: {directory} read text")
    x, lengths = encoder.transform(series, source)
    return _named(model, encoder.labels, SequenceData(x, torch.zeros(len(series), dtype=torch.long), lengths))


def _named(model: Sequential, labels: tuple[str, ...], data: SequenceData) -> tuple[list[str], torch.Tensor]:
    probabilities = predict_probabilities(model, data)
    return [labels[i] for i in classes_from_probabilities(probabilities).tolist()], probabilities
