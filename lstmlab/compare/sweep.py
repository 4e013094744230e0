"""Comparisons of any presets on any task: every (model, seed) is an ordinary training run, spread over processes.

Models that cannot share one stacked computation (different layers, tasks or batch shapes) still compare fairly:
seed s gives every model the same initial-weight seed, the same training stream and the same test set. Each run
also records its training time, its inference latency on one sequence and whether the model can stream. Results go
to the same `results.csv` / `runs.json` as the stacked comparisons, so `report.py` reads both.
"""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..atomic import write_csv, write_json
from ..data import SequenceData
from ..models import Sequential, get_preset, parse_options, streaming
from ..runs import RunSpec, TrainChoices, get_task, prepare, task_config
from ..seeds import Seeds
from ..training import evaluate, fit, predict
from .grid import model_part, training_part
from .spec import SWEEP_SEEDS, TRAINING_KEYS, Grid
from .stacked import cell_label

__all__ = ["ARCHETYPES", "Group", "SweepSpec", "can_stream", "parse_model", "run_sweep"]


@dataclass(frozen=True)
class Group:
    """Models compared with each other on one task."""

    title: str  # what kind of data this is, in a user's words
    task: str
    models: tuple[tuple[str, str, dict[str, Any]], ...]  # (label, preset, options)
    task_options: dict[str, Any] = field(default_factory=dict)


# The Q&A's five models, each on the kind of data it is meant for; the tutorial's whole-sequence models join the
# streaming group to show what answering before the sequence ends costs.
ARCHETYPES = (
    Group(
        "numeric sequences, one label per sequence",
        "cumsum-whole",
        (("1: many-to-one LSTM", "qa-lstm", {}), ("3: TimeDistributed Dense + LSTM", "qa-timedistributed", {})),
    ),
    Group(
        "token sequences, one label per sequence",
        "tokens",
        (("4: Embedding + LSTM", "qa-embedding-lstm", {}), ("5: Embedding + Bi-LSTM", "qa-embedding-bilstm", {})),
    ),
    Group(
        "a label at every step",
        "cumsum",
        (
            ("2: stateful LSTM, one step per call", "qa-stateful", {}),
            ("forward LSTM over whole sequences", "tutorial-lstm", {}),
            ("Bi-LSTM over whole sequences", "tutorial-bilstm", {}),
        ),
    ),
)


@dataclass(frozen=True)
class SweepSpec:
    name: str  # "models" or "archetypes": the report's title
    groups: tuple[Group, ...]
    seeds: int = SWEEP_SEEDS  # runs per model
    updates: int | None = None  # None: each task's default
    batch_size: int | None = None
    learning_rate: float | None = None
    test_size: int = 200
    workers: int = 0  # processes; 0: one per core, at most one per run
    grid: Grid = field(default_factory=Grid)  # every model at every point (no axes: one point, the settings above)
    validation_size: int = 200  # fresh examples per run that a grid's best point is chosen on

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError(f"Expected at least 2 seeds for confidence intervals. Received: seeds={self.seeds}")
        labels = [label for g in self.groups for label, _, _ in g.models]
        if len(set(labels)) != len(labels):
            raise ValueError(f"Expected each model once. Received: {labels}")
        for name in ("updates", "batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"Expected {name} >= 1. Received: {value}")
        for key in self.grid.keys:
            if key in TRAINING_KEYS and getattr(self, key, None) is not None:
                raise ValueError(f"Expected {key} on the grid or as an option, not both. Received: both")

    def run_spec(
        self, group: Group, preset: str, options: dict[str, Any], seed: int, point: dict[str, Any] | None = None
    ) -> RunSpec:
        """The ordinary training run of one model, seed and grid point."""
        point = point or {}
        training = {"updates": self.updates, "batch_size": self.batch_size, "learning_rate": self.learning_rate}
        choices = TrainChoices(**{**training, **training_part(point)})
        return RunSpec(
            group.task,
            preset,
            dict(group.task_options),
            {**options, **model_part(point)},
            choices,
            seed,
            test_size=self.test_size,
        )


def parse_model(text: str) -> tuple[str, str, dict[str, Any]]:
    """`PRESET` or `PRESET:KEY=VALUE,KEY=VALUE` -> (label, preset, options)."""
    preset, _, rest = text.partition(":")
    get_preset(preset)  # an unknown preset fails here, naming the presets
    return text, preset, parse_options(preset, [p for p in rest.split(",") if p], usage="PRESET:KEY=VALUE,...")


def can_stream(model: Sequential) -> str:
    """Whether the model can answer as values arrive: stateful as trained, through `streaming()`, or not at all."""
    if model.stateful:
        return "yes: trained one step per call, state carried"
    try:
        streaming(model)
    except ValueError:
        return "no: reads the sequence's end first"
    return "yes: run with streaming(), same answers step by step"


def latency_ms(model: Sequential, data: SequenceData, repeats: int = 20) -> float:
    """Median wall time of predicting one sequence (batch 1), in milliseconds."""
    one = SequenceData(data.x[:1], data.y[:1], None if data.lengths is None else data.lengths[:1])
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        predict(model, one, batch_size=1)
        if i >= 3:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def validation_set(spec: RunSpec, size: int) -> SequenceData:
    """Fresh examples of a run's task, drawn apart from its training stream and test set: what a grid's point is
    chosen on."""
    task = get_task(spec.task)
    generator = torch.Generator().manual_seed(Seeds(spec.seed).validation_set)
    return task.sample(task_config(spec.task, **spec.task_options), size, generator)


def train_one(spec: RunSpec, threads: int | None = None, validation_size: int = 200) -> dict[str, Any]:
    """Train one run in memory (nothing saved) and measure it: its curves, test and validation scores, time,
    latency, size and whether it streams."""
    if threads is not None:
        torch.set_num_threads(threads)
    prepared = prepare(spec)
    validation = validation_set(spec, validation_size)
    model, config, source, test = prepared.model, prepared.config, prepared.train, prepared.test_set
    # a few throwaway updates on a copy first, so one-time set-up (kernels, allocator) is not timed
    fit(copy.deepcopy(model), source, config=dataclasses.replace(config, updates=3))
    start = time.perf_counter()
    history = fit(model, source, config=config)
    seconds = time.perf_counter() - start
    scores = evaluate(model, test)
    validated = evaluate(model, validation)
    return {
        "loss": history.update_loss,
        "accuracy": history.update_accuracy,
        "test_accuracy": scores.accuracy,
        "validation_accuracy": validated.accuracy,
        "validation_loss": validated.loss,
        "seconds": seconds,
        "latency_ms": latency_ms(model, test),
        "parameters": model.count_params(),
        "streams": can_stream(model),
        "training": {"updates": config.updates, "batch_size": config.batch_size, "learning_rate": config.learning_rate},
    }


def run_sweep(spec: SweepSpec, out: Path, *, advance: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Train every model of every group with every seed; write results.csv and runs.json to `out`."""
    points = spec.grid.points()
    jobs = [
        (group, cell_label(label, point), spec.run_spec(group, preset, options, seed, point), seed)
        for group in spec.groups
        for label, preset, options in group.models
        for point in points
        for seed in range(spec.seeds)
    ]
    for group in spec.groups:  # fail on a bad model, task or grid point before any training
        for _, preset, options in group.models:
            for point in points:
                prepare(spec.run_spec(group, preset, options, 0, point))
    workers = spec.workers or min(os.cpu_count() or 1, len(jobs))
    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    if workers <= 1:
        for _, _, run, _ in jobs:
            results.append(train_one(run, validation_size=spec.validation_size))
            if advance:
                advance(1)
    else:
        # spawn: a fresh interpreter per worker, one thread each, so the runs do not fight over the cores
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(train_one, run, 1, spec.validation_size) for _, _, run, _ in jobs]
            for future in futures:
                results.append(future.result())
                if advance:
                    advance(1)
    wall = time.perf_counter() - start
    rows = [
        {"model": label, "seed": seed, "update": u + 1, "loss": loss, "accuracy": acc}
        for (_, label, _, seed), result in zip(jobs, results, strict=True)
        for u, (loss, acc) in enumerate(zip(result["loss"], result["accuracy"], strict=True))
    ]
    by_label: dict[str, list[dict[str, Any]]] = {}
    for (_, label, _, _), result in zip(jobs, results, strict=True):
        by_label.setdefault(label, []).append(result)
    cells = [
        (g, cell_label(label, point), label, point) for g in spec.groups for label, _, _ in g.models for point in points
    ]
    runs: dict[str, Any] = {
        "comparison": spec.name,
        "spec": {"seeds": spec.seeds, "test_size": spec.test_size, "workers": workers},
        "groups": [
            {
                "title": g.title,
                "task": g.task,
                "task_options": g.task_options,
                "models": [cell for group, cell, _, _ in cells if group is g],
                "training": {cell: by_label[cell][0]["training"] for group, cell, _, _ in cells if group is g},
            }
            for g in spec.groups
        ],
        "models": [cell for _, cell, _, _ in cells],
        "parameters": {label: r[0]["parameters"] for label, r in by_label.items()},
        "streams": {label: r[0]["streams"] for label, r in by_label.items()},
        "run_seconds": {label: statistics.median(x["seconds"] for x in r) for label, r in by_label.items()},
        "latency_ms": {label: statistics.median(x["latency_ms"] for x in r) for label, r in by_label.items()},
        "training_seconds": wall,
        "runs": len(jobs),
        **{
            figure: {
                f"{label}|{seed}": result[figure] for (_, label, _, seed), result in zip(jobs, results, strict=True)
            }
            for figure in ("test_accuracy", "validation_accuracy", "validation_loss")
        },
    }
    if spec.grid.axes:
        runs["grid"] = {
            "axes": spec.grid.to_json(),
            "models": [label for g in spec.groups for label, _, _ in g.models],
            "cells": [{"label": cell, "model": label, "point": point} for _, cell, label, point in cells],
            "validation": f"{spec.validation_size} fresh examples per seed, drawn apart from training and test",
        }
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", rows)
    write_json(out / "runs.json", runs)
    return runs
