"""A tuning search space: each searched setting a `Dimension` (`NAME=log:LOW:HIGH`, `float:`, `int:` or `cat:`), a
default space per preset (`SEARCH_SPACES`), and the user's `--space` texts parsed and checked against the preset's
config.

The search spaces of the presets are here (`SEARCH_SPACES`) rather than in `runs.defaults`; they are ranges
around each preset's own settings, not measured.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..models import get_preset
from ..names import unknown_name
from ..training import TrainConfig
from .command import option_text

if TYPE_CHECKING:
    import optuna

__all__ = [
    "NOT_SEARCHED",
    "SEARCH_SPACES",
    "SPACE_USAGE",
    "TRAINING_NAMES",
    "Dimension",
    "parse_dimension",
    "search_space",
]

Kind = Literal["log", "float", "int", "cat"]  # how a dimension is drawn


SPACE_USAGE = "NAME=log:LOW:HIGH, NAME=float:LOW:HIGH, NAME=int:LOW:HIGH or NAME=cat:A,B,..."


# Training settings a search may draw (the rest of `TrainChoices` say how a run is kept or repeated, not how it
# learns)
TRAINING_NAMES = ("learning_rate", "batch_size", "epochs", "updates", "weight_decay", "clip_norm", "schedule")


# Model fields the data or the run sets (sizes of inputs and outputs, a stateful model's batch, the kernel used)
NOT_SEARCHED = ("vocab_size", "max_len", "steps", "features", "num_classes", "batch_size", "impl")


LEARNING_RATE = "learning_rate=log:1e-4:1e-2"


# Searched unless the user fixes a name (MODEL:KEY=VALUE, --batch-size, ...) or redefines it (--space): ranges
# around each preset's own defaults (e.g. units 10 and 20 for the Q&A and tutorial models, 32 and 64 for texts and
# series), not tuned themselves
SEARCH_SPACES: dict[str, tuple[str, ...]] = {
    "text-lstm": (LEARNING_RATE, "batch_size=cat:16,32,64", "units=cat:16,32,64", "dropout=float:0:0.5"),
    "text-bilstm": (LEARNING_RATE, "batch_size=cat:16,32,64", "units=cat:16,32,64", "dropout=float:0:0.6"),
    "text-bilstm-pool": (
        LEARNING_RATE,
        "batch_size=cat:16,32,64",
        "units=cat:32,64,128",
        "dropout=float:0:0.6",
        "input_dropout=float:0:0.5",
    ),
    "series-bilstm": (
        LEARNING_RATE,
        "batch_size=cat:8,16,32",
        "units=cat:32,64,128",
        "dropout=float:0:0.5",
        "input_dropout=float:0:0.5",
    ),
    "series-lstm-fcn": (
        LEARNING_RATE,
        "batch_size=cat:8,16,32",
        "units=cat:16,64,128",
        "filters=cat:64,128",
        "dropout=float:0:0.6",
    ),
    "qa-lstm": (LEARNING_RATE, "batch_size=cat:8,32,64", "units=cat:5,10,20,40"),
    "qa-stateful": (LEARNING_RATE, "units=cat:5,10,20,40"),  # its batch is one sequence
    "qa-timedistributed": (LEARNING_RATE, "batch_size=cat:8,32,64", "units=cat:5,10,20,40", "dense_units=cat:5,10,20"),
    "qa-embedding-lstm": (LEARNING_RATE, "batch_size=cat:8,32,64", "units=cat:5,10,20,40", "embed_dim=cat:32,128"),
    "qa-embedding-bilstm": (
        LEARNING_RATE,
        "batch_size=cat:8,32,64",
        "units=cat:5,10,20,40",
        "merge_mode=cat:concat,sum,mul,ave",
    ),
    "tutorial-lstm": (LEARNING_RATE, "batch_size=cat:1,8,32", "units=cat:10,20,40"),
    "tutorial-lstm-backward": (LEARNING_RATE, "batch_size=cat:1,8,32", "units=cat:10,20,40"),
    "tutorial-bilstm": (
        LEARNING_RATE,
        "batch_size=cat:1,8,32",
        "units=cat:10,20,40",
        "merge_mode=cat:concat,sum,mul,ave",
    ),
}


@dataclass(frozen=True)
class Dimension:
    """One searched setting: a training setting or a field of the preset's config, and the values it may take."""

    name: str
    kind: Kind
    values: tuple[Any, ...]  # (low, high) for log / float / int; the choices for cat
    integer: bool = False  # log: a whole number (suggest_int(log=True))

    @property
    def text(self) -> str:
        """The `--space` form, e.g. `learning_rate=log:0.0001:0.01`."""
        return f"{self.name}={self.kind}:{(',' if self.kind == 'cat' else ':').join(map(option_text, self.values))}"

    def suggest(self, trial: optuna.Trial) -> Any:
        """The trial's value of this setting."""
        if self.kind == "cat":
            return trial.suggest_categorical(self.name, list(self.values))
        low, high = self.values
        if self.kind == "int" or self.integer:
            return trial.suggest_int(self.name, low, high, log=self.kind == "log")
        return trial.suggest_float(self.name, low, high, log=self.kind == "log")


def _hint(name: str, preset: str) -> tuple[Any, Any, str]:
    """(config, type hint, owner) of a searchable name: a training setting or a field of the preset's config."""
    if name in TRAINING_NAMES:
        return TrainConfig(epochs=1), typing.get_type_hints(TrainConfig)[name], "training"
    config = get_preset(preset).config
    hints = typing.get_type_hints(type(config))
    known = [*TRAINING_NAMES, *(n for n in hints if n not in NOT_SEARCHED)]
    if name not in known:
        raise ValueError(unknown_name(f"a setting to search for {preset}", name, known, quote=False))
    return config, hints[name], preset


def _number_kinds(hint: Any) -> set[type]:
    return {k for k in typing.get_args(hint) or (hint,) if k in (int, float)}


def parse_dimension(text: str, preset: str) -> Dimension:
    """A `--space` entry `NAME=KIND:...` for preset `preset`, its values typed as the setting is.

    Args:
        text: `NAME=log:LOW:HIGH` (log-uniform; whole numbers for an integer setting), `NAME=float:LOW:HIGH`,
            `NAME=int:LOW:HIGH` or `NAME=cat:A,B,...`.
        preset: the preset searched (its config fields may be searched, besides `TRAINING_NAMES`).

    Returns:
        The `Dimension`.

    Raises:
        ValueError: naming what is expected, for an unknown name or a malformed or impossible range.

    Example:
        >>> parse_dimension("units=int:8:64", "tutorial-bilstm")
        Dimension(name='units', kind='int', values=(8, 64), integer=False)
    """
    name, sep, rest = (part.strip() for part in text.partition("="))
    kind, _, body = rest.partition(":")
    if not sep or not name or kind not in typing.get_args(Kind) or not body:
        raise ValueError(f"Expected --space {SPACE_USAGE}. Received: {text!r}")
    config, hint, owner = _hint(name, preset)
    parse = _parser(config, name, owner)
    if kind == "cat":
        choices = tuple(parse(value.strip()) for value in body.split(","))
        if len(set(choices)) != len(choices):
            raise ValueError(f"Expected distinct choices for {name}. Received: {text!r}")
        return Dimension(name, "cat", choices)
    numbers = _number_kinds(hint)
    bounds = body.split(":")
    if not numbers or len(bounds) != 2:
        what = f"{name}=cat:A,B,..." if not numbers else f"{name}={kind}:LOW:HIGH"
        raise ValueError(f"Expected --space {what}. Received: {text!r}")
    integer = float not in numbers
    if kind == "float" and integer:
        raise ValueError(f"Expected {name}=int:LOW:HIGH or log:LOW:HIGH ({name} is a whole number). Received: {text!r}")
    if kind == "int" and not integer:
        raise ValueError(
            f"Expected {name}=float:LOW:HIGH or log:LOW:HIGH ({name} is a real number). Received: {text!r}"
        )
    try:
        low, high = ((int if integer else float)(b) for b in bounds)
    except ValueError:
        number = "whole numbers" if integer else "numbers"
        raise ValueError(f"Expected {number} LOW:HIGH for {name}. Received: {text!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high and (kind != "log" or low > 0)):
        rule = "0 < LOW < HIGH" if kind == "log" else "LOW < HIGH"
        raise ValueError(f"Expected {rule} for {name}. Received: {text!r}")
    return Dimension(name, typing.cast(Kind, kind), (low, high), integer=integer and kind == "log")


def _parser(config: Any, name: str, owner: str) -> Callable[[str], Any]:
    from ..models import parse_field

    return lambda value: parse_field(config, name, value, owner)


def search_space(preset: str, overrides: tuple[str, ...] = (), *, fixed: tuple[str, ...] = ()) -> tuple[Dimension, ...]:
    """The preset's `SEARCH_SPACES` entry without the `fixed` names, each `overrides` entry replacing or adding one.

    Raises:
        ValueError: for a malformed entry, a name given twice, or a name both fixed and searched.
    """
    given = [parse_dimension(text, preset) for text in overrides]
    names = [d.name for d in given]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"Expected each --space name once. Received: {', '.join(twice)} more than once")
    both = sorted(set(names) & set(fixed))
    if both:
        raise ValueError(
            f"Expected each setting either fixed (MODEL:KEY=VALUE, a training option) or searched (--space). "
            f"Received: {', '.join(both)} as both"
        )
    space = {d.name: d for d in (parse_dimension(t, preset) for t in SEARCH_SPACES[preset]) if d.name not in fixed}
    space.update({d.name: d for d in given})
    return tuple(space.values())
