"""`Sequential.save` / `load_model`: a name ending in `.keras` gets a Keras 3 archive (Keras itself loads it and
predicts the same; `archive.write_keras`), any other name lstmlab's own safe format: one safetensors file holding
the weights, with the model's layout (`lstmlab.models.layout`), output activation and compile settings as JSON in
its metadata. Loading never runs code (no pickle), and a saved file names no Python object to import. Either file
is written beside its target and renamed into place: an interrupted save leaves no half-written file.

A Keras archive (`.keras` zip or HDF5 `.h5`) given to `load_model` is read by `load_keras_model`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ..models import Sequential as LstmlabSequential
from ..models import model_config, model_from_config
from . import losses as keras_losses
from . import optimizers as keras_optimizers
from .archive import write_keras

if TYPE_CHECKING:
    from .losses import Loss
    from .optimizers import Optimizer


class Savable(Protocol):
    """What saving reads of a `keras.models.Sequential` (named here: the model imports this module, not the other
    way round)."""

    activation: str
    loss: Loss | None
    optimizer: Optimizer | None
    metric: str | None

    @property
    def lstmlab_model(self) -> LstmlabSequential: ...


@dataclass(frozen=True)
class SavedModel:
    """What `read_model` found in a file `save_model` wrote: the lstmlab model, its output activation, and the
    compile settings (None: it was not compiled)."""

    net: LstmlabSequential
    activation: str
    compiled: dict[str, Any] | None

    def compile_options(self) -> dict[str, Any]:
        """The keyword arguments of `compile` that the saved model was compiled with (a fresh optimiser)."""
        assert self.compiled is not None
        settings = dict(self.compiled["optimizer"])
        optimizer = _OPTIMIZERS[settings.pop("name")](**settings)
        loss = keras_losses.get(self.compiled["loss"])
        loss.from_logits = self.compiled["from_logits"]
        metric = self.compiled["metric"]
        return {"optimizer": optimizer, "loss": loss, "metrics": None if metric is None else [metric]}


__all__ = ["Savable", "SavedModel", "is_keras_file", "load_weights", "read_model", "save_model", "save_weights"]

MODEL_FORMAT = "lstmlab.keras-model/1"
WEIGHTS_FORMAT = "lstmlab.keras-weights/1"
_OPTIMIZERS: dict[str, type[keras_optimizers.Adam] | type[keras_optimizers.RMSprop] | type[keras_optimizers.SGD]] = {
    "adam": keras_optimizers.Adam,
    "rmsprop": keras_optimizers.RMSprop,
    "sgd": keras_optimizers.SGD,
}


def _tensors(model: Savable) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.lstmlab_model.state_dict().items()}


def _written_in_place(filepath: str | Path, write: Callable[[Path], None]) -> None:
    """`write` a scratch file beside `filepath`, then rename it to `filepath`."""
    target = Path(filepath)
    scratch = target.with_name(f".{target.name}.partial")
    try:
        write(scratch)
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


def save_model(model: Savable, filepath: str | Path) -> None:
    """Write the model to `filepath`: a Keras 3 archive for a `.keras` name (weights, layers and output activation;
    Keras loads it), else lstmlab's safetensors file (also the compile settings).

    Raises:
        ValueError: for an `.h5` name (Keras 2's format is read, not written), or a `.keras` name for a model with a
            layer Keras has no equivalent of (named in one line).
    """
    suffix = Path(filepath).suffix.lower()
    if suffix == ".h5":
        raise ValueError(
            f"Expected a .keras name (a Keras 3 archive) or another name (lstmlab's format). Received: {filepath}"
        )
    if suffix == ".keras":
        _written_in_place(filepath, lambda path: write_keras(model.lstmlab_model, path, activation=model.activation))
        return
    compiled: dict[str, Any] | None = None
    if model.loss is not None and model.optimizer is not None:
        compiled = {
            "loss": model.loss.name,
            "from_logits": model.loss.from_logits,
            "metric": model.metric,
            "optimizer": model.optimizer.get_config(),
        }
    metadata = {
        "format": MODEL_FORMAT,
        "layout": json.dumps(model_config(model.lstmlab_model)),
        "activation": model.activation,
        "compile": json.dumps(compiled),
    }
    tensors = _tensors(model)
    _written_in_place(filepath, lambda path: save_file(tensors, str(path), metadata=metadata))


def save_weights(model: Savable, filepath: str | Path) -> None:
    """Write the model's weights alone (safetensors)."""
    tensors = _tensors(model)
    _written_in_place(filepath, lambda path: save_file(tensors, str(path), metadata={"format": WEIGHTS_FORMAT}))


def _read(filepath: str | Path, expected: tuple[str, ...]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(filepath)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - safe_open has no iter
    except (OSError, SafetensorError) as error:
        raise ValueError(
            f"Expected a file saved by lstmlab.keras (save or save_weights). Received: {path} ({error})"
        ) from None
    if metadata.get("format") not in expected:
        raise ValueError(
            f"Expected a file saved by lstmlab.keras ({' or '.join(expected)}). Received: {path} with format "
            f"{metadata.get('format')!r}"
        )
    return tensors, metadata


def is_keras_file(path: Path) -> bool:
    """Whether `path` is a Keras archive: a zip (`.keras`) or HDF5 (`.h5`) file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head.startswith(b"PK") or head.startswith(b"\x89HDF")


def read_model(filepath: str | Path) -> SavedModel:
    """The model `save_model` wrote in lstmlab's format, in evaluation mode (`keras.models.load_model` builds the
    Keras-front-end model from it, and reads Keras archives too).

    Raises:
        ValueError: for a file `save_model` did not write, or a layout of more than one model.
    """
    tensors, metadata = _read(filepath, (MODEL_FORMAT,))
    net = model_from_config(json.loads(metadata["layout"]))
    if not isinstance(net, LstmlabSequential):
        raise ValueError(f"Expected one model's layout in {filepath}. Received: {type(net).__name__}")
    net.load_state_dict(tensors)
    net.eval()
    return SavedModel(net, metadata["activation"], json.loads(metadata["compile"]))


def load_weights(model: Savable, filepath: str | Path) -> None:
    """Read weights that `save_weights` (or `save_model`) wrote into a model of the same layers.

    Raises:
        ValueError: for another file, or weights of other names or shapes.
    """
    tensors, _ = _read(filepath, (WEIGHTS_FORMAT, MODEL_FORMAT))
    net = model.lstmlab_model
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    received = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != received:
        raise ValueError(f"Expected weights {expected}. Received: {received} from {filepath}")
    net.load_state_dict(tensors)
