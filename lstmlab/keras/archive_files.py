"""The two Keras file formats read into one description: the model's chain of layers, each with its config and
weights, and the input it takes. Only JSON and HDF5 datasets are read: nothing in the file is ever run.

- Keras 3 `.keras` archive: a zip of `config.json` (the model's config), `metadata.json` (the Keras version) and
  `model.weights.h5`, where a Sequential's layers are stored under `layers/<class name in snake case>[_<n>]` (counted
  per class over `model.layers`, which for a functional model includes its InputLayer) and each layer's own
  variables under `vars/0`, `vars/1`, ... in creation order; an LSTM's are under `cell/vars`, a Bidirectional's
  under `forward_layer/` and `backward_layer/`, a TimeDistributed's under `layer/`.
- Keras 2 (and Keras 3 legacy) `.h5`: the config as the `model_config` attribute and the weights under
  `model_weights/<layer name>/`, whose `weight_names` attribute lists them in the layer's weight order.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["KerasFile", "KerasLayer", "WeightEntry", "h5py_module", "read_file", "snake_case"]

# One stored weight: its name in a legacy file (None in a .keras archive, where weights are positional) and values.
WeightEntry = tuple[str | None, np.ndarray]
Config = dict[str, Any]


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer of the chain: its class, name, config and weights in Keras's `layer.weights` order."""

    class_name: str
    name: str
    config: Config
    weights: tuple[WeightEntry, ...]


@dataclass(frozen=True)
class KerasFile:
    """A Keras model file, read: the chain of layers from input to output (InputLayer excluded)."""

    format: Literal["keras", "h5"]
    name: str
    keras_version: str | None
    batch_shape: tuple[int | None, ...] | None  # the input's shape with its batch axis, where the file says it
    layers: tuple[KerasLayer, ...]


def h5py_module() -> Any:
    """h5py, imported when a Keras file is read or written (lstmlab needs it for nothing else).

    Raises:
        ValueError: when h5py is not installed.
    """
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - a dependency of lstmlab; missing only in a broken install
        raise ValueError(f"Expected h5py to read and write Keras files (pip install h5py). Received: {error}") from None
    return h5py


def read_file(path: str | Path) -> KerasFile:
    """Read a `.keras` archive or a legacy `.h5` model file.

    Raises:
        ValueError: on a file of neither format, a weights-only file, or a model that is not a chain of layers.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Expected a Keras model file (.keras or .h5). Received: {str(path)!r}, which is not a file")
    if zipfile.is_zipfile(path):
        return _read_archive(path)
    if h5py_module().is_hdf5(path):
        return _read_legacy(path)
    raise ValueError(
        f"Expected a Keras 3 .keras archive (a zip) or a Keras 2 .h5 file (HDF5). Received: {str(path)!r}, neither"
    )


# ---------------------------------------------------------------------------------------------- Keras 3 archive
def _read_archive(path: Path) -> KerasFile:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ValueError(
                "Expected a .keras archive holding config.json and model.weights.h5. "
                f"Received: {sorted(names)} in {str(path)!r}"
            )
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
        weights = archive.read("model.weights.h5")
    name, batch_shape, entries, stored = _chain(config, keras3=True)
    paths = _archive_paths(config, stored)
    with h5py_module().File(io.BytesIO(weights), "r") as store:
        layers = tuple(
            KerasLayer(
                entry["class_name"],
                _entry_name(entry),
                entry["config"],
                tuple((None, array) for array in _archive_vars(store, paths[id(entry)], entry)),
            )
            for entry in entries
        )
    version = metadata.get("keras_version")
    return KerasFile("keras", name, str(version) if version is not None else None, batch_shape, layers)


def snake_case(name: str) -> str:
    """Keras's `naming.tosnake_case`: `GlobalAveragePooling1D` -> `global_average_pooling1d`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if name[0] != "_" else "private" + name


def _archive_paths(config: Config, stored: list[Config]) -> dict[int, str]:
    """Each stored layer's group in model.weights.h5: `layers/<snake class>[_n]`, counted per class in order."""
    seen: dict[str, int] = {}
    paths = {}
    for entry in stored:
        base = snake_case(entry["class_name"])
        count = seen.get(base)
        seen[base] = 0 if count is None else count + 1
        paths[id(entry)] = f"layers/{base}" if count is None else f"layers/{base}_{count + 1}"
    return paths


def _archive_vars(store: Any, path: str, entry: Config) -> list[np.ndarray]:
    """A layer's variables in Keras's `layer.weights` order, gathered from its group and its sublayers' groups."""
    if path not in store:
        return []
    group = store[path]
    class_name = entry["class_name"]
    if class_name in ("LSTM", "GRU", "SimpleRNN"):
        return _own_vars(group["cell"]) if "cell" in group else []
    if class_name == "Bidirectional":
        inner = entry["config"]["layer"]
        return _archive_vars(group, "forward_layer", inner) + _archive_vars(group, "backward_layer", inner)
    if class_name == "TimeDistributed":
        return _archive_vars(group, "layer", entry["config"]["layer"])
    return _own_vars(group)


def _own_vars(group: Any) -> list[np.ndarray]:
    if "vars" not in group:
        return []
    variables = group["vars"]
    return [np.asarray(variables[str(i)][()]) for i in range(len(variables))]


# ---------------------------------------------------------------------------------------------- legacy h5
def _read_legacy(path: Path) -> KerasFile:
    with h5py_module().File(path, "r") as store:
        if "model_config" not in store.attrs:
            raise ValueError(
                "Expected a whole-model .h5 file (model.save), with its model_config. "
                f"Received: {str(path)!r} without one (a weights-only file from save_weights?)"
            )
        config = json.loads(_text(store.attrs["model_config"]))
        weights = store.get("model_weights", store)
        version = store.attrs.get("keras_version", weights.attrs.get("keras_version"))
        name, batch_shape, entries, _ = _chain(config, keras3=False)
        layers = tuple(
            KerasLayer(entry["class_name"], _entry_name(entry), entry["config"], _legacy_weights(weights, entry))
            for entry in entries
        )
    return KerasFile("h5", name, _text(version) if version is not None else None, batch_shape, layers)


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _legacy_weights(weights: Any, entry: Config) -> tuple[WeightEntry, ...]:
    name = _entry_name(entry)
    if name not in weights:
        return ()
    group = weights[name]
    names = [_text(n) for n in group.attrs.get("weight_names", [])]
    return tuple((n, np.asarray(group[n][()])) for n in names)


# ---------------------------------------------------------------------------------------------- the chain
def _entry_name(entry: Config) -> str:
    return str(entry.get("name") or entry.get("config", {}).get("name") or entry["class_name"])


def _shape(value: object) -> tuple[int | None, ...] | None:
    if not isinstance(value, list | tuple):
        return None
    return tuple(None if d is None else int(d) for d in value)


def _chain(config: Config, *, keras3: bool) -> tuple[str, tuple[int | None, ...] | None, list[Config], list[Config]]:
    """The model's name, its input's batch shape, its layers from input to output (InputLayer and mask operations
    excluded), and the entries that `model.layers` holds in a .keras archive (in order: the weight groups)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("Expected a Keras model config (class_name, config). Received: another JSON document")
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "Sequential":
        return _sequential_chain(inner)
    if class_name in ("Functional", "Model"):
        return _functional_chain(inner)
    raise ValueError(
        f"Expected a Sequential model or a functional model that is a chain. Received: a {class_name} model "
        "(a subclassed model's code is not in the file)"
    )


def _sequential_chain(
    inner: Config | list[Config],
) -> tuple[str, tuple[int | None, ...] | None, list[Config], list[Config]]:
    entries = inner if isinstance(inner, list) else inner.get("layers", [])  # Keras 2.2: a plain list
    name = "sequential" if isinstance(inner, list) else str(inner.get("name", "sequential"))
    inputs = [e for e in entries if e["class_name"] == "InputLayer"]
    layers = [e for e in entries if e["class_name"] != "InputLayer"]
    if len(inputs) > 1 or (inputs and entries[0] is not inputs[0]):
        raise ValueError("Expected one InputLayer, first, in a Sequential model. Received: another layout")
    batch_shape = None
    if inputs:
        batch_shape = _input_shape(inputs[0])
    if batch_shape is None and isinstance(inner, dict):
        batch_shape = _shape(inner.get("build_input_shape"))
    if batch_shape is None and layers:
        first = layers[0]
        batch_shape = _shape(first["config"].get("batch_input_shape")) or _shape(
            first.get("build_config", {}).get("input_shape")
        )
    return name, batch_shape, layers, layers


def _input_shape(entry: Config) -> tuple[int | None, ...] | None:
    layer = entry["config"]
    shape = _shape(layer.get("batch_shape")) or _shape(layer.get("batch_input_shape"))
    if shape is None and "shape" in layer:
        shape = (layer.get("batch_size"), *(_shape(layer["shape"]) or ()))
    return shape


def _tensor_sources(value: object) -> list[str]:
    """Names of the layers whose outputs a node argument reads (Keras 3 `__keras_tensor__` references)."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [str(value["config"]["keras_history"][0])]
        return [s for item in value.values() for s in _tensor_sources(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _tensor_sources(item)]
    return []


def _node_inputs(entry: Config) -> tuple[list[str], list[str]]:
    """The layers an entry reads as its input, and those it reads as other arguments (a mask, a state...)."""
    nodes = entry.get("inbound_nodes", [])
    if len(nodes) != 1:
        raise ValueError(
            "Expected each layer of a functional model called once (a chain). "
            f"Received: {entry['class_name']} layer {_entry_name(entry)!r} called {len(nodes)} times"
        )
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        return _tensor_sources(node.get("args", [])), _tensor_sources(node.get("kwargs", {}))
    return [str(ref[0]) for ref in node], []  # Keras 2: [[name, node index, tensor index, kwargs], ...]


def _endpoint(value: object) -> list[str]:
    """Names in `input_layers` / `output_layers`: `[name, 0, 0]` or a list of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, list):
        return [name for item in value for name in _endpoint(item)]
    return []


def _functional_chain(inner: Config) -> tuple[str, tuple[int | None, ...] | None, list[Config], list[Config]]:
    entries: list[Config] = inner.get("layers", [])
    by_name = {_entry_name(e): e for e in entries}
    inputs, outputs = _endpoint(inner.get("input_layers")), _endpoint(inner.get("output_layers"))
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(
            f"Expected a functional model with one input and one output. Received: inputs {inputs}, outputs {outputs}"
        )
    masks = {name for name, e in by_name.items() if _is_mask_op(e, inputs[0])}
    chain: list[Config] = []
    current = outputs[0]
    while current != inputs[0]:
        entry = by_name[current]
        sources, others = _node_inputs(entry)
        if len(sources) != 1 or any(other not in masks for other in others):
            raise ValueError(
                "Expected a functional model that is a chain (each layer reading the one before it). "
                f"Received: {entry['class_name']} layer {current!r} reading {sources + others}"
            )
        chain.insert(0, entry)
        current = sources[0]
    left_over = set(by_name) - {_entry_name(e) for e in chain} - masks - {inputs[0]}
    if left_over:
        raise ValueError(
            f"Expected a functional model that is a chain. Received: layers off the chain: {sorted(left_over)}"
        )
    # model.layers: every Layer of the config in order, its InputLayer included, operations (mask ops) excluded
    stored = [e for e in entries if _entry_name(e) not in masks and e.get("module", "keras.layers") == "keras.layers"]
    return str(inner.get("name", "functional")), _input_shape(by_name[inputs[0]]), chain, stored


def _is_mask_op(entry: Config, input_name: str) -> bool:
    """Keras 3's mask of an Embedding(mask_zero=True) in a functional model: `NotEqual(input, 0)`."""
    if entry["class_name"] != "NotEqual" or len(entry.get("inbound_nodes", [])) != 1:
        return False
    node = entry["inbound_nodes"][0]
    args = node.get("args", []) if isinstance(node, dict) else []
    return len(args) == 2 and _tensor_sources(args[0]) == [input_name] and args[1] == 0
