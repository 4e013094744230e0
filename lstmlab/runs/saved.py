"""Using a saved run: load it, score it on its test set, predict with it (raw texts, series files, sequences of
numbers or token ids, or a fresh example of its task)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import DataSpec, Encoder, SequenceData, TextEncoder, encoder_from_json, is_aeon, load_series, saved_test_set
from ..layers import Masking
from ..models import Sequential
from ..seeds import Seeds
from ..training import Scores, classes_from_probabilities, evaluate, predict
from .files import RunKind, load_model, read_config, run_kind
from .sequence_files import Reads, labelled_file, model_reads, sequences_file
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
        if self.kind == "imported":
            raise ValueError(
                f"Expected a run trained on a task. Received: {self.directory} holds an imported model (give it "
                "sequences: predict --input FILE, evaluate --data FILE)"
            )
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
        if self.kind == "imported":
            raise ValueError(
                f"Expected a run trained on your texts or series. Received: {self.directory} holds an imported model "
                "(give it sequences of numbers or token ids: predict --input FILE)"
            )
        if self.kind == "task":
            raise ValueError(
                f"Expected a run trained on your data (--data). Received: {self.directory} was trained on a task"
            )
        saved = self.description["dataset"]
        return DataSpec.from_json(saved["spec"]), encoder_from_json(saved["encoder"])

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names by id: the encoder's for runs on the user's data, else what the model reads."""
        if self.kind in ("text", "series"):
            return tuple(self.data[1].labels)
        return self.reads.labels

    @property
    def reads(self) -> Reads:
        """What the model reads and answers (task runs and imported models: their inputs come as sequences).

        Raises:
            ValueError: for a run trained on texts or series (their inputs come through the saved encoder).
        """
        if self.kind in ("text", "series"):
            raise ValueError(
                f"Expected a run trained on a task or an imported model for sequences of numbers. Received: "
                f"{self.directory} was trained on {self.kind} (--data)"
            )
        if self.kind == "imported":
            return model_reads(self.model, tuple(self.description["labels"]))
        task, _ = self.task
        return Reads(task.inputs == "tokens", task.targets == "per-step", model_reads(self.model).labels)


def saved_kind(directory: Path) -> RunKind:
    """What a saved run was trained on ("task", "text" or "series"), from its description alone (no weights)."""
    return run_kind(read_config(directory))


def load_run(directory: Path) -> SavedRun:
    """A saved run, its description checked to hold what its kind needs (one line naming the file otherwise)."""
    model, description = load_model(directory)
    run = SavedRun(directory, _with_masking(model, description), description, run_kind(description))
    try:
        if run.kind == "task":
            run.task  # noqa: B018 - reads and checks the task
            int(description["train"]["seed"]), int(description["data"]["test_size"])
        elif run.kind == "imported":
            _check_imported(run)
        else:
            run.data  # noqa: B018 - reads and checks the data spec and the encoder
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"Expected a complete {run.kind} run description in {directory / 'model.safetensors'}. Received: "
            f"{type(error).__name__} {error}"
        ) from None
    return run


def _with_masking(model: Sequential, description: dict[str, Any]) -> Sequential:
    """`model`, with the Masking layer that runs imported before it was a layer recorded beside it ("mask_value")."""
    mask_value = description.get("mask_value")
    if mask_value is None or type(model) is not Sequential or isinstance(model.layers[0], Masking):
        return model
    layers = [Masking(float(mask_value)), *model.layers]
    masked = Sequential(layers, input_shape=model.input_shape, batch_size=model.batch_size, name=model.name)
    return masked.eval()


def _check_imported(run: SavedRun) -> None:
    """An imported model's description against the model: its labels name every class, its inputs are the model's."""
    labels, inputs = run.description["labels"], run.description["inputs"]
    expected = model_reads(run.model)
    if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
        raise TypeError(f"labels {labels!r} are not a list of strings")
    if len(set(labels)) != len(expected.labels):
        raise TypeError(f"{len(labels)} labels for {len(expected.labels)} classes")
    if inputs != ("ids" if expected.tokens else "values"):
        raise TypeError(f"inputs {inputs!r} for a model reading {'ids' if expected.tokens else 'values'}")


def evaluate_run(
    directory: Path, *, test_size: int | None = None, seed: int | None = None, data: Path | None = None
) -> tuple[Scores, str]:
    """Score a saved run on its test set, and say which: a task's fresh examples (the run's own by default, or
    `test_size` examples drawn by `seed`), the user's data's test split, rebuilt from the saved data spec and
    encoded with the saved encoder; or the labelled sequences of the file `data` (text lines or .npz arrays:
    `sequence_files`), for task runs and imported models, which have no test set of their own."""
    run = load_run(directory)
    if data is not None:
        if test_size is not None or seed is not None:
            raise ValueError("Expected no --test-size or --seed with --data (the file is the test set)")
        reads = run.reads
        labelled = labelled_file(data, run.model, reads)
        return evaluate(run.model, labelled, labels=reads.labels), f"{len(labelled)} sequences of {data}"
    if run.kind == "imported":
        raise ValueError(
            f"Expected --data FILE (labelled sequences) to score {directory}. Received: none (an imported model has "
            "no test set of its own)"
        )
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
    examples = task.sample(conf, size, torch.Generator().manual_seed(test_seed))
    where = f"{size} fresh examples of {task.name}" + (" (the run's own test set)" if own and test_size is None else "")
    return evaluate(run.model, examples), where


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


def predict_sequences(directory: Path, path: Path) -> list[str]:
    """The sequences of a file (text lines or .npz arrays: `sequence_files`) through a saved task run or imported
    model.

    Returns:
        A line per sequence. Task runs: the class of every step, or the sequence's class and its probability.
        Imported models: the class (of every step, space-separated), a tab, then the probabilities as Keras's
        `predict` gives them (one for a sigmoid, one per class joined by commas for a softmax; steps
        space-separated).
    """
    run = load_run(directory)
    reads = run.reads
    data = sequences_file(path, run.model, reads)
    probabilities = predict(run.model, data)  # (N, [T,] C)
    shown = []
    for row, p in enumerate(probabilities):
        n = int(data.lengths[row]) if data.lengths is not None else data.x.shape[1]
        p = p[:n] if reads.per_step else p
        classes = classes_from_probabilities(p)
        if run.kind == "imported":
            answers = p if reads.per_step else p[None]
            written = " ".join(",".join(f"{float(v):.6f}" for v in answer) for answer in answers)
            named = [reads.labels[c] for c in (classes.tolist() if classes.dim() else [int(classes)])]
            shown.append(" ".join(named) + "\t" + written)
        elif classes.dim():
            shown.append(" ".join(map(str, classes.tolist())))
        else:
            shown.append(f"{int(classes)} (p={float(p.max()):.3f})")
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
