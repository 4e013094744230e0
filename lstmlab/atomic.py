"""Files written whole or not at all: a crash, a kill or Ctrl-C leaves the old file or the new one, never a mix.

Every file lstmlab writes goes through here (bytes, JSON, CSV rows, a PNG figure, or a file another library
writes), and gets the user's umask like any other tool's output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["atomic_write", "file_mode", "pyplot", "save_figure", "write_atomically", "write_csv", "write_json"]


def file_mode() -> int:
    """The mode a new file gets from the user's umask, as `open()` would give it (0o644 under umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one, never a mix; the file
    gets the user's umask like any other tool's output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, file_mode())  # mkstemp makes 0600 files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows of equal keys as CSV (one row per epoch, or per update)."""
    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    atomic_write(path, text.getvalue().encode())


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Call `write` on a file in a fresh directory beside `target`, then rename the file onto `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        temporary = scratch / target.name
        write(temporary)
        os.chmod(temporary, file_mode())
        os.replace(temporary, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Figure, path: Path) -> None:
    """Write the PNG beside `path` first, then move it there: a crash never leaves half a picture."""
    plt = pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary, dpi=120)
    plt.close(figure)
    temporary.replace(path)
