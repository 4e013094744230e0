"""`compare models --data`: models and baselines on the same splits of the user's data, and what the report says."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lstmlab.cli import main
from lstmlab.compare import on_data
from lstmlab.compare.data_report import imbalanced, write_data_report
from lstmlab.compare.on_data import kfold_splits, macro_f1
from lstmlab.data.datasets import stratified_split

FAST = ["--epochs", "1", "--ensemble", "1", "--workers", "1"]


def _texts(path: Path, count: int = 60, *, share: float = 0.5) -> tuple[list[str], list[str]]:
    """A CSV of texts whose class one word decides ('good' or 'bad'), among filler words; `share` positive."""
    rng = random.Random(0)
    filler = ["the", "film", "was", "a", "plot", "and", "acting", "really", "quite", "story"]
    texts, labels = [], []
    for i in range(count):
        label = "pos" if i < share * count else "neg"
        words = [*rng.sample(filler, 4), "good" if label == "pos" else "bad"]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(label)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return texts, labels


def _series(path: Path, count: int = 24) -> tuple[list[np.ndarray], list[str]]:
    """An .npz of one-channel series of varying lengths whose level decides the class."""
    rng = np.random.default_rng(0)
    labels = ["low" if i % 2 else "high" for i in range(count)]
    lengths = rng.integers(12, 20, count)
    x = np.zeros((count, 20, 1))
    for i, (label, n) in enumerate(zip(labels, lengths, strict=True)):
        x[i, :n, 0] = (2.0 if label == "high" else -2.0) + rng.normal(0, 0.3, n)
    np.savez(path, x=x, y=np.array(labels), lengths=lengths)
    return [x[i, :n] for i, n in enumerate(lengths)], labels


def _digest(inputs: list[Any], labels: list[str]) -> str:
    """The examples scored, in order, hashed apart from the library's own digest."""
    digest = hashlib.sha256()
    for value, label in zip(inputs, labels, strict=True):
        raw = value.encode() if isinstance(value, str) else np.asarray(value, dtype=np.float64).tobytes()
        digest.update(hashlib.sha256(raw).digest() + hashlib.sha256(label.encode()).digest())
    return digest.hexdigest()


def _runs(out: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((out / "runs.json").read_text())
    return result


def test_every_model_and_baseline_scores_the_same_split(tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    texts, labels = _texts(data)
    out = tmp_path / "cmp"
    argv = ["compare", "models", "text-lstm", "text-lstm:units=8", "--data", str(data), "--seeds", "2"]
    assert main([*argv, *FAST, "--out", str(out)]) == 0
    runs = _runs(out)
    entries = ["text-lstm", "text-lstm:units=8", "tfidf-logreg"]
    assert sorted(runs["models"]) == entries[:2] and list(runs["baselines"]) == ["tfidf-logreg"]
    for split in runs["splits"]["list"]:
        s = split["number"]
        _, expected = stratified_split(labels, 0.1, s)  # split s is drawn by seed s, as `train --seed s` draws it
        assert split["test"] == expected
        scored = {runs["runs"][f"{name}|{s}"]["scored"] for name in entries}
        assert scored == {
            _digest([texts[i] for i in expected], [labels[i] for i in expected])
        }  # what each model and baseline scored
        assert {runs["runs"][f"{name}|{s}"]["split_digest"] for name in entries} == {split["digest"]}
    assert runs["splits"]["list"][0]["test"] != runs["splits"]["list"][1]["test"]
    with (out / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(r["model"], r["split"]) for r in rows} == {(m, str(s)) for m in entries for s in (0, 1)}
    assert all(r["test_count"] == "6" for r in rows)
    baseline = [float(r["accuracy"]) for r in rows if r["model"] == "tfidf-logreg"]
    assert baseline == [1.0, 1.0]  # one word decides
    report = (out / "report.md").read_text()
    assert "baseline: TF-IDF (words and word pairs) + logistic regression" in report
    assert "A baseline is as good; use it" in report


def test_folds_test_every_series_once_and_baselines_join(tmp_path: Path) -> None:
    data = tmp_path / "levels.npz"
    values, labels = _series(data)
    out = tmp_path / "cmp"
    argv = ["compare", "models", "series-bilstm", "series-bilstm:units=4", "--data", str(data), "--folds", "3"]
    assert main([*argv, *FAST, "--out", str(out)]) == 0
    runs = _runs(out)
    tests = [split["test"] for split in runs["splits"]["list"]]
    assert sorted(i for test in tests for i in test) == list(range(len(labels)))
    for s, test in enumerate(tests):
        for name in ["series-bilstm", "series-bilstm:units=4", "minirocket", "summary-logreg"]:
            assert runs["runs"][f"{name}|{s}"]["scored"] == _digest(
                [values[i] for i in test], [labels[i] for i in test]
            )
    assert "stratified 3-fold" in (out / "report.md").read_text()


def test_kfold_is_stratified_and_covers_each_example_once() -> None:
    labels = ["a"] * 7 + ["b"] * 5 + ["c"] * 3
    parts = kfold_splits(labels, 3, seed=1)
    assert sorted(i for _, test in parts for i in test) == list(range(15))
    for train, test in parts:
        assert sorted(train + test) == list(range(15))
        assert sorted(labels[i] for i in test).count("c") == 1  # 3 of c over 3 folds
        assert sorted(labels[i] for i in test).count("b") in (1, 2)
    assert kfold_splits(labels, 3, seed=1) == parts and kfold_splits(labels, 3, seed=2) != parts
    with pytest.raises(ValueError, match=r"Expected --folds at most the smallest class's count \(3 of 'c'\)"):
        kfold_splits(labels, 4)


def test_a_given_test_set_stays_and_seeds_vary_the_start(tmp_path: Path) -> None:
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _texts(train, 40)
    test_texts, test_labels = _texts(test, 10)
    out = tmp_path / "cmp"
    argv = ["compare", "models", "text-lstm", "text-bilstm-pool", "--data", str(train), "--test-data", str(test)]
    assert main([*argv, "--seeds", "2", "--no-baselines", *FAST, "--out", str(out)]) == 0
    runs = _runs(out)
    assert runs["baselines"] == {} and runs["splits"]["given"]
    assert [s["test"] for s in runs["splits"]["list"]] == [list(range(10))] * 2
    assert {r["scored"] for r in runs["runs"].values()} == {_digest(test_texts, test_labels)}


def test_macro_f1_by_hand() -> None:
    assert macro_f1([[3, 1], [0, 2]]) == pytest.approx((6 / 7 + 4 / 5) / 2)
    assert macro_f1([[2, 0, 0], [0, 0, 0], [1, 0, 1]]) == pytest.approx((0.8 + 2 / 3) / 2)  # class 1: absent


def _write_results(directory: Path, figures: dict[str, list[float]], classes: dict[str, int]) -> None:
    """A comparison's results.csv and runs.json by hand: accuracy per split; macro-F1 one below it."""
    directory.mkdir()
    with (directory / "results.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["model", "kind", "split", "seed", "accuracy", "macro_f1", "train_seconds", "latency_ms"])
        for name, values in figures.items():
            for s, value in enumerate(values):
                kind = "baseline" if name == "tfidf-logreg" else "model"
                writer.writerow([name, kind, s, s, value, value - 0.1, 10.0 if kind == "model" else 1.0, 0.5])
    runs = {
        "kind": "data",
        "data": {"path": "x.csv", "kind": "text", "examples": sum(classes.values()), "classes": classes},
        "splits": {"how": "5 repeated stratified splits"},
        "models": [m for m in figures if m != "tfidf-logreg"],
        "baselines": {"tfidf-logreg": "TF-IDF + logistic regression"},
        "training": {
            m: {"epochs": 1, "batch_size": 32, "learning_rate": 1e-3, "schedule": "cosine", "validation_split": 0}
            | {"ensemble": 1}
            for m in figures
            if m != "tfidf-logreg"
        },
        "spec": {"splits": 5, "workers": 1, "folds": None},
        "training_seconds": 1.0,
    }
    (directory / "runs.json").write_text(json.dumps(runs))


def test_report_says_use_the_baseline_when_it_is_as_good(tmp_path: Path) -> None:
    level = {
        "lstm": [0.80, 0.82, 0.79, 0.81, 0.83],
        "bilstm": [0.70, 0.71, 0.69, 0.72, 0.70],
        "tfidf-logreg": [0.81, 0.80, 0.80, 0.82, 0.81],  # paired differences 0.01 -0.02 0.01 ... : p well above 0.05
    }
    _write_results(tmp_path / "level", level, {"0": 50, "1": 50})
    report = write_data_report(tmp_path / "level")
    text = report.path.read_text()
    assert (tmp_path / "level" / "scores.png").read_bytes().startswith(b"\x89PNG") and "](scores.png)" in text
    assert "A baseline is as good; use it: baseline: TF-IDF + logistic regression (0.808" in report.summary
    assert "| bilstm | 0.704 ± 0.014 | -0.106, p = " in text  # against the best: lstm, paired t-test
    assert "macro-F1" not in text and "accuracy alone" in text  # balanced classes
    ahead = {**level, "tfidf-logreg": [0.70, 0.72, 0.69, 0.71, 0.72]}
    _write_results(tmp_path / "ahead", ahead, {"0": 50, "1": 50})
    summary = write_data_report(tmp_path / "ahead").summary
    assert "lstm beats every baseline" in summary and "use it" not in summary
    above = {**level, "tfidf-logreg": [0.90, 0.93, 0.91, 0.92, 0.94]}  # every model significantly below it
    _write_results(tmp_path / "above", above, {"0": 50, "1": 50})
    assert "A baseline is better; use it: baseline: TF-IDF" in write_data_report(tmp_path / "above").summary


def test_imbalanced_classes_rank_by_macro_f1(tmp_path: Path) -> None:
    figures = {"lstm": [0.8, 0.82, 0.81, 0.8, 0.83], "gru": [0.9, 0.9, 0.91, 0.9, 0.9], "tfidf-logreg": [0.5] * 5}
    _write_results(tmp_path / "imb", figures, {"0": 80, "1": 20})
    text = write_data_report(tmp_path / "imb").path.read_text()
    assert "the classes are imbalanced (the largest has more than 1.5 times" in text
    assert "| model | accuracy | macro-F1 | vs gru (paired t) |" in text
    assert "Best macro_f1: gru" in text
    assert imbalanced({"a": 3, "b": 2}) is False and imbalanced({"a": 4, "b": 2}) is True


def test_refusals_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = tmp_path / "t.csv"
    _texts(texts, 20)
    series = tmp_path / "s.npz"
    _series(series, 12)
    base = ["compare", "models"]
    cases = [
        ([*base, "text-lstm", "series-bilstm", "--data", str(texts)], "Expected a model that reads token ids"),
        ([*base, "series-bilstm", "text-lstm", "--data", str(series)], "Expected a model that reads series"),
        (
            [*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--folds", "1"],
            "Expected --folds of at least 2",
        ),
        ([*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--folds", "11"], "Expected --folds at most"),
        (
            [*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--grid", "updates=10,20"],
            "Expected training keys in ['learning_rate', 'batch_size', 'epochs'] with --data. Received: updates",
        ),
        (
            [*base, "text-lstm", "--data", str(texts), "--grid", "learning_rate=1e-3"],
            "Expected at least two models to compare",
        ),
        (
            [*base, "text-lstm", "text-lstm:units=4", "--data", str(texts), "--grid", "units=4,8"],
            "Expected grid keys the models do not set themselves. Received: units, set by text-lstm:units=4",
        ),
        ([*base, "text-lstm", "text-bilstm-pool", "--folds", "3"], "with --data only"),
        (
            [*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--updates", "3"],
            "Expected updates or epochs",
        ),
        ([*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--seeds", "2", "--folds", "2"], "not both"),
        ([*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), "--split-seed", "3"], "no --split-seed"),
        (["compare", "directions", "--data", str(texts)], "Expected --data with `compare models`"),
    ]
    for argv, message in cases:
        out = tmp_path / f"out{len(argv)}"
        assert main([*argv, *FAST, "--out", str(out)]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("lstmlab: error: ") and message in err, (argv, err)
        assert err.count("\n") == 1
        assert not out.exists()
    monkeypatch.setattr(on_data.importlib.util, "find_spec", lambda name: None)
    assert (
        main([*base, "text-lstm", "text-bilstm-pool", "--data", str(texts), *FAST, "--out", str(tmp_path / "x")]) == 2
    )
    err = capsys.readouterr().err
    assert (
        "Expected scikit-learn for the baseline 'tfidf-logreg'. Received: not installed; pip install -e \".[baselines]\""
        in err
    )


def test_a_difference_the_same_on_every_split_has_no_p_value_printed() -> None:
    from lstmlab.compare.data_report import paired_text
    from lstmlab.compare.significance import paired

    better, worse = np.array([0.8, 0.9, 0.85]), np.array([0.7, 0.8, 0.75])
    assert paired_text(better, worse) == "the same difference on every split"
    assert paired(better, worse) == 0.0  # a consistent difference separates them
    assert paired_text(better, better) == "p = 1"
    assert paired_text(better, np.array([0.8, 0.85, 0.86])) == "p = 0.55"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_a_grid_on_data_trains_every_model_at_every_point_and_chooses_on_validation(tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    texts, labels = _texts(data, 80)
    out = tmp_path / "cmp"
    argv = ["compare", "models", "text-lstm", "text-bilstm-pool", "--data", str(data), "--seeds", "2"]
    grid = ["--grid", "learning_rate=1e-3,3e-2", "--grid", "units=4,8"]
    assert main([*argv, *grid, *FAST, "--out", str(out)]) == 0
    runs = _runs(out)
    cells = [
        f"{m} @ learning_rate={r}, units={u}"
        for m in ("text-lstm", "text-bilstm-pool")
        for r in ("0.001", "0.03")
        for u in (4, 8)
    ]
    assert runs["models"] == cells
    for split in runs["splits"]["list"]:
        s = split["number"]
        outer_train, outer_test = stratified_split(labels, 0.1, s)
        assert split["test"] == outer_test
        inner, held = stratified_split([labels[i] for i in outer_train], on_data.GRID_VALIDATION, s)
        assert split["validation"] == [outer_train[i] for i in held]  # 20 % of each class of the training part
        assert split["train_size"] == len(inner) == len(outer_train) - len(held)
        assert not set(split["validation"]) & set(outer_test)
        expected = _digest([texts[i] for i in outer_test], [labels[i] for i in outer_test])
        assert {runs["runs"][f"{name}|{s}"]["scored"] for name in [*cells, "tfidf-logreg"]} == {expected}
    rows = _rows(out / "results.csv")
    assert len(rows) == 2 * (len(cells) + 1)
    learning_rates = {json.dumps(runs["training"][c]["learning_rate"]) for c in cells}
    assert learning_rates == {"0.001", "0.03"}
    # the chosen point of each model: the best mean validation accuracy, computed here from results.csv
    grid_rows = _rows(out / "grid.csv")
    for model in ("text-lstm", "text-bilstm-pool"):
        mine = [c for c in cells if c.startswith(f"{model} @")]
        score = {
            c: (
                -np.mean([float(r["validation_accuracy"]) for r in rows if r["model"] == c]),
                np.mean([float(r["validation_loss"]) for r in rows if r["model"] == c]),
            )
            for c in mine
        }
        expected_cell = min(mine, key=lambda c: score[c])
        chosen = [r for r in grid_rows if r["model"] == model and r["chosen"] == "1"]
        assert len(chosen) == 1
        assert (
            expected_cell
            == f"{model} @ learning_rate={float(chosen[0]['learning_rate']):g}, units={chosen[0]['units']}"
        )
        assert f"| {expected_cell} (chosen on validation) |" in (out / "report.md").read_text()
    report = (out / "report.md").read_text()
    assert "## Each model at each grid point" in report and "never chosen on the test set" in report
    assert (out / "grid.png").stat().st_size > 0 and (out / "scores.png").stat().st_size > 0


def test_a_grid_on_a_given_split_holds_validation_out_of_its_training_file(tmp_path: Path) -> None:
    train, test = tmp_path / "train.npz", tmp_path / "test.npz"
    _series(train, 20)
    test_values, test_labels = _series(test, 8)
    out = tmp_path / "cmp"
    argv = ["compare", "models", "series-bilstm", "--data", str(train), "--test-data", str(test), "--seeds", "2"]
    assert main([*argv, "--grid", "units=2,4", "--no-baselines", *FAST, "--out", str(out)]) == 0
    runs = _runs(out)
    expected = _digest(test_values, test_labels)
    for split in runs["splits"]["list"]:
        assert split["test"] == list(range(8))
        held = split["validation"]  # indices into the training file's series (as the loaders order them)
        assert len(held) == len(set(held)) == 4 and set(held) <= set(range(20))
        assert split["train_size"] == 16
        assert {runs["runs"][f"{c}|{split['number']}"]["scored"] for c in runs["models"]} == {expected}
    assert runs["splits"]["list"][0]["validation"] != runs["splits"]["list"][1]["validation"]  # drawn by the seed


def test_the_point_is_chosen_on_validation_not_on_test() -> None:
    from lstmlab.compare.data_report import Entry, chosen_cells

    def entry(label: str, test: float, validation: float, loss: float) -> Entry:
        a = np.array([test, test])
        return Entry(label, label, False, a, a, a, a, np.array([validation] * 2), np.array([loss] * 2))

    entries = [entry("m @ x=1", 0.9, 0.6, 0.5), entry("m @ x=2", 0.7, 0.8, 0.5), entry("m @ x=3", 0.6, 0.8, 0.4)]
    runs = {"grid": {"models": ["m"], "cells": [{"label": e.label, "model": "m", "point": {}} for e in entries]}}
    assert chosen_cells(entries, runs)["m"].label == "m @ x=3"  # best validation accuracy, then the lower loss
    with pytest.raises(ValueError, match="Expected validation figures for every grid cell"):
        chosen_cells([*entries[:2], Entry("m @ x=3", "m", False, *[np.zeros(2)] * 4)], runs)


def test_a_grid_needs_a_class_to_hold_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "four.csv"
    _texts(data, 4)  # one training text of each class once the test part is out: nothing to validate on
    out = tmp_path / "cmp"
    argv = ["compare", "models", "text-lstm", "text-bilstm-pool", "--data", str(data), "--no-baselines"]
    assert main([*argv, "--grid", "learning_rate=1e-3,1e-2", *FAST, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Expected a class with at least two training examples" in err
    assert not out.exists() and not list(tmp_path.glob("cmp*"))
