"""`lstmlab inspect RUN`: a saved run's inspection of its inputs as one JSON file, one self-contained page and PNG
figures, written together into a folder (all of them or none); and `inspect_document`, the JSON alone (what the
server's `POST /explain` answers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..atomic import file_mode, write_json
from ..data import SequenceData, saved_test_set
from ..runs import SavedRun, load_run
from ..runs.sequence_files import labelled_file
from ..seeds import Seeds
from .document import document
from .figures import write_figures
from .inputs import RunInputs, file_inputs, sample_inputs, series_inputs, text_inputs
from .inspection import check_inspectable, inspect
from .page import write_page
from .settings import METHODS, STATISTICS_SIZE, STEPS
from .statistics import cell_statistics

__all__ = ["INSPECTION_FILES", "inspect_document", "inspect_run", "write_inspection"]

# What `write_inspection` writes: the numbers, the page, and the figures `write_figures` draws.
INSPECTION_FILES = ("inspection.json", "inspection.html")


def inspect_document(
    run: SavedRun,
    inputs: RunInputs,
    *,
    member: int = 0,
    methods: Sequence[str] = METHODS,
    steps: int = STEPS,
    target: int | None = None,
    step: int | None = None,
    trace: bool = True,
    statistics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document (`document.py`) of `inspect` on `inputs` with `run`'s model; without `trace`, each
    sequence's "layers" is left out (attributions and the prediction only)."""
    found = inspect(run.model, inputs.data, member=member, methods=methods, steps=steps, target=target, step=step)
    tokens = [[inputs.tokens[row][p] for p in s.positions] for row, s in enumerate(found.sequences)]
    known = None
    if inputs.known is not None:
        known = [[inputs.known[row][p] for p in s.positions] for row, s in enumerate(found.sequences)]
    result = document(
        found,
        model=run.model.name,
        classes=run.classes,
        inputs=inputs.kind,
        tokens=tokens,
        known=known,
        statistics=statistics,
    )
    result["run"], result["source"] = str(run.directory), inputs.source
    if not trace:
        for sequence in result["sequences"]:
            sequence.pop("layers")
    return result


def write_inspection(found: dict[str, Any], out: Path, *, sequence: int = 0) -> list[Path]:
    """Write `found` (an `inspect_document`) into the folder `out`: inspection.json, inspection.html and the figures
    of sequence `sequence`. Everything is written in a fresh folder beside `out` first, then moved in, so a failure
    leaves `out` as it was; files of an earlier inspection in `out` are replaced.

    Returns:
        The paths written, in `out`.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"Expected a folder (or a new name) for --out. Received: {out}, a file")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_json(scratch / "inspection.json", found)
        write_page(scratch / "inspection.html", found)
        figures = write_figures(found, scratch, sequence=sequence)
        names = [*INSPECTION_FILES, *(path.name for path in figures)]
        out.mkdir(exist_ok=True)
        for name in names:
            os.chmod(scratch / name, file_mode())
            os.replace(scratch / name, out / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [out / name for name in names]


def inspect_run(
    directory: Path,
    out: Path,
    *,
    texts: Sequence[str] = (),
    series: str | None = None,
    index: int | None = None,
    inputs: Path | None = None,
    seed: int | None = None,
    member: int = 0,
    methods: Sequence[str] = METHODS,
    steps: int = STEPS,
    target: str | None = None,
    step: int | None = None,
    layer: str | None = None,
    unit: int | None = None,
    statistics: int = STATISTICS_SIZE,
    statistics_data: Path | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """`lstmlab inspect RUN`: inspect one source of inputs with a saved run and write the folder `out`
    (`write_inspection`).

    The inputs: `texts` (text runs), the series of the file `series` (the one at `index`, from 0, or all), the file
    `inputs` (texts one a line, series, or sequences as `lstmlab predict --input` reads them), or a task run's fresh
    example drawn by `seed` (1 by default). The statistics read `statistics` sequences (0: none) of the run's test
    set (a task run's fresh examples), or of the labelled file `statistics_data` (task runs and imported models:
    lines `LABEL, values...` or an .npz of x and y). `target` names the class explained (default: the predicted
    one); `layer` and `unit` the layer and unit the page shows first.

    Returns:
        The document and the paths written.
    """
    run = load_run(directory)
    check_inspectable(run.model, member, methods)
    given = [name for name, value in (("--text", texts), ("--series", series), ("--input", inputs)) if value]
    if len(given) > 1:
        raise ValueError(f"Expected one source of inputs to inspect. Received: {' and '.join(given)}")
    if index is not None and series is None:
        raise ValueError("Expected --index with --series FILE (the series to inspect). Received: --index alone")
    if seed is not None and run.kind != "task":
        raise ValueError(f"Expected --seed for a run trained on a task (a fresh example). Received: a {run.kind} run")
    if texts:
        chosen = text_inputs(run, list(texts))
    elif series is not None:
        chosen = series_inputs(run, series, index)
    elif inputs is not None:
        chosen = file_inputs(run, inputs)
    elif run.kind == "task":
        chosen = sample_inputs(run, 1 if seed is None else seed)
    else:
        wanted = {"text": "--text TEXT or --input FILE", "series": "--series FILE [--index N]"}
        raise ValueError(
            f"Expected {wanted.get(run.kind, '--input FILE')} to inspect a {run.kind} run. Received: no inputs"
        )
    target_id = None if target is None else _class_id(run, target)
    measured = _statistics(run, statistics, statistics_data, member)
    found = inspect_document(
        run, chosen, member=member, methods=methods, steps=steps, target=target_id, step=step, statistics=measured
    )
    found["view"] = _view(found, layer, unit)
    return found, write_inspection(found, out)


def _class_id(run: SavedRun, name: str) -> int:
    classes = list(run.classes)
    if name not in classes:
        raise ValueError(f"Expected --target among the run's classes {classes}. Received: {name!r}")
    return classes.index(name)


def _view(found: dict[str, Any], layer: str | None, unit: int | None) -> dict[str, Any]:
    """The layer, direction and unit the page shows first: `layer` (a layer's name) and `unit`, checked."""
    directions = found["directions"]
    names = list(dict.fromkeys(d["layer"] for d in directions))
    chosen = names[0] if layer is None else layer
    if chosen not in names:
        raise ValueError(f"Expected --layer among the model's LSTM layers {names}. Received: {layer!r}")
    first = next(d for d in directions if d["layer"] == chosen)
    if unit is not None and not 0 <= unit < first["units"]:
        raise ValueError(f"Expected --unit in 0..{first['units'] - 1} (layer {chosen}). Received: {unit}")
    return {"layer": chosen, "direction": first["direction"], "unit": 0 if unit is None else unit}


def _statistics(run: SavedRun, size: int, path: Path | None, member: int) -> dict[str, Any] | None:
    """The statistics over `size` sequences of the run's test set or of the labelled file `path` (None: none)."""
    if size < 0:
        raise ValueError(f"Expected --statistics 0 (none) or a positive number of sequences. Received: {size}")
    if size == 0:
        return None
    if path is not None:
        if run.kind in ("text", "series"):
            raise ValueError(
                f"Expected --statistics-data only for task runs and imported models (a {run.kind} run has its "
                f"test split). Received: {path}"
            )
        data, source = labelled_file(path, run.model, run.reads), str(path)
    elif run.kind == "task":
        task, config = run.task
        generator = torch.Generator().manual_seed(Seeds(run.description["train"]["seed"]).test_set)
        data, source = task.sample(config, size, generator), f"{size} fresh examples of {task.name}"
    elif run.kind == "imported":
        return None  # no test set, nor labels: statistics need --statistics-data
    else:
        spec, encoder = run.data
        test = saved_test_set(spec, encoder)
        if not isinstance(test, SequenceData):
            return None  # a streamed test set: the statistics read a batch in memory
        data, source = test, "the run's test split"
    if len(data) > size:
        data = data.take(torch.arange(size))
        source += f" (its first {size})"
    return cell_statistics(run.model, data, member=member, source=source)
