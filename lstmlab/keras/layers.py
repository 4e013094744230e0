"""Keras 2's layer constructors, with Keras's argument names and defaults, building lstmlab layers.

A Keras layer here holds its arguments until `Sequential` builds the model: each becomes the lstmlab layer of the
same name (`lstmlab.layers`), so the model runs lstmlab's code (the fused LSTM kernel, exact padding). An output
`Dense(activation='sigmoid' | 'softmax')` (also inside `TimeDistributed`) becomes a linear Dense: lstmlab models
return logits, the loss is computed from them, and `predict` applies the activation.

Keras options that lstmlab does not have raise a one-line ValueError naming the argument and what to use instead.

Example:
    >>> model = Sequential()
    >>> model.add(LSTM(20, input_shape=(10, 1), return_sequences=True))
    >>> model.add(TimeDistributed(Dense(1, activation="sigmoid")))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .. import layers as lstm_layers
from ..layers import Layer, Shape
from .initializers import Constant

__all__ = [
    "LSTM",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "BuiltLayer",
    "Conv1D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Input",
    "InputLayer",
    "KerasLayer",
    "Masking",
    "SpatialDropout1D",
    "TimeDistributed",
]

# Output activations that lstmlab takes out of the model (it returns logits) and applies in `predict`
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")
# Keras's names for activations lstmlab's Dense and Activation have
_ACTIVATIONS = {None: None, "linear": None, "relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax"}
# Arguments every Keras layer takes (shape, name, dtype); `batch_size` and `input_dim` are Keras 2's
_COMMON = ("name", "input_shape", "batch_input_shape", "batch_size", "input_dim", "dtype", "trainable")
# Keras arguments that lstmlab supports only at their Keras default: argument -> (default, what to do instead)
_DEFAULT_ONLY: dict[str, tuple[object, str]] = {
    "kernel_initializer": ("glorot_uniform", "the default (lstmlab initialises as Keras does by default)"),
    "recurrent_initializer": ("orthogonal", "the default (lstmlab initialises as Keras does by default)"),
    "bias_initializer": ("zeros", "the default (lstmlab initialises as Keras does by default)"),
    "embeddings_initializer": ("uniform", "the default (lstmlab initialises as Keras does by default)"),
    "unit_forget_bias": (True, "the default (the forget gate's bias starts at 1)"),
    "kernel_regularizer": (None, "weight decay in the optimizer (AdamW in lstmlab.training) instead"),
    "recurrent_regularizer": (None, "weight decay in the optimizer (AdamW in lstmlab.training) instead"),
    "bias_regularizer": (None, "weight decay in the optimizer (AdamW in lstmlab.training) instead"),
    "activity_regularizer": (None, "no activity regularizer"),
    "embeddings_regularizer": (None, "weight decay in the optimizer (AdamW in lstmlab.training) instead"),
    "kernel_constraint": (None, "no constraint"),
    "recurrent_constraint": (None, "no constraint"),
    "bias_constraint": (None, "no constraint"),
    "embeddings_constraint": (None, "no constraint"),
    "use_bias": (True, "use_bias=True (lstmlab's layers always have a bias)"),
    "activation": ("tanh", "activation='tanh' (the LSTM equations of the fused kernel)"),
    "recurrent_activation": ("sigmoid", "recurrent_activation='sigmoid' (the LSTM equations of the fused kernel)"),
    "recurrent_dropout": (0.0, "dropout= (input dropout, one mask per sequence) or a Dropout layer"),
    "return_state": (False, "return_state=False in a Sequential (use lstmlab.layers.LSTM for states)"),
    "unroll": (False, "unroll=False (the fused kernel needs no unrolling)"),
    "time_major": (False, "batch-first input (batch, steps, features) with time_major=False"),
    "reset_after": (True, "the default"),
    "backward_layer": (None, "backward_layer=None (the backward copy is made from the forward layer)"),
    "weights": (None, "set_weights() after building, or lstmlab.keras.load_keras_model for a saved Keras model"),
    "seed": (None, "torch.manual_seed() for reproducible dropout"),
    "sparse": (False, "dense token ids"),
    "lora_rank": (None, "no LoRA"),
    "data_format": ("channels_last", "data_format='channels_last' (batch, steps, features)"),
    "keepdims": (False, "keepdims=False"),
    "strides": (1, "strides=1"),
    "dilation_rate": (1, "dilation_rate=1"),
    "groups": (1, "groups=1"),
    "padding": ("same", "padding='same' (lstmlab's Conv1D reads zeros beyond each row, as 'same' does)"),
    "axis": (-1, "axis=-1 (normalise each feature)"),
    "center": (True, "center=True"),
    "scale": (True, "scale=True"),
}
# Arguments accepted with any value because they change nothing in lstmlab
_IGNORED = ("implementation",)


def _refusal(layer: str, name: str, value: object, instead: str) -> ValueError:
    return ValueError(f"Expected {layer} with {instead}. Received: {name}={value!r}")


class KerasLayer:
    """What every Keras layer here holds: its input shape (if given), batch size, name, and once the model is built,
    the lstmlab layer it became (`layer`).

    Args (keyword, as in Keras):
        input_shape: one input without the batch axis, e.g. `(10, 1)`; only on a model's first layer.
        batch_input_shape: the same with a fixed batch size first, e.g. `(1, 1, 1)` (stateful models).
        batch_size: a fixed batch size, with `input_shape`.
        input_dim: Keras 2's short form: `(input_dim,)` for Dense, `(None, input_dim)` for LSTM.
        name: the layer's name (the summary names layers as Keras does by default).
        dtype: 'float32' only.
        trainable: True only.

    Raises:
        ValueError: on an argument this layer does not take, or a Keras option lstmlab does not support.
    """

    def __init__(self, *, kind: str, options: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.layer: Layer | None = None  # the lstmlab layer, once the model is built
        self._check_options(options, allowed)
        self.name: str | None = options.get("name")
        self.batch_size: int | None = options.get("batch_size")
        shape = options.get("input_shape")
        batch_shape = options.get("batch_input_shape")
        if shape is not None and batch_shape is not None:
            raise ValueError(
                f"Expected one of input_shape or batch_input_shape. Received: input_shape={shape}, "
                f"batch_input_shape={batch_shape}"
            )
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            self.batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None and options.get("input_dim") is not None:
            shape = self._from_input_dim(options["input_dim"])
        self.input_shape: Shape | None = None if shape is None else _shape(shape)

    def _from_input_dim(self, size: int) -> Shape:
        return (size,)

    def _check_options(self, options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for name, value in options.items():
            if name in _COMMON or name in allowed or name in _IGNORED:
                if name == "dtype" and value not in (None, "float32"):
                    raise _refusal(self.kind, name, value, "dtype='float32' (convert with .lstmlab_model.to())")
                if name == "trainable" and value is not True:
                    raise _refusal(self.kind, name, value, "trainable=True (freeze weights on .lstmlab_model)")
                continue
            if name in _DEFAULT_ONLY:
                default, instead = _DEFAULT_ONLY[name]
                if value != default:
                    raise _refusal(self.kind, name, value, instead)
                continue
            known = sorted({*_COMMON, *allowed})
            raise ValueError(f"Expected {self.kind} arguments among {known}. Received: {name}={value!r}")

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        """The lstmlab layer and the output activation taken out of it ('linear' when none): `output` is True for
        the model's last layer, whose sigmoid or softmax lstmlab applies outside the model."""
        raise NotImplementedError

    def count_params(self) -> int:
        """Weights of the built layer (Keras's count).

        Raises:
            ValueError: before the model is built.
        """
        if self.layer is None:
            raise ValueError(f"Expected a built layer (add it to a model with a known input shape). Received: {self}")
        return sum(p.numel() for p in self.layer.parameters())

    def __repr__(self) -> str:
        return f"<lstmlab.keras {self.kind}{'' if self.name is None else ' ' + repr(self.name)}>"


def _shape(shape: Any) -> Shape:
    if not isinstance(shape, tuple | list) or any(
        d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 1) for d in shape
    ):
        raise ValueError(f"Expected an input shape of positive sizes or None. Received: input_shape={shape!r}")
    return tuple(shape)


class BuiltLayer(KerasLayer):
    """A layer of a model made from an lstmlab model (`load_model`, `load_keras_model`, `Sequential.from_lstmlab`):
    its lstmlab layer (`.layer`), under the Keras name of its class (`.kind`) and its name in the model."""

    def __init__(self, layer: Layer, name: str) -> None:
        super().__init__(kind=type(layer).__name__, options={"name": name})
        self.layer = self.built_layer = layer

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return self.built_layer, "linear"


class InputLayer(KerasLayer):
    """Keras's input declaration: `model.add(Input(shape=(10, 1)))` gives the model its input shape.

    Args:
        shape: one input without the batch axis (Keras 3), or `input_shape` (Keras 2).
        batch_size: a fixed batch size, or None.
    """

    def __init__(self, shape: Any = None, *, batch_size: int | None = None, **options: Any) -> None:
        batch_shape = options.pop("batch_shape", None)
        if batch_shape is not None:
            options["batch_input_shape"] = batch_shape
        elif shape is not None:
            options["input_shape"] = shape
        super().__init__(kind="InputLayer", options={**options, "batch_size": batch_size}, allowed=("sparse",))
        if self.input_shape is None:
            raise ValueError("Expected Input(shape=...) with the shape of one input. Received: no shape")


def Input(shape: Any = None, *, batch_size: int | None = None, **options: Any) -> InputLayer:
    """Keras's `Input(shape=...)`, to `add` first to a Sequential: an `InputLayer` here."""
    return InputLayer(shape, batch_size=batch_size, **options)


class Embedding(KerasLayer):
    """Keras's Embedding: token ids (0..input_dim-1) to vectors of `output_dim`.

    Args:
        input_dim: vocabulary size.
        output_dim: vector size.
        mask_zero: id 0 is padding: the model reads only each row's tokens (lengths from the padding, left- or
            right-padded), exactly.
        input_length: steps per sequence (Keras 2), for the input shape `(input_length,)`.

    Shapes:
        ids: (N, T) integers. Output: (N, T, output_dim).
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        mask_zero: bool = False,
        input_length: int | None = None,
        embeddings_initializer: Any = "uniform",
        weights: Sequence[Any] | None = None,
        trainable: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(kind="Embedding", options=options)
        self.input_dim, self.output_dim = input_dim, output_dim
        self.mask_zero, self.input_length = mask_zero, input_length
        if self.input_shape is None:  # Keras 2: an Embedding first in a model fixes the input as (input_length,)
            self.input_shape = (input_length,)
        if not isinstance(trainable, bool):
            raise ValueError(f"Expected Embedding with trainable True or False. Received: trainable={trainable!r}")
        self.trainable = trainable
        self.vectors = _starting_vectors(embeddings_initializer, weights, (input_dim, output_dim))

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        layer = lstm_layers.Embedding(
            self.input_dim,
            self.output_dim,
            mask_zero=self.mask_zero,
            input_length=self.input_length,
            trainable=self.trainable,
        )
        if self.vectors is not None:
            layer.set_vectors(torch.from_numpy(self.vectors.copy()))
        return layer, "linear"


def _starting_vectors(initializer: Any, weights: Sequence[Any] | None, shape: tuple[int, int]) -> np.ndarray | None:
    """An Embedding's starting vectors from Keras's `weights=[matrix]` or `embeddings_initializer=Constant(matrix)`
    (the Keras tutorials' pretrained word vectors), checked against (input_dim, output_dim); None: Keras's default."""
    given: list[tuple[str, np.ndarray]] = []
    if weights is not None:
        if not isinstance(weights, list | tuple) or len(weights) != 1:
            raise ValueError(
                f"Expected Embedding weights=[matrix], one array of shape {shape}. Received: weights={weights!r:.60}"
            )
        given.append(("weights", np.asarray(weights[0], dtype=np.float32)))
    if isinstance(initializer, Constant):
        given.append(("embeddings_initializer", initializer.value))
    elif initializer != "uniform":
        raise _refusal(
            "Embedding", "embeddings_initializer", initializer, "embeddings_initializer='uniform' or Constant(matrix)"
        )
    if len(given) > 1:
        raise ValueError("Expected one of weights= or embeddings_initializer=Constant(...). Received: both")
    if not given:
        return None
    name, matrix = given[0]
    if matrix.shape != shape:
        raise ValueError(
            f"Expected Embedding {name} of shape {shape} (input_dim, output_dim). Received: {matrix.shape}"
        )
    return matrix


class LSTM(KerasLayer):
    """Keras's LSTM on lstmlab's layer (the fused kernel, exact padding).

    Args:
        units: hidden size.
        return_sequences: every step's output (N, T, units) instead of the last one (N, units).
        go_backwards: read each sequence from its end; with `return_sequences` the outputs stay in reading order.
        stateful: carry each row's state from batch to batch until `reset_states()` (give `batch_input_shape`).
        dropout: input dropout, one mask per sequence (Keras's).
        Keras's other arguments at their defaults (activation='tanh', recurrent_dropout=0.0, use_bias=True, the
        default initialisers, ...); other values raise with what to use instead.

    Shapes:
        x: (N, T, D). Output: (N, T, units) or (N, units).
    """

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__(kind="LSTM", options=options)
        self.units = units
        self.return_sequences, self.go_backwards, self.stateful = return_sequences, go_backwards, stateful
        self.dropout = dropout

    def _from_input_dim(self, size: int) -> Shape:
        return (None, size)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return self.lstm(), "linear"

    def lstm(self) -> lstm_layers.LSTM:
        """A fresh lstmlab LSTM with these options."""
        return lstm_layers.LSTM(
            self.units,
            return_sequences=self.return_sequences,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            dropout=self.dropout,
        )


class Bidirectional(KerasLayer):
    """Keras's Bidirectional: `layer` forwards and a copy backwards, merged at every step.

    Args:
        layer: an LSTM.
        merge_mode: 'concat' (default), 'sum', 'mul' or 'ave'.
        input_shape / batch_input_shape: on a model's first layer (or on the wrapped LSTM).

    Shapes:
        x: (N, T, D). Output: (N, [T,] 2 * units) for 'concat', else (N, [T,] units).
    """

    def __init__(self, layer: LSTM, merge_mode: str | None = "concat", **options: Any) -> None:
        super().__init__(kind="Bidirectional", options=options)
        if not isinstance(layer, LSTM):
            raise ValueError(f"Expected an lstmlab.keras LSTM to wrap. Received: {type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave"):
            raise ValueError(
                "Expected merge_mode in {'concat', 'sum', 'mul', 'ave'} (None, the unmerged pair, cannot go on in "
                f"a Sequential). Received: merge_mode={merge_mode!r}"
            )
        self.wrapped, self.merge_mode = layer, merge_mode
        if self.input_shape is None:
            self.input_shape, self.batch_size = layer.input_shape, layer.batch_size

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.Bidirectional(self.wrapped.lstm(), merge_mode=self.merge_mode), "linear"  # type: ignore[arg-type]


class Dense(KerasLayer):
    """Keras's Dense: `activation(x W + b)` on the last axis.

    Args:
        units: output features.
        activation: None/'linear', 'relu', 'tanh', 'sigmoid' or 'softmax'. On the model's last layer, 'sigmoid'
            and 'softmax' are applied by `predict` and folded into the loss (lstmlab models return logits).

    Shapes:
        x: (N, ..., D). Output: (N, ..., units).
    """

    def __init__(self, units: int, activation: str | None = None, **options: Any) -> None:
        super().__init__(kind="Dense", options=options)
        if activation not in _ACTIVATIONS:
            names = sorted(str(k) for k in _ACTIVATIONS if k is not None)
            raise ValueError(f"Expected activation in {names} (or None). Received: activation={activation!r}")
        self.units, self.activation = units, activation

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        if output and self.activation in OUTPUT_ACTIVATIONS:
            assert self.activation is not None
            return lstm_layers.Dense(self.units), self.activation
        return lstm_layers.Dense(self.units, _ACTIVATIONS[self.activation]), "linear"


class TimeDistributed(KerasLayer):
    """Keras's TimeDistributed: `layer` (a Dense) applied at every step. Shapes: (N, T, D) -> (N, T, units)."""

    def __init__(self, layer: KerasLayer, **options: Any) -> None:
        super().__init__(kind="TimeDistributed", options=options)
        if not isinstance(layer, Dense | Dropout | Activation):
            raise ValueError(
                f"Expected TimeDistributed over a Dense, Dropout or Activation. Received: {type(layer).__name__}"
            )
        self.wrapped = layer
        if self.input_shape is None:
            self.input_shape, self.batch_size = layer.input_shape, layer.batch_size

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        inner, activation = self.wrapped.to_lstmlab(output=output)
        return lstm_layers.TimeDistributed(inner), activation


class Activation(KerasLayer):
    """Keras's Activation layer: 'relu', 'tanh', 'sigmoid', 'softmax' or 'linear'. As a model's last layer, a
    'sigmoid' or 'softmax' is applied by `predict` and folded into the loss."""

    def __init__(self, activation: str, **options: Any) -> None:
        super().__init__(kind="Activation", options=options)
        if activation not in _ACTIVATIONS or activation is None:
            names = sorted(str(k) for k in _ACTIVATIONS if k is not None)
            raise ValueError(f"Expected activation in {names}. Received: activation={activation!r}")
        self.activation = activation

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        if output and self.activation in OUTPUT_ACTIVATIONS:
            return lstm_layers.Activation("linear"), self.activation
        return lstm_layers.Activation(self.activation), "linear"


class Dropout(KerasLayer):
    """Keras's Dropout: zero a fraction `rate` of the values in training. `noise_shape` as in Keras."""

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...] | None = None, **options: Any) -> None:
        super().__init__(kind="Dropout", options=options)
        self.rate, self.noise_shape = rate, None if noise_shape is None else tuple(noise_shape)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.Dropout(self.rate, self.noise_shape), "linear"


class SpatialDropout1D(KerasLayer):
    """Keras's SpatialDropout1D: drop whole channels of (N, T, D), the same at every step."""

    def __init__(self, rate: float, **options: Any) -> None:
        super().__init__(kind="SpatialDropout1D", options=options)
        self.rate = rate

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.SpatialDropout1D(self.rate), "linear"


class Masking(KerasLayer):
    """Keras's Masking: the steps whose features all equal `mask_value` are padding (lstmlab's `Masking`: as a
    model's first layer it derives each row's length from them, right- or left-padded, and later layers see only
    the valid steps, exactly).

    Args:
        mask_value: the value of every feature at a padded step (Keras's default 0.0).
    """

    def __init__(self, mask_value: float = 0.0, **options: Any) -> None:
        super().__init__(kind="Masking", options=options)
        self.mask_value = mask_value

    def _from_input_dim(self, size: int) -> Shape:
        return (None, size)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.Masking(self.mask_value), "linear"


class GaussianNoise(KerasLayer):
    """Keras's GaussianNoise: add N(0, stddev²) noise in training."""

    def __init__(self, stddev: float, **options: Any) -> None:
        super().__init__(kind="GaussianNoise", options=options)
        self.stddev = stddev

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.GaussianNoise(self.stddev), "linear"


class Flatten(KerasLayer):
    """Keras's Flatten: (N, T, D) -> (N, T * D)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(kind="Flatten", options=options)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.Flatten(), "linear"


class GlobalAveragePooling1D(KerasLayer):
    """Keras's GlobalAveragePooling1D: the mean over each row's valid steps, (N, T, D) -> (N, D)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(kind="GlobalAveragePooling1D", options=options)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.GlobalAveragePooling1D(), "linear"


class GlobalMaxPooling1D(KerasLayer):
    """Keras's GlobalMaxPooling1D: the maximum over each row's valid steps, (N, T, D) -> (N, D)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(kind="GlobalMaxPooling1D", options=options)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.GlobalMaxPooling1D(), "linear"


class Conv1D(KerasLayer):
    """Keras's Conv1D with padding='same' and stride 1 (lstmlab's Conv1D reads zeros beyond each row).

    Args:
        filters: output features per step.
        kernel_size: steps each output reads.
        padding: 'same' only (Keras's default 'valid' shortens the sequence; lstmlab keeps steps aligned).
        activation: None/'linear', 'relu', 'tanh', 'sigmoid' or 'softmax'.
    """

    def __init__(
        self, filters: int, kernel_size: int | tuple[int], *, activation: str | None = None, **options: Any
    ) -> None:
        options.setdefault("padding", "valid")
        super().__init__(kind="Conv1D", options=options)
        self.filters = filters
        self.kernel_size = kernel_size[0] if isinstance(kernel_size, tuple | list) else kernel_size
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Expected activation in {sorted(map(str, _ACTIVATIONS))}. Received: {activation!r}")
        self.activation = activation

    def _from_input_dim(self, size: int) -> Shape:
        return (None, size)

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        conv = lstm_layers.Conv1D(self.filters, self.kernel_size)
        if _ACTIVATIONS[self.activation] is None:
            return conv, "linear"
        raise ValueError(
            f"Expected Conv1D(activation=None) followed by Activation({self.activation!r}) (lstmlab keeps them as two "
            f"layers). Received: activation={self.activation!r}"
        )


class BatchNormalization(KerasLayer):
    """Keras's BatchNormalization over the last axis, from each row's valid steps."""

    def __init__(self, *, momentum: float = 0.99, epsilon: float = 1e-3, **options: Any) -> None:
        super().__init__(kind="BatchNormalization", options=options)
        self.momentum, self.epsilon = momentum, epsilon

    def to_lstmlab(self, *, output: bool) -> tuple[Layer, str]:
        return lstm_layers.BatchNormalization(momentum=self.momentum, epsilon=self.epsilon), "linear"
