"""Grids in comparisons: every model at every point, the same seeds and data at each, the best point chosen on
validation figures (never the test set), test accuracy reported there; each cell checked against an ordinary run."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstmlab import build_model
from lstmlab.cli import main
from lstmlab.compare.grid import parse_grid
from lstmlab.compare.plots import grid_matrix
from lstmlab.compare.report import Cell, Summary, best_point, leaders, matched_tuning
from lstmlab.compare.request import write_report
from lstmlab.compare.spec import CompareSpec, Grid
from lstmlab.compare.stacked import run_comparison, variants
from lstmlab.compare.sweep import Group, SweepSpec, parse_model, run_sweep, train_one
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.spec import RunSpec

DIRECTIONS = variants(CompareSpec("directions"))
T_975_1 = 12.706204736174698  # Student t, 97.5 % quantile, 1 degree of freedom


def curves(directory: Path) -> dict[tuple[str, int], list[float]]:
    out: dict[tuple[str, int], list[float]] = {}
    with (directory / "results.csv").open() as file:
        for row in csv.DictReader(file):
            out.setdefault((row["model"], int(row["seed"])), []).append(float(row["loss"]))
    return out


def test_grid_points_are_the_product_parsed_by_each_preset() -> None:
    grid = parse_grid(["learning_rate=1e-3,0.01", "units=10,20,40"], DIRECTIONS)
    points = grid.points()
    assert len(points) == 6
    assert points[0] == {"learning_rate": 0.001, "units": 10} and points[-1] == {"learning_rate": 0.01, "units": 40}
    assert all(isinstance(p["units"], int) and isinstance(p["learning_rate"], float) for p in points)
    assert Grid().points() == [{}]
    bilstms = [parse_model("tutorial-bilstm"), parse_model("text-bilstm")]
    assert parse_grid(["merge_mode=sum,mul"], bilstms).points() == [{"merge_mode": "sum"}, {"merge_mode": "mul"}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["directions", "--grid", "learning_rate"], "Expected --grid KEY=VALUE,VALUE,..."),
        (["directions", "--grid", "units=4,", "--grid", "units=8"], "Expected --grid KEY=VALUE,VALUE,..."),
        (["directions", "--grid", "units=4", "--grid", "units=8"], "Expected each grid key once"),
        (["directions", "--grid", "unit=4,8"], "Received: 'unit' (did you mean 'units'?)"),
        (["directions", "--grid", "learning_rate=0,1e-3"], "Expected learning_rate as a positive number"),
        (["directions", "--grid", "units=4,four"], "Expected units as int"),
        (["directions", "--grid", "units=0,4"], "Expected units to be a positive integer"),
        (["directions", "--grid", "units=4,4"], "Expected different values on a grid axis"),
        (["directions", "--grid", "learning_rate=1e-3,0.001"], "Expected different values on a grid axis"),
        (["directions", "--grid", "merge_mode=sum,mul"], "Expected grid keys in"),
        (["directions", "--grid", "epochs=2,3"], "Expected training keys in"),
        (["directions", "--learning-rate", "1e-3", "--grid", "learning_rate=1e-3,1e-2"], "Received: both"),
        (["models", "qa-lstm", "qa-timedistributed", "--grid", "dense_units=4,8"], "not an option of qa-lstm"),
        (["models", "tutorial-lstm", "tutorial-bilstm", "--grid", "merge_mode=sum,mul"], "changes nothing in"),
        (["models", "qa-lstm", "qa-lstm:units=4", "--grid", "units=4,8"], "set by qa-lstm:units=4"),
        (["models", "qa-lstm", "qa-timedistributed", "--grid", "epochs=2,3"], "Expected training keys in"),
        (["archetypes", "--grid", "learning_rate=1e-3,1e-2"], "Expected --grid with directions"),
    ],
)
def test_bad_grids_are_refused_in_one_line_before_training(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    task = ["--task", "cumsum-whole"] if argv[0] == "models" and "tutorial-lstm" not in argv else []
    assert main(["compare", *argv, *task, "--seeds", "2", "--updates", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmlab: error: ") and message in err, err
    assert err.count("\n") == 1
    assert not out.exists() and not out.with_name("out.partial").exists()


def test_stacked_grid_cells_equal_the_comparison_run_at_that_point(tmp_path: Path) -> None:
    """Rates share one stack (one rate per model); each cell equals the plain comparison at its rate (its own
    fused Adam), and a units axis trains a stack per size, the default size's cells again equal to it."""
    grid = parse_grid(["learning_rate=1e-3,1e-2", "units=5,20"], DIRECTIONS)
    runs = run_comparison(CompareSpec("directions", seeds=2, updates=15, grid=grid), tmp_path / "grid")
    assert runs["runs"] == 3 * 4 * 2
    got = curves(tmp_path / "grid")
    for rate in (1e-3, 1e-2):
        plain = run_comparison(CompareSpec("directions", seeds=2, updates=15, learning_rate=rate), tmp_path / str(rate))
        expected = curves(tmp_path / str(rate))
        for (model, seed), losses in expected.items():
            cell = f"{model} @ learning_rate={rate:g}, units=20"
            np.testing.assert_allclose(got[(cell, seed)], losses, rtol=1e-5)
            assert runs["test_accuracy"][f"{cell}|{seed}"] == pytest.approx(plain["test_accuracy"][f"{model}|{seed}"])
    assert (
        runs["parameters"]["forward LSTM @ learning_rate=0.01, units=5"]
        == build_model("tutorial-lstm", units=5).count_params()
    )
    assert (
        got[("forward LSTM @ learning_rate=0.001, units=5", 0)]
        != got[("forward LSTM @ learning_rate=0.01, units=5", 0)]
    )
    validation = runs["validation_accuracy"]
    assert set(validation) == set(runs["test_accuracy"]) and validation != runs["test_accuracy"]


def test_sweep_grid_cells_are_ordinary_runs(tmp_path: Path) -> None:
    group = Group("t", "cumsum-whole", (parse_model("qa-lstm"), parse_model("qa-timedistributed")))
    grid = parse_grid(["learning_rate=1e-3,1e-2"], group.models)
    runs = run_sweep(SweepSpec("models", (group,), seeds=2, updates=6, workers=1, grid=grid), tmp_path)
    assert runs["runs"] == 8
    got = curves(tmp_path)
    alone = train_one(
        RunSpec("cumsum-whole", "qa-timedistributed", train=TrainChoices(updates=6, learning_rate=1e-2), seed=1)
    )
    assert got[("qa-timedistributed @ learning_rate=0.01", 1)] == alone["loss"]
    assert runs["test_accuracy"]["qa-timedistributed @ learning_rate=0.01|1"] == alone["test_accuracy"]
    assert runs["validation_accuracy"]["qa-timedistributed @ learning_rate=0.01|1"] == alone["validation_accuracy"]
    assert runs["groups"][0]["training"]["qa-lstm @ learning_rate=0.001"]["learning_rate"] == 1e-3


def cell(model: str, rate: float, validation: list[float], test: list[float], loss: float = 0.5) -> Cell:
    summary = Summary(f"{model} @ {rate}", np.full(2, loss), np.zeros(2), np.array(test), np.full(2, np.nan), 10)
    return Cell(model, {"learning_rate": rate}, summary, np.array(validation), np.full(2, loss))


def test_best_point_is_chosen_on_validation_never_on_test() -> None:
    a = cell("A", 1e-3, [0.90, 0.92], [0.70, 0.70])  # best on validation, poor on test
    b = cell("A", 1e-2, [0.80, 0.82], [0.99, 0.99])  # best on test
    assert best_point([a, b]) is a
    tie = cell("A", 3e-3, [0.90, 0.92], [0.5, 0.5], loss=0.1)  # same validation accuracy, lower validation loss
    assert best_point([a, tie, b]) is tie


def test_matched_tuning_and_leaders_by_hand() -> None:
    lstm = [cell("LSTM", 1e-3, [0.9, 0.9], [0.90, 0.92]), cell("LSTM", 1e-2, [0.95, 0.95], [0.97, 0.98])]
    bi = [cell("Bi", 1e-3, [0.96, 0.96], [0.95, 0.96]), cell("Bi", 1e-2, [0.9, 0.9], [0.94, 0.96])]
    points = [{"learning_rate": 1e-3}, {"learning_rate": 1e-2}]
    (line,) = matched_tuning([best_point(lstm), best_point(bi)])
    half = T_975_1 * math.sqrt(0.00005) / math.sqrt(2)  # sd of (0.97, 0.98) over sqrt(2), times t(0.975, 1)
    assert line.startswith(f"- At matched tuning the seeds cannot separate LSTM and Bi (0.975 ± {half:.3f} at ")
    assert "learning_rate=0.01 vs 0.955 ± " in line and "at learning_rate=0.001; Welch p = " in line
    lines = leaders([*lstm, *bi], ["LSTM", "Bi"], points)
    assert lines[0].startswith("- At learning_rate=0.001: Bi leads (0.955")
    assert lines[1].startswith("- At learning_rate=0.01: LSTM leads (0.975")
    assert lines[2].startswith("- The leader changes with the settings (Bi at learning_rate=0.001; LSTM at ")
    assert leaders([*lstm[1:], *bi[1:]], ["LSTM", "Bi"], points[1:])[-1] == "- LSTM leads at every point of the grid."


def test_grid_matrix_by_hand() -> None:
    cells: list[tuple[str, dict[str, Any], np.ndarray, np.ndarray]] = [
        ("A", {"lr": 1, "units": u}, np.array([u / 100, u / 50]), np.zeros(2)) for u in (10, 20)
    ]
    cells.append(("B", {"lr": 1, "units": 10}, np.ones(2), np.zeros(2)))
    matrix = grid_matrix(cells, "A", [("lr", [1, 2]), ("units", [10, 20])])
    np.testing.assert_allclose(matrix[0], [0.15, 0.3])
    assert np.isnan(matrix[1]).all()


def test_grid_report_from_the_command_line_and_redrawn_from_csv(tmp_path: Path) -> None:
    out = tmp_path / "lr"
    argv = ["compare", "directions", "--grid", "learning_rate=1e-3,1e-2", "--grid", "units=4,8", "--seeds", "2"]
    assert main([*argv, "--updates", "5", "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    for heading in ("## Each model at its best point", "## Conclusions", "## Test accuracy at each point"):
        assert heading in text
    assert "### Bi-LSTM (concat)" in text and "(chosen)" in text and "![grid](grid.png)" in text
    with (out / "grid.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 * 4 and sum(int(r["chosen"]) for r in rows) == 3
    runs = json.loads((out / "runs.json").read_text())
    for row in rows:  # the chosen point has the model's best mean validation accuracy
        mine = [r for r in rows if r["model"] == row["model"]]
        if row["chosen"] == "1":
            assert float(row["validation_accuracy"]) == max(float(r["validation_accuracy"]) for r in mine)
    assert runs["grid"]["axes"] == [["learning_rate", [0.001, 0.01]], ["units", [4, 8]]]
    assert (out / "grid.png").stat().st_size > 0
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").read_text() == text
    write_report(out)  # one axis: a line figure
    one = tmp_path / "one"
    assert (
        main(
            [
                "compare",
                "merge-modes",
                "--grid",
                "learning_rate=1e-3,1e-2",
                "--seeds",
                "2",
                "--updates",
                "3",
                "--out",
                str(one),
            ]
        )
        == 0
    )
    assert (one / "grid.png").stat().st_size > 0
