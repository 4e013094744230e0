"""Fair comparisons: several seeds of several tutorial models, trained together in one stacked computation.

Seed s gives every variant the same initial-weight seed and the same stream of sequences, so differences between
variants are paired. Results are written as plain CSV first; `report.py` draws and writes everything else from it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data import CumsumConfig, make_cumsum
from ..models import build_model
from ..models.stacked import StackedTutorial
from ..seeds import COMPARISON_TEST_SEED, Seeds
from ..training.stacked import fit_stacked
from .runs import write_history, write_json

__all__ = ["COMPARISONS", "CompareSpec", "run_comparison"]

# name -> variants: (label, preset, options)
COMPARISONS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "directions": [
        ("forward LSTM", "tutorial-lstm", {}),
        ("backward LSTM", "tutorial-lstm-backward", {}),
        ("Bi-LSTM (concat)", "tutorial-bilstm", {"merge_mode": "concat"}),
    ],
    "merge-modes": [
        (f"Bi-LSTM ({mode})", "tutorial-bilstm", {"merge_mode": mode}) for mode in ("sum", "mul", "ave", "concat")
    ],
}
KERAS_BACKWARD = ("backward LSTM, Keras order", "tutorial-lstm-backward", {"keras_order": True})


@dataclass(frozen=True)
class CompareSpec:
    comparison: str = "directions"  # a name from COMPARISONS
    seeds: int = 10  # runs per variant
    updates: int = 250  # single-sequence updates per run (the tutorial's comparison)
    learning_rate: float = 3e-3  # Adam, as the cumsum task trains
    steps: int = 10  # sequence length
    test_size: int = 200  # fresh sequences scored after training, per run
    keras_go_backwards: bool = False  # add the backward model with Keras's reversed outputs (the tutorial's)

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"Expected a comparison in {sorted(COMPARISONS)}. Received: {self.comparison!r}")
        for name in ("seeds", "updates", "steps", "test_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"Expected {name} >= 1. Received: {name}={getattr(self, name)}")
        if self.seeds < 2:
            raise ValueError(f"Expected at least 2 seeds for confidence intervals. Received: seeds={self.seeds}")


def variants(spec: CompareSpec) -> list[tuple[str, str, dict[str, Any]]]:
    chosen = list(COMPARISONS[spec.comparison])
    if spec.keras_go_backwards:
        if spec.comparison != "directions":
            raise ValueError(
                f"Expected --keras-go-backwards with the directions comparison. Received: {spec.comparison}"
            )
        chosen.insert(2, KERAS_BACKWARD)
    return chosen


def run_comparison(spec: CompareSpec, out: Path) -> dict[str, Any]:
    """Train every variant with every seed in one stack; write results.csv and runs.json to `out`."""
    chosen = variants(spec)
    task = CumsumConfig(steps=spec.steps)
    models, labels, seeds = [], [], []
    for label, preset, options in chosen:
        for seed in range(spec.seeds):
            torch.manual_seed(Seeds(seed).weights)
            models.append(build_model(preset, steps=spec.steps, **options))
            labels.append(label)
            seeds.append(seed)
    parameters = {label: m.count_params() for label, m in zip(labels, models, strict=True)}
    streams = [
        make_cumsum(task, spec.updates, torch.Generator().manual_seed(Seeds(s).training)) for s in range(spec.seeds)
    ]
    x = torch.stack([streams[s].x for s in seeds], dim=1)[:, :, None]  # (U, M, 1, T, 1): seed s, same data
    y = torch.stack([streams[s].y for s in seeds], dim=1)[:, :, None]  # (U, M, 1, T)
    stack = StackedTutorial(models)
    # three throwaway updates on a copy first, so one-time set-up (kernels, allocator) is not timed
    fit_stacked(copy.deepcopy(stack), zip(x[:3], y[:3], strict=True), learning_rate=spec.learning_rate)
    start = time.perf_counter()
    losses, accuracies = fit_stacked(stack, zip(x, y, strict=True), learning_rate=spec.learning_rate)
    seconds = time.perf_counter() - start
    test = make_cumsum(task, spec.test_size, torch.Generator().manual_seed(COMPARISON_TEST_SEED))
    with torch.no_grad():
        logits = stack(test.x.expand(len(models), *test.x.shape))[..., 0]  # (M, N, T)
    test_accuracy = ((logits > 0).long() == test.y).double().mean(dim=(1, 2))
    rows = [
        {
            "model": labels[m],
            "seed": seeds[m],
            "update": u + 1,
            "loss": float(losses[u, m]),
            "accuracy": float(accuracies[u, m]),
        }
        for m in range(len(models))
        for u in range(spec.updates)
    ]
    out.mkdir(parents=True, exist_ok=True)
    write_history(out / "results.csv", rows)
    runs = {
        "comparison": spec.comparison,
        "spec": spec.__dict__,
        "models": [label for label, _, _ in chosen],
        "parameters": parameters,
        "training_seconds": seconds,
        "runs": len(models),
        "test_accuracy": {f"{labels[m]}|{seeds[m]}": float(test_accuracy[m]) for m in range(len(models))},
    }
    write_json(out / "runs.json", runs)
    return runs
