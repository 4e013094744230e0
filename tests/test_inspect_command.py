"""`lstmlab inspect RUN` (lstmlab/explain/command.py, inputs.py, cli/explain.py): trained runs of each kind inspected
from the command line; the folder holds PNG figures, the JSON of every value and one self-contained page, written
whole or not at all; bad input is one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmlab.cli import main
from lstmlab.explain import command, inspect
from lstmlab.layers import GATES
from lstmlab.runs import load_run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inspect")
    reviews = folder / "r.csv"
    rows = "".join(f"good fine film {i} really,pos\nbad awful plot {i} sadly,neg\n" for i in range(20))
    reviews.write_text("text,label\n" + rows)
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "2", "--ensemble", "1"]
    assert main(["train", "--data", str(reviews), "--out", str(folder / "text"), *small]) == 0
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 12, 30)
    x, labels = np.zeros((30, 12, 2)), []
    for i, n in enumerate(lengths):
        x[i, :n] = np.cumsum(rng.normal(1 if i % 2 else -1, 0.3, (n, 2)), axis=0)
        labels.append("up" if i % 2 else "down")
    np.savez(folder / "s.npz", x=x, y=np.array(labels), lengths=lengths)
    series = ["--model", "series-bilstm", "--set", "units=4", "--epochs", "2", "--ensemble", "2"]
    assert main(["train", "--data", str(folder / "s.npz"), *series, "--out", str(folder / "series")]) == 0
    task = ["--task", "cumsum", "--model", "tutorial-bilstm", "--updates", "3", "--out", str(folder / "cumsum")]
    assert main(["train", *task]) == 0
    return {"text": folder / "text", "series": folder / "series", "cumsum": folder / "cumsum", "npz": folder / "s.npz"}


def _written(out: Path) -> dict:
    """The folder's files checked: the JSON (returned), the page, the PNGs."""
    names = {p.name for p in out.iterdir()}
    assert {"inspection.json", "inspection.html", "gates.png", "attributions.png"} <= names
    assert not [n for n in names if n.startswith(".")]
    for name in names - {"inspection.json", "inspection.html"}:
        assert (out / name).read_bytes().startswith(PNG)
    page = (out / "inspection.html").read_text()
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched
    found = json.loads((out / "inspection.json").read_text())
    for sequence in found["sequences"]:
        n = len(sequence["tokens"])
        assert len(sequence["positions"]) == n
        for method in found["methods"]:
            assert len(sequence["attributions"][method]) == n
        for direction in found["directions"]:
            values = sequence["layers"][direction["layer"]][direction["direction"]]
            assert set(values) == set(GATES)
            assert all(np.shape(values[name]) == (n, direction["units"]) for name in GATES)
    return found


def test_a_text_run_on_texts(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    texts = ["good fine film unknownword", "bad awful plot sadly"]
    assert main(["inspect", str(runs["text"]), "--text", texts[0], "--text", texts[1], "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "completeness gap" in printed and "inspection.html" in printed
    found = _written(out)
    assert (out / "saturation.png").exists() and found["statistics"]["sequences"] == 4  # the run's test split
    first = found["sequences"][0]
    assert first["tokens"] == ["good", "fine", "film", "unknownword"]
    assert first["known"] == [True, True, True, False]
    run = load_run(runs["text"])
    _, encoder = run.data
    expected = inspect(run.model, encoder.unlabelled(texts)).sequences[0]
    assert first["probabilities"][first["prediction"]] == pytest.approx(float(expected.probabilities.max()))
    assert abs(first["completeness_gap"]) < 1e-4 * max(1.0, abs(first["score"] - first["baseline_score"]))
    assert found["view"] == {"layer": "bidirectional", "direction": "forward", "unit": 0}


def test_a_series_runs_file_by_index_and_an_ensemble_member(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["inspect", str(runs["series"]), "--series", str(runs["npz"]), "--index", "3", "--member", "1"]
    assert main([*argv, "--unit", "2", "--out", str(out), "--statistics", "0"]) == 0
    found = _written(out)
    assert found["member"] == 1 and found["statistics"] is None and not (out / "saturation.png").exists()
    (sequence,) = found["sequences"]
    raw = np.load(runs["npz"])
    n = int(raw["lengths"][3])
    assert len(sequence["tokens"]) == n and sequence["tokens"][0] == ", ".join(f"{v:.4g}" for v in raw["x"][3, 0])
    assert found["view"]["unit"] == 2


def test_a_task_run_on_a_fresh_example_and_a_step(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            ["inspect", str(runs["cumsum"]), "--seed", "4", "--step", "3", "--methods", "occlusion", "--out", str(out)]
        )
        == 0
    )
    found = _written(out)
    (sequence,) = found["sequences"]
    assert found["methods"] == ["occlusion"] and sequence["completeness_gap"] is None
    assert sequence["steps"]["target_step"] == 3 and len(sequence["steps"]["predictions"]) == 10
    run = load_run(runs["cumsum"])
    task, config = run.task
    x = task.sample(config, 1, torch.Generator().manual_seed(4)).x
    assert [float(t) for t in sequence["tokens"]] == pytest.approx(x[0, :, 0].tolist(), abs=1e-4)


def test_a_file_of_inputs_for_a_task_run(runs: dict[str, Path], tmp_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("0.1 0.9 0.3\n0.5 0.5 0.5 0.5 0.5 0.1 0.2\n")
    out = tmp_path / "out"
    assert main(["inspect", str(runs["cumsum"]), "--input", str(rows), "--out", str(out), "--statistics", "8"]) == 0
    found = _written(out)
    assert [len(s["tokens"]) for s in found["sequences"]] == [3, 7]
    assert found["statistics"]["sequences"] == 8


@pytest.mark.parametrize(
    ("kind", "argv", "message"),
    [
        ("text", ["--text", ""], "Expected text with at least one token. Received: text 1 is ''"),
        ("text", [], "Expected --text TEXT or --input FILE to inspect a text run. Received: no inputs"),
        ("text", ["--text", "good", "--unit", "99"], "Expected --unit in 0..3 (layer bidirectional). Received: 99"),
        ("text", ["--text", "good", "--layer", "lstm_9"], "Expected --layer among the model's LSTM layers"),
        ("text", ["--text", "good", "--target", "maybe"], "Expected --target among the run's classes ['neg', 'pos']"),
        ("text", ["--text", "good", "--member", "1"], "Expected a member in 0..0. Received: member=1"),
        ("text", ["--text", "good", "--methods", "saliency"], "Expected attribution methods among"),
        ("text", ["--text", "good", "--series", "x.npz"], "Expected one source of inputs to inspect"),
        ("series", ["--series", "NPZ", "--index", "30"], "Expected --index in 0..29 (30 series in"),
        ("series", ["--text", "hello"], "Expected a run trained on text for --text"),
        ("cumsum", ["--step", "10"], "Expected a step in -10..9"),
        ("text", ["--text", "good", "--step", "1"], "Expected no step for a model with one answer per sequence"),
        ("cumsum", ["--index", "1"], "Expected --index with --series FILE"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, argv: list[str], message: str
) -> None:
    argv = [str(runs["npz"]) if a == "NPZ" else a for a in argv]
    out = tmp_path / "out"
    assert main(["inspect", str(runs[kind]), *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmlab: error: ") and message in err and err.count("\n") == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_model_without_an_lstm_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lstmlab.keras.layers import Dense, Flatten, Input
    from lstmlab.keras.models import Sequential

    model = Sequential()
    for layer in (Input(shape=(5, 1)), Flatten(), Dense(1, activation="sigmoid")):
        model.add(layer)
    model.compile(loss="binary_crossentropy", optimizer="adam")
    model.save(str(tmp_path / "dense.keras"))
    assert main(["import-keras", str(tmp_path / "dense.keras"), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert 'Expected a model with an LSTM layer to inspect. Received: model "sequential" of Flatten, Dense' in err
    assert not (tmp_path / "out").exists()


def test_a_failed_write_leaves_the_folder_as_it_was(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["inspect", str(runs["text"]), "--text", "good film", "--out", str(out), "--statistics", "0"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(command, "write_figures", broken)
    assert main(["inspect", str(runs["text"]), "--text", "bad plot", "--out", str(out), "--statistics", "0"]) == 2
    assert "disk full" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no scratch folder left beside it
