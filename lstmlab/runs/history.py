"""A run's history drawn: `history.png`, loss and accuracy per epoch (or per window of updates online), from the
rows the pipeline also writes to `history.csv`."""

from __future__ import annotations

from pathlib import Path

from ..atomic import pyplot, save_figure

__all__ = ["plot_history"]


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
    plt = pyplot()
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
    save_figure(figure, path)
