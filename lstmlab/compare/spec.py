"""What a comparison is asked to be, typed and checked where it is made: the stacked comparisons of the tutorial's
models (`COMPARISONS`, `CompareSpec`), the kinds `lstmlab compare` runs (`KINDS`) and a grid's axes (`Grid`).

Nothing here imports PyTorch: the command line reads these defaults while it parses.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COMPARISONS",
    "DATA_GRID_TRAINING",
    "GRID_OPTIONS",
    "GRID_TRAINING",
    "KERAS_BACKWARD",
    "KINDS",
    "SMOOTH",
    "SWEEP_SEEDS",
    "TASK_GRID_TRAINING",
    "TRAINING_KEYS",
    "CompareSpec",
    "Grid",
]

# The moving average over updates of a comparison's training curves
SMOOTH = 10
# Runs per model of a comparison of any presets (`sweep`, `models` and `archetypes`)
SWEEP_SEEDS = 5

# Training settings a grid may vary, with the type of their values (each must be positive)
TRAINING_KEYS: dict[str, type] = {"learning_rate": float, "batch_size": int, "updates": int, "epochs": int}


@dataclass(frozen=True)
class Grid:
    """Axes of a grid: (key, values) pairs in the order given; no axes: one point, the defaults."""

    axes: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.axes)

    def points(self) -> list[dict[str, Any]]:
        """Every point of the Cartesian product, the first axis varying slowest ([{}] without axes)."""
        keys = self.keys
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(v for _, v in self.axes))]

    def to_json(self) -> list[list[Any]]:
        return [[key, list(values)] for key, values in self.axes]


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


GRID_TRAINING = ("learning_rate", "updates", "batch_size")  # training settings a stacked comparison's grid varies


GRID_OPTIONS = ("units",)  # model options it varies (one stack per value: models of different sizes do not stack)


@dataclass(frozen=True)
class CompareSpec:
    """A stacked comparison: the tutorial's models, several seeds each, at every point of an optional grid.

    Raises:
        ValueError: an unknown comparison, fewer than 2 seeds, a size below 1, or a grid key it cannot vary.

    Example:
        >>> CompareSpec("directions", seeds=5, grid=parse_grid(["learning_rate=1e-3,1e-2"], variants(CompareSpec())))
    """

    comparison: str = "directions"  # a name from COMPARISONS
    seeds: int = 10  # runs per variant
    updates: int = 250  # updates per run (the tutorial's comparison)
    learning_rate: float = 3e-3  # Adam, as the cumsum task trains
    steps: int = 10  # sequence length
    test_size: int = 200  # fresh sequences scored after training, per run
    keras_go_backwards: bool = False  # add the backward model with Keras's reversed outputs (the tutorial's)
    batch_size: int = 1  # fresh sequences per update (the tutorial's: one)
    validation_size: int = 200  # fresh sequences a grid's best point is chosen on
    grid: Grid = field(default_factory=Grid)  # every variant at every point (no axes: one point, the settings above)

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"Expected a comparison in {sorted(COMPARISONS)}. Received: {self.comparison!r}")
        for name in ("seeds", "updates", "steps", "test_size", "batch_size", "validation_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"Expected {name} >= 1. Received: {name}={getattr(self, name)}")
        if self.seeds < 2:
            raise ValueError(f"Expected at least 2 seeds for confidence intervals. Received: seeds={self.seeds}")
        for key in self.grid.keys:
            if key not in (*GRID_TRAINING, *GRID_OPTIONS):
                allowed = [*GRID_TRAINING, *GRID_OPTIONS]
                raise ValueError(f"Expected grid keys in {allowed} with {self.comparison}. Received: {key}")

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in dataclasses.asdict(self).items() if k != "grid"}, "grid": self.grid.to_json()}


KINDS = (*COMPARISONS, "models", "archetypes")


# Training settings a grid varies on a built-in task (trained online: updates, not epochs)
TASK_GRID_TRAINING = GRID_TRAINING


# ... and on the user's data (a fixed training set: epochs, not updates)
DATA_GRID_TRAINING = ("learning_rate", "batch_size", "epochs")
