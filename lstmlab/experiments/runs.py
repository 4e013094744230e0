"""Run directories: a trained model and everything needed to rebuild and use it, written atomically.

Layout: `config.json` (model preset, config and ensemble size, task, training settings), `model.safetensors`
(weights, with a copy of the config in its metadata, so that weights and config can never disagree),
`history.csv`, `metrics.json`.
Nothing is ever unpickled: loading parses JSON and reads tensors.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..models import Sequential, build_model, ensemble_of
from ..models.zoo import Config

__all__ = [
    "FORMAT",
    "atomic_write",
    "load_model",
    "read_config",
    "run_config",
    "save_model",
    "write_history",
    "write_json",
]

FORMAT = "lstmlab-run/1"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def write_history(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows of equal keys as CSV (one row per epoch, or per update)."""
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    atomic_write(path, text.getvalue().encode())


def run_config(preset: str, config: Config, extra: dict[str, Any], *, ensemble: int = 1) -> dict[str, Any]:
    """The JSON description of a run: format, model preset, config and ensemble size (members of that preset), plus
    task and training settings."""
    return {"format": FORMAT, "model": {"preset": preset, "config": asdict(config), "ensemble": ensemble}, **extra}


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
    if not path.is_file():
        raise ValueError(f"Expected a run directory holding {MODEL_FILE}. Received: {directory}")
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise ValueError(f"Expected a safetensors file at {path}. Received: unreadable ({error})") from None
    if "lstmlab" not in metadata:
        raise ValueError(f"Expected lstmlab metadata in {path}. Received: keys {sorted(metadata)}")
    description: dict[str, Any] = json.loads(metadata["lstmlab"])
    if description.get("format") != FORMAT:
        raise ValueError(f"Expected run format {FORMAT!r} in {path}. Received: {description.get('format')!r}")
    if not {"preset", "config"} <= set(description.get("model", {})):
        raise ValueError(f"Expected a model preset and config in {path}. Received: {description.get('model')!r}")
    return description


def load_model(directory: Path) -> tuple[Sequential, dict[str, Any]]:
    """Rebuild a saved model and load its weights; returns it (in eval mode) and its description."""
    description = read_config(directory)
    model_spec = description["model"]
    model = ensemble_of(
        lambda: build_model(model_spec["preset"], **model_spec["config"]), model_spec.get("ensemble", 1)
    )
    state = load_file(str(Path(directory) / MODEL_FILE))
    missing = set(model.state_dict()) ^ set(state)
    if missing:
        raise ValueError(f"Expected weights for {model_spec['preset']}. Received: mismatched keys {sorted(missing)}")
    model.load_state_dict(state)
    return model.eval(), description
