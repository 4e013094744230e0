"""The progress bar: silent off a terminal; on one, the running figures, read at most every REFRESH seconds."""

from __future__ import annotations

import io
import sys

import pytest

from lstmlab import progress
from lstmlab.progress import progress_bar


def test_off_a_terminal_nothing_is_drawn_and_figures_are_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    read: list[int] = []
    with progress_bar(10) as advance:
        for _ in range(10):
            advance(1, lambda: read.append(1) or {})  # type: ignore[func-returns-value]
    assert read == [] and sys.stderr.getvalue() == ""


def test_on_a_terminal_the_figures_are_read_sparingly_and_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    clock = iter([1.0, 1.1, 1.2, 1.3, 2.0, 2.1])
    monkeypatch.setattr(progress, "clock", lambda: next(clock))
    read: list[int] = []

    def figures() -> dict[str, float]:
        read.append(1)
        return {"loss": 0.5, "accuracy": 0.75}

    with progress_bar(5) as advance:
        for _ in range(5):
            advance(1, figures)  # at 0.0, 0.1, 0.2, 0.3, 1.0
        advance(0, lambda: {"val_loss": 0.25})  # an epoch's end: always read
    assert len(read) == 3  # at 1.0, 1.3 and 2.0; 1.1 and 1.2 came too soon
    assert progress._figures_text({"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25}) == (
        "loss 0.5000  accuracy 0.7500  val_loss 0.2500"
    )
