"""Comparisons of models and classical baselines on the user's own data, over paired splits.

Every model and every baseline is trained and scored on the same splits: repeated stratified train/test splits
(`seeds`, the split's seed varying with the run's), stratified k-fold (`folds`, each example in one test set), or
the data's own split (`aeon:NAME`, `--test-data`), where the seeds vary only the initialisation. Each split's two
parts are written as files (JSON Lines for texts, `.npz` for series) and each model trains on them through the same
`RunSpec` path as `lstmlab train --data TRAIN --test-data TEST`, with the defaults `train` would use; each baseline
reads the same files through the same loaders. Runs are spread over processes as in `sweep`. `results.csv` (one row
per model or baseline and split) and `runs.json` (the splits' test indices, what each run scored) are what
`write_data_report` reads.

With a grid (`--grid KEY=V1,V2,...`) every model trains at every point of it. A model's point is chosen on
validation data, never on the test set: each split's training part gives GRID_VALIDATION of each class (drawn by the
split's seed) as a validation part, every model at every point and every baseline train on the rest, and each model
run is scored on the validation part as well as on the test part (`data_report` writes the report, grid sections
included).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import write_csv, write_json
from ..data import (
    DataSpec,
    encoder_from_json,
    load_series,
    load_series_split,
    load_split,
    load_texts,
    saved_test_set,
    stratified_split,
)
from ..runs import RunSpec, TrainChoices, prepare
from ..training import Trainer, evaluate, world
from .baselines import INSTALL, baselines_for, fit_baseline
from .grid import model_part, point_label, training_part
from .spec import Grid
from .sweep import latency_ms

__all__ = [
    "DEFAULT_SPLITS",
    "GRID_VALIDATION",
    "DataCompareSpec",
    "Split",
    "kfold_splits",
    "macro_f1",
    "make_splits",
    "run_data_comparison",
    "scored_digest",
]

DEFAULT_SPLITS = 5  # repeated splits (or seeds on a given split) without --seeds or --folds
LATENCY_REPEATS = 20
GRID_VALIDATION = 0.2  # with a grid: the share of each class of a training split held out to choose each model's point


@dataclass(frozen=True)
class Split:
    """One train/test split: indices into the examples (for a given split, into its training and test files)."""

    number: int
    seed: int  # the runs' seed: initial weights, training order (and, for repeated splits, the split itself)
    train: tuple[int, ...]
    test: tuple[int, ...]  # into the examples, or for a given split into its test examples
    validation: tuple[int, ...] = ()  # with a grid: held out of the training part to choose each model's point

    @property
    def digest(self) -> str:
        """sha256 of the training, test (and validation) indices: equal for every run on this split."""
        parts = [self.train, self.test, *([self.validation] if self.validation else [])]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


@dataclass(frozen=True)
class DataCompareSpec:
    """Models (label, preset, options) and the data's baselines on the user's data over paired splits."""

    models: tuple[tuple[str, str, dict[str, Any]], ...]
    data: DataSpec
    seeds: int | None = None  # repeated stratified splits (given split: seeds); None: DEFAULT_SPLITS
    folds: int | None = None  # stratified k-fold instead
    train: TrainChoices = field(default_factory=TrainChoices)  # None fields: what `train` would use
    baselines: bool = True
    workers: int = 0  # processes; 0: one per core, at most one per run
    grid: Grid = field(default_factory=Grid)  # every model at every point (no axes: each model once)

    def __post_init__(self) -> None:
        if len(self.models) < 2 and not (self.models and len(self.grid.points()) > 1):
            raise ValueError(f"Expected at least two models to compare. Received: {[m[0] for m in self.models]}")
        labels = [label for label, _, _ in self.models]
        if len(set(labels)) != len(labels):
            raise ValueError(f"Expected each model once. Received: {labels}")
        if self.seeds is not None and self.folds is not None:
            raise ValueError(f"Expected --seeds or --folds, not both. Received: {self.seeds} and {self.folds}")
        if self.seeds is not None and self.seeds < 2:
            raise ValueError(f"Expected at least 2 seeds for confidence intervals. Received: seeds={self.seeds}")
        if self.folds is not None and self.folds < 2:
            raise ValueError(f"Expected --folds of at least 2. Received: {self.folds}")
        if self.folds is not None and self.given_split:
            raise ValueError(
                f"Expected --folds on data without its own test set. Received: {self.data.test_path or self.data.path} "
                "(use --seeds: the given split with seeds varying the initialisation)"
            )
        if self.data.split_seed is not None:
            raise ValueError(
                f"Expected no --split-seed with compare (each split's seed is its number). Received: "
                f"{self.data.split_seed}"
            )
        if self.train.updates is not None:
            raise ValueError(
                f"Expected --epochs with --data (a fixed training set). Received: --updates {self.train.updates}"
            )

    @property
    def given_split(self) -> bool:
        """The data brings its test set (an aeon archive's TEST split, or --test-data)."""
        return self.data.aeon or self.data.test_path is not None

    @property
    def splits(self) -> int:
        return self.folds or self.seeds or DEFAULT_SPLITS

    def cells(self) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
        """(cell label, model label, preset, options, grid point) of every model at every point: the model alone
        without a grid, `LABEL @ KEY=VALUE, ...` with one."""
        return [
            (f"{label} @ {point_label(point)}" if point else label, label, preset, options, point)
            for label, preset, options in self.models
            for point in self.grid.points()
        ]

    def how(self) -> str:
        """The splits in words, for the report."""
        if self.given_split:
            where = (
                "the archive's TRAIN/TEST split" if self.data.aeon else f"the given test set ({self.data.test_path})"
            )
            return f"{where}, {self.splits} seeds varying only the initial weights and training order"
        if self.folds:
            return f"stratified {self.folds}-fold cross-validation (each example in one test set once)"
        return (
            f"{self.splits} repeated stratified splits, {self.data.test_fraction:.0%} of each class held out, split s "
            "drawn by seed s"
        )


# ---- examples and splits


@dataclass(frozen=True)
class Examples:
    """Raw inputs (texts, or series `(steps, channels)`) and class names; `test` for data with its own test set."""

    kind: str  # 'text' or 'series'
    inputs: list[Any]
    labels: list[str]
    test_inputs: list[Any] | None = None
    test_labels: list[str] | None = None


def load_examples(data: DataSpec) -> Examples:
    """All examples of `data` as its loaders read them (no split, no encoding); a given split keeps its parts."""
    if data.kind == "series":
        if data.aeon or data.test_path is not None:
            train, test = load_series_split(dataclasses.replace(data, split_seed=0))
            return Examples("series", train.values, train.labels, test.values, test.labels)
        every = load_series(data.path, data.data_format)
        return Examples("series", every.values, every.labels)
    if data.test_path is not None:
        train_examples, test_examples = load_split(dataclasses.replace(data, split_seed=0))
        return Examples(
            "text",
            [e.text for e in train_examples],
            [e.label for e in train_examples],
            [e.text for e in test_examples],
            [e.label for e in test_examples],
        )
    examples = load_texts(
        Path(data.path),
        data_format=data.data_format,
        text_column=data.text_column,
        label_column=data.label_column,
        encoding=data.encoding,
    )
    return Examples("text", [e.text for e in examples], [e.label for e in examples])


def kfold_splits(labels: Sequence[str], folds: int, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """Stratified k-fold: each class's examples, shuffled by `seed`, dealt to the folds in turn; fold k is the
    test set of split k, so every example is tested exactly once.

    Raises:
        ValueError: if a class has fewer examples than folds (a fold's training part would lack it or its test
            part would).

    Example:
        >>> [test for _, test in kfold_splits(["a", "a", "b", "b"], 2)]
        [[1, 3], [0, 2]]
    """
    counts = {label: labels.count(label) for label in sorted(set(labels))}
    rarest = min(counts, key=lambda label: counts[label])
    if counts[rarest] < folds:
        raise ValueError(
            f"Expected --folds at most the smallest class's count ({counts[rarest]} of {rarest!r}). Received: {folds}"
        )
    generator = torch.Generator().manual_seed(seed)
    assigned = [0] * len(labels)
    for label in counts:
        members = [i for i, x in enumerate(labels) if x == label]
        for j, k in enumerate(torch.randperm(len(members), generator=generator).tolist()):
            assigned[members[k]] = j % folds
    return [
        ([i for i, f in enumerate(assigned) if f != k], [i for i, f in enumerate(assigned) if f == k])
        for k in range(folds)
    ]


def make_splits(spec: DataCompareSpec, examples: Examples) -> list[Split]:
    """The comparison's splits, the same for every model and baseline; with a grid, each with its validation part
    (GRID_VALIDATION of each class of its training part, drawn by its seed)."""
    if examples.test_labels is not None:
        train, test = tuple(range(len(examples.labels))), tuple(range(len(examples.test_labels)))
        splits = [Split(s, s, train, test) for s in range(spec.splits)]
    elif spec.folds:
        parts = kfold_splits(examples.labels, spec.folds)
        splits = [Split(k, k, tuple(train), tuple(test)) for k, (train, test) in enumerate(parts)]
    else:
        splits = [
            Split(s, s, *map(tuple, stratified_split(examples.labels, spec.data.test_fraction, s)))
            for s in range(spec.splits)
        ]
    if len(spec.grid.points()) > 1:
        splits = [_with_validation(split, examples.labels) for split in splits]
    return splits


def _with_validation(split: Split, labels: Sequence[str]) -> Split:
    inner, held = stratified_split([labels[i] for i in split.train], GRID_VALIDATION, split.seed)
    if not held:  # stratified_split holds out none of a class with one example, so no class is ever lost
        raise ValueError(
            f"Expected a class with at least two training examples for a grid's validation part. Received: "
            f"{len(split.train)} training examples in split {split.number}, one of each class"
        )
    return dataclasses.replace(
        split, train=tuple(split.train[i] for i in inner), validation=tuple(split.train[i] for i in held)
    )


def write_split(examples: Examples, split: Split, directory: Path, data: DataSpec) -> tuple[DataSpec, DataSpec | None]:
    """The split's training and test parts as files in `directory`, and the DataSpec reading them (the user's
    encoding settings kept), with its validation part as a second DataSpec (the same training file, the validation
    file as its test set) where it has one. A given split without a validation part is the user's own DataSpec."""
    given = examples.test_labels is not None
    if given and not split.validation:
        return data, None
    directory.mkdir(parents=True, exist_ok=True)
    test_inputs = examples.test_inputs if given else examples.inputs
    test_labels = examples.test_labels if given else examples.labels
    assert test_inputs is not None
    assert test_labels is not None
    parts = [("train", examples.inputs, examples.labels, split.train), ("test", test_inputs, test_labels, split.test)]
    if split.validation:
        parts.append(("validation", examples.inputs, examples.labels, split.validation))
    paths = [_write_part(directory, name, examples.kind, *part) for name, *part in parts]
    if examples.kind == "text":
        spec = dataclasses.replace(
            data, path=paths[0], test_path=paths[1], data_format="jsonl", text_column="text", label_column="label"
        )
    else:
        spec = dataclasses.replace(data, path=paths[0], test_path=paths[1], data_format="npz")
    return spec, (dataclasses.replace(spec, test_path=paths[2]) if split.validation else None)


def _write_part(
    directory: Path, name: str, kind: str, inputs: Sequence[Any], labels: Sequence[str], index: Sequence[int]
) -> str:
    """One part of a split as a file: JSON Lines for texts, `.npz` for series (right-padded, with lengths)."""
    if kind == "text":
        path = directory / f"{name}.jsonl"
        rows = (json.dumps({"text": inputs[i], "label": labels[i]}) for i in index)
        path.write_text("".join(f"{row}\n" for row in rows), encoding="utf-8")
        return str(path)
    path = directory / f"{name}.npz"
    values = [inputs[i] for i in index]
    x = np.zeros((len(values), max(len(v) for v in values), values[0].shape[1]))
    for row, v in enumerate(values):
        x[row, : len(v)] = v
    chosen = np.array([labels[i] for i in index])
    np.savez(path, x=x, y=chosen, lengths=np.array([len(v) for v in values], dtype=np.int64))
    return str(path)


# ---- scores


def confusion_of(truth: Sequence[int], predicted: Sequence[int], classes: int) -> list[list[int]]:
    """Counts: rows the true class, columns the predicted one."""
    matrix = [[0] * classes for _ in range(classes)]
    for t, p in zip(truth, predicted, strict=True):
        matrix[t][p] += 1
    return matrix


def macro_f1(confusion: Sequence[Sequence[int]]) -> float:
    """The mean F1 over the classes that occur in the truth or the predictions (as scikit-learn's macro average).

    Example:
        >>> round(macro_f1([[3, 1], [0, 2]]), 4)  # F1 6/7 for class 0, 4/5 for class 1
        0.8286
    """
    scores = []
    for c in range(len(confusion)):
        tp = confusion[c][c]
        true = sum(confusion[c])
        predicted = sum(row[c] for row in confusion)
        if true + predicted:
            scores.append(2 * tp / (true + predicted))
    return float(np.mean(scores))


def scored_digest(inputs: Sequence[Any], labels: Sequence[str]) -> str:
    """sha256 of the examples a run was scored on, in order: each text (or series' values as float64) and label."""
    digest = hashlib.sha256()
    for value, label in zip(inputs, labels, strict=True):
        raw = value.encode() if isinstance(value, str) else np.ascontiguousarray(value, dtype=np.float64).tobytes()
        digest.update(hashlib.sha256(raw).digest() + hashlib.sha256(label.encode()).digest())
    return digest.hexdigest()


# ---- one run


def train_model(spec: RunSpec, threads: int | None = None, validation: DataSpec | None = None) -> dict[str, Any]:
    """Train one model on one split as `train --data` would (nothing kept) and score its test set, and where given
    the `validation` part (a DataSpec whose test set it is)."""
    if threads is not None:
        torch.set_num_threads(threads)
    prepared = prepare(spec)
    model, labels = prepared.model, prepared.labels or []
    with tempfile.TemporaryDirectory() as scratch:  # the best epoch's checkpoint, where a validation split keeps one
        trainer = Trainer(model, prepared.train, config=prepared.config, callbacks=prepared.callbacks(Path(scratch)))
        start = time.perf_counter()
        history = trainer.run()
        seconds = time.perf_counter() - start
    scores = evaluate(model, prepared.test, batch_size=model.batch_size or 256, labels=labels)
    assert prepared.spec.data is not None
    _, _, test_inputs, test_labels = read_split(prepared.spec.data, prepared.kind)  # the files the pipeline read
    if [labels[int(y)] for y in prepared.test_set.y] != test_labels:
        raise RuntimeError(f"The test set of {spec.preset} is not the split's test file {prepared.spec.data.test_path}")
    checked = {}
    if validation is not None:
        held = saved_test_set(validation, encoder_from_json(prepared.description["dataset"]["encoder"]))
        held_scores = evaluate(model, held, batch_size=model.batch_size or 256, labels=labels)
        checked = {"validation_accuracy": held_scores.accuracy, "validation_loss": held_scores.loss}
    return {
        **checked,
        "accuracy": scores.accuracy,
        "macro_f1": macro_f1(scores.confusion),
        "train_seconds": seconds,
        "latency_ms": latency_ms(model, prepared.test_set, LATENCY_REPEATS),
        "test_count": scores.count,
        "scored": scored_digest(test_inputs, test_labels),
        "parameters": model.count_params(),
        "training": {
            "epochs": len(history.epochs),
            "batch_size": prepared.config.batch_size,
            "learning_rate": prepared.config.learning_rate,
            "schedule": prepared.config.schedule,
            "validation_split": prepared.config.validation_split,
            "ensemble": prepared.description["model"]["ensemble"],
        },
    }


def read_split(data: DataSpec, kind: str) -> tuple[list[Any], list[str], list[Any], list[str]]:
    """Raw training and test inputs and labels of a split, through the loaders `prepare_data` uses."""
    resolved = data.resolved(0) if data.split_seed is None else data
    if kind == "series":
        train, test = load_series_split(resolved)
        return train.values, train.labels, test.values, test.labels
    train_examples, test_examples = load_split(resolved)
    return (
        [e.text for e in train_examples],
        [e.label for e in train_examples],
        [e.text for e in test_examples],
        [e.label for e in test_examples],
    )


def train_baseline(name: str, data: DataSpec, kind: str, seed: int) -> dict[str, Any]:
    """Fit one baseline on one split and score its test set."""
    inputs, labels, test_inputs, test_labels = read_split(data, kind)
    classes = sorted(set(labels))
    fitted = fit_baseline(name, inputs, labels, seed=seed, classes=classes)
    predicted = fitted.predict(test_inputs)
    index = {c: i for i, c in enumerate(classes)}
    confusion = confusion_of([index[label] for label in test_labels], predicted.tolist(), len(classes))
    one = test_inputs[:1]
    latency = statistics.median(fitted.timed_predict(one)[1] for _ in range(LATENCY_REPEATS))
    return {
        "accuracy": float(np.mean(predicted == np.array([index[label] for label in test_labels]))),
        "macro_f1": macro_f1(confusion),
        "train_seconds": fitted.fit_seconds,
        "latency_ms": 1000 * latency,
        "test_count": len(test_labels),
        "scored": scored_digest(test_inputs, test_labels),
        "describe": fitted.describe(),
        "chosen": fitted.chosen,
    }


def _run_job(job: tuple[Any, ...], threads: int | None = None) -> dict[str, Any]:
    if threads is not None:
        torch.set_num_threads(threads)
    if job[0] == "model":
        return train_model(job[1], validation=job[2])
    return train_baseline(*job[1:])


# ---- the comparison


def check_extras(kind: str) -> None:
    """Raise one line naming the extra where a baseline's modules are missing."""
    for baseline in baselines_for(kind):
        for module in baseline.needs:
            if importlib.util.find_spec(module) is None:
                package = {"sklearn": "scikit-learn"}.get(module, module)
                raise ValueError(
                    f"Expected {package} for the baseline {baseline.name!r}. Received: not installed; {INSTALL} "
                    "(or --no-baselines)"
                )


def _jobs(
    spec: DataCompareSpec, splits: list[Split], data: list[tuple[DataSpec, DataSpec | None]], kind: str
) -> list[tuple[str, int, Any]]:
    """(label, split number, job) for every model at every grid point and every baseline on every split."""
    out: list[tuple[str, int, Any]] = []
    for split, (split_data, validation) in zip(splits, data, strict=True):
        for label, _, preset, options, point in spec.cells():
            train = dataclasses.replace(spec.train, **training_part(point))
            run = RunSpec(
                preset=preset,
                model_options={**options, **model_part(point)},
                train=train,
                seed=split.seed,
                data=split_data,
            )
            out.append((label, split.number, ("model", run, validation)))
        if spec.baselines:
            for baseline in baselines_for(kind):
                out.append((baseline.name, split.number, ("baseline", baseline.name, split_data, kind, split.seed)))
    return out


def _vectors(data: DataSpec) -> dict[str, str] | None:
    """The pretrained vectors every model started from (None: none), as the report names them."""
    vectors = data.vectors
    if vectors is None:
        return None
    return {"file": Path(vectors.path).name, "mode": vectors.mode, "missing": vectors.missing}


def _class_counts(labels: Sequence[str]) -> dict[str, int]:
    return {label: list(labels).count(label) for label in sorted(set(labels))}


def run_data_comparison(
    spec: DataCompareSpec, out: Path | None, *, advance: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Train every model and baseline on every split; write results.csv and runs.json to `out` (None: write
    nothing, as the ranks other than 0 under torchrun do: they train their share and rank 0 writes).

    Raises:
        ValueError: bad data, a model that cannot read the data's kind, too many folds, or a baseline's extra
            missing (before any training).
    """
    examples = load_examples(spec.data)
    if spec.baselines:
        check_extras(examples.kind)
    splits = make_splits(spec, examples)
    with tempfile.TemporaryDirectory(prefix="lstmlab-splits-") as scratch:
        data = [write_split(examples, s, Path(scratch) / f"split-{s.number}", spec.data) for s in splits]
        jobs = _jobs(spec, splits, data, examples.kind)
        for _, _, job in jobs[: len(spec.cells())]:  # a model that cannot read this data fails before any training
            prepare(job[1])
        workers = spec.workers or min(os.cpu_count() or 1, len(jobs))
        start = time.perf_counter()
        results: list[dict[str, Any]] = []
        at = world()
        if at.distributed:  # torchrun: each rank its share of the runs (one thread each), gathered on every rank
            workers = at.size
            mine = [(index, _run_job(job, 1)) for index, (_, _, job) in enumerate(jobs) if index % at.size == at.rank]
            shares: list[Any] = [None] * at.size
            torch.distributed.all_gather_object(shares, mine)
            results = [result for _, result in sorted(pair for share in shares for pair in share)]
            if advance:
                advance(len(jobs))
        elif workers <= 1:
            for _, _, job in jobs:
                results.append(_run_job(job))
                if advance:
                    advance(1)
        else:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(_run_job, job, 1) for _, _, job in jobs]
                for future in futures:
                    results.append(future.result())
                    if advance:
                        advance(1)
        wall = time.perf_counter() - start
    runs = _describe(spec, examples, splits, jobs, results, workers, wall)
    if out is None:
        return runs
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "model": label,
            "kind": job[0],
            "split": number,
            "seed": splits[number].seed,
            **{k: result[k] for k in ("accuracy", "macro_f1", "train_seconds", "latency_ms", "test_count")},
            **(
                {k: result.get(k, math.nan) for k in ("validation_accuracy", "validation_loss")}
                if spec.grid.axes
                else {}
            ),
        }
        for (label, number, job), result in zip(jobs, results, strict=True)
    ]
    write_csv(out / "results.csv", rows)
    write_json(out / "runs.json", runs)
    return runs


def _describe(
    spec: DataCompareSpec,
    examples: Examples,
    splits: list[Split],
    jobs: list[tuple[str, int, Any]],
    results: list[dict[str, Any]],
    workers: int,
    wall: float,
) -> dict[str, Any]:
    """runs.json: the data, the splits and their test indices, what every run scored, the models' settings."""
    labels = examples.labels + (examples.test_labels or [])
    first = {label: result for (label, _, _), result in reversed(list(zip(jobs, results, strict=True)))}
    cells = spec.cells()
    models = [label for label, _, _, _, _ in cells]
    baselines = [b.name for b in baselines_for(examples.kind)] if spec.baselines else []
    return {
        "comparison": "models on data",
        "kind": "data",
        "data": {
            "path": spec.data.path,
            "test_path": spec.data.test_path,
            "kind": examples.kind,
            "examples": len(labels),
            "classes": _class_counts(labels),
            "vectors": _vectors(spec.data),
        },
        "splits": {
            "how": spec.how(),
            "given": examples.test_labels is not None,
            "list": [
                {
                    "number": s.number,
                    "seed": s.seed,
                    "train_size": len(s.train),
                    "test": list(s.test),
                    **({"validation": list(s.validation)} if s.validation else {}),
                    "digest": s.digest,
                }
                for s in splits
            ],
        },
        "models": models,
        "baselines": {name: first[name]["describe"] for name in baselines},
        "presets": {label: preset for label, _, preset, _, _ in cells},
        "training": {label: first[label]["training"] for label in models},
        "parameters": {label: first[label]["parameters"] for label in models},
        "runs": {
            f"{label}|{number}": {
                "split_digest": splits[number].digest,
                "scored": result["scored"],
                "test_count": result["test_count"],
            }
            for (label, number, _), result in zip(jobs, results, strict=True)
        },
        "spec": {"splits": len(splits), "workers": workers, "folds": spec.folds},
        "training_seconds": wall,
        **(
            {
                "grid": {
                    "axes": spec.grid.to_json(),
                    "models": [label for label, _, _ in spec.models],
                    "cells": [{"label": c, "model": m, "point": point} for c, m, _, _, point in cells],
                    "validation": GRID_VALIDATION,
                }
            }
            if spec.grid.axes
            else {}
        ),
    }
