"""report.py read directly: summary.csv from a hand-written results.csv and runs.json, counts written as integers."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from lstmlab.compare.report import Summary, load_results, summary_rows
from lstmlab.compare.request import write_report
from lstmlab.compare.spec import CompareSpec
from lstmlab.compare.stacked import run_comparison

UPDATES = 60
T_975_1 = 12.706204736174698  # Student t, 97.5 % quantile, 1 degree of freedom


def write_comparison(directory: Path) -> None:
    """Two models, two seeds, 60 updates: model A's loss is 1/u for seed 0 and 2/u for seed 1, accuracy 0.95 from
    update 11 (seed 0) and never above 0.5 (seed 1); model B constant within each seed."""
    rows = []
    for seed in range(2):
        for u in range(1, UPDATES + 1):
            a_accuracy = (0.95 if u > 10 else 0.0) if seed == 0 else 0.5
            rows.append({"model": "A", "seed": seed, "update": u, "loss": (1 + seed) / u, "accuracy": a_accuracy})
            rows.append(
                {"model": "B", "seed": seed, "update": u, "loss": 0.5 + 0.1 * seed, "accuracy": 0.25 * (1 + seed)}
            )
    with (directory / "results.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    runs = {
        "comparison": "hand-made",
        "models": ["A", "B"],
        "parameters": {"A": 1801, "B": 12},
        "test_accuracy": {"A|0": 0.9, "A|1": 0.7, "B|0": 0.5, "B|1": 0.5},
        "runs": 4,
        "training_seconds": 1.0,
        "spec": {"updates": UPDATES, "learning_rate": 0.003, "steps": 10, "test_size": 20},
    }
    (directory / "runs.json").write_text(json.dumps(runs))


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_summary_csv_writes_counts_as_integers(tmp_path: Path) -> None:
    write_comparison(tmp_path)
    write_report(tmp_path, smooth=5)
    a, b = read_rows(tmp_path / "summary.csv")
    assert (a["model"], a["seeds"], a["reached_target"], a["parameters"]) == ("A", "2", "1", "1801")
    assert (b["model"], b["seeds"], b["reached_target"], b["parameters"]) == ("B", "2", "0", "12")
    # seed 0: the mean of 20 updates first reaches 0.9 over updates 10-29 (19 * 0.95 / 20 = 0.9025; 9-28: 0.855)
    assert float(a["updates_to_target"]) == 29.0
    assert math.isnan(float(b["updates_to_target"]))
    # final = mean over the last 50 updates (11..60) of each seed, then over seeds
    per_seed = [np.mean([(1 + s) / u for u in range(11, 61)]) for s in range(2)]
    assert float(a["final_loss"]) == pytest.approx(np.mean(per_seed))
    assert float(a["final_loss_ci95"]) == pytest.approx(T_975_1 * abs(per_seed[1] - per_seed[0]) / 2)
    assert float(b["test_accuracy"]) == 0.5
    assert float(a["test_accuracy_ci95"]) == pytest.approx(T_975_1 * 0.1)  # s = 0.1414, s / sqrt(2) = 0.1
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_summary_rows_types() -> None:
    rows = summary_rows([Summary("A", np.ones(3), np.ones(3), np.ones(3), np.array([5.0, np.nan, 7.0]), 10)])
    assert [type(rows[0][k]) for k in ("seeds", "reached_target", "parameters")] == [int, int, int]
    assert (rows[0]["seeds"], rows[0]["reached_target"], rows[0]["updates_to_target"]) == (3, 2, 6.0)


def test_comparison_results_csv_writes_seeds_and_updates_as_integers(tmp_path: Path) -> None:
    run_comparison(CompareSpec("merge-modes", seeds=2, updates=3, test_size=4), tmp_path)
    rows = read_rows(tmp_path / "results.csv")
    assert {r["seed"] for r in rows} == {"0", "1"}
    assert {r["update"] for r in rows} == {"1", "2", "3"}
    losses, _, _ = load_results(tmp_path)  # the report reads them back as integers
    assert losses["Bi-LSTM (sum)"].shape == (2, 3)
