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

from ..atomic import file_mode, write_json
from ..runs import SavedRun
from .document import document
from .figures import write_figures
from .inputs import RunInputs
from .inspection import METHODS, inspect
from .page import write_page

__all__ = ["INSPECTION_FILES", "inspect_document", "write_inspection"]

# What `write_inspection` writes: the numbers, the page, and the figures `write_figures` draws.
INSPECTION_FILES = ("inspection.json", "inspection.html")


def inspect_document(
    run: SavedRun,
    inputs: RunInputs,
    *,
    member: int = 0,
    methods: Sequence[str] = METHODS,
    steps: int = 50,
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
