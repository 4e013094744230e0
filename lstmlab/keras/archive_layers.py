"""Keras layers to lstmlab layers and back: options checked one by one, weights transposed where the layouts differ.

Layouts: a Keras LSTM stores `kernel` (D, 4H), `recurrent_kernel` (H, 4H) and `bias` (4H,), gates in the order
i, f, c, o; lstmlab's `LSTMCell` holds `weight_ih` (4H, D), `weight_hh` (4H, H) and one `bias` (4H,) with rows
i | f | g | o, so the kernels are transposed and nothing else changes. A Keras Dense `kernel` is (D, U), a torch
Linear's weight (U, D); a Keras Conv1D `kernel` is (k, D, F), a torch Conv1d's weight (F, D, k).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

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
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from .archive_files import Config, KerasLayer, WeightEntry

__all__ = ["IMPORTED", "Imported", "Importing", "export_layer", "import_layer"]

Loader = Callable[[], None]
# Activations an lstmlab Dense or Activation has, by their Keras names
_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")


@dataclass
class Importing:
    """What importing a chain has learnt so far: whether a mask reaches the current layer, and the notes to give."""

    masked: bool = False  # an Embedding(mask_zero=True) or a Masking layer marks padded steps from here on
    padded_outputs_differ: str | None = None  # a layer whose outputs at padded steps Keras does not zero
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    """The lstmlab layers standing for one Keras layer, and how to load its weights once they are built."""

    layers: list[Layer]
    load: Loader | None = None


def _received(layer: KerasLayer, option: str | None = None, value: object = None) -> str:
    where = f"{layer.class_name} layer {layer.name!r}"
    return f"Received: {where}" + ("" if option is None else f" with {option}={value!r}")


def _refuse(layer: KerasLayer, expected: str, option: str | None = None, value: object = None) -> ValueError:
    return ValueError(f"Expected {expected}. {_received(layer, option, value)}")


def _require(layer: KerasLayer, option: str, allowed: Sequence[object], default: object, why: str = "") -> Any:
    """The option's value (its Keras default when absent), refused unless it is one of `allowed`."""
    value = layer.config.get(option, default)
    if isinstance(value, list):
        value = tuple(value)
    if value not in allowed:
        text = f"{option}={allowed[0]!r}" if len(allowed) == 1 else f"{option} in {{{', '.join(map(repr, allowed))}}}"
        raise _refuse(layer, text + (f" ({why})" if why else ""), option, value)
    return value


def _check_dtype(layer: KerasLayer) -> None:
    dtype = layer.config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    if dtype not in (None, "float32"):
        raise _refuse(layer, "dtype 'float32' (lstmlab imports float32 weights)", "dtype", dtype)


def _activation(layer: KerasLayer, option: str = "activation") -> str:
    value = layer.config.get(option, "linear")
    value = "linear" if value is None else value
    if not isinstance(value, str) or value not in _ACTIVATIONS:
        raise _refuse(layer, f"{option} in {{{', '.join(map(repr, _ACTIVATIONS))}}}", option, value)
    return value


def _pick(layer: KerasLayer, entries: Sequence[WeightEntry], expected: Sequence[str]) -> list[np.ndarray]:
    """The weights named `expected`, in that order: by name in a legacy file, by position in an archive."""
    if len(entries) != len(expected):
        raise _refuse(layer, f"{len(expected)} weights ({', '.join(expected)})", "weights", len(entries))
    if entries[0][0] is None:
        return [array for _, array in entries]
    by_suffix = {str(name).split("/")[-1].split(":")[0]: array for name, array in entries}
    missing = [name for name in expected if name not in by_suffix]
    if missing:
        raise _refuse(layer, f"weights named {list(expected)}", "weights", [name for name, _ in entries])
    return [by_suffix[name] for name in expected]


def _copy(layer: KerasLayer, target: Tensor, value: np.ndarray, what: str) -> None:
    if tuple(target.shape) != value.shape:
        raise _refuse(layer, f"{what} of shape {tuple(target.shape)}", f"{what}.shape", value.shape)
    with torch.no_grad():
        target.copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))


# --------------------------------------------------------------------------------------------- import, per class
def _embedding(layer: KerasLayer, state: Importing) -> Imported:
    config = layer.config
    for option in ("quantization_config", "lora_rank"):
        _require(layer, option, (None,), None, "plain float weights only")
    _require(layer, "sparse", (False,), False)
    mask_zero = bool(config.get("mask_zero", False))
    trainable = bool(config.get("trainable", True))  # a frozen Embedding (pretrained vectors) stays frozen
    imported = Embedding(int(config["input_dim"]), int(config["output_dim"]), mask_zero=mask_zero, trainable=trainable)
    state.masked = state.masked or mask_zero

    def load() -> None:
        (embeddings,) = _pick(layer, layer.weights, ["embeddings"])
        _copy(layer, imported.embedding.weight, embeddings, "embeddings")

    return Imported([imported], load)


def _lstm_options(layer: KerasLayer) -> dict[str, Any]:
    """The lstmlab LSTM options of a Keras LSTM config, every option that changes its answers checked."""
    config = layer.config
    _check_dtype(layer)
    _require(layer, "activation", ("tanh",), "tanh", "lstmlab's LSTM computes tanh")
    _require(layer, "recurrent_activation", ("sigmoid",), "sigmoid", "lstmlab's gates are sigmoids")
    _require(layer, "use_bias", (True,), True, "lstmlab's LSTM has a bias")
    _require(layer, "return_state", (False,), False, "a Sequential passes on one tensor")
    _require(layer, "time_major", (False,), False)
    dropout = float(config.get("dropout", 0.0))
    return {
        "units": int(config["units"]),
        "return_sequences": bool(config.get("return_sequences", False)),
        "go_backwards": bool(config.get("go_backwards", False)),
        "stateful": bool(config.get("stateful", False)),
        "dropout": dropout,
    }


def _recurrent_dropout_note(layer: KerasLayer, state: Importing) -> None:
    rate = float(layer.config.get("recurrent_dropout", 0.0))
    if rate:
        state.notes.append(
            f"{layer.class_name} layer {layer.name!r}: recurrent_dropout={rate} not imported (it acts only in "
            "training; lstmlab's LSTM has none): predictions are Keras's, further training differs"
        )


def _load_cell(layer: KerasLayer, target: LSTM, entries: Sequence[WeightEntry]) -> None:
    kernel, recurrent, bias = _pick(layer, entries, ["kernel", "recurrent_kernel", "bias"])
    cell = target.cell
    _copy(layer, cell.weight_ih, kernel.T, "kernel (transposed)")  # (D, 4H) -> (4H, D), gates i|f|c|o both
    _copy(layer, cell.weight_hh, recurrent.T, "recurrent_kernel (transposed)")  # (H, 4H) -> (4H, H)
    _copy(layer, cell.bias, bias, "bias")


def _masked_sequence_notes(layer: KerasLayer, state: Importing, options: dict[str, Any], *, zeros: bool) -> None:
    """Notes for a recurrent layer returning sequences under a mask, where Keras's padded steps differ."""
    if not (state.masked and options["return_sequences"]):
        return
    if options["go_backwards"]:
        state.notes.append(
            f"{layer.class_name} layer {layer.name!r} reads backwards under a mask: Keras reverses the whole padded "
            "time axis, so a right-padded row's outputs sit at its last steps (under a mask marking its first ones); "
            "lstmlab's sit at the row's own steps, reversed within its length: padded rows agree after re-alignment"
        )
    if not zeros:
        state.padded_outputs_differ = layer.name


def _lstm(layer: KerasLayer, state: Importing) -> Imported:
    options = _lstm_options(layer)
    _recurrent_dropout_note(layer, state)
    imported = LSTM(**options)
    _masked_sequence_notes(layer, state, options, zeros=False)
    state.masked = state.masked and options["return_sequences"]
    return Imported([imported], lambda: _load_cell(layer, imported, layer.weights))


def _bidirectional(layer: KerasLayer, state: Importing) -> Imported:
    config = layer.config
    _check_dtype(layer)
    merge_mode = config.get("merge_mode", "concat")
    if merge_mode not in ("concat", "sum", "mul", "ave"):
        raise _refuse(
            layer, "merge_mode in {'concat', 'sum', 'mul', 'ave'} (one tensor passed on)", "merge_mode", merge_mode
        )
    inner = _inner(layer, "layer")
    if inner.class_name != "LSTM":
        raise _refuse(layer, "Bidirectional(LSTM(...))", "layer", inner.class_name)
    options = _lstm_options(inner)
    _recurrent_dropout_note(inner, state)
    if "backward_layer" in config:
        backward = _inner(layer, "backward_layer")
        if backward.class_name != "LSTM":
            raise _refuse(layer, "an LSTM as backward_layer", "backward_layer", backward.class_name)
        expected = {**options, "go_backwards": not options["go_backwards"]}
        if _lstm_options(backward) != expected:
            raise _refuse(
                layer,
                f"a backward_layer with the layer's options and the other direction ({expected})",
                "backward_layer",
                _lstm_options(backward),
            )
    imported = Bidirectional(LSTM(**options), merge_mode=merge_mode)
    _masked_sequence_notes(layer, state, options, zeros=True)
    state.masked = state.masked and options["return_sequences"]
    forward, backward_weights = _directions(layer.weights, inner.name)

    def load() -> None:
        _load_cell(inner, imported.forward_layer, forward)
        _load_cell(inner, imported.backward_layer, backward_weights)

    layers: list[Layer] = [imported]
    if options["go_backwards"] and options["return_sequences"]:
        # Keras flips the backward half's outputs only: with a backwards-reading first layer both halves come out
        # in reversed time order, lstmlab's in input order
        layers.append(ReverseTime())
    return Imported(layers, load)


def _directions(weights: Sequence[WeightEntry], forward_name: str) -> tuple[list[WeightEntry], list[WeightEntry]]:
    """A Bidirectional's weights split into its forward and backward layer's: in a legacy file by the forward
    layer's name in their paths (or "backward" in the others'), in an archive by position (forward first)."""
    half = len(weights) // 2
    if weights and weights[0][0] is not None:
        names = [str(name) for name, _ in weights]
        for marks in ([forward_name in n.split("/") for n in names], ["backward" not in n for n in names]):
            if sum(marks) == half:
                forward = [w for w, mark in zip(weights, marks, strict=True) if mark]
                return forward, [w for w, mark in zip(weights, marks, strict=True) if not mark]
    return list(weights[:half]), list(weights[half:])


def _inner(layer: KerasLayer, option: str) -> KerasLayer:
    entry = layer.config.get(option)
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise _refuse(layer, f"a layer config as {option}", option, entry)
    name = str(entry.get("config", {}).get("name", entry["class_name"]))
    return KerasLayer(entry["class_name"], name, entry.get("config", {}), layer.weights)


def _dense_layer(layer: KerasLayer, entries: Sequence[WeightEntry]) -> Imported:
    _check_dtype(layer)
    for option in ("quantization_config", "lora_rank"):
        _require(layer, option, (None,), None, "plain float weights only")
    _require(layer, "use_bias", (True,), True, "lstmlab's Dense has a bias")
    imported = Dense(int(layer.config["units"]), _activation(layer))

    def load() -> None:
        kernel, bias = _pick(layer, entries, ["kernel", "bias"])
        assert imported.linear is not None
        _copy(layer, imported.linear.weight, kernel.T, "kernel (transposed)")  # (D, U) -> (U, D)
        _copy(layer, imported.linear.bias, bias, "bias")

    return Imported([imported], load)


def _dense(layer: KerasLayer, state: Importing) -> Imported:
    return _dense_layer(layer, layer.weights)


def _time_distributed(layer: KerasLayer, state: Importing) -> Imported:
    inner = _inner(layer, "layer")
    if inner.class_name != "Dense":
        raise _refuse(layer, "TimeDistributed(Dense(...))", "layer", inner.class_name)
    dense = _dense_layer(inner, layer.weights)
    return Imported([TimeDistributed(dense.layers[0])], dense.load)


def _dropout(layer: KerasLayer, state: Importing) -> Imported:
    noise = layer.config.get("noise_shape")
    return Imported([Dropout(float(layer.config["rate"]), None if noise is None else tuple(noise))])


def _spatial_dropout(layer: KerasLayer, state: Importing) -> Imported:
    return Imported([SpatialDropout1D(float(layer.config["rate"]))])


def _gaussian_noise(layer: KerasLayer, state: Importing) -> Imported:
    return Imported([GaussianNoise(float(layer.config["stddev"]))])


def _flatten(layer: KerasLayer, state: Importing) -> Imported:
    if state.padded_outputs_differ is not None:
        state.notes.append(
            f"Flatten layer {layer.name!r} reads the padded-step outputs of LSTM layer {state.padded_outputs_differ!r}"
            ": Keras's repeat the row's last output there, lstmlab's are zeros: padded rows differ from Keras"
        )
    state.masked = False
    return Imported([Flatten()])


def _pooling(layer: KerasLayer, state: Importing) -> Imported:
    _require(layer, "data_format", ("channels_last",), "channels_last")
    _require(layer, "keepdims", (False,), False)
    pooled: Layer
    if layer.class_name == "GlobalAveragePooling1D":
        pooled = GlobalAveragePooling1D()
    else:
        pooled = GlobalMaxPooling1D()
        if state.masked:
            state.notes.append(
                f"GlobalMaxPooling1D layer {layer.name!r} under a mask: Keras's ignores the mask (padded-step "
                "outputs count in its maximum), lstmlab's takes the valid steps only: padded rows may differ"
            )
    state.masked = False
    return Imported([pooled])


def _activation_layer(layer: KerasLayer, state: Importing) -> Imported:
    return Imported([Activation(_activation(layer))])


def _conv1d(layer: KerasLayer, state: Importing) -> Imported:
    _check_dtype(layer)
    if state.masked:
        raise _refuse(
            layer,
            "no Conv1D after a mask (Keras's drops the mask, so later layers read the padding; "
            "lstmlab's keeps the lengths)",
        )
    _require(layer, "padding", ("same",), "valid", "lstmlab's Conv1D keeps the length")
    for option in ("strides", "dilation_rate"):
        _require(layer, option, (1, (1,)), 1)
    _require(layer, "groups", (1,), 1)
    _require(layer, "data_format", ("channels_last",), "channels_last")
    _require(layer, "use_bias", (True,), True, "lstmlab's Conv1D has a bias")
    size = layer.config["kernel_size"]
    imported = Conv1D(int(layer.config["filters"]), int(size[0] if isinstance(size, list) else size))
    activation = _activation(layer)

    def load() -> None:
        kernel, bias = _pick(layer, layer.weights, ["kernel", "bias"])
        assert imported.conv is not None
        _copy(layer, imported.conv.weight, kernel.transpose(2, 1, 0), "kernel (transposed)")  # (k, D, F) -> (F, D, k)
        _copy(layer, imported.conv.bias, bias, "bias")  # type: ignore[arg-type]  # a conv with a bias

    return Imported([imported] + ([Activation(activation)] if activation != "linear" else []), load)


def _batch_normalization(layer: KerasLayer, state: Importing) -> Imported:
    _check_dtype(layer)
    axis = layer.config.get("axis", -1)
    if axis not in (-1, [-1], [2], 2):  # the last axis of (B, T, D)
        raise _refuse(layer, "axis=-1 (the features)", "axis", axis)
    _require(layer, "renorm", (False,), False)
    scale, center = bool(layer.config.get("scale", True)), bool(layer.config.get("center", True))
    imported = BatchNormalization(
        momentum=float(layer.config.get("momentum", 0.99)), epsilon=float(layer.config.get("epsilon", 1e-3))
    )

    def load() -> None:
        names = ["gamma"] * scale + ["beta"] * center + ["moving_mean", "moving_variance"]
        values = dict(zip(names, _pick(layer, layer.weights, names), strict=True))
        for name, value in values.items():
            _copy(layer, getattr(imported, name), value, name)

    return Imported([imported], load)


def _masking(layer: KerasLayer, state: Importing) -> Imported:
    _check_dtype(layer)
    value = layer.config.get("mask_value", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _refuse(layer, "a number as mask_value", "mask_value", value)
    state.masked = True
    return Imported([Masking(float(value))])


def _lambda(layer: KerasLayer, state: Importing) -> Imported:
    raise _refuse(layer, "no Lambda layer (its Python code is never loaded or run)")


IMPORTED: dict[str, Callable[[KerasLayer, Importing], Imported]] = {
    "Activation": _activation_layer,
    "BatchNormalization": _batch_normalization,
    "Bidirectional": _bidirectional,
    "Conv1D": _conv1d,
    "Dense": _dense,
    "Dropout": _dropout,
    "Embedding": _embedding,
    "Flatten": _flatten,
    "GaussianNoise": _gaussian_noise,
    "GlobalAveragePooling1D": _pooling,
    "GlobalMaxPooling1D": _pooling,
    "LSTM": _lstm,
    "Lambda": _lambda,
    "Masking": _masking,
    "SpatialDropout1D": _spatial_dropout,
    "TimeDistributed": _time_distributed,
}
_ALIASES = {
    "Convolution1D": "Conv1D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
}


def import_layer(layer: KerasLayer, state: Importing, *, first: bool) -> Imported:
    """The lstmlab layers for one Keras layer of the chain (`first`: it reads the model's input).

    Raises:
        ValueError: one line naming the Keras layer (class and name) and the option lstmlab cannot map.
    """
    class_name = _ALIASES.get(layer.class_name, layer.class_name)
    handler = IMPORTED.get(class_name)
    if handler is None:
        known = ", ".join(sorted(k for k in IMPORTED if k != "Lambda"))
        raise _refuse(layer, f"Keras layers lstmlab has ({known})")
    if class_name == "Masking" and not first:
        raise _refuse(
            layer,
            "Masking as the first layer (lstmlab derives lengths from the model's input, Keras from the values "
            "a Masking receives)",
        )
    if class_name == "Embedding" and not first:
        raise _refuse(layer, "Embedding as the first layer (it reads the model's token ids)")
    return handler(layer, state)


# --------------------------------------------------------------------------------------------- export
# One Keras layer written: class, config, and its weights as groups of model.weights.h5 ("vars": the layer's own
# variables in creation order; other keys: sublayers' groups).
Exported = tuple[str, Config, dict[str, Any]]


def _array(t: Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy()


def _lstm_config(layer: LSTM, name: str) -> Config:
    if layer.return_state:
        raise ValueError(f"Expected LSTM without return_state in a Keras Sequential. Received: LSTM {name!r}")
    return {
        "name": name,
        "units": layer.units,
        "return_sequences": layer.return_sequences,
        "go_backwards": layer.go_backwards,
        "stateful": layer.stateful,
        "dropout": layer.dropout,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
    }


def _cell_vars(layer: LSTM) -> dict[str, Any]:
    cell = layer.cell
    return {"vars": [], "cell": {"vars": [_array(cell.weight_ih.T), _array(cell.weight_hh.T), _array(cell.bias)]}}


def _dense_export(layer: Dense, name: str, activation: str | None) -> Exported:
    assert layer.linear is not None
    config = {"name": name, "units": layer.units, "activation": activation or "linear", "use_bias": True}
    return "Dense", config, {"vars": [_array(layer.linear.weight.T), _array(layer.linear.bias)]}


def export_layer(layer: Layer, name: str, *, activation: str | None = None) -> Exported:
    """One lstmlab layer as a Keras layer (`activation`: the final activation, for a last Dense).

    Raises:
        ValueError: for a layer Keras has no equivalent of, or an option Keras would compute differently.
    """
    if isinstance(layer, Embedding):
        config = {
            "name": name,
            "input_dim": layer.input_dim,
            "output_dim": layer.output_dim,
            "mask_zero": layer.mask_zero,
            "trainable": layer.trainable,
        }
        return "Embedding", config, {"vars": [_array(layer.embedding.weight)]}
    if isinstance(layer, LSTM):
        return "LSTM", _lstm_config(layer, name), _cell_vars(layer)
    if isinstance(layer, Bidirectional):
        inner = layer.forward_layer
        if inner.go_backwards and inner.return_sequences:
            raise ValueError(
                "Expected a forward-reading LSTM in a Bidirectional returning sequences (Keras returns both halves "
                f"in reversed time order otherwise). Received: Bidirectional {name!r} over LSTM(go_backwards=True)"
            )
        config = {
            "name": name,
            "merge_mode": layer.merge_mode,
            "layer": {"class_name": "LSTM", "config": _lstm_config(inner, f"{name}_lstm")},
        }
        return (
            "Bidirectional",
            config,
            {
                "vars": [],
                "forward_layer": _cell_vars(inner),
                "backward_layer": _cell_vars(layer.backward_layer),
            },
        )
    if isinstance(layer, Dense):
        return _dense_export(layer, name, activation or layer.activation)
    if isinstance(layer, TimeDistributed) and isinstance(layer.layer, Dense):
        _, dense_config, dense_vars = _dense_export(layer.layer, f"{name}_dense", activation or layer.layer.activation)
        config = {"name": name, "layer": {"class_name": "Dense", "config": dense_config}}
        return "TimeDistributed", config, {"vars": [], "layer": dense_vars}
    if isinstance(layer, SpatialDropout1D):
        return "SpatialDropout1D", {"name": name, "rate": layer.rate}, {"vars": []}
    if isinstance(layer, Dropout):
        noise = None if layer.noise_shape is None else list(layer.noise_shape)
        return "Dropout", {"name": name, "rate": layer.rate, "noise_shape": noise}, {"vars": []}
    if isinstance(layer, GaussianNoise):
        return "GaussianNoise", {"name": name, "stddev": layer.stddev}, {"vars": []}
    if isinstance(layer, Masking):
        return "Masking", {"name": name, "mask_value": layer.mask_value}, {"vars": []}
    simple = {
        Flatten: "Flatten",
        GlobalAveragePooling1D: "GlobalAveragePooling1D",
        GlobalMaxPooling1D: "GlobalMaxPooling1D",
    }
    if type(layer) in simple:
        return simple[type(layer)], {"name": name}, {"vars": []}
    if isinstance(layer, Activation):
        return "Activation", {"name": name, "activation": layer.activation}, {"vars": []}
    if isinstance(layer, Conv1D):
        assert layer.conv is not None
        config = {"name": name, "filters": layer.filters, "kernel_size": [layer.kernel_size], "padding": "same"}
        return "Conv1D", config, {"vars": [_array(layer.conv.weight.permute(2, 1, 0)), _array(layer.conv.bias)]}  # type: ignore[arg-type]
    if isinstance(layer, BatchNormalization):
        config = {"name": name, "axis": -1, "momentum": layer.momentum, "epsilon": layer.epsilon}
        weights = [_array(getattr(layer, n)) for n in ("gamma", "beta", "moving_mean", "moving_variance")]
        return "BatchNormalization", config, {"vars": weights}
    raise ValueError(
        f"Expected lstmlab layers that Keras has (Embedding, Masking, LSTM, Bidirectional, Dense, "
        f"TimeDistributed(Dense), Dropout, SpatialDropout1D, GaussianNoise, Flatten, pooling, Conv1D, "
        f"BatchNormalization, Activation). "
        f"Received: {type(layer).__name__} {name!r}"
    )
