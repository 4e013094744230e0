"""Grids for comparisons: `--grid KEY=V1,V2,...` options, every model trained at every point of their product.

A grid key is a training setting (`TRAINING_KEYS`) or an option of every compared model's preset, its values parsed
by the preset's own parser (`models.parse_option`). A key is refused in one line when it is unknown, when a value
does not parse or builds no model, when it is not an option of some model, when a model sets it itself
(`PRESET:KEY=VALUE`), or when it changes nothing in some model (its layout is the same at every value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..models import build_model, get_preset, model_config, parse_option
from ..names import unknown_name
from .spec import TRAINING_KEYS, Grid

__all__ = ["parse_grid", "point_label"]


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def point_label(point: dict[str, Any]) -> str:
    """A grid point as text, e.g. `learning_rate=0.001, units=10`.

    Example:
        >>> point_label({"learning_rate": 1e-3, "units": 10})
        'learning_rate=0.001, units=10'
    """
    return ", ".join(f"{key}={_text(value)}" for key, value in point.items())


def training_part(point: dict[str, Any]) -> dict[str, Any]:
    """The training settings of a grid point."""
    return {k: v for k, v in point.items() if k in TRAINING_KEYS}


def model_part(point: dict[str, Any]) -> dict[str, Any]:
    """The model options of a grid point."""
    return {k: v for k, v in point.items() if k not in TRAINING_KEYS}


def _training_value(key: str, text: str) -> Any:
    kind = TRAINING_KEYS[key]
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0:
        described = "a positive number" if kind is float else "a positive integer"
        raise ValueError(f"Expected {key} as {described}. Received: {key}={text!r}")
    return value


def _fields(preset: str) -> set[str]:
    return {f.name for f in dataclasses.fields(get_preset(preset).config)}


def _model_values(key: str, texts: list[str], models: Sequence[tuple[str, str, dict[str, Any]]]) -> tuple[Any, ...]:
    """Values of model option `key`, parsed by each model's preset; refused unless it applies to every model."""
    fields = {label: _fields(preset) for label, preset, _ in models}
    if not any(key in f for f in fields.values()):
        known = set(TRAINING_KEYS).union(*fields.values())
        raise ValueError(unknown_name("a grid key (a training setting or an option of the models)", key, known))
    values: tuple[Any, ...] | None = None
    for label, preset, options in models:
        if key not in fields[label]:
            raise ValueError(f"Expected grid keys that apply to every model. Received: {key}, not an option of {label}")
        if key in options:
            raise ValueError(f"Expected grid keys the models do not set themselves. Received: {key}, set by {label}")
        parsed = tuple(parse_option(preset, key, text) for text in texts)
        if len(set(parsed)) != len(parsed):
            raise ValueError(f"Expected different values on a grid axis. Received: {key}={','.join(texts)}")
        layouts = [model_config(build_model(preset, **{**options, key: value})) for value in parsed]
        if len(parsed) > 1 and all(layout == layouts[0] for layout in layouts):
            raise ValueError(
                f"Expected grid keys that change every model. Received: {key}, which changes nothing in {label}"
            )
        if values is not None and parsed != values:
            raise ValueError(f"Expected {key} to mean the same for every model. Received: {parsed} and {values}")
        values = parsed
    assert values is not None
    return values


def parse_grid(
    texts: Sequence[str],
    models: Sequence[tuple[str, str, dict[str, Any]]],
    *,
    training: Sequence[str] = tuple(TRAINING_KEYS),
    options: Sequence[str] | None = None,
    where: str = "this comparison",
) -> Grid:
    """`--grid KEY=V1,V2,...` texts to a `Grid`, checked against the models compared.

    Args:
        texts: one per --grid option, e.g. "learning_rate=1e-3,1e-2".
        models: (label, preset, options) of every model compared.
        training: the training settings this comparison can vary.
        options: the model options it can vary (None: any that applies to every model).
        where: the comparison, named in refusals.

    Returns:
        The grid, its axes in the order given.

    Raises:
        ValueError: a text without "=", a key given twice, no values, a repeated value, an unknown key, a value that
            does not parse or builds no model, a key that is not an option of every model, that a model sets itself,
            that changes nothing in some model, or that this comparison cannot vary.

    Example:
        >>> parse_grid(["learning_rate=1e-3,1e-2"], [("tutorial-lstm", "tutorial-lstm", {})]).points()
        [{'learning_rate': 0.001}, {'learning_rate': 0.01}]
    """
    axes: list[tuple[str, tuple[Any, ...]]] = []
    for text in texts:
        key, sep, rest = text.partition("=")
        key = key.strip()
        values = [v.strip() for v in rest.split(",")]
        if not sep or not key or not all(values):
            raise ValueError(f"Expected --grid KEY=VALUE,VALUE,... Received: {text!r}")
        if key in dict(axes):
            raise ValueError(f"Expected each grid key once. Received: {key} twice")
        if key in TRAINING_KEYS:
            if key not in training:
                raise ValueError(f"Expected training keys in {list(training)} with {where}. Received: {key}")
            parsed = tuple(_training_value(key, v) for v in values)
        else:
            if options is not None and key not in options and any(key in _fields(p) for _, p, _ in models):
                raise ValueError(f"Expected grid keys in {[*training, *options]} with {where}. Received: {key}")
            parsed = _model_values(key, values, models)
        if len(set(parsed)) != len(parsed):
            raise ValueError(f"Expected different values on a grid axis. Received: {key}={rest}")
        axes.append((key, parsed))
    return Grid(tuple(axes))
