"""Run directories as transactions: a run is written into `<out>.partial` and renamed into place when complete.

- `--out` onto a non-empty directory is refused unless the user asks to overwrite; without `--out` a run gets a new,
  dated name under `runs/`.
- A crash, a kill or Ctrl-C never leaves a directory that mixes two runs or looks complete when it is not: until
  the rename, the old run (if any) is untouched and the new one is only `<out>.partial`.
- Ctrl-C stops training after the current update and leaves a checkpoint in `<out>.partial` (weights, optimiser
  state, schedule position, generator states, history so far); `lstmlab train --resume <out>` continues it.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import Tensor

from ..atomic import atomic_write
from .files import CHECKPOINT_FILE, partial_of, target_of

__all__ = ["RunDirectory", "dated_name", "interruptible", "read_checkpoint", "write_checkpoint"]

RUNS = Path("runs")  # where runs without --out go
CHECKPOINT_FORMAT = "lstmlab-checkpoint/1"


def dated_name(label: str, now: datetime.datetime | None = None, *, root: Path = RUNS) -> Path:
    """A new directory under `root` (`runs/`), named by the time and `label`, e.g.
    `runs/2026-12-02_081500_qa-lstm`; `-2`, `-3`, ... added where that name is taken."""
    stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    base = root / f"{stamp}_{label}"
    candidate, number = base, 1
    while candidate.exists() or partial_of(candidate).exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


# files by which a directory is known as lstmlab's own, so that --overwrite never deletes anything else
OWN_FILES = {"run": ("config.json", "model.safetensors"), "comparison": ("runs.json", "results.csv")}


@dataclass(frozen=True)
class RunDirectory:
    """Where a run (or a comparison) goes (`target`) and where it is written until complete (`partial`)."""

    target: Path
    kind: str = "run"  # "run" or "comparison": what an existing target must hold to be overwritten

    @property
    def partial(self) -> Path:
        return partial_of(self.target)

    @staticmethod
    def of(path: Path) -> RunDirectory:
        """The run directory of `path`: a run's own path or its `.partial` sibling."""
        return RunDirectory(target_of(path))

    def check_target(self, *, overwrite: bool) -> None:
        """Raise a ValueError unless the run may be written to `target`: new or empty, or (with `overwrite`) a
        directory of lstmlab's own kind, replaced once the new run is complete."""
        name = self.target.name
        if name in ("", ".", "..") or self.target.resolve() in (Path.cwd().resolve(), Path.home().resolve()):
            raise ValueError(f"Expected a directory name for the {self.kind} (e.g. runs/NAME). Received: {self.target}")
        if self.target.exists() and not self.target.is_dir():
            raise ValueError(f"Expected a directory for the {self.kind}. Received: {self.target} is a file")
        if not self.target.is_dir() or not any(self.target.iterdir()):
            return
        if not overwrite:
            raise ValueError(
                f"Expected a new or empty {self.kind} directory. Received: {self.target} holds files (--overwrite to "
                "replace them once the new run is complete)"
            )
        if not any((self.target / own).is_file() for own in OWN_FILES[self.kind]):
            raise ValueError(
                f"Expected an lstmlab {self.kind} to overwrite in {self.target} (one of {list(OWN_FILES[self.kind])}). "
                "Received: a directory of other files; lstmlab replaces only its own"
            )

    def begin(self, *, overwrite: bool) -> None:
        """Check the target (`check_target`) and create `partial`, empty. A `partial` left without a checkpoint (a
        run killed before its first) is removed; one with a checkpoint is kept unless `overwrite`.

        Raises:
            ValueError: as `check_target`, or for an interrupted run waiting in `partial`.
        """
        self.check_target(overwrite=overwrite)
        if self.partial.exists():
            if (self.partial / CHECKPOINT_FILE).is_file() and not overwrite:
                raise ValueError(
                    f"Expected no unfinished run at {self.target}. Received: {self.partial} (continue it with "
                    f"`lstmlab train --resume {self.target}`, or --overwrite to start again)"
                )
            shutil.rmtree(self.partial)
        self.partial.mkdir(parents=True)

    def commit(self) -> None:
        """Rename the complete run into place; a previous run there is moved aside first and then removed."""
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.replaced")
            if old.exists():
                shutil.rmtree(old)
            self.target.rename(old)
        self.partial.rename(self.target)
        if old is not None:
            shutil.rmtree(old)

    def abandon(self) -> None:
        """Remove `partial` unless it holds a checkpoint to resume from."""
        if self.partial.is_dir() and not (self.partial / CHECKPOINT_FILE).is_file():
            shutil.rmtree(self.partial)


def write_checkpoint(directory: Path, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    """One atomic file: the tensors, and the JSON `meta` in its metadata; a JSON copy beside it, for people."""
    text = json.dumps({"format": CHECKPOINT_FORMAT, **meta})  # key order kept: history rows become CSV columns
    atomic_write(directory / CHECKPOINT_FILE, save(tensors, metadata={"lstmlab-checkpoint": text}))
    atomic_write(directory / "checkpoint.json", (json.dumps(json.loads(text), indent=2) + "\n").encode())


def read_checkpoint(directory: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The tensors and JSON of `write_checkpoint`.

    Raises:
        ValueError: if `directory` holds no readable lstmlab checkpoint.
    """
    path = directory / CHECKPOINT_FILE
    if not path.is_file():
        target = RunDirectory.of(directory).target
        found = "a finished run" if (target / "model.safetensors").is_file() else "no checkpoint"
        raise ValueError(f"Expected an interrupted run to resume ({directory} holding a checkpoint). Received: {found}")
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
        meta = json.loads(metadata["lstmlab-checkpoint"])
        tensors = load_file(str(path))
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"Expected an lstmlab checkpoint at {path}. Received: unreadable ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"Expected checkpoint format {CHECKPOINT_FORMAT!r} in {path}. Received: another")
    return tensors, meta


@contextlib.contextmanager
def interruptible() -> Iterator[Callable[[], bool]]:
    """Yield `stop()`, True once Ctrl-C (SIGINT) was pressed or SIGTERM received: training stops after the current
    update. A second one interrupts at once (KeyboardInterrupt). Outside the main thread, `stop()` is always
    False."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield pressed.is_set
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
