"""Using a saved run: load it, score it on its test set, predict with it (raw texts, series files, sequences of
numbers or token ids, or a fresh example of its task)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import SequenceData
from ..data.datasets import DataSpec, Encoder, encoder_from_json, saved_test_set
from ..data.loaders import lines, read_text
from ..data.series import is_aeon, load_series
from ..data.text import TextEncoder
from ..layers import Embedding
from ..models import Sequential
from ..seeds import Seeds
from ..training import Scores, classes_from_probabilities, evaluate, predict
from .runs import RunKind, load_model, read_config, run_kind
from .tasks import Task, get_task, task_config

__all__ = [
    "Prediction",
    "SavedRun",
    "evaluate_run",
    "load_run",
    "predict_example",
    "predict_sequences",
    "predict_series",
    "predict_texts",
    "saved_kind",
]


@dataclass(frozen=True)
class SavedRun:
    """A saved run: its model (eval mode), description and what it was trained on."""

    directory: Path
    model: Sequential
    description: dict[str, Any]
    kind: RunKind

    @property
    def task(self) -> tuple[Task, Any]:
        """The task and its config (runs trained on a task)."""
        if self.kind != "task":
            raise ValueError(
                f"Expected a run trained on a task. Received: {self.directory} was trained on your data (--data)"
            )
        missing = [key for key in ("task", "train", "data") if key not in self.description]
        if missing:
            raise ValueError(
                f"Expected a training run in {self.directory}. Received: no {', '.join(missing)} in its config"
            )
        task = get_task(self.description["task"]["name"])
        return task, task_config(task.name, **self.description["task"]["config"])

    @property
    def data(self) -> tuple[DataSpec, Encoder]:
        """The data spec and the fitted encoder (runs trained on the user's data)."""
        if self.kind == "task":
            raise ValueError(
                f"Expected a run trained on your data (--data). Received: {self.directory} was trained on a task"
            )
        saved = self.description["dataset"]
        return DataSpec.from_json(saved["spec"]), encoder_from_json(saved["encoder"])


def saved_kind(directory: Path) -> RunKind:
    """What a saved run was trained on ("task", "text" or "series"), from its description alone (no weights)."""
    return run_kind(read_config(directory))


def load_run(directory: Path) -> SavedRun:
    """A saved run, its description checked to hold what its kind needs (one line naming the file otherwise)."""
    model, description = load_model(directory)
    run = SavedRun(directory, model, description, run_kind(description))
    try:
        if run.kind == "task":
            run.task  # noqa: B018 - reads and checks the task
            int(description["train"]["seed"]), int(description["data"]["test_size"])
        else:
            run.data  # noqa: B018 - reads and checks the data spec and the encoder
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"Expected a complete {run.kind} run description in {directory / 'model.safetensors'}. Received: "
            f"{type(error).__name__} {error}"
        ) from None
    return run


def evaluate_run(directory: Path, *, test_size: int | None = None, seed: int | None = None) -> tuple[Scores, str]:
    """Score a saved run on its test set, and say which: a task's fresh examples (the run's own by default, or
    `test_size` examples drawn by `seed`), or the user's data's test split, rebuilt from the saved data spec and
    encoded with the saved encoder."""
    run = load_run(directory)
    if run.kind != "task":
        spec, encoder = run.data
        if test_size is not None or seed is not None:
            raise ValueError("Expected no --test-size or --seed for a run trained on your data (its test split)")
        where = spec.test_path or f"the stratified {spec.test_fraction:.0%} split of {spec.path}, seed {spec.split}"
        if spec.aeon:
            where = f"the TEST split of {spec.path}"
        return evaluate(run.model, saved_test_set(spec, encoder), labels=encoder.labels), where
    task, conf = run.task
    size = test_size or run.description["data"]["test_size"]
    own = seed is None
    test_seed = Seeds(run.description["train"]["seed"] if seed is None else seed).test_set
    data = task.sample(conf, size, torch.Generator().manual_seed(test_seed))
    where = f"{size} fresh examples of {task.name}" + (" (the run's own test set)" if own and test_size is None else "")
    return evaluate(run.model, data), where


@dataclass(frozen=True)
class Prediction:
    """A predicted class (its name) and the probability the model gives it."""

    label: str
    confidence: float


def _predictions(model: Sequential, labels: tuple[str, ...], data: SequenceData) -> list[Prediction]:
    probabilities = predict(model, data)  # (N, C), or (N, 1) for two classes
    chosen = classes_from_probabilities(probabilities).tolist()
    confidence = [
        float(p.max()) if p.shape[0] > 1 else max(float(p[0]), 1 - float(p[0])) for p in probabilities.unbind()
    ]
    return [Prediction(labels[c], conf) for c, conf in zip(chosen, confidence, strict=True)]


def predict_texts(directory: Path, texts: list[str]) -> list[Prediction]:
    """Raw texts through a saved text run: each text's predicted class name and its probability."""
    run = load_run(directory)
    _, encoder = run.data
    if not isinstance(encoder, TextEncoder):
        raise ValueError(f"Expected a run trained on text for --text. Received: {directory} was trained on series")
    return _predictions(run.model, encoder.labels, encoder.unlabelled(texts))


def predict_series(directory: Path, path: str) -> list[tuple[Prediction, str]]:
    """The series of a .ts or .npz file through a saved series run (standardised with the saved scaler): each
    one's prediction and the label the file gives it (or '' where it gives none)."""
    run = load_run(directory)
    _, encoder = run.data
    if isinstance(encoder, TextEncoder):
        raise ValueError(f"Expected a run trained on series for --series-file. Received: {directory} read text")
    if is_aeon(path):
        raise ValueError(
            f"Expected a .ts or .npz file for --series-file. Received: {path} (lstmlab evaluate scores a run on its "
            "archive's TEST split)"
        )
    series = load_series(path, labelled=False)
    found = _predictions(run.model, encoder.labels, encoder.unlabelled(series.values, series.source))
    return list(zip(found, series.labels, strict=True))


def read_sequences(path: Path, tokens: bool) -> list[list[float]]:
    """One sequence a line: numbers separated by commas or spaces (token ids for token models)."""
    if not path.is_file():
        raise ValueError(f"Expected an input file of sequences, one a line. Received: {path} does not exist")
    rows = []
    for number, line in enumerate(lines(read_text(path)), start=1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.replace(",", " ").split()]
        except ValueError:
            kind = "token ids" if tokens else "numbers"
            raise ValueError(
                f"Expected {kind} separated by commas or spaces in {path}:{number}. Received: {line!r}"
            ) from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"Expected finite numbers in {path}:{number}. Received: {line!r}")
        if tokens and any(v != int(v) or not 0 <= v < 2**62 for v in values):
            raise ValueError(f"Expected non-negative integer token ids in {path}:{number}. Received: {line!r}")
        rows.append(values)
    if not rows:
        raise ValueError(f"Expected at least one sequence in {path}. Received: an empty file")
    return rows


def pad_rows(rows: list[list[float]], model: Sequential, tokens: bool, per_step: bool) -> SequenceData:
    """Right-pad the rows to the model's input length (or the longest row) with their lengths.

    A model that reads in pieces (stateful) takes rows of one length, a multiple of its piece, unpadded.
    """
    piece = model.input_shape[0] if model.stateful else None
    if piece is not None and (len({len(r) for r in rows}) > 1 or len(rows[0]) % piece):
        raise ValueError(
            f"Expected sequences of one length, a multiple of {piece}, for a stateful model. "
            f"Received: lengths {sorted({len(r) for r in rows})}"
        )
    steps = max(map(len, rows)) if piece is not None else model.input_shape[0] or max(map(len, rows))
    too_long = [i for i, row in enumerate(rows, start=1) if len(row) > steps]
    if too_long:
        raise ValueError(
            f"Expected at most {steps} values a line (the model's input length). Received: line {too_long[0]}"
        )
    lengths = torch.tensor([len(row) for row in rows])
    x = torch.zeros(len(rows), steps, dtype=torch.long if tokens else torch.float32)
    for i, row in enumerate(rows):
        x[i, : len(row)] = torch.tensor(row, dtype=x.dtype)
    if not tokens:
        x = x.unsqueeze(-1)
    placeholder = torch.zeros(x.shape[:2] if per_step else x.shape[:1], dtype=torch.long)  # targets are unknown
    return SequenceData(x, placeholder, None if bool((lengths == steps).all()) else lengths)


def predict_sequences(directory: Path, path: Path) -> list[str]:
    """The sequences of a file (one a line) through a saved task run: per line, the class of every step, or the
    sequence's class and its probability."""
    run = load_run(directory)
    task, _ = run.task
    tokens = task.inputs == "tokens"
    rows = read_sequences(path, tokens)
    first = run.model.layers[0]
    if isinstance(first, Embedding):
        line = next((i for i, row in enumerate(rows, start=1) if max(row) >= first.input_dim), None)
        if line is not None:
            raise ValueError(
                f"Expected token ids in 0..{first.input_dim - 1} (the model's vocabulary) in {path}, sequence "
                f"{line}. Received: {int(max(rows[line - 1]))}"
            )
    data = pad_rows(rows, run.model, tokens, task.targets == "per-step")
    probabilities = predict(run.model, data)
    shown = []
    for row, p in enumerate(probabilities):
        n = int(data.lengths[row]) if data.lengths is not None else p.shape[0]
        classes = classes_from_probabilities(p[:n] if task.targets == "per-step" else p)
        shown.append(
            " ".join(map(str, classes.tolist())) if classes.dim() else f"{int(classes)} (p={float(p.max()):.3f})"
        )
    return shown


def predict_example(directory: Path, seed: int) -> list[str]:
    """The tutorial's check on a fresh example of the run's task (drawn by `seed`): per step, the value, the
    expected and the predicted class; or the sequence, then the expected and the predicted class."""
    run = load_run(directory)
    task, conf = run.task
    data = task.sample(conf, 1, torch.Generator().manual_seed(seed))
    probabilities = predict(run.model, data)[0]
    n = int(data.lengths[0]) if data.lengths is not None else data.x.shape[1]
    if data.per_step:
        predicted = classes_from_probabilities(probabilities)
        return [
            f"x={float(data.x[0, t, 0]):.2f}  Expected: {int(data.y[0, t])}  Predicted: {int(predicted[t])}"
            for t in range(n)
        ]
    if task.inputs == "tokens":
        shown = " ".join(str(int(v)) for v in data.x[0, :n])
    else:
        shown = " ".join(f"{float(v):.2f}" for v in data.x[0, :n, 0])
    chosen = int(classes_from_probabilities(probabilities))
    return [shown, f"Expected: {int(data.y[0])}  Predicted: {chosen} (p={float(probabilities.max()):.3f})"]
