"""Figures drawn from plain data: a comparison's curves over seeds, its grid and its scores per split.

The numbers behind each figure come from small pure functions (`moving_average`, `mean_band`) that the tests check by
hand; the drawing itself is matplotlib on the Agg backend, written atomically as PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import pyplot, save_figure
from .significance import t_half_width

__all__ = ["grid_matrix", "mean_band", "moving_average", "plot_curves", "plot_grid"]

ACCURACY_BOUNDS = (0.0, 1.0)  # an accuracy band never leaves [0, 1], however few seeds or wide the interval


def moving_average(curves: np.ndarray, window: int) -> np.ndarray:
    """Each row's moving average over `window` points ('valid' part only: `points - window + 1` columns).

    Shapes: curves (S, P) -> (S, P - window + 1); a window of 1 (or less) returns `curves` unchanged.
    """
    if window <= 1:
        return curves
    kernel = np.ones(window) / window
    return np.array([np.convolve(c, kernel, mode="valid") for c in curves])


def mean_band(
    curves: np.ndarray, *, log: bool = False, bounds: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point, over seeds: the mean and its 95 % confidence band (Student t, `seeds - 1` degrees of freedom).

    Args:
        curves: (S, P) values, one row per seed.
        log: mean and band of log(values), returned exponentiated (a geometric mean whose band stays positive).
        bounds: clip the band (not the mean) to [low, high], e.g. (0, 1) for an accuracy.

    Returns:
        low, middle, high, each (P,); with one seed the band is the curve itself.
    """
    values = np.log(np.maximum(curves, 1e-12)) if log else curves
    middle = values.mean(axis=0)
    half = t_half_width(values, axis=0)
    low, high = middle - half, middle + half
    if log:
        low, middle, high = np.exp(low), np.exp(middle), np.exp(high)
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    return low, middle, high


def plot_curves(
    path: Path,
    losses: dict[str, np.ndarray],
    accuracies: dict[str, np.ndarray],
    *,
    groups: list[dict[str, Any]],
    title: str,
    smooth: int,
) -> None:
    """A comparison's training curves: per update, over seeds, the loss's geometric mean (log axis) and the
    accuracy's mean, each with its 95 % confidence band (accuracy clipped to [0, 1]); one row of panels per group.

    Args:
        path: the PNG to write.
        losses: per model, (seeds, updates).
        accuracies: per model, (seeds, updates).
        groups: each with "models" (names in `losses`), "title" (or None) and "task".
        title: the comparison's name.
        smooth: moving-average window in updates (1: none).
    """
    plt = pyplot()
    figure, grid = plt.subplots(len(groups), 2, figsize=(12, 4.5 * len(groups)), squeeze=False)
    for group, axes in zip(groups, grid, strict=True):
        for model in group["models"]:
            for axis, curves, logged in ((axes[0], losses[model], True), (axes[1], accuracies[model], False)):
                window = max(1, min(smooth, curves.shape[1]))
                smoothed = moving_average(curves, window)
                x = np.arange(smoothed.shape[1]) + window
                low, middle, high = mean_band(smoothed, log=logged, bounds=None if logged else ACCURACY_BOUNDS)
                (line,) = axis.plot(x, middle, label=model, linewidth=1.8)
                axis.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
        axes[0].set_yscale("log")
        axes[0].set_ylabel("loss (cross-entropy; geometric mean, log scale)")
        axes[1].set_ylabel("training accuracy")
        for axis in axes:
            axis.set_xlabel("update")
            axis.grid(alpha=0.3)
            if group["title"]:
                axis.set_title(f"{group['title']} (task {group['task']})", fontsize=10)
        axes[1].legend(loc="lower right")
    seeds = next(iter(losses.values())).shape[0]
    smoothing = f", moving average of {smooth} updates" if smooth > 1 else ""
    figure.suptitle(f"{title}: mean of {seeds} seeds with 95 % confidence band{smoothing}")
    figure.tight_layout()
    save_figure(figure, path)


GridCell = tuple[str, dict[str, Any], np.ndarray, np.ndarray]  # model, point, test and validation accuracy per seed


def grid_matrix(cells: list[GridCell], model: str, axes: list[tuple[str, list[Any]]]) -> np.ndarray:
    """A model's mean test accuracy over seeds at every point of a two-axis grid: rows the first axis's values,
    columns the second's (nan where a point is missing).

    Example:
        >>> grid_matrix([("A", {"a": 1, "b": 2}, np.array([0.8, 0.9]), np.array([0.8]))], "A", [("a", [1]), ("b", [2])])
        array([[0.85]])
    """
    (first, rows), (second, columns) = axes
    matrix = np.full((len(rows), len(columns)), np.nan)
    for name, point, test, _ in cells:
        if name == model:
            matrix[rows.index(point[first]), columns.index(point[second])] = float(np.mean(test))
    return matrix


def _interval(values: np.ndarray) -> float:
    return float(t_half_width(values))


def plot_grid(
    path: Path,
    *,
    cells: list[GridCell],
    models: list[str],
    axes: list[tuple[str, list[Any]]],
    chosen: dict[str, dict[str, Any]],
    title: str,
) -> bool:
    """A grid comparison's figure: with one axis, each model's test accuracy (mean and 95 % interval over seeds)
    and validation accuracy (dashed) against the axis's values, its chosen point ringed; with two axes, one heatmap
    of mean test accuracy per model, its chosen cell outlined. More axes: nothing is drawn.

    Args:
        path: the PNG to write.
        cells: (model, point, test accuracy per seed, validation accuracy per seed) for every model and point.
        models: the models, in order.
        axes: (key, values) of the grid.
        chosen: each model's point chosen on validation.
        title: the comparison's name.

    Returns:
        Whether a figure was written.
    """
    if len(axes) > 2:
        return False
    plt = pyplot()
    if len(axes) == 1:
        key, values = axes[0]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        positions = [float(v) for v in values] if numeric else list(range(len(values)))
        figure, axis = plt.subplots(figsize=(9, 4.5))
        for model in models:
            mine = {str(p[key]): (t, v) for m, p, t, v in cells if m == model}
            test = [mine[str(v)][0] for v in values]
            validation = [float(np.mean(mine[str(v)][1])) for v in values]
            (line,) = axis.plot(positions, [float(np.mean(t)) for t in test], marker="o", label=f"{model} (test)")
            axis.errorbar(
                positions,
                [float(np.mean(t)) for t in test],
                yerr=[_interval(t) for t in test],
                fmt="none",
                color=line.get_color(),
                capsize=3,
            )
            axis.plot(positions, validation, linestyle="--", color=line.get_color(), alpha=0.6)
            best = values.index(chosen[model][key])
            axis.plot(
                positions[best], validation[best], marker="o", markersize=12, fillstyle="none", color=line.get_color()
            )
        if numeric and min(positions) > 0 and max(positions) / min(positions) >= 10:
            axis.set_xscale("log")
        axis.set_xticks(positions, [f"{v:g}" if isinstance(v, float) else str(v) for v in values])
        axis.set_xlabel(key)
        axis.set_ylabel("accuracy (test solid with 95 % interval; validation dashed)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
        figure.suptitle(f"{title}: accuracy at each point (ring: the point chosen on validation)")
    else:
        (first, rows), (second, columns) = axes
        matrices = [grid_matrix(cells, model, axes) for model in models]
        low, high = float(np.nanmin(matrices)), float(np.nanmax(matrices))
        figure, grid = plt.subplots(1, len(models), figsize=(4 * len(models) + 1, 4), squeeze=False)
        middle = (low + high) / 2
        for number, (model, matrix, axis) in enumerate(zip(models, matrices, grid[0], strict=True)):
            image = axis.imshow(matrix, vmin=low, vmax=high, cmap="viridis", aspect="auto")
            for r in range(len(rows)):
                for c in range(len(columns)):
                    ink = "black" if matrix[r, c] > middle else "white"  # readable on viridis' light and dark ends
                    axis.text(c, r, f"{matrix[r, c]:.3f}", ha="center", va="center", fontsize=8, color=ink)
            r, c = rows.index(chosen[model][first]), columns.index(chosen[model][second])
            axis.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
            axis.set_xticks(range(len(columns)), [str(v) for v in columns])
            axis.set_yticks(range(len(rows)), [str(v) for v in rows])
            axis.set_xlabel(second)
            if number == 0:  # the panels share their rows: one label, not one over the previous panel
                axis.set_ylabel(first)
            axis.set_title(model, fontsize=10)
        figure.colorbar(image, ax=grid[0].tolist(), label="mean test accuracy")
        figure.suptitle(f"{title}: mean test accuracy (red: the point chosen on validation)")
    save_figure(figure, path)
    return True


def plot_splits(entries: list[tuple[str, np.ndarray, bool]], path: Path, *, metric: str, title: str) -> None:
    """Each model's and baseline's score on every split, the splits joined across entries (they are paired: the
    same split for every entry), with each entry's mean and 95 % interval; baselines in grey.

    Args:
        entries: (label, per-split scores in split order, whether it is a baseline), in table order.
        path: the PNG to write (beside it first, then moved: never half a picture).
        metric: the score's name for the axis ("accuracy", "macro-F1").
        title: the figure's title.

    Raises:
        ValueError: for entries with different numbers of splits.
    """
    counts = {len(scores) for _, scores, _ in entries}
    if len(counts) != 1:
        raise ValueError(f"Expected the same splits for every entry. Received: {sorted(counts)} splits")
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(max(5.0, 1.6 * len(entries) + 1), 4))
    table = np.stack([scores for _, scores, _ in entries])  # (entries, splits)
    positions = np.arange(len(entries))
    for split in range(table.shape[1]):  # one thin line per split: the pairing the paired tests use
        axis.plot(positions, table[:, split], color="0.8", linewidth=0.8, zorder=1)
    for x, (_, scores, baseline) in enumerate(entries):
        color = "0.45" if baseline else "C0"
        axis.scatter(np.full(len(scores), x), scores, s=12, color=color, zorder=2)
        axis.errorbar(x, float(scores.mean()), yerr=_interval(scores), fmt="D", color=color, capsize=6, zorder=3)
    axis.set_xticks(positions, [label for label, _, _ in entries], rotation=15, ha="right")
    axis.set_ylabel(f"test {metric} per split")
    axis.set_title(f"{title}\n(lines join a split; diamonds: mean and 95 % interval; grey: baselines)", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)
