"""Comparisons: CSV first, then summary, curves and a report drawn from the CSV alone; statistics by hand."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from lstmlab.cli import main
from lstmlab.compare.report import Summary, conclusions
from lstmlab.compare.request import write_report
from lstmlab.compare.significance import mean_ci, welch
from lstmlab.compare.spec import CompareSpec
from lstmlab.compare.stacked import run_comparison


def test_comparison_writes_csv_then_report_from_csv_alone(tmp_path: Path) -> None:
    runs = run_comparison(CompareSpec("directions", seeds=3, updates=40, keras_go_backwards=True), tmp_path)
    assert runs["runs"] == 12
    with (tmp_path / "results.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 12 * 40
    assert {r["model"] for r in rows} == set(runs["models"])
    write_report(tmp_path, smooth=5)
    for name in ("summary.csv", "curves.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    first = (tmp_path / "report.md").read_text()
    assert "Keras-order backward model" in first
    (tmp_path / "report.md").unlink()
    (tmp_path / "curves.png").unlink()
    assert main(["report", str(tmp_path), "--smooth", "5"]) == 0  # redrawn from the CSV files only
    assert (tmp_path / "report.md").read_text() == first
    assert (tmp_path / "curves.png").exists()


def test_mean_ci_and_welch_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    mean, half = mean_ci(values)
    assert mean == 2.5
    assert half == pytest.approx(3.182446 * math.sqrt(5 / 3) / 2, rel=1e-5)  # t(0.975, 3) * s / sqrt(n)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0])
    p, d = welch(a, b)
    t = (2.0 - 5.5) / math.sqrt(1.0 / 3 + (5 / 3) / 4)  # Welch's t by hand
    assert p < 0.05
    assert d == pytest.approx((2.0 - 5.5) / math.sqrt((1.0 + 5 / 3) / 2))
    assert t < -3


def test_conclusions_say_when_a_difference_is_not_significant() -> None:
    rng = np.random.default_rng(0)
    same = [Summary(name, rng.normal(0.3, 0.05, 10), np.zeros(10), np.zeros(10), np.zeros(10), 1) for name in "AB"]
    apart = Summary("C", rng.normal(0.1, 0.01, 10), np.zeros(10), np.zeros(10), np.zeros(10), 1)
    lines = conclusions([*same, apart])
    assert lines[0].startswith("- No significant difference between A and B")
    assert lines[1].startswith("- C ends with a lower loss than A")


def test_bad_comparison_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="Expected at least 2 seeds"):
        CompareSpec(seeds=1)
    with pytest.raises(ValueError, match="Expected a comparison in"):
        CompareSpec("colours")
    assert main(["report", str(tmp_path)]) == 2
    assert "Expected a comparison directory with results.csv and runs.json" in capsys.readouterr().err
    assert main(["compare", "merge-modes", "--keras-go-backwards", "--out", str(tmp_path / "x")]) == 2


def test_a_comparison_is_written_whole_and_never_over_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lstmlab.cli import main

    monkeypatch.chdir(tmp_path)
    quick = ["--seeds", "2", "--updates", "3"]
    assert main(["compare", "merge-modes", *quick]) == 0
    (made,) = (tmp_path / "comparisons").iterdir()  # a new dated directory
    assert made.name.endswith("_merge-modes") and (made / "report.md").exists()
    assert f"report: {Path('comparisons') / made.name / 'report.md'}" in capsys.readouterr().out
    assert main(["compare", "merge-modes", *quick, "--out", str(made)]) == 2
    assert "Expected a new or empty comparison directory" in capsys.readouterr().err
    assert main(["compare", "merge-modes", *quick, "--out", str(made), "--overwrite"]) == 0
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.safetensors").write_bytes(b"a run's weights")
    assert main(["compare", "merge-modes", *quick, "--out", "run", "--overwrite"]) == 2
    assert "Expected an lstmlab comparison to overwrite" in capsys.readouterr().err
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == b"a run's weights"
