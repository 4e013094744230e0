"""MkDocs hooks: the build runs every example as a user would, from a fresh working directory.

`mkdocs build` executes the pages' code blocks (markdown-exec). Before any page is read, these hooks give the
build a new, empty working directory (a user's fresh clone, with the clone's `benchmarks/` reachable as it is from
one), so that `--out runs/NAME` in an example never meets a run of an earlier build or of the user's own; they put
`docs/_scripts/` on `sys.path` for the pages' hidden helper blocks (`figures.show`, `reference`); and they write
the version on every page's footer from `lstmlab.__version__`, the version's one definition.

Every example runs at the size it shows; where the full-size command would take minutes, the page runs a
smaller one and says what the full size is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent.parent


def _capture_stdout() -> None:
    """markdown-exec shows what a block's own `print` calls write, by giving the block a `print` of its own; what
    lstmlab prints (`model.summary()`, a run's scores) goes to `sys.stdout` and would be lost. There is no option for
    this, so the block runner is wrapped to send `sys.stdout` to the same buffer (markdown-exec's internal
    `exec_python(code, filename, exec_globals)`, whose `print` is a partial over that buffer)."""
    from markdown_exec._internal.formatters import python

    run = python.exec_python
    if getattr(run, "captures_stdout", False):
        return

    def exec_python(code: str, filename: str, exec_globals: dict[str, Any]) -> None:
        buffer = exec_globals["print"].args[0]
        with contextlib.redirect_stdout(buffer):
            run(code, filename, exec_globals)

    exec_python.captures_stdout = True  # type: ignore[attr-defined]
    python.exec_python = exec_python


def on_config(config: Any) -> Any:
    sys.path.insert(0, str(SCRIPTS))
    _capture_stdout()
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras itself, beside lstmlab in the tutorials: no TensorFlow
    os.environ["COLUMNS"] = "110"  # help and tables printed by the examples wrap as on a wide terminal
    import lstmlab

    config["mdx_configs"]["pymdownx.snippets"]["base_path"] = [str(ROOT)]  # read after the change of directory
    config["copyright"] = f"lstmlab {lstmlab.__version__}: MIT licence"
    work = Path(tempfile.mkdtemp(prefix="lstmlab-docs-"))
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    os.chdir(work)
    global _WORK
    _WORK = work
    return config


_WORK: Path | None = None


def on_post_build(config: Any) -> None:
    if _WORK is not None:
        os.chdir(ROOT)
        shutil.rmtree(_WORK, ignore_errors=True)
