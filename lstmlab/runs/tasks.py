"""Tasks: a named, generated problem with its config and the model options it implies (training defaults by task
are in `defaults`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from ..data import CumsumConfig, SequenceData, TokenConfig, make_cumsum, make_tokens
from ..layers import Embedding
from ..models import Sequential, parse_field, replace_fields
from ..names import unknown_name

__all__ = ["TASKS", "Task", "check_fits", "get_task", "model_options", "parse_task_option", "task_config"]


@dataclass(frozen=True)
class Task:
    """A generated problem: `sample(config, count, generator)` draws examples."""

    name: str
    description: str
    config: Any  # frozen config dataclass
    sample: Callable[[Any, int, torch.Generator], SequenceData]
    inputs: Literal["numeric", "tokens"]
    targets: Literal["per-step", "per-sequence"]


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task(
            "cumsum",
            "Tutorial: label each step 1 once the running sum of U(0,1) values passes threshold * length",
            CumsumConfig(),
            make_cumsum,
            "numeric",
            "per-step",
        ),
        Task(
            "cumsum-whole",
            "Many-to-one: one label per sequence, 1 if the running sum passes half the length (balanced classes)",
            CumsumConfig(per_step=False),
            make_cumsum,
            "numeric",
            "per-sequence",
        ),
        Task(
            "tokens",
            "Generated token sequences: the label is the majority kind of a few cue words among neutral ones",
            TokenConfig(),
            make_tokens,
            "tokens",
            "per-sequence",
        ),
    ]
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(unknown_name("a task", name, TASKS))
    return TASKS[name]


def parse_task_option(name: str, key: str, text: str) -> Any:
    """Convert the text of a `key=value` option of task `name` to the type of that config field."""
    return parse_field(get_task(name).config, key, text, f"task {name}")


def task_config(name: str, **overrides: Any) -> Any:
    """The task's config with some fields changed; unknown fields raise a ValueError."""
    return replace_fields(get_task(name).config, overrides, f"task {name}")


def model_options(task: Task, config: Any, preset_fields: set[str]) -> dict[str, Any]:
    """Model config fields the task's data implies (input length, vocabulary), for the fields a preset has."""
    if task.inputs == "tokens":
        implied = {"vocab_size": config.vocab_size, "max_len": config.max_len}
    else:
        implied = {"steps": config.steps}
    return {key: value for key, value in implied.items() if key in preset_fields}


def check_fits(task: Task, model: Sequential) -> None:
    """Raise a ValueError unless `model` reads the task's inputs and predicts its targets."""
    reads_tokens = isinstance(model.layers[0], Embedding)
    if reads_tokens != (task.inputs == "tokens"):
        wanted = "token ids (an Embedding first)" if task.inputs == "tokens" else "numeric values"
        raise ValueError(f"Expected a model reading {wanted} for task {task.name}. Received: {model.name}")
    per_step = len(model.output_shape) == 2 or model.stateful  # a stateful model answers once per step
    if per_step != (task.targets == "per-step"):
        raise ValueError(
            f"Expected a model with {task.targets} outputs for task {task.name}. Received: {model.name}, "
            f"output shape {model.output_shape}"
        )
