"""A saved run as ONNX: the model's exact graph (`lstmlab.export`), what it reads and answers in a JSON file beside
it, and for text runs the standalone reader that turns raw texts into its inputs.

`lstmlab export RUN --format onnx` writes, by default into the run directory:
- `model.onnx`: inputs `ids` (B, T) int64 or `x` (B, T, D) float32, right-padded, and `lengths` (B,) int64;
  outputs `logits` and `probabilities`. A series run's standardisation is folded into the graph: it takes the raw
  values, as `lstmlab predict` does.
- `model.onnx.json`: the run's kind, the inputs and outputs, the class names by id, the opset, and for text runs
  the reader's settings (vocabulary, tokenizer, length, padding side).
- `text_reader.py` (text runs): encodes raw texts with those settings, on Python and NumPy alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_atomically
from ..data import SeriesScaler, TextEncoder
from ..export import OPSET, Standardisation, model_to_onnx
from ..export import text_reader as reader_module
from ..layers import Embedding
from ..models import Sequential, first_member
from ..runs import load_run

__all__ = ["OnnxExport", "export_onnx_run"]

READER_NAME = "text_reader.py"


@dataclass(frozen=True)
class OnnxExport:
    """What `export_onnx_run` wrote."""

    path: Path  # the .onnx file
    settings: Path  # the .onnx.json beside it
    reader: Path | None  # text_reader.py for text runs
    inputs: tuple[str, ...]
    classes: tuple[str, ...]


def _text_settings(encoder: TextEncoder, model: Sequential) -> dict[str, Any]:
    """The reader's settings. A first `Embedding(mask_zero=True)` reads only a row's real ids wherever its padding
    is, so the reader pads after them and gives their count; otherwise lstmlab gives lengths only for rows padded
    after their ids, and a model given pre-padded rows reads them whole (padding included): so does the graph."""
    first = first_member(model).layers[0]
    s = encoder.settings
    padding = "post" if s.padding == "post" or (isinstance(first, Embedding) and first.mask_zero) else "pre"
    return {
        "vocabulary": list(encoder.vocabulary.words),
        "max_len": encoder.max_len,
        "level": s.level,
        "lower": s.lower,
        "truncating": s.truncating,
        "padding": padding,
        "lengths": "valid" if padding == "post" else "full",
    }


def export_onnx_run(run: Path, out: Path | None = None, *, overwrite: bool = False) -> OnnxExport:
    """Write a run's model as ONNX, with its settings file (and for text runs the reader) beside it.

    Everything is built first and each file written beside its target and renamed into place: a refused export
    writes nothing.

    Args:
        run: a run directory (trained by lstmlab or imported).
        out: the .onnx file to write (default: `model.onnx` in the run directory).
        overwrite: replace existing files at those places.

    Raises:
        ValueError: one line, for a layer without an ONNX form (named), a target name not ending in .onnx, or
            files that exist (without `overwrite`).
    """
    run = Path(run)
    target = Path(out) if out is not None else run / "model.onnx"
    if target.suffix != ".onnx":
        raise ValueError(f"Expected a file name ending in .onnx. Received: {target}")
    saved = load_run(run)
    reader = target.parent / READER_NAME if saved.kind == "text" else None
    settings_path = target.with_name(target.name + ".json")
    for path in (target, settings_path, *([reader] if reader else [])):
        if path.is_dir() or (path.exists() and not overwrite):
            what = "a directory" if path.is_dir() else "an existing file (--overwrite to replace it)"
            raise ValueError(f"Expected a new file to write. Received: {path} is {what}")
    model = saved.model
    standardisation = None
    settings: dict[str, Any] = {}
    if saved.kind in ("text", "series"):
        _, encoder = saved.data
        if isinstance(encoder, SeriesScaler):
            standardisation = Standardisation(encoder.mean, encoder.std)
            settings["series"] = {"channels": encoder.channels, "standardised_in_graph": True}
        else:
            settings["text"] = _text_settings(encoder, model)
    proto = model_to_onnx(model, standardisation=standardisation)
    inputs = tuple(i.name for i in proto.graph.input)
    classes = saved.classes
    description = {
        "format": "lstmlab ONNX export 1",
        "opset": OPSET,
        "kind": saved.kind,
        "model": model.name,
        "inputs": inputs,
        "outputs": tuple(o.name for o in proto.graph.output),
        "right_padded": True,
        "classes": list(classes),
        "one_logit": model.output_shape[-1] == 1,
        "per_step": len(model.output_shape) == 2,
        **settings,
    }
    data = proto.SerializeToString()
    write_atomically(target, lambda temporary: temporary.write_bytes(data))
    text = json.dumps(description, indent=2) + "\n"
    write_atomically(settings_path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    if reader is not None:
        source = Path(reader_module.__file__).read_text(encoding="utf-8")
        write_atomically(reader, lambda temporary: temporary.write_text(source, encoding="utf-8"))
    return OnnxExport(target, settings_path, reader, inputs, classes)
