"""Layouts: a JSON description of any `Sequential` built from lstmlab layers, and the model it describes.

A layout is what Keras's `get_config` gives for a Sequential: the input shape, batch size, name and, in order, each
layer as `{"class": "LSTM", "config": {...}}` with its constructor's options; wrappers (Bidirectional,
TimeDistributed, Parallel) hold their inner layers' layouts. `model_from_config` builds a fresh model with the
same state-dict keys and shapes, so loading the original's weights gives the original's outputs. Classes come
from a fixed registry (`LAYER_CLASSES`): a layout never names code to import or evaluate.

Example:
    >>> from lstmlab.layers import LSTM, Dense
    >>> model = Sequential([LSTM(10), Dense(1)], input_shape=(None, 1))
    >>> model_config(model)["layers"][1]
    {'class': 'Dense', 'config': {'units': 1, 'activation': None}}
    >>> model_from_config(model_config(model)).count_params() == model.count_params()
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..layers import (
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    Masking,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from ..names import closest_names, unknown_name
from .ensemble import Ensemble, ensemble_of
from .sequential import Sequential

__all__ = ["LAYER_CLASSES", "MODEL_KEYS", "layer_config", "layer_from_config", "model_config", "model_from_config"]

# The keys of a model's layout; `ensemble` (members of the same layout) is written only for ensembles.
MODEL_KEYS = ("name", "input_shape", "batch_size", "layers", "ensemble")


# ----------------------------------------------------------------------------------------- option kinds
class _Mismatch(Exception):
    """A JSON value that is not of an option's kind (turned into a one-line ValueError naming the option)."""


@dataclass(frozen=True)
class _Kind:
    """What an option holds in JSON (`text`, for messages) and how it becomes the constructor's argument."""

    text: str
    convert: Callable[[Any], Any]


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Mismatch


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _Mismatch


def _of_type(kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        raise _Mismatch

    return convert


def _optional(kind: _Kind) -> _Kind:
    return _Kind(f"{kind.text} or null", lambda value: None if value is None else kind.convert(value))


def _shape(value: Any) -> tuple[int | None, ...]:
    if not isinstance(value, list):
        raise _Mismatch
    return tuple(None if size is None else _integer(size) for size in value)


def _layer(value: Any) -> Layer:
    if not isinstance(value, dict):
        raise _Mismatch
    return layer_from_config(value)


def _branches(value: Any) -> list[list[Layer]]:
    if not isinstance(value, list) or not all(isinstance(branch, list) for branch in value):
        raise _Mismatch
    return [[_layer(layer) for layer in branch] for branch in value]


INT = _Kind("an integer", _integer)
FLOAT = _Kind("a number", _number)
BOOL = _Kind("true or false", _of_type(bool))
STR = _Kind("a string", _of_type(str))
SHAPE = _Kind("a list of integers or nulls", _shape)
LAYER = _Kind('a layer {"class": ..., "config": {...}}', _layer)
BRANCHES = _Kind("a list of branches, each a list of layers", _branches)
_REQUIRED = object()  # an option without a default: the layout must give it


@dataclass(frozen=True)
class _Option:
    kind: _Kind
    default: Any = _REQUIRED


# ----------------------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class _Codec:
    """A layer class: its options (the constructor's, less its input size, which `Sequential` infers), how to read
    them off a layer (attributes of the same names unless `read` says otherwise) and how to build one."""

    cls: type[Layer]
    options: dict[str, _Option]
    read: Callable[[Any], dict[str, Any]] | None = None
    make: Callable[[dict[str, Any]], Layer] | None = None

    def config(self, layer: Layer) -> dict[str, Any]:
        values = self.read(layer) if self.read is not None else {name: getattr(layer, name) for name in self.options}
        return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}

    def build(self, options: dict[str, Any]) -> Layer:
        return self.make(options) if self.make is not None else self.cls(**options)


def _wrapper_config(layer: TimeDistributed) -> dict[str, Any]:
    return {"layer": layer_config(layer.layer)}


def _bidirectional_config(layer: Bidirectional) -> dict[str, Any]:
    # the backward copy is the forward layer's clone with the opposite direction: the forward layer says it all
    return {"layer": layer_config(layer.forward_layer), "merge_mode": layer.merge_mode}


def _parallel_config(layer: Parallel) -> dict[str, Any]:
    branches: list[list[dict[str, Any]]] = []
    for branch in layer.branches:
        assert isinstance(branch, nn.ModuleList)
        branches.append([layer_config(_as_layer(inner)) for inner in branch])
    return {"branches": branches}


def _as_layer(module: nn.Module) -> Layer:
    assert isinstance(module, Layer)  # a Parallel holds only layers
    return module


_NO_OPTIONS: dict[str, _Option] = {}
_CODECS: tuple[_Codec, ...] = (
    _Codec(
        LSTM,
        {
            "units": _Option(INT),
            "return_sequences": _Option(BOOL, False),
            "return_state": _Option(BOOL, False),
            "go_backwards": _Option(BOOL, False),
            "stateful": _Option(BOOL, False),
            "dropout": _Option(FLOAT, 0.0),
            "impl": _Option(STR, "auto"),
        },
    ),
    _Codec(
        Bidirectional,
        {"layer": _Option(LAYER), "merge_mode": _Option(_optional(STR), "concat")},
        read=_bidirectional_config,
    ),
    _Codec(Dense, {"units": _Option(INT), "activation": _Option(_optional(STR), None)}),
    _Codec(Dropout, {"rate": _Option(FLOAT), "noise_shape": _Option(_optional(SHAPE), None)}),
    _Codec(SpatialDropout1D, {"rate": _Option(FLOAT)}),
    _Codec(GaussianNoise, {"stddev": _Option(FLOAT)}),
    _Codec(
        Embedding,
        {
            "input_dim": _Option(INT),
            "output_dim": _Option(INT),
            "mask_zero": _Option(BOOL, False),
            "input_length": _Option(_optional(INT), None),
            "trainable": _Option(BOOL, True),
        },
    ),
    _Codec(Masking, {"mask_value": _Option(FLOAT, 0.0)}),
    _Codec(Flatten, _NO_OPTIONS),
    _Codec(GlobalAveragePooling1D, _NO_OPTIONS),
    _Codec(GlobalMaxPooling1D, _NO_OPTIONS),
    _Codec(ReverseTime, _NO_OPTIONS),
    _Codec(TimeDistributed, {"layer": _Option(LAYER)}, read=_wrapper_config),
    _Codec(Activation, {"activation": _Option(STR)}),
    _Codec(
        BatchNormalization,
        {"momentum": _Option(FLOAT, 0.99), "epsilon": _Option(FLOAT, 1e-3), "impl": _Option(STR, "auto")},
    ),
    _Codec(Conv1D, {"filters": _Option(INT), "kernel_size": _Option(INT)}),
    _Codec(
        Parallel,
        {"branches": _Option(BRANCHES)},
        read=_parallel_config,
        make=lambda options: Parallel(*options["branches"]),
    ),
)
_BY_NAME: dict[str, _Codec] = {codec.cls.__name__: codec for codec in _CODECS}
_BY_CLASS: dict[type, _Codec] = {codec.cls: codec for codec in _CODECS}
# The layer classes a layout may name, by name; nothing else is ever built from a layout.
LAYER_CLASSES: dict[str, type[Layer]] = {name: codec.cls for name, codec in _BY_NAME.items()}


def _class_list() -> str:
    return "{" + ", ".join(map(repr, sorted(_BY_NAME))) + "}"


# ----------------------------------------------------------------------------------------- layers
def layer_config(layer: Layer) -> dict[str, Any]:
    """The layout of one layer: `{"class": name, "config": {option: value}}`, JSON-able (tuples as lists).

    Raises:
        ValueError: for a layer whose class is not in `LAYER_CLASSES` (a subclass of one too: it may behave
            differently).

    Example:
        >>> layer_config(Dense(3, "relu"))
        {'class': 'Dense', 'config': {'units': 3, 'activation': 'relu'}}
    """
    codec = _BY_CLASS.get(type(layer))
    if codec is None:
        raise ValueError(
            f"Expected layers of the classes in {_class_list()} to describe. Received: {type(layer).__name__}"
        )
    return {"class": codec.cls.__name__, "config": codec.config(layer)}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """A fresh layer (new weights, unbuilt) from its layout; omitted options take the constructor's defaults.

    Raises:
        ValueError: on a layout that is not `{"class": ..., "config": {...}}`, a class outside `LAYER_CLASSES`, an
            unknown or missing option, an option of the wrong JSON type, or a value the layer itself refuses.
    """
    if not isinstance(config, dict) or set(config) != {"class", "config"} or not isinstance(config["config"], dict):
        received = sorted(config) if isinstance(config, dict) else type(config).__name__
        raise ValueError(f'Expected a layer as {{"class": ..., "config": {{...}}}}. Received: {received}')
    name = config["class"]
    codec = _BY_NAME.get(name) if isinstance(name, str) else None
    if codec is None:
        close = closest_names(name, _BY_NAME) if isinstance(name, str) else []
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise ValueError(f"Expected a layer class in {_class_list()}. Received: class={name!r}{hint}")
    return codec.build(_options(codec, config["config"]))


def _options(codec: _Codec, given: dict[str, Any]) -> dict[str, Any]:
    """The constructor's arguments from a layer's JSON options, each checked against its kind."""
    owner = codec.cls.__name__
    unknown = sorted(set(given) - set(codec.options))
    if unknown:
        raise ValueError(unknown_name(f"options of {owner}", unknown, codec.options, quote=False))
    options: dict[str, Any] = {}
    for name, option in codec.options.items():
        if name not in given:
            if option.default is _REQUIRED:
                raise ValueError(f"Expected {owner} option {name!r}. Received: options {sorted(given)}")
            options[name] = option.default
            continue
        try:
            options[name] = option.kind.convert(given[name])
        except _Mismatch:
            raise ValueError(
                f"Expected {owner} option {name} to be {option.kind.text}. Received: {name}={given[name]!r}"
            ) from None
    return options


# ----------------------------------------------------------------------------------------- models
def model_config(model: Sequential) -> dict[str, Any]:
    """The layout of a `Sequential` (or an `Ensemble` of them): JSON-able, enough to rebuild it without its code.

    Args:
        model: a `Sequential` of lstmlab layers, or an `Ensemble` (its members share one layout).

    Returns:
        `{"name", "input_shape", "batch_size", "layers": [layer layouts]}`, plus `"ensemble": K` for an ensemble
        of K members (whose name is the members').

    Raises:
        ValueError: for another kind of model, or a layer outside `LAYER_CLASSES`.

    Example:
        >>> from lstmlab.models import build_model
        >>> model_config(build_model("qa-lstm"))["input_shape"]
        [10, 1]
    """
    if type(model) is Ensemble:
        member = model.members[0]
        assert isinstance(member, Sequential)
        return {**model_config(member), "ensemble": model.size}
    if type(model) is not Sequential:
        raise ValueError(f"Expected a Sequential or an Ensemble to describe. Received: {type(model).__name__}")
    return {
        "name": model.name,
        "input_shape": list(model.input_shape),
        "batch_size": model.batch_size,
        "layers": [layer_config(layer) for layer in model._layers()],
    }


def model_from_config(config: dict[str, Any]) -> Sequential:
    """A fresh model (new weights) from its layout: the same state-dict keys and shapes as the described model.

    Args:
        config: a layout from `model_config` (or JSON that parsed to one); `name` and `batch_size` may be omitted.

    Returns:
        A `Sequential` in training mode, or an `Ensemble` where the layout says `"ensemble": K` with K >= 2.

    Raises:
        ValueError: on a key outside `MODEL_KEYS`, a missing input shape or layer list, a value of the wrong JSON
            type, or any layer `layer_from_config` refuses, each in one line.

    Example:
        >>> model = model_from_config({"input_shape": [None, 2], "layers": [{"class": "LSTM", "config": {"units": 4}}]})
        >>> model.output_shape
        (4,)
    """
    if not isinstance(config, dict):
        raise ValueError(f"Expected a model layout (a JSON object). Received: {type(config).__name__}")
    unknown = sorted(set(config) - set(MODEL_KEYS))
    if unknown:
        raise ValueError(unknown_name("keys of a model layout", unknown, MODEL_KEYS, quote=False))
    missing = [key for key in ("input_shape", "layers") if key not in config]
    if missing:
        raise ValueError(f"Expected a model layout with {' and '.join(missing)}. Received: keys {sorted(config)}")
    checks = {
        "name": (STR, "sequential"),
        "input_shape": (SHAPE, _REQUIRED),
        "batch_size": (_optional(INT), None),
        "ensemble": (INT, 1),
        "layers": (_Kind("a list of layers", _of_type(list)), _REQUIRED),
    }
    values: dict[str, Any] = {}
    for key, (kind, default) in checks.items():
        try:
            values[key] = kind.convert(config[key]) if key in config else default
        except _Mismatch:
            raise ValueError(f"Expected the model's {key} to be {kind.text}. Received: {key}={config[key]!r}") from None

    def build() -> Sequential:
        layers = [layer_from_config(layer) for layer in values["layers"]]
        shape, batch_size, name = values["input_shape"], values["batch_size"], values["name"]
        return Sequential(layers, input_shape=shape, batch_size=batch_size, name=name)

    return ensemble_of(build, values["ensemble"])
