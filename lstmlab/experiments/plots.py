"""Figures drawn from plain data: a comparison's curves over seeds, and one training run's history.

The numbers behind each figure come from small pure functions (`moving_average`, `mean_band`) that the tests check by
hand; the drawing itself is matplotlib on the Agg backend, written atomically as PNG.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["mean_band", "moving_average", "plot_curves", "plot_history"]

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
    seeds = values.shape[0]
    if seeds < 2:
        half = np.zeros_like(middle)
    else:
        half = stats.t.ppf(0.975, seeds - 1) * values.std(axis=0, ddof=1) / math.sqrt(seeds)
    low, high = middle - half, middle + half
    if log:
        low, middle, high = np.exp(low), np.exp(middle), np.exp(high)
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    return low, middle, high


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Figure, path: Path) -> None:
    """Write the PNG beside `path` first, then move it there: a crash never leaves half a picture."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary, dpi=120)
    plt.close(figure)
    temporary.replace(path)


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
    plt = _pyplot()
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
    _save(figure, path)


def plot_history(rows: list[dict[str, float]], path: Path, *, title: str) -> None:
    """One training run's history: loss (left) and accuracy (right) per epoch, validation beside training.

    Args:
        rows: one per epoch (or per window of updates, online), as `History.epochs` or `history.csv` hold them:
            "epoch", "loss", "accuracy", and optionally "val_loss", "val_accuracy".
        path: the PNG to write.
        title: above both panels, e.g. the run's model and data.

    Raises:
        ValueError: no rows, or a row without "epoch", "loss" or "accuracy".

    Example:
        >>> plot_history([{"epoch": 0.0, "loss": 0.7, "accuracy": 0.5}], Path("history.png"), title="run")
    """
    if not rows:
        raise ValueError(f"Expected at least one history row to plot in {path}. Received: none")
    for number, row in enumerate(rows, start=1):
        missing = [key for key in ("epoch", "loss", "accuracy") if key not in row]
        if missing:
            raise ValueError(f"Expected epoch, loss and accuracy in history row {number}. Received: {sorted(row)}")
    plt = _pyplot()
    epochs = [row["epoch"] for row in rows]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for axis, key, label in ((loss_axis, "loss", "loss (cross-entropy)"), (accuracy_axis, "accuracy", "accuracy")):
        axis.plot(epochs, [row[key] for row in rows], marker="o", markersize=3, label="training")
        validated = [(e, row[f"val_{key}"]) for e, row in zip(epochs, rows, strict=True) if f"val_{key}" in row]
        if validated:
            axis.plot(*zip(*validated, strict=True), marker="o", markersize=3, label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    accuracy_axis.set_ylim(-0.02, 1.02)
    figure.suptitle(title)
    figure.tight_layout()
    _save(figure, path)
