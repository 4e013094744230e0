"""`lstmlab compare`: a request to its comparison (the tutorial's models stacked, any presets run by run, or
models and baselines on the user's data), then its report; `write_report` redraws either kind of report from its
files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data import DataSpec
from ..runs import RunDirectory, TrainChoices, dated_name
from ..training import joined
from .baselines import baselines_for
from .data_report import write_data_report
from .grid import parse_grid
from .on_data import DataCompareSpec, run_data_comparison
from .report import Report, write_task_report
from .spec import (
    COMPARISONS,
    DATA_GRID_TRAINING,
    GRID_OPTIONS,
    GRID_TRAINING,
    KINDS,
    SMOOTH,
    TASK_GRID_TRAINING,
    CompareSpec,
    Grid,
)
from .stacked import run_comparison, variants
from .sweep import ARCHETYPES, Group, SweepSpec, parse_model, run_sweep

__all__ = ["CompareRequest", "compare", "runs_of", "write_report"]


@dataclass(frozen=True)
class CompareRequest:
    """What a user asks to compare; None leaves a setting to the comparison's default."""

    kind: str  # a name from KINDS
    models: tuple[str, ...] = ()  # with "models": PRESET or PRESET:KEY=VALUE,...
    task: str | None = None  # with "models" (default: cumsum)
    task_options: dict[str, Any] = field(default_factory=dict)
    seeds: int | None = None
    updates: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None  # models, archetypes
    workers: int | None = None  # models, archetypes
    steps: int = CompareSpec.steps  # directions, merge-modes
    keras_go_backwards: bool = False  # directions
    grid: tuple[str, ...] = ()  # KEY=V1,V2,... each: every model at every point of their product
    data: DataSpec | None = None  # with "models": the user's data instead of a task (`on_data`)
    folds: int | None = None  # with data: stratified k-fold instead of repeated splits
    baselines: bool = True  # with data: the classical baselines of its kind beside the models
    epochs: int | None = None  # with data
    ensemble: int | None = None  # with data

    def data_spec(self) -> DataCompareSpec:
        """The comparison on the user's data this request asks for.

        Raises:
            ValueError: data with another comparison than models, with a task or --updates; bad --folds or grid.
        """
        assert self.data is not None
        if self.kind != "models":
            raise ValueError(f"Expected --data with `compare models`. Received: compare {self.kind}")
        if self.task or self.task_options:
            raise ValueError("Expected --data or --task, not both. Received: both")
        train = TrainChoices(
            updates=self.updates,
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            ensemble=self.ensemble,
        )
        return DataCompareSpec(
            tuple(parse_model(m) for m in self.models),
            self.data,
            seeds=self.seeds,
            folds=self.folds,
            train=train,
            baselines=self.baselines,
            workers=self.workers or 0,
            grid=self.parsed_grid(),
        )

    def parsed_grid(self) -> Grid:
        """The --grid options checked against this comparison's models and the settings it can vary.

        Raises:
            ValueError: a bad grid (`grid.parse_grid`), a grid with archetypes, or a setting given both on the grid
                and as its own option.
        """
        if not self.grid:
            return Grid()
        if self.kind == "archetypes":
            raise ValueError("Expected --grid with directions, merge-modes or models. Received: archetypes")
        if self.kind in COMPARISONS:
            stacked = CompareSpec(self.kind, keras_go_backwards=self.keras_go_backwards)
            grid = parse_grid(
                self.grid, variants(stacked), training=GRID_TRAINING, options=GRID_OPTIONS, where=self.kind
            )
        elif self.data is not None:
            models = tuple(parse_model(m) for m in self.models)
            grid = parse_grid(self.grid, models, training=DATA_GRID_TRAINING, where="--data")
        else:
            grid = parse_grid(self.grid, self.groups()[0].models, training=TASK_GRID_TRAINING, where="a task")
        for key in grid.keys:
            if getattr(self, key, None) is not None:
                raise ValueError(f"Expected {key} either on --grid or as --{key.replace('_', '-')}. Received: both")
        return grid

    def groups(self) -> tuple[Group, ...]:
        if self.kind == "archetypes":
            if self.models or self.task or self.task_options:
                raise ValueError(
                    "Expected no models, --task or --task-set with archetypes: it picks a task per model. "
                    f"Received: {' '.join(self.models) or '--task'}"
                )
            return ARCHETYPES
        if len(self.models) < 2:
            raise ValueError(f"Expected at least two models to compare. Received: {list(self.models)}")
        task = self.task or "cumsum"
        return (Group(f"task {task}", task, tuple(parse_model(m) for m in self.models), self.task_options),)


COMPARISONS_ROOT = Path("comparisons")  # where comparisons without --out go


def compare(
    request: CompareRequest,
    out: Path | None,
    *,
    smooth: int,
    overwrite: bool = False,
    advance: Callable[[int], None] | None = None,
) -> tuple[str, Report] | None:
    """Train the comparison, write its CSV files and its report in `out` (None: a new dated directory under
    `comparisons/`), as `train` writes a run: into `<out>.partial`, renamed into place when complete, never onto a
    directory holding files unless `overwrite` (and then only onto a comparison). A line on what ran, and the
    report. Under torchrun (a comparison on data) the runs are spread over the ranks; rank 0 writes and returns,
    the others return None."""
    _check(request)  # bad options, models and grids fail before anything is written
    with joined() as at:  # under torchrun: the runs of a comparison on data spread over the ranks
        if at.distributed and request.data is None:
            raise ValueError(
                f"Expected --data for a comparison over several processes (its runs are spread over them). "
                f"Received: {request.kind} on a task, under torchrun with {at.size} processes"
            )
        if not at.main:  # its share of the runs; rank 0 gathers them and writes everything
            run_data_comparison(request.data_spec(), None)
            return None
        return _compare_in(request, out, smooth=smooth, overwrite=overwrite, advance=advance)


def _compare_in(
    request: CompareRequest,
    out: Path | None,
    *,
    smooth: int,
    overwrite: bool,
    advance: Callable[[int], None] | None,
) -> tuple[str, Report]:
    directory = RunDirectory(out or dated_name(request.kind, root=COMPARISONS_ROOT), kind="comparison")
    directory.begin(overwrite=overwrite)
    try:
        line = _train(request, directory.partial, advance)
        report = write_report(directory.partial, smooth=smooth)
        directory.commit()
    except BaseException:
        directory.abandon()
        raise
    return line, Report(directory.target / report.path.name, report.summary)


def _check(request: CompareRequest) -> None:
    """Raise a ValueError for a comparison that does not exist or options it does not take."""
    if request.data is not None:
        request.data_spec()
        return
    data_only = {"--folds": request.folds, "--epochs": request.epochs, "--ensemble": request.ensemble}
    given = [flag for flag, value in data_only.items() if value is not None] + (
        [] if request.baselines else ["--no-baselines"]
    )
    if given:
        raise ValueError(f"Expected these options with --data only. Received: {given}")
    if request.kind in COMPARISONS:
        if request.models or request.task or request.task_options or request.batch_size or request.workers:
            raise ValueError(
                f"Expected no models, --task, --task-set, --batch-size or --workers with {request.kind} (the "
                "tutorial's models on its problem, one stacked computation)"
            )
    elif request.kind in ("models", "archetypes"):
        if request.keras_go_backwards:
            raise ValueError(f"Expected --keras-go-backwards with directions. Received: {request.kind}")
        request.groups()
    else:
        raise ValueError(f"Expected a comparison in {list(KINDS)}. Received: {request.kind!r}")
    request.parsed_grid()


def _train(request: CompareRequest, out: Path, advance: Callable[[int], None] | None) -> str:
    """Train a checked request (`_check`) into `out`; a line on what ran."""
    if request.data is not None:
        runs = run_data_comparison(request.data_spec(), out, advance=advance)
        baselines = len(runs["baselines"])
        return (
            f"{len(runs['runs'])} runs ({len(runs['models'])} models, "
            f"{baselines} baseline{'' if baselines == 1 else 's'}, "
            f"{runs['spec']['splits']} splits) in {runs['training_seconds']:.1f} s "
            f"({runs['spec']['workers']} at a time)"
        )
    if request.kind in COMPARISONS:
        base = CompareSpec()
        spec = CompareSpec(
            request.kind,
            seeds=request.seeds or base.seeds,
            updates=request.updates or base.updates,
            learning_rate=request.learning_rate or base.learning_rate,
            steps=request.steps,
            keras_go_backwards=request.keras_go_backwards,
            grid=request.parsed_grid(),
        )
        runs = run_comparison(spec, out)
        return f"{runs['runs']} runs trained together in {runs['training_seconds']:.1f} s"
    sweep = SweepSpec(
        request.kind,
        request.groups(),
        seeds=request.seeds or SweepSpec.seeds,
        updates=request.updates,
        batch_size=request.batch_size,
        learning_rate=request.learning_rate,
        workers=request.workers or 0,
        grid=request.parsed_grid(),
    )
    runs = run_sweep(sweep, out, advance=advance)
    return f"{runs['runs']} runs in {runs['training_seconds']:.1f} s ({runs['spec']['workers']} at a time)"


def runs_of(request: CompareRequest) -> int:
    """How many runs a models or archetypes comparison trains (for a progress bar); 0 for the stacked ones."""
    if request.kind in COMPARISONS:
        return 0
    if request.data is not None:
        spec = request.data_spec()
        baselines = len(baselines_for(spec.data.kind)) if spec.baselines else 0
        return spec.splits * (len(spec.cells()) + baselines)
    points = len(request.parsed_grid().points())
    return (request.seeds or SweepSpec.seeds) * points * sum(len(g.models) for g in request.groups())


def _is_data_comparison(directory: Path) -> bool:
    """A comparison on the user's data (`on_data`): one row per model and split, no training curves."""
    path = directory / "runs.json"
    return path.is_file() and json.loads(path.read_text()).get("kind") == "data"


def write_report(directory: Path, *, smooth: int = SMOOTH) -> Report:
    """A comparison's report from its CSV and JSON files alone: on the user's data (`data_report`), or on tasks
    (`report`: summary, curves and, with a grid, grid.csv and grid.png; `smooth` is the curves' moving average).

    Raises:
        ValueError: `directory` lacks results.csv or runs.json, or a row of results.csv is malformed.
    """
    if _is_data_comparison(directory):
        return write_data_report(directory)
    return write_task_report(directory, smooth=smooth)
