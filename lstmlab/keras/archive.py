"""Keras model files in and out, without TensorFlow or Keras: `read_keras` maps a saved Keras model (a Keras 3
`.keras` archive or a Keras 2 `.h5` file) to an lstmlab `Sequential`, `write_keras` writes one as a `.keras` archive
that Keras 3 loads. Only JSON and HDF5 datasets are read and written (`archive_files`); the layer mapping is in
`archive_layers`. Nothing in a file is ever run: a Lambda layer is refused, and no pickle is read.

An imported model returns what lstmlab models return, pre-activations (logits): a final Dense (or
TimeDistributed(Dense), or Activation) with a sigmoid or softmax is built linear, and `KerasModel.activation` says
which function Keras applied; `KerasModel.predict` applies it and gives Keras's numbers.

Outputs at padded steps (with `mask_zero=True` or Masking): a Keras LSTM(return_sequences=True) outside a
Bidirectional (`zero_output_for_mask=False`, its default) outputs at a masked step the output of the last unmasked
step before it in reading order (zeros before the first), a Keras Bidirectional outputs zeros there, and lstmlab
outputs zeros. Valid steps and final outputs are equal.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..layers import ACTIVATIONS, LSTM, Activation, Conv1D, Dense, Embedding, Layer, Masking, TimeDistributed
from ..models import Sequential
from .archive_files import KerasFile, h5py_module, read_file, snake_case
from .archive_layers import Importing, export_layer, import_layer

__all__ = ["FINAL_ACTIVATIONS", "KerasModel", "read_keras", "write_keras"]

# What a Keras model may apply last, which lstmlab keeps out of the model (it returns logits)
FINAL_ACTIVATIONS = ("linear", "sigmoid", "softmax")


@dataclass(frozen=True)
class KerasModel:
    """A Keras model read from its file: an lstmlab `Sequential` returning logits, and what Keras did on top.

    Attributes:
        model: the lstmlab model, in eval mode; its last layer is linear where Keras's applied a sigmoid or softmax.
        activation: what the Keras model applied last and `model` does not: 'sigmoid', 'softmax' or 'linear'.
        name: the Keras model's name.
        input_shape: one input without the batch axis, (T,) for token ids or (T, D); None marks a free size.
        batch_size: the fixed batch size of a stateful model, else None.
        layer_names: the Keras layers' names, in order (InputLayer excluded).
        format: 'keras' (a Keras 3 archive) or 'h5' (a legacy file).
        keras_version: the Keras version that wrote the file, where it says.
        notes: what differs from Keras on padded batches or in training (one line each); empty when nothing does.
    """

    model: Sequential
    activation: str
    name: str
    input_shape: tuple[int | None, ...]
    batch_size: int | None
    layer_names: tuple[str, ...]
    format: str
    keras_version: str | None
    notes: tuple[str, ...] = ()

    def predict(self, x: Tensor | np.ndarray, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """Keras's outputs for `x`: the model's logits with the final activation applied, without gradients.

        Args:
            x: (B, *input_shape): token ids, or values (converted to float32).
            lengths: (B,) valid steps of right-padded rows; when omitted, derived by the model from the ids
                (mask_zero) or from the steps of a leading Masking layer's value, padded on either side.

        Example:
            >>> keras_model = read_keras("model.keras")  # doctest: +SKIP
            >>> keras_model.predict(np.zeros((2, 10, 1))).shape  # doctest: +SKIP
            torch.Size([2, 1])
        """
        inputs = torch.as_tensor(x)
        if inputs.is_floating_point():
            inputs = inputs.to(torch.float32)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                logits = self.model(inputs, None if lengths is None else torch.as_tensor(lengths))
        finally:
            self.model.train(was_training)
        return ACTIVATIONS[self.activation](logits)


# ------------------------------------------------------------------------------------------------- reading
def read_keras(path: str | Path) -> KerasModel:
    """Read a Keras model file into an lstmlab model: a Keras 3 `.keras` archive or a Keras 2 `.h5` file.

    Sequential models, and functional models that are a chain, of these layers: InputLayer, Embedding (mask_zero),
    LSTM (return_sequences, go_backwards, stateful, dropout), Bidirectional (every merge mode, over an LSTM),
    TimeDistributed(Dense), Dense, Dropout, SpatialDropout1D, GaussianNoise, Flatten, GlobalAveragePooling1D,
    GlobalMaxPooling1D, a leading Masking, Conv1D ('same' padding), BatchNormalization, Activation. Weights are
    read with h5py; no code from the file is run.

    Args:
        path: the file.

    Returns:
        A `KerasModel`: the lstmlab model (logits) with Keras's final activation named beside it.

    Raises:
        ValueError: one line naming the Keras layer (class and name) and the option that lstmlab cannot map, or
            what is wrong with the file.

    Example:
        >>> imported = read_keras("text_lstm.keras")  # doctest: +SKIP
        >>> probabilities = imported.predict(ids)  # doctest: +SKIP
    """
    keras_file = read_file(path)
    if not keras_file.layers:
        raise ValueError(f"Expected a model with at least one layer. Received: {keras_file.name!r} with none")
    state = Importing()
    imported = [import_layer(layer, state, first=i == 0) for i, layer in enumerate(keras_file.layers)]
    layers = [layer for part in imported for layer in part.layers]
    activation = _take_final_activation(layers)
    if not layers:
        raise ValueError(f"Expected a model with layers beside its final activation. Received: {keras_file.name!r}")
    input_shape, batch_size = _input(keras_file, layers)
    model = Sequential(layers, input_shape=input_shape, batch_size=batch_size, name=keras_file.name)
    for part in imported:
        if part.load is not None:
            part.load()
    model.eval()
    return KerasModel(
        model=model,
        activation=activation,
        name=keras_file.name,
        input_shape=input_shape,
        batch_size=batch_size,
        layer_names=tuple(layer.name for layer in keras_file.layers),
        format=keras_file.format,
        keras_version=keras_file.keras_version,
        notes=tuple(state.notes),
    )


def _take_final_activation(layers: list[Layer]) -> str:
    """Make the last layer linear where it applies a sigmoid or softmax, and return that activation."""
    last = layers[-1] if layers else None
    dense = last.layer if isinstance(last, TimeDistributed) else last
    if isinstance(dense, Dense) and dense.activation in ("sigmoid", "softmax"):
        activation = str(dense.activation)
        dense.activation = None
        return activation
    if isinstance(last, Activation) and last.activation in ("sigmoid", "softmax"):
        layers.pop()
        return last.activation
    return "linear"


def _input(keras_file: KerasFile, layers: list[Layer]) -> tuple[tuple[int | None, ...], int | None]:
    """The model's input shape without the batch axis, and the batch size a stateful model fixes."""
    first = keras_file.layers[0]
    shape = keras_file.batch_shape
    if shape is None and isinstance(layers[0], Embedding):
        length = first.config.get("input_length")
        shape = (None, None if length is None else int(length))
    if shape is None:
        raise ValueError(
            "Expected a model with a known input shape (an Input or InputLayer, or input_shape on its first layer). "
            f"Received: {first.class_name} layer {first.name!r} without one"
        )
    stateful = any(isinstance(m, LSTM) and m.stateful for layer in layers for m in layer.modules())
    if stateful and shape[0] is None:
        raise ValueError(
            "Expected a stateful model with a fixed batch size (batch_input_shape or Input(batch_shape=...)). "
            f"Received: input batch shape {shape}"
        )
    return tuple(shape[1:]), shape[0] if stateful else None


# ------------------------------------------------------------------------------------------------- writing
def write_keras(model: Sequential, path: str | Path, *, activation: str = "linear") -> None:
    """Write an lstmlab `Sequential` as a Keras 3 `.keras` archive that `keras.saving.load_model` loads and predicts
    the same with, `activation` applied last (to the last Dense where it is linear, else as an Activation layer).

    Written with zipfile, json and h5py: no Keras needed.

    Args:
        model: the model, of layers Keras has (no Parallel, ReverseTime or Bidirectional over a backwards-reading
            LSTM returning sequences).
        path: the file to write (conventionally `*.keras`).
        activation: 'linear' (logits, the default), 'sigmoid' or 'softmax': what Keras applies last.

    Raises:
        ValueError: on another activation, or one line naming an lstmlab layer Keras has no equivalent of.

    Example:
        >>> write_keras(model, "model.keras", activation="sigmoid")  # doctest: +SKIP
    """
    if activation not in FINAL_ACTIVATIONS:
        raise ValueError(f"Expected activation in {set(FINAL_ACTIVATIONS)}. Received: activation={activation!r}")
    if not isinstance(model, Sequential):
        raise ValueError(f"Expected an lstmlab Sequential. Received: {type(model).__name__}")
    exported = _export_layers(list(model.layers), activation)  # type: ignore[arg-type]
    first_dtype = "int32" if isinstance(model.layers[0], Embedding) else "float32"
    config = _model_config(model, exported, first_dtype)
    weights = io.BytesIO()
    with h5py_module().File(weights, "w") as store:
        store.create_group("vars").attrs["name"] = model.name
        groups = store.create_group("layers")
        seen: dict[str, int] = {}
        for class_name, layer_config, tree in exported:
            base = snake_case(class_name)
            count = seen.get(base)
            seen[base] = 0 if count is None else count + 1
            _write_tree(
                groups.create_group(base if count is None else f"{base}_{count + 1}"), tree, layer_config["name"]
            )
    metadata = {"keras_version": "3.0.0", "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights.getvalue())


def _export_layers(layers: list[Layer], activation: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each layer as (Keras class, config, weight groups), with Keras-style unique names; the final activation on a
    last linear Dense, else an Activation layer after it."""
    last = layers[-1]
    dense = last.layer if isinstance(last, TimeDistributed) else last
    on_dense = activation != "linear" and isinstance(dense, Dense) and dense.activation in (None, "linear")
    names: dict[str, int] = {}
    exported = []
    masked = False  # a first Masking or Embedding(mask_zero=True) marks padded steps
    for i, layer in enumerate(layers):
        base = snake_case(type(layer).__name__)
        count = names.get(base)
        names[base] = 0 if count is None else count + 1
        name = base if count is None else f"{base}_{count + 1}"
        if isinstance(layer, Masking) and i > 0:
            raise ValueError(
                "Expected Masking as the first layer only (Keras's later Masking masks the values it receives, "
                f"lstmlab's zeroes the steps the model's lengths pad). Received: Masking {name!r} at layer {i}"
            )
        masked = masked or isinstance(layer, Masking) or (isinstance(layer, Embedding) and layer.mask_zero)
        if masked and isinstance(layer, Conv1D):
            raise ValueError(
                "Expected no Conv1D after a mask (Keras's drops the mask, so later layers would read the padding). "
                f"Received: Conv1D {name!r} after a Masking or Embedding(mask_zero=True)"
            )
        final = activation if on_dense and i == len(layers) - 1 else None
        exported.append(export_layer(layer, name, activation=final))
    if activation != "linear" and not on_dense:
        exported.append(("Activation", {"name": "final_activation", "activation": activation}, {"vars": []}))
    return exported


def _keras_entry(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """A layer's entry in config.json, its wrapped layer's too."""
    config = dict(config)
    if "layer" in config:
        config["layer"] = _keras_entry(config["layer"]["class_name"], config["layer"]["config"])
    return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}


def _model_config(
    model: Sequential, exported: list[tuple[str, dict[str, Any], dict[str, Any]]], dtype: str
) -> dict[str, Any]:
    batch_shape = [model.batch_size, *model.input_shape]
    inputs = {"batch_shape": batch_shape, "dtype": dtype, "sparse": False, "name": "input_layer"}
    layers = [_keras_entry("InputLayer", inputs)] + [_keras_entry(c, config) for c, config, _ in exported]
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": model.name, "trainable": True, "layers": layers},
        "registered_name": None,
    }


def _write_tree(group: Any, tree: dict[str, Any], name: str) -> None:
    """A layer's weight groups as Keras 3 writes them: `vars/0..n` (its own variables), then its sublayers'."""
    variables = group.create_group("vars")
    variables.attrs["name"] = name
    for i, array in enumerate(tree["vars"]):
        variables.create_dataset(str(i), data=np.asarray(array, dtype=np.float32))
    for child, subtree in tree.items():
        if child != "vars":
            _write_tree(group.create_group(child), subtree, f"{name}_{child}")
