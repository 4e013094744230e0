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
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent.parent
log = logging.getLogger("mkdocs.hooks.lstmlab")


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
        with contextlib.redirect_stdout(buffer), _timed(code):
            run(code, filename, exec_globals)

    exec_python.captures_stdout = True  # type: ignore[attr-defined]
    python.exec_python = exec_python


@contextlib.contextmanager
def _timed(code: str) -> Iterator[None]:
    """Log each block that takes more than a few seconds, so that a slow page names its slow block."""
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    if seconds > 3:
        first = next(
            (line for line in code.splitlines() if line.strip() and not line.startswith(("#", "import", "from"))), ""
        )
        log.info(f"docs: {seconds:.1f} s in the block starting {first.strip()[:90]!r}")


def _time_shell() -> None:
    from markdown_exec._internal.formatters import console, sh

    run = sh._run_sh
    if getattr(run, "timed", False):
        return

    def run_sh(code: str, *args: Any, **kwargs: Any) -> str:
        with _timed(code):
            return run(code, *args, **kwargs)

    run_sh.timed = True  # type: ignore[attr-defined]
    sh._run_sh = console._run_sh = run_sh


def on_config(config: Any) -> Any:
    sys.path.insert(0, str(SCRIPTS))
    _capture_stdout()
    _time_shell()
    os.environ.setdefault("MPLBACKEND", "Agg")
    # One thread per example: these models are small, and on a machine whose cores are busy (a CI runner, a
    # laptop) two threads that wait on each other ran `compare directions` 10x slower than one thread (80 s
    # against 8 s for 30 runs of 300 updates, measured beside other work on the 2-core development machine).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras itself, beside lstmlab in the tutorials: no TensorFlow
    os.environ["COLUMNS"] = "110"  # help and tables printed by the examples wrap as on a wide terminal
    import lstmlab

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


# The project's own files are the site's Project pages, whole: a page that reads `--8<-- "NAME.md"` alone is that
# file of the repository. They link to each other by their names in the repository; on the site those are the
# pages' names.
_PROJECT_PAGES = {
    "ARCHITECTURE.md": "architecture.md",
    "CONTRIBUTING.md": "contributing.md",
    "CHANGELOG.md": "changelog.md",
}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    included = markdown.strip().removeprefix('--8<-- "').removesuffix('"')
    if included in _PROJECT_PAGES:
        markdown = (ROOT / included).read_text(encoding="utf-8")
        for name, page_name in _PROJECT_PAGES.items():
            markdown = markdown.replace(f"]({name})", f"]({page_name})")
    return markdown
