"""Fair comparisons: several seeds of several tutorial models, trained together in one stacked computation, at
every point of a grid of settings where one is given.

Seed s gives every variant the same initial-weight seed and the same stream of sequences, so differences between
variants are paired. Results are written as plain CSV first; `report.py` draws and writes everything else from it.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..atomic import write_csv, write_json
from ..data import CumsumConfig, SequenceData, make_cumsum
from ..models import StackedTutorial, build_model
from ..seeds import COMPARISON_TEST_SEED, COMPARISON_VALIDATION_SEED, Seeds
from ..training import fit_stacked
from .grid import model_part, point_label
from .spec import COMPARISONS, KERAS_BACKWARD, CompareSpec

__all__ = ["cell_label", "run_comparison", "variants"]


def variants(spec: CompareSpec) -> list[tuple[str, str, dict[str, Any]]]:
    """The comparison's models: (label, preset, options) each."""
    chosen = list(COMPARISONS[spec.comparison])
    if spec.keras_go_backwards:
        if spec.comparison != "directions":
            raise ValueError(
                f"Expected --keras-go-backwards with the directions comparison. Received: {spec.comparison}"
            )
        chosen.insert(2, KERAS_BACKWARD)
    return chosen


def _scores(stack: StackedTutorial, data: SequenceData, models: int) -> tuple[Tensor, Tensor]:
    """Every model's per-step accuracy and mean cross-entropy on `data`: (M,) each."""
    with torch.no_grad():
        logits = stack(data.x.expand(models, *data.x.shape))[..., 0]  # (M, N, T)
        targets = data.y.expand_as(logits)
        loss = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    return ((logits > 0).long() == targets).double().mean(dim=(1, 2)), loss.double().mean(dim=(1, 2))


def cell_label(model: str, point: dict[str, Any]) -> str:
    """A model at a grid point, as results.csv names it: `forward LSTM @ learning_rate=0.01` (the model alone
    without a grid)."""
    return f"{model} @ {point_label(point)}" if point else model


def run_comparison(spec: CompareSpec, out: Path) -> dict[str, Any]:
    """Train every variant with every seed at every grid point; write results.csv and runs.json to `out`.

    Points that differ only in their learning rate train together in one stack (a learning rate per model); each
    other setting (units, updates, batch size) trains its own stack. Seed s gives every variant at every point the
    same initial weights (per size), the same training sequences, and every run is scored on the same validation
    and test sequences.

    Returns:
        The runs.json written: models (one per variant and point), parameters, test and validation figures per
        model and seed, the grid's cells, the training time.
    """
    chosen = variants(spec)
    task = CumsumConfig(steps=spec.steps)
    points = spec.grid.points()
    cells = [(cell_label(label, point), label, point) for label, _, _ in chosen for point in points]
    validation = make_cumsum(task, spec.validation_size, torch.Generator().manual_seed(COMPARISON_VALIDATION_SEED))
    test = make_cumsum(task, spec.test_size, torch.Generator().manual_seed(COMPARISON_TEST_SEED))
    stacks: dict[tuple[tuple[str, Any], ...], list[dict[str, Any]]] = {}
    for point in points:  # the points of one stack differ only in their learning rate
        stacks.setdefault(tuple((k, v) for k, v in point.items() if k != "learning_rate"), []).append(point)
    rows: list[dict[str, Any]] = []
    parameters: dict[str, int] = {}
    figures: dict[str, dict[str, float]] = {"test_accuracy": {}, "validation_accuracy": {}, "validation_loss": {}}
    seconds = 0.0
    for shared, members in stacks.items():
        settings = dict(shared)
        updates, batch = settings.get("updates", spec.updates), settings.get("batch_size", spec.batch_size)
        options = model_part(settings)
        models, owners, rates = [], [], []
        for label, preset, variant_options in chosen:
            for point in members:
                for seed in range(spec.seeds):
                    torch.manual_seed(Seeds(seed).weights)
                    models.append(build_model(preset, steps=spec.steps, **variant_options, **options))
                    owners.append((cell_label(label, point), seed))
                    rates.append(point.get("learning_rate", spec.learning_rate))
        parameters |= {cell: m.count_params() for (cell, _), m in zip(owners, models, strict=True)}
        streams = [
            make_cumsum(task, updates * batch, torch.Generator().manual_seed(Seeds(s).training))
            for s in range(spec.seeds)
        ]
        seeds = [seed for _, seed in owners]
        x = torch.stack([streams[s].x.view(updates, batch, spec.steps, 1) for s in seeds], dim=1)  # (U, M, B, T, 1)
        y = torch.stack([streams[s].y.view(updates, batch, spec.steps) for s in seeds], dim=1)  # (U, M, B, T)
        stack = StackedTutorial(models)
        learning_rate: float | list[float] = rates[0] if len(set(rates)) == 1 else rates
        # three throwaway updates on a copy first, so one-time set-up (kernels, allocator) is not timed
        fit_stacked(copy.deepcopy(stack), zip(x[:3], y[:3], strict=True), learning_rate=learning_rate)
        start = time.perf_counter()
        losses, accuracies = fit_stacked(stack, zip(x, y, strict=True), learning_rate=learning_rate)
        seconds += time.perf_counter() - start
        test_accuracy, _ = _scores(stack, test, len(models))
        validation_accuracy, validation_loss = _scores(stack, validation, len(models))
        for m, (cell, seed) in enumerate(owners):
            key = f"{cell}|{seed}"
            figures["test_accuracy"][key] = float(test_accuracy[m])
            figures["validation_accuracy"][key] = float(validation_accuracy[m])
            figures["validation_loss"][key] = float(validation_loss[m])
            rows += [
                {
                    "model": cell,
                    "seed": seed,
                    "update": u + 1,
                    "loss": float(losses[u, m]),
                    "accuracy": float(accuracies[u, m]),
                }
                for u in range(updates)
            ]
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", rows)
    runs: dict[str, Any] = {
        "comparison": spec.comparison,
        "spec": spec.to_json(),
        "models": [cell for cell, _, _ in cells],
        "parameters": parameters,
        "training_seconds": seconds,
        "runs": len(cells) * spec.seeds,
        **figures,
    }
    if spec.grid.axes:
        runs["grid"] = {
            "axes": spec.grid.to_json(),
            "models": [label for label, _, _ in chosen],
            "cells": [{"label": cell, "model": model, "point": point} for cell, model, point in cells],
            "validation": f"{spec.validation_size} fresh sequences, the same for every run",
            "training": {
                cell: {
                    "updates": point.get("updates", spec.updates),
                    "batch_size": point.get("batch_size", spec.batch_size),
                    "learning_rate": point.get("learning_rate", spec.learning_rate),
                }
                for cell, _, point in cells
            },
        }
    write_json(out / "runs.json", runs)
    return runs
