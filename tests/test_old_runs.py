"""Saved runs from before still load and predict the same through today's code: a text run written by an older
commit (its files and the predictions that commit's library gave, in `tests/fixtures/old_text_run/`, README there),
and a task run and a series run written by 23b5aee, the commit before `lstmlab/experiments/` was split
(`tests/fixtures/runs_23b5aee/`, README there)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lstmlab.data import SequenceData
from lstmlab.data.datasets import saved_test_set
from lstmlab.data.series import SeriesScaler, load_series
from lstmlab.data.text import OOV, TextEncoder
from lstmlab.runs.saved import (
    evaluate_run,
    load_run,
    predict_example,
    predict_sequences,
    predict_series,
    predict_texts,
    saved_kind,
)
from lstmlab.runs.tasks import get_task, task_config
from lstmlab.training import evaluate, predict

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "old_text_run"
RUN = FIXTURE / "run"


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    record: dict[str, Any] = json.loads((FIXTURE / "predictions.json").read_text())
    return record


def encoder_of_run() -> TextEncoder:
    _, encoder = load_run(RUN).data
    assert isinstance(encoder, TextEncoder)
    return encoder


def test_the_fixture_probes_what_it_should(recorded: dict[str, Any]) -> None:
    """Cut texts, unknown words, capitals and a one-mark text are among the recorded ones (else the tests below
    could not see a change of cutting side, vocabulary lookup or lower-casing)."""
    max_len = encoder_of_run().max_len
    tokens, ids = recorded["tokens"], recorded["ids"]
    cut = [row for row, t in enumerate(tokens) if len(t) > max_len]
    assert cut and all(tokens[row][:max_len] != tokens[row][-max_len:] for row in cut)
    assert any(OOV in row for row in ids) and ["?"] in tokens
    assert any(text != text.lower() for text in recorded["texts"])


def test_an_old_run_encodes_texts_to_the_recorded_ids(recorded: dict[str, Any]) -> None:
    encoder = encoder_of_run()
    assert [encoder.tokens(text) for text in recorded["texts"]] == recorded["tokens"]
    ids, lengths = encoder.encode(recorded["texts"])
    assert ids.tolist() == recorded["ids"]
    assert (None if lengths is None else lengths.tolist()) == recorded["lengths"]
    for refused in recorded["refused"]:
        with pytest.raises(ValueError, match="Expected text with at least one token"):
            encoder.encode([refused["text"]])


def test_an_old_run_predicts_the_recorded_probabilities(recorded: dict[str, Any]) -> None:
    run = load_run(RUN)
    encoder = encoder_of_run()
    ids, lengths = encoder.encode(recorded["texts"])
    data = SequenceData(ids, torch.zeros(len(ids), dtype=torch.long), lengths)
    expected = torch.tensor(recorded["probabilities"])
    torch.testing.assert_close(predict(run.model, data), expected, rtol=0, atol=1e-6)
    found = predict_texts(RUN, recorded["texts"])
    assert [p.label for p in found] == [label for label, _ in recorded["predictions"]]
    torch.testing.assert_close(
        torch.tensor([p.confidence for p in found]),
        torch.tensor([confidence for _, confidence in recorded["predictions"]]),
        rtol=0,
        atol=1e-6,
    )


# --- runs written by 23b5aee ------------------------------------------------------------------------------------

FIXTURE_23B5AEE = Path(__file__).resolve().parent / "fixtures" / "runs_23b5aee"
TASK_RUN, SERIES_RUN = FIXTURE_23B5AEE / "task_run", FIXTURE_23B5AEE / "series_run"
PROBES, SEQUENCES, TASK_BATCH = (FIXTURE_23B5AEE / name for name in ("probes.npz", "sequences.txt", "task_batch.npz"))
# the task run's commands recorded in predictions.json: `lstmlab COMMAND task_run OPTIONS`, run in the fixture folder
TASK_COMMANDS = [
    "predict --seed 1",
    "predict --input sequences.txt",
    "predict --input task_batch.npz",
    "evaluate",
    "evaluate --test-size 50 --seed 3",
    "evaluate --data task_batch.npz",
]


@pytest.fixture(scope="module")
def recorded_23b5aee() -> dict[str, Any]:
    record: dict[str, Any] = json.loads((FIXTURE_23B5AEE / "predictions.json").read_text())
    assert record["written_by"].startswith("lstmlab 23b5aee")
    return record


def close(found: Any, expected: Any) -> None:
    torch.testing.assert_close(torch.as_tensor(found), torch.as_tensor(expected), rtol=0, atol=1e-6)


def same_scores(found: Any, expected: dict[str, Any]) -> None:
    close(found.loss, expected["loss"])
    close(found.accuracy, expected["accuracy"])
    assert (found.count, found.confusion) == (expected["count"], expected["confusion"])


def lines_of(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """What `lstmlab ARGV` prints (the command line imported here: a broken one fails these tests, not the file)."""
    from lstmlab.cli import main

    capsys.readouterr()
    assert main(list(argv)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


@pytest.mark.parametrize(("run", "kind"), [(TASK_RUN, "task"), (SERIES_RUN, "series")], ids=["task", "series"])
def test_a_23b5aee_run_loads_as_its_kind(run: Path, kind: str, recorded_23b5aee: dict[str, Any]) -> None:
    assert sorted(path.name for path in run.iterdir()) == [
        "config.json",
        "history.csv",
        "metrics.json",
        "model.safetensors",
    ]
    saved = load_run(run)
    assert saved.kind == saved_kind(run) == kind == recorded_23b5aee[f"{kind}_run"]["kind"]
    assert saved.description == json.loads((run / "config.json").read_text())  # what loading read, as written
    assert not saved.model.training


def test_the_23b5aee_runs_record_one_absolute_path_the_tests_do_not_need(recorded_23b5aee: dict[str, Any]) -> None:
    """The old library records a series run's data file by its absolute path (where it was made); the tests below
    give the shipped copy instead. Nothing else in either run names a path of the machine that wrote it."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    found = [s for run in (TASK_RUN, SERIES_RUN) for s in strings(load_run(run).description) if Path(s).is_absolute()]
    data_path = recorded_23b5aee["series_run"]["data_path"]
    assert Path(data_path).is_absolute() and Path(data_path).name == "series.npz"
    assert found == [data_path, data_path]  # the data spec, and the run spec it came from


def test_a_23b5aee_task_run_predicts_the_recorded_probabilities(recorded_23b5aee: dict[str, Any]) -> None:
    with np.load(TASK_BATCH) as arrays:
        x, y = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    # today's task draws the examples the old one drew (predict's fresh example and evaluate's test set depend on it)
    drawn = get_task("cumsum").sample(task_config("cumsum"), 6, torch.Generator().manual_seed(7))
    assert torch.equal(drawn.x, x) and torch.equal(drawn.y, y) and drawn.lengths is None
    expected = recorded_23b5aee["task_run"]["batch_probabilities"]
    close(predict(load_run(TASK_RUN).model, SequenceData(x, y)), expected)


def test_a_23b5aee_task_run_predicts_and_scores_as_recorded(recorded_23b5aee: dict[str, Any]) -> None:
    recorded = recorded_23b5aee["task_run"]
    assert predict_example(TASK_RUN, 1) == recorded["example_seed_1"]
    assert predict_sequences(TASK_RUN, SEQUENCES) == recorded["sequences"]
    scores, where = evaluate_run(TASK_RUN)
    same_scores(scores, recorded["evaluate_scores"])
    assert where == "200 fresh examples of cumsum (the run's own test set)"


@pytest.mark.parametrize("command", TASK_COMMANDS)
def test_the_cli_on_a_23b5aee_task_run_prints_what_was_recorded(
    command: str, recorded_23b5aee: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sorted(recorded_23b5aee["task_run"]["cli"]) == sorted(TASK_COMMANDS)
    monkeypatch.chdir(FIXTURE_23B5AEE)  # the paths the commands print are the relative ones recorded
    name, *options = command.split()
    assert lines_of(capsys, name, "task_run", *options) == recorded_23b5aee["task_run"]["cli"][command]


def test_a_23b5aee_series_run_predicts_the_recorded_probabilities(recorded_23b5aee: dict[str, Any]) -> None:
    recorded = recorded_23b5aee["series_run"]
    run = load_run(SERIES_RUN)
    _, scaler = run.data
    assert isinstance(scaler, SeriesScaler)
    assert list(scaler.labels) == recorded["classes"] == ["fall", "flat", "rise"]
    probes = load_series(str(PROBES), labelled=False)
    assert [len(v) for v in probes.values] == [1, 3, 8, 12, 15, 20]  # shorter and longer than the training series
    data = scaler.unlabelled(probes.values, probes.source)
    assert data.lengths is not None
    for row, (found, expected) in enumerate(zip(data.x, recorded["scaled_probes"], strict=True)):
        close(found[: int(data.lengths[row])], expected)
    close(predict(run.model, data), recorded["probabilities"])
    predictions = predict_series(SERIES_RUN, str(PROBES))
    assert [(p.label, label) for p, label in predictions] == [(p[0], p[2]) for p in recorded["predictions"]]
    close([p.confidence for p, _ in predictions], [p[1] for p in recorded["predictions"]])


def test_the_cli_predicts_a_23b5aee_series_run_as_recorded(
    recorded_23b5aee: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURE_23B5AEE)
    expected = recorded_23b5aee["series_run"]["cli"]["predict --series-file probes.npz"]
    assert lines_of(capsys, "predict", "series_run", "--series-file", "probes.npz") == expected


def test_a_23b5aee_series_run_scores_its_test_split_as_recorded(recorded_23b5aee: dict[str, Any]) -> None:
    """The saved data spec rebuilds the same stratified test split (from the shipped copy of the data file, not the
    absolute path the run records) and the run scores it as the old library did."""
    run = load_run(SERIES_RUN)
    spec, scaler = run.data
    assert spec.path == recorded_23b5aee["series_run"]["data_path"]
    test_set = saved_test_set(dataclasses.replace(spec, path=str(FIXTURE_23B5AEE / "series.npz")), scaler)
    assert isinstance(test_set, SequenceData)
    scores = evaluate(run.model, test_set, labels=scaler.labels)
    same_scores(scores, recorded_23b5aee["series_run"]["test_split_scores"])
