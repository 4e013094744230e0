"""What the user asked a training run to be, typed: a built-in task or their data, a preset, training choices and
one seed. Made while the command line parses (nothing here imports PyTorch), recorded in `config.json`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..data import DataSpec
from ..seeds import Seeds
from .defaults import TrainChoices

__all__ = ["RunSpec"]


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a training run: a built-in task or the user's data, a preset, the user's
    training choices and one seed."""

    task: str = "cumsum"  # a name from TASKS (ignored with `data`)
    preset: str | None = None  # a name from PRESETS; None: the default for the task or the kind of data
    task_options: dict[str, Any] = field(default_factory=dict)  # task config fields to change
    model_options: dict[str, Any] = field(default_factory=dict)  # preset config fields to change
    train: TrainChoices = field(default_factory=TrainChoices)  # None fields: lstmlab's defaults (`defaults`)
    seed: int = 0  # one seed for weights, data order, dropout, the test set and the split (`Seeds`)
    train_size: int | None = None  # a task's fixed training set of this many examples; None: online
    test_size: int = 200  # a task's fresh test examples (the tutorial's 200 sequences)
    data: DataSpec | None = None  # the user's labelled texts or series instead of a task

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or not -(2**63) <= self.seed < 2**63:
            raise ValueError(f"Expected a seed in -2**63..2**63-1. Received: {self.seed!r}")

    @property
    def seeds(self) -> Seeds:
        return Seeds(self.seed, None if self.data is None else self.data.split_seed)

    def to_json(self) -> dict[str, Any]:
        value = dataclasses.asdict(self)
        value["data"] = None if self.data is None else self.data.to_json()
        return value

    @staticmethod
    def from_json(value: dict[str, Any]) -> RunSpec:
        data = None if value.get("data") is None else DataSpec.from_json(value["data"])
        return RunSpec(**{**value, "train": TrainChoices(**value["train"]), "data": data})
