"""Comparisons of any presets: ordinary runs, paired by seed, spread over processes without changing a number."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstmlab import build_model
from lstmlab.cli import main
from lstmlab.compare.report import Summary, which_model_when
from lstmlab.compare.request import write_report
from lstmlab.compare.sweep import ARCHETYPES, Group, SweepSpec, can_stream, parse_model, run_sweep, train_one
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.pipeline import train_run
from lstmlab.runs.spec import RunSpec


def curves(directory: Path) -> dict[tuple[str, int], list[float]]:
    out: dict[tuple[str, int], list[float]] = {}
    with (directory / "results.csv").open() as file:
        for row in csv.DictReader(file):
            out.setdefault((row["model"], int(row["seed"])), []).append(float(row["loss"]))
    return out


def test_one_run_equals_lstmlab_train(tmp_path: Path) -> None:
    spec = RunSpec("cumsum-whole", "qa-lstm", train=TrainChoices(updates=25), seed=4)
    measured = train_one(spec)
    result = train_run(spec, tmp_path / "run")
    assert measured["loss"] == result.history.update_loss  # the throwaway warm-up touches neither weights nor data
    assert result.scores is not None and measured["test_accuracy"] == result.scores.accuracy
    assert measured["latency_ms"] > 0
    assert measured["parameters"] == 491


def test_same_seed_same_start_and_data_across_models(tmp_path: Path) -> None:
    """qa-lstm and qa-lstm:units=10 are the same model: paired runs give the same curve; other seeds differ."""
    group = Group("t", "cumsum-whole", (parse_model("qa-lstm"), parse_model("qa-lstm:units=10")))
    run_sweep(SweepSpec("models", (group,), seeds=2, updates=15, workers=1), tmp_path)
    got = curves(tmp_path)
    assert got[("qa-lstm", 0)] == got[("qa-lstm:units=10", 0)]
    assert got[("qa-lstm", 1)] == got[("qa-lstm:units=10", 1)]
    assert got[("qa-lstm", 0)] != got[("qa-lstm", 1)]
    assert len(got[("qa-lstm", 0)]) == 15


def test_processes_change_no_number(tmp_path: Path) -> None:
    group = Group("t", "cumsum", (parse_model("tutorial-lstm"), parse_model("tutorial-bilstm:merge_mode=sum")))
    one = run_sweep(SweepSpec("models", (group,), seeds=2, updates=12, workers=1), tmp_path / "one")
    two = run_sweep(SweepSpec("models", (group,), seeds=2, updates=12, workers=2), tmp_path / "two")
    assert two["spec"]["workers"] == 2
    a, b = curves(tmp_path / "one"), curves(tmp_path / "two")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7)
    assert one["test_accuracy"] == pytest.approx(two["test_accuracy"], abs=1e-2)


def test_archetype_presets_fit_their_tasks_and_say_whether_they_stream() -> None:
    expected = {
        "qa-lstm": "yes: run with streaming()",
        "qa-timedistributed": "yes: run with streaming()",
        "qa-embedding-lstm": "yes: run with streaming()",
        "qa-embedding-bilstm": "no",
        "qa-stateful": "yes: trained one step per call",
        "tutorial-lstm": "yes: run with streaming()",
        "tutorial-bilstm": "no",
    }
    seen = {preset for group in ARCHETYPES for _, preset, _ in group.models}
    assert seen == set(expected)  # the Q&A's five, each on its task, and the tutorial's two
    for preset, answer in expected.items():
        assert can_stream(build_model(preset)).startswith(answer)
    assert can_stream(build_model("tutorial-lstm-backward")).startswith("no")


def test_archetypes_report_from_csv(tmp_path: Path) -> None:
    tiny = ARCHETYPES
    runs = run_sweep(SweepSpec("archetypes", tiny, seeds=2, updates=6, workers=1), tmp_path)
    assert runs["runs"] == 14
    first = write_report(tmp_path, smooth=3).path.read_text()
    for group in tiny:
        assert f"## {group.title}" in first
    assert "## Which model when" in first
    assert "| a label at every step, each answer needed as its value arrives |" in first
    assert "Embedding + Bi-LSTM" in first
    (tmp_path / "report.md").unlink()
    assert main(["report", str(tmp_path), "--smooth", "3"]) == 0
    assert (tmp_path / "report.md").read_text() == first


def summary(name: str, accuracy: list[float], parameters: int) -> Summary:
    values = np.array(accuracy)
    return Summary(name, 1 - values, values, values, np.full(len(values), np.nan), parameters)


def test_which_model_when_by_hand() -> None:
    best = summary("big", [0.95, 0.96, 0.97, 0.96], 1000)
    tied = summary("small", [0.94, 0.97, 0.95, 0.96], 100)  # p well above 0.05
    worse = summary("live", [0.80, 0.81, 0.79, 0.80], 50)  # far below
    runs: dict[str, Any] = {
        "latency_ms": {"big": 2.0, "small": 1.0, "live": 0.5},
        "streams": {"big": "no: reads", "small": "no: reads", "live": "yes: state carried"},
    }
    lines = which_model_when([({"title": "data", "task": "t"}, [best, tied, worse])], runs)
    assert lines[2].startswith("| data, whole sequence available | big | best mean test accuracy (0.960")
    assert "small is not separable from it" in lines[2] and "faster and smaller" in lines[2]
    assert "live" not in lines[2]
    assert lines[3].startswith("| data, each answer needed as its value arrives | live | the best that streams (state")
    assert "0.160 below big" in lines[3]
    assert len(lines) == 4


def test_bad_sweep_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["compare", "models", "qa-lstm"], "Expected at least two models"),
        (["compare", "models", "qa-lstm", "nope"], "Expected a preset"),
        (["compare", "models", "qa-lstm", "qa-lstm:units"], "Expected PRESET:KEY=VALUE"),
        (["compare", "models", "qa-lstm", "qa-lstm:colour=2"], "Expected options of"),
        (["compare", "models", "qa-lstm", "qa-timedistributed", "--task", "tokens"], "Expected a model reading"),
        (["compare", "archetypes", "--task", "tokens"], "Expected no models, --task"),
        (["compare", "directions", "qa-lstm"], "Expected no models"),
        (["compare", "models", "qa-lstm", "qa-lstm", "--task", "cumsum-whole"], "Expected each model once"),
        (["compare", "models", "qa-lstm", "qa-stateful", "--task", "cumsum-whole"], "per-sequence outputs"),
    ]
    for argv, message in cases:
        out = tmp_path / str(len(message))
        assert main([*argv, "--seeds", "2", "--updates", "3", "--out", str(out)]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("lstmlab: error: ") and message in err, (argv, err)
        assert err.count("\n") == 1
        assert not (out / "results.csv").exists()
