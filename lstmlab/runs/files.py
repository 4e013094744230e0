"""Run directories: a trained model and everything needed to rebuild and use it, written atomically.

Layout: `config.json` (kind, the model: a preset with its config and ensemble size, or a layout of its layers for
models that are not presets (`models.layout`), task or data, training settings),
`model.safetensors` (weights, with a copy of the config in its metadata, so that weights and config can never
disagree), `history.csv`, `metrics.json` (`directory` writes the directory as a whole).
Nothing is ever unpickled: loading parses JSON and reads tensors.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..atomic import atomic_write, write_json
from ..layers import Embedding
from ..models import Config, Sequential, build_model, ensemble_of, model_config, model_from_config

__all__ = [
    "CHECKPOINT_FILE",
    "FORMAT",
    "PARTIAL",
    "RunKind",
    "layout_run_config",
    "load_model",
    "partial_of",
    "read_config",
    "run_config",
    "run_kind",
    "save_model",
    "target_of",
]

FORMAT = "lstmlab-run/1"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
PARTIAL = ".partial"  # suffix of a run directory being written (see directory)
# what a run was trained on: a built-in task, the user's texts or series; or "imported" (trained elsewhere)
RunKind = Literal["task", "text", "series", "imported"]
RUN_KINDS: tuple[RunKind, ...] = ("task", "text", "series", "imported")


def partial_of(target: Path) -> Path:
    """The directory a run is written in until complete: `<target>.partial`."""
    return target.with_name(target.name + PARTIAL)


def target_of(path: Path) -> Path:
    """The run directory of `path`: the run's own path, or the path its `.partial` directory stands for."""
    return path.with_name(path.name.removesuffix(PARTIAL))


def run_config(
    preset: str, config: Config, extra: dict[str, Any], *, kind: RunKind = "task", ensemble: int = 1
) -> dict[str, Any]:
    """The JSON description of a run: format, kind (trained on a task, on text or on series), model preset, config
    and ensemble size (members of that preset), plus task or data and training settings."""
    model = {"preset": preset, "config": asdict(config), "ensemble": ensemble}
    return {"format": FORMAT, "kind": kind, "model": model, **extra}


def layout_run_config(model: Sequential, extra: dict[str, Any], *, kind: RunKind) -> dict[str, Any]:
    """The JSON description of a run whose model is not a preset: its layout (`models.layout.model_config`, an
    ensemble's size included) in place of a preset and config.

    Raises:
        ValueError: for a model with a layer that a layout cannot describe.
    """
    return {"format": FORMAT, "kind": kind, "model": {"layout": model_config(model)}, **extra}


def run_kind(description: dict[str, Any]) -> RunKind:
    """What a run was trained on, as its description records it (runs saved before it did: read from the data)."""
    kind = description.get("kind")
    if kind in RUN_KINDS:
        return kind  # type: ignore[no-any-return]
    saved = description.get("dataset")
    if kind is None and isinstance(saved, dict):  # saved before runs recorded their kind
        return "series" if "mean" in saved.get("encoder", {}) else "text"
    if kind is None:
        return "task"
    raise ValueError(f"Expected a run kind in {list(RUN_KINDS)}. Received: {kind!r}")


def save_model(directory: Path, model: Sequential, description: dict[str, Any]) -> None:
    """Write the weights (with the description in their metadata), then `config.json`, each atomically."""
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    text = json.dumps(description, sort_keys=True)
    atomic_write(directory / MODEL_FILE, save(state, metadata={"lstmlab": text}))
    write_json(directory / CONFIG_FILE, description)


def read_config(directory: Path) -> dict[str, Any]:
    """The run's description, from the weights file's metadata (written in the same atomic step as the weights).

    Raises:
        ValueError: if `directory` holds no lstmlab model.
    """
    path = Path(directory) / MODEL_FILE
    directory = Path(directory)
    target = target_of(directory)
    waiting = (partial_of(target) / CHECKPOINT_FILE).is_file()
    if (directory / CHECKPOINT_FILE).is_file() or (not path.is_file() and waiting):
        # the model file of an interrupted run, if any, is only its best epoch so far
        raise ValueError(
            f"Expected a finished run in {directory}. Received: an interrupted one; continue it with "
            f"`lstmlab train --resume {target}`"
        )
    if not path.is_file():
        raise ValueError(f"Expected a run directory holding {MODEL_FILE}. Received: {directory}")
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise ValueError(f"Expected a safetensors file at {path}. Received: unreadable ({error})") from None
    if "lstmlab" not in metadata:
        raise ValueError(f"Expected lstmlab metadata in {path}. Received: keys {sorted(metadata)}")
    try:
        description = json.loads(metadata["lstmlab"])
    except json.JSONDecodeError as error:
        raise ValueError(f"Expected JSON in the lstmlab metadata of {path}. Received: {error}") from None
    if not isinstance(description, dict):
        raise ValueError(
            f"Expected a JSON object in the lstmlab metadata of {path}. Received: {type(description).__name__}"
        )
    if description.get("format") != FORMAT:
        raise ValueError(f"Expected run format {FORMAT!r} in {path}. Received: {description.get('format')!r}")
    model = description.get("model")
    if not (isinstance(model, dict) and ({"preset", "config"} <= set(model) or "layout" in model)):
        raise ValueError(
            f"Expected a model preset and config in {path} (or a model layout). Received: {description.get('model')!r}"
        )
    return description


def load_model(directory: Path) -> tuple[Sequential, dict[str, Any]]:
    """Rebuild a saved model and load its weights; returns it (in eval mode) and its description."""
    description = read_config(directory)
    path = Path(directory) / MODEL_FILE
    model = _build(description["model"], path)
    state = load_file(str(path))
    expected = model.state_dict()
    missing = set(expected) ^ set(state)
    if missing:
        raise ValueError(f"Expected weights for {model.name}. Received: mismatched keys {sorted(missing)}")
    wrong = next((k for k in expected if tuple(expected[k].shape) != tuple(state[k].shape)), None)
    if wrong is not None:
        raise ValueError(
            f"Expected weights of the shapes the metadata of {path} describes. Received: {wrong} of shape "
            f"{tuple(state[wrong].shape)} where the model has {tuple(expected[wrong].shape)}"
        )
    wrong = next((k for k in expected if expected[k].dtype != state[k].dtype), None)
    if wrong is not None:
        raise ValueError(
            f"Expected weights of the dtype the model has in {path}. Received: {wrong} of {state[wrong].dtype} where "
            f"the model has {expected[wrong].dtype}"
        )
    model.load_state_dict(state)
    if _frozen_vectors(description):  # a preset rebuilds trainable: the run's frozen vectors stay frozen
        for module in model.modules():
            if isinstance(module, Embedding):
                module.trainable = False
    return model.eval(), description


def _frozen_vectors(description: dict[str, Any]) -> bool:
    dataset = description.get("dataset")
    vectors = dataset.get("vectors") if isinstance(dataset, dict) else None
    return isinstance(vectors, dict) and vectors.get("mode") == "frozen"


def _build(model_spec: dict[str, Any], path: Path) -> Sequential:
    """A fresh model from a run's model description: a layout, or a preset, its config and ensemble size."""
    if "layout" in model_spec:
        try:
            return model_from_config(model_spec["layout"])
        except ValueError as error:
            raise ValueError(f"Expected a model layout that builds in {path}. Received: {error}") from None
    if not isinstance(model_spec["config"], dict):
        raise ValueError(f"Expected a model config object in {path}. Received: {model_spec['config']!r}")
    try:
        return ensemble_of(
            lambda: build_model(model_spec["preset"], **model_spec["config"]), model_spec.get("ensemble", 1)
        )
    except (TypeError, ValueError) as error:  # an unknown preset or field, or one of the wrong type
        raise ValueError(f"Expected a model config that builds in {path}. Received: {error}") from None
