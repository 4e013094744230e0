"""Figures: the numbers behind the bands by hand (accuracy clipped to [0, 1]), and PNG files written."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstmlab.compare import plots
from lstmlab.compare.plots import mean_band, moving_average, plot_curves
from lstmlab.runs import history
from lstmlab.runs.history import plot_history

PNG = b"\x89PNG\r\n\x1a\n"
T_975_1 = 12.706204736174698  # Student t, 97.5 % quantile, 1 degree of freedom
T_975_2 = 4.302652729749464  # ... 2 degrees of freedom


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(PNG)
    assert not list(path.parent.glob(f".{path.name}*")), "no temporary file left behind"


def test_moving_average_by_hand() -> None:
    curves = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 6.0, 0.0]])
    np.testing.assert_allclose(moving_average(curves, 2), [[1.5, 2.5, 3.5], [0.0, 3.0, 3.0]])
    np.testing.assert_allclose(moving_average(curves, 3), [[2.0, 3.0], [2.0, 2.0]])
    assert moving_average(curves, 1) is curves


def test_mean_band_by_hand() -> None:
    curves = np.array([[0.2, 0.4], [0.4, 1.0], [0.6, 1.0]])  # 3 seeds, 2 points
    low, middle, high = mean_band(curves)
    # point 0: mean 0.4, s = 0.2, s / sqrt(3); point 1: mean 0.8, s = sqrt(0.12)
    half = T_975_2 * np.array([0.2, math.sqrt(0.12)]) / math.sqrt(3)
    mean = np.array([0.4, 0.8])
    np.testing.assert_allclose(middle, mean)
    np.testing.assert_allclose(low, mean - half)
    np.testing.assert_allclose(high, mean + half)


def test_accuracy_band_is_clipped_to_zero_one() -> None:
    curves = np.array([[0.9, 0.0], [1.0, 0.2]])  # 2 seeds: t(0.975, 1) makes the band wide
    low, middle, high = mean_band(curves, bounds=(0.0, 1.0))
    # unclipped: mean +- 12.706 * s / sqrt(2), s / sqrt(2) = 0.05 and 0.1
    np.testing.assert_allclose(middle, [0.95, 0.1])  # the mean itself is never moved
    np.testing.assert_allclose(low, [0.95 - T_975_1 * 0.05, 0.0])  # 0.3147, and -1.17 clipped to 0
    np.testing.assert_allclose(high, [1.0, 1.0])  # 1.585 and 1.371 clipped to 1
    unclipped_low, _, unclipped_high = mean_band(curves)
    assert unclipped_high.max() > 1 and unclipped_low.min() < 0, "without bounds the same band leaves [0, 1]"


def test_loss_band_is_a_geometric_mean_band() -> None:
    curves = np.array([[1.0], [math.exp(2.0)]])  # log values 0 and 2: mean 1, s = sqrt(2), s / sqrt(2) = 1
    low, middle, high = mean_band(curves, log=True)
    np.testing.assert_allclose(middle, [math.e])
    np.testing.assert_allclose(low, [math.exp(1 - T_975_1)])
    np.testing.assert_allclose(high, [math.exp(1 + T_975_1)])
    assert low[0] > 0


def test_one_seed_has_no_band() -> None:
    curves = np.array([[0.3, 0.5]])
    low, middle, high = mean_band(curves)  # no "degrees of freedom" warning (warnings are errors here)
    np.testing.assert_array_equal(low, middle)
    np.testing.assert_array_equal(high, middle)


def test_plot_curves_clips_accuracy_bands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    accuracies = {"a": np.clip(0.9 + 0.1 * rng.standard_normal((2, 30)), 0, 1), "b": np.full((2, 30), 1.0)}
    losses = {"a": rng.uniform(0.1, 1.0, (2, 30)), "b": rng.uniform(0.1, 1.0, (2, 30))}
    bands: list[tuple[bool, tuple[np.ndarray, ...]]] = []

    def recording(curves: np.ndarray, **options: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        result = mean_band(curves, **options)
        bands.append((options.get("log", False), result))
        return result

    monkeypatch.setattr(plots, "mean_band", recording)
    path = tmp_path / "curves.png"
    groups = [{"title": None, "task": "cumsum", "models": ["a", "b"]}]
    plot_curves(path, losses, accuracies, groups=groups, title="test", smooth=5)
    assert_png(path)
    accuracy_bands = [band for logged, band in bands if not logged]
    assert len(accuracy_bands) == 2 and len(bands) == 4
    for low, _, high in accuracy_bands:
        assert low.min() >= 0 and high.max() <= 1
    assert accuracy_bands[0][2].max() == 1.0, "model a's band reaches past 1 before clipping"
    assert len(accuracy_bands[0][1]) == 30 - 5 + 1  # smoothed over 5 updates


def captured_axes(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The axes of each figure as it is saved (lines: label, x, y)."""
    saved: list[list[Any]] = []
    save = plots.save_figure  # the one writer of figures (lstmlab.atomic), as each module imported it

    def capture(figure: Any, path: Path) -> None:
        saved.append(
            [
                {
                    "ylabel": axis.get_ylabel(),
                    "lines": {
                        line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in axis.lines
                    },
                }
                for axis in figure.axes
            ]
        )
        save(figure, path)

    monkeypatch.setattr(plots, "save_figure", capture)
    monkeypatch.setattr(history, "save_figure", capture)
    return saved


def test_plot_history_training_beside_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = captured_axes(monkeypatch)
    rows = [
        {"epoch": 0.0, "loss": 0.7, "accuracy": 0.5, "val_loss": 0.69, "val_accuracy": 0.55},
        {"epoch": 1.0, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7},
        {"epoch": 2.0, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.62, "val_accuracy": 0.72},
    ]
    path = tmp_path / "out" / "history.png"
    plot_history(rows, path, title="text-bilstm-pool on uci:yelp")
    assert_png(path)
    (loss, accuracy) = saved[0]
    assert loss["ylabel"].startswith("loss") and accuracy["ylabel"] == "accuracy"
    assert loss["lines"] == {"training": ([0, 1, 2], [0.7, 0.5, 0.3]), "validation": ([0, 1, 2], [0.69, 0.6, 0.62])}
    assert accuracy["lines"] == {
        "training": ([0, 1, 2], [0.5, 0.8, 0.9]),
        "validation": ([0, 1, 2], [0.55, 0.7, 0.72]),
    }


def test_plot_history_without_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = captured_axes(monkeypatch)
    path = tmp_path / "history.png"
    plot_history([{"epoch": 0.0, "loss": 0.7, "accuracy": 0.5}], path, title="one epoch")
    assert_png(path)
    assert [set(axis["lines"]) for axis in saved[0]] == [{"training"}, {"training"}]


def test_plot_history_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^Expected at least one history row to plot in .*\. Received: none$"):
        plot_history([], tmp_path / "h.png", title="x")
    with pytest.raises(
        ValueError, match=r"^Expected epoch, loss and accuracy in history row 2\. Received: \['epoch', 'loss'\]$"
    ):
        plot_history([{"epoch": 0, "loss": 1, "accuracy": 0}, {"epoch": 1, "loss": 1}], tmp_path / "h.png", title="x")
    assert not (tmp_path / "h.png").exists()


def test_plot_splits_draws_paired_scores_and_refuses_unpaired_ones(tmp_path: Path) -> None:
    from lstmlab.compare.plots import plot_splits

    path = tmp_path / "scores.png"
    entries = [("lstm", np.array([0.8, 0.9, 0.85]), False), ("tfidf", np.array([0.82, 0.88, 0.8]), True)]
    plot_splits(entries, path, metric="accuracy", title="t")
    assert path.read_bytes().startswith(b"\x89PNG") and [p.name for p in tmp_path.iterdir()] == ["scores.png"]
    with pytest.raises(ValueError, match=r"^Expected the same splits for every entry\. Received: \[2, 3\] splits$"):
        plot_splits(
            [*entries, ("short", np.array([0.5, 0.6]), False)], tmp_path / "other.png", metric="accuracy", title="t"
        )
    assert not (tmp_path / "other.png").exists()
