"""A progress bar (rich) for training, shown only when standard error is a terminal: updates done, time, and the
running loss and accuracy of the epoch (validation figures at an epoch's end)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar"]

REFRESH = 0.25  # seconds between two readings of the running figures (each waits for the device)
SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy")
clock: Callable[[], float] = time.monotonic  # when the figures were last read


def _figures_text(figures: dict[str, float]) -> str:
    return "  ".join(f"{name} {figures[name]:.4f}" for name in SHOWN if name in figures)


@contextmanager
def progress_bar(
    total: int, description: str = "training"
) -> Iterator[Callable[[int, Callable[[], dict[str, float]]], None]]:
    """Yield `advance(n, figures)`; draws a bar on a terminal and nothing otherwise (logs, CI, pipes). `figures()`
    gives the running figures; it is read at most every `REFRESH` seconds."""
    if not sys.stderr.isatty():
        yield lambda n, figures: None
        return
    # imported here: rich costs some 0.1 s of a command's start-up, and a bar is drawn only on a terminal
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[figures]}"),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total, figures="")
        shown: dict[str, float] = {}
        last = 0.0

        def advance(n: int, figures: Callable[[], dict[str, float]]) -> None:
            nonlocal last
            now = clock()
            if n == 0 or now - last >= REFRESH:  # n == 0: an epoch's end, with its validation figures
                shown.update(figures())
                last = now
            bar.update(task, advance=n, figures=_figures_text(shown))

        yield advance
