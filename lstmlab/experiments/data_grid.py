"""The grid sections of a comparison on the user's data: every model at every point, each model's point chosen on
its splits' validation parts (never the test set), grid.csv and grid.png.

`data_compare.write_data_report` calls `grid_sections` where runs.json has a grid; the main table and the "which
model, when" paragraph then show each model at its chosen point beside the baselines.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .grid import point_label
from .plots import plot_grid
from .report import mean_ci
from .runs import write_history

if TYPE_CHECKING:
    from .data_compare import Entry

__all__ = ["chosen_cells", "grid_sections"]


def _mean(values: np.ndarray | None) -> float:
    return float("nan") if values is None else float(np.mean(values))


def chosen_cells(entries: list[Entry], runs: dict[str, Any]) -> dict[str, Entry]:
    """Each model's cell with the best mean validation accuracy over the splits (ties: the lower mean validation
    loss, then the first point).

    Raises:
        ValueError: a cell without validation figures (a results.csv written without a grid).
    """
    by_label = {e.label: e for e in entries}
    chosen = {}
    for model in runs["grid"]["models"]:
        mine = [by_label[c["label"]] for c in runs["grid"]["cells"] if c["model"] == model]
        missing = [e.label for e in mine if e.validation_accuracy is None or e.validation_loss is None]
        if missing:
            raise ValueError(f"Expected validation figures for every grid cell. Received: none for {missing[0]}")
        chosen[model] = min(mine, key=lambda e: (-_mean(e.validation_accuracy), _mean(e.validation_loss)))
    return chosen


def _validation(entry: Entry) -> np.ndarray:
    assert entry.validation_accuracy is not None  # chosen_cells checked every cell
    return entry.validation_accuracy


def _fmt(values: np.ndarray) -> str:
    mean, half = mean_ci(values)
    return f"{mean:.3f}" if np.isnan(half) else f"{mean:.3f} ± {half:.3f}"


def _points(cells: list[dict[str, Any]]) -> tuple[list[str], dict[tuple[str, str], str]]:
    """The grid's points as text, in grid order, and each (model, point)'s cell label."""
    points = list(dict.fromkeys(point_label(c["point"]) for c in cells))
    return points, {(c["model"], point_label(c["point"])): c["label"] for c in cells}


def _matrix(cells: list[dict[str, Any]], by_label: dict[str, Entry], models: list[str], metric: str) -> list[str]:
    """Each model's test score (columns) at each point (rows); the leader of each row in bold."""
    points, label = _points(cells)
    lines = ["| point | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for point in points:
        scores = {m: by_label[label[m, point]].score(metric) for m in models}
        top = max(models, key=lambda m: float(scores[m].mean()))
        texts = [f"**{_fmt(scores[m])}**" if m == top else _fmt(scores[m]) for m in models]
        lines.append(f"| {point} | " + " | ".join(texts) + " |")
    return lines


def _leaders(cells: list[dict[str, Any]], by_label: dict[str, Entry], models: list[str], metric: str) -> list[str]:
    """A sentence on whether the leader on the test splits changes with the point."""
    points, label = _points(cells)
    leading = [max(models, key=lambda m: float(by_label[label[m, p]].score(metric).mean())) for p in points]
    if len(models) < 2:
        return []
    if len(set(leading)) == 1:
        return [f"- {leading[0]} leads at every point of the grid."]
    where = "; ".join(
        f"{m} at {', '.join(p for p, lead in zip(points, leading, strict=True) if lead == m)}"
        for m in dict.fromkeys(leading)
    )
    return [
        f"- The leader changes with the settings ({where}): a comparison at one setting can mislead; the table above "
        "compares each model at its own point chosen on validation."
    ]


def _cell_table(mine: list[Entry], chosen: Entry, points: list[str], metric: str) -> list[str]:
    name = "macro-F1" if metric == "macro_f1" else "accuracy"
    lines = [f"| point | validation accuracy | validation loss | test {name} | training s (median) |", "|---" * 5 + "|"]
    for entry, point in zip(mine, points, strict=True):
        assert entry.validation_accuracy is not None
        assert entry.validation_loss is not None
        mark = " (chosen)" if entry is chosen else ""
        lines.append(
            f"| {point}{mark} | {_fmt(entry.validation_accuracy)} | {_fmt(entry.validation_loss)} | "
            f"{_fmt(entry.score(metric))} | {float(np.median(entry.train_seconds)):.2f} |"
        )
    return lines


def _rows(cells: list[dict[str, Any]], by_label: dict[str, Entry], chosen: dict[str, Entry]) -> list[dict[str, Any]]:
    rows = []
    for c in cells:
        e = by_label[c["label"]]
        accuracy, accuracy_ci = mean_ci(e.accuracy)
        rows.append(
            {
                "model": c["model"],
                **c["point"],
                "validation_accuracy": _mean(e.validation_accuracy),
                "validation_loss": _mean(e.validation_loss),
                "accuracy": accuracy,
                "accuracy_ci95": accuracy_ci,
                "macro_f1": float(e.macro_f1.mean()),
                "train_seconds": float(np.median(e.train_seconds)),
                "chosen": int(chosen[c["model"]] is e),
            }
        )
    return rows


def grid_sections(
    directory: Path, runs: dict[str, Any], entries: list[Entry], metric: str
) -> tuple[list[Entry], str, list[str]]:
    """The entries the main table shows (each model at its chosen point, then the baselines), a sentence on how the
    grid ran, and the report's grid sections; writes grid.csv and grid.png (one or two axes) in `directory`."""
    grid = runs["grid"]
    models, cells = list(grid["models"]), list(grid["cells"])
    by_label = {e.label: e for e in entries}
    chosen = chosen_cells(entries, runs)
    shown = [dataclasses.replace(chosen[m], name=f"{chosen[m].label} (chosen on validation)") for m in models]
    shown += [e for e in entries if e.baseline]
    write_history(directory / "grid.csv", _rows(cells, by_label, chosen))
    axes = [(key, list(values)) for key, values in grid["axes"]]
    drawn = plot_grid(
        directory / "grid.png",
        cells=[(c["model"], c["point"], e.accuracy, _validation(e)) for c in cells for e in [by_label[c["label"]]]],
        models=models,
        axes=axes,
        chosen={m: next(c["point"] for c in cells if c["label"] == chosen[m].label) for m in models},
        title=Path(runs["data"]["path"]).name,
    )
    values = "; ".join(f"{key} = {', '.join(map(str, vals))}" for key, vals in grid["axes"])
    points = len(cells) // len(models)
    how = (
        f"Grid: {values} ({points} points): every model at every point on every split. Each split's training part "
        f"holds out {grid['validation']:.0%} of each class (drawn by the split's seed) as validation data; every "
        "model run and every baseline trains on the rest, and each model's point is the one with the best mean "
        "validation accuracy over the splits, never chosen on the test set. The table shows each model at that "
        "point; every point is below."
    )
    lines = ["## Each model at each grid point", "", *_matrix(cells, by_label, models, metric), ""]
    lines += [*_leaders(cells, by_label, models, metric), ""]
    for m in models:
        mine = [by_label[c["label"]] for c in cells if c["model"] == m]
        labels = [point_label(c["point"]) for c in cells if c["model"] == m]
        lines += [f"### {m}", "", *_cell_table(mine, chosen[m], labels, metric), ""]
    if drawn:
        lines += ["![each model's test accuracy at each point; the chosen point marked](grid.png)", ""]
    return shown, how, lines
