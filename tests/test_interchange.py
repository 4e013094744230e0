"""Runs from Keras files and back (lstmlab/interchange/keras_files.py, through the command line): models built in
Keras 3 (torch backend) with random weights, saved by Keras, imported with `lstmlab import-keras`, predict and score
as Keras does; `lstmlab export` writes a .keras file Keras loads and predicts the same with; refusals are one line,
exit 2, and leave nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import import_keras

from lstmlab.cli import main
from lstmlab.layers.core import ACTIVATIONS
from lstmlab.models import Sequential
from lstmlab.runs.files import layout_run_config, save_model
from lstmlab.runs.saved import load_run

keras = import_keras()
L = keras.layers
TOL = {"rtol": 1e-5, "atol": 1e-5}


def randomize(model: Any, seed: int) -> Any:
    """Weights large enough that each shows in the outputs."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.5, tuple(v.shape)).astype("float32") for v in model.weights])
    return model


def keras_predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


def left_padded_ids(vocab: int, steps: int, lengths: list[int], seed: int) -> np.ndarray:
    """Keras's pad_sequences default: zeros before each row's tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, (len(lengths), steps)).astype("int32")
    for row, length in enumerate(lengths):
        ids[row, : steps - length] = 0
    return ids


def binary_values() -> tuple[Any, np.ndarray, np.ndarray]:
    model = keras.Sequential([keras.Input((10, 2)), L.LSTM(6), L.Dense(1, activation="sigmoid")], name="binary")
    x = np.random.default_rng(1).random((6, 10, 2)).astype("float32")
    return randomize(model, 1), x, np.array([0, 1, 1, 0, 1, 0])


def softmax_ids() -> tuple[Any, np.ndarray, np.ndarray]:
    model = keras.Sequential(
        [
            keras.Input((12,), dtype="int32"),
            L.Embedding(50, 8, mask_zero=True),
            L.Bidirectional(L.LSTM(5), merge_mode="ave"),
            L.Dense(3, activation="softmax"),
        ],
        name="three_classes",
    )
    return randomize(model, 2), left_padded_ids(50, 12, [12, 7, 3, 1, 9], seed=2), np.array([2, 0, 1, 1, 2])


def per_step() -> tuple[Any, np.ndarray, np.ndarray]:
    model = keras.Sequential(
        [keras.Input((8, 1)), L.LSTM(4, return_sequences=True), L.TimeDistributed(L.Dense(1, activation="sigmoid"))]
    )
    x = np.random.default_rng(3).random((4, 8, 1)).astype("float32")
    return randomize(model, 3), x, (np.cumsum(x[..., 0], axis=1) > 2.0).astype("int64")


def masked_values() -> tuple[Any, np.ndarray, np.ndarray]:
    """A leading Masking over values left-padded as pad_sequences(..., dtype='float32') pads them (padding='pre')."""
    model = keras.Sequential(
        [keras.Input((9, 2)), L.Masking(-1.0), L.LSTM(5), L.Dense(3, activation="softmax")], name="masked"
    )
    x = np.random.default_rng(4).random((5, 9, 2)).astype("float32")
    for row, length in enumerate([9, 6, 2, 1, 4]):
        x[row, : 9 - length] = -1.0
    return randomize(model, 4), x, np.array([0, 2, 1, 1, 0])


CASES: dict[str, tuple[Callable[[], tuple[Any, np.ndarray, np.ndarray]], str]] = {
    "binary-values": (binary_values, "keras"),
    "masked-values": (masked_values, "keras"),  # lengths from the mask value, on the left
    "softmax-ids": (softmax_ids, "h5"),  # a Keras 2 file, left-padded ids as pad_sequences makes them
    "per-step": (per_step, "keras"),
}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def succeed(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> str:
    status, out, err = run_cli(argv, capsys)
    assert status == 0, err
    return out


def printed_probabilities(out: str) -> np.ndarray:
    """The probabilities `predict` prints for an imported model: after the tab, steps by spaces, classes by commas."""
    rows = [line.split("\t")[1] for line in out.splitlines()]
    return np.array([[[float(v) for v in step.split(",")] for step in row.split()] for row in rows])


@pytest.fixture(scope="module", params=sorted(CASES))
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Keras model saved by Keras, its inputs and labels, and the run `lstmlab import-keras` made of it."""
    build, fmt = CASES[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    model, x, y = build()
    source = folder / f"model.{fmt}"
    model.save(source)
    np.savez(folder / "x.npz", x=x)
    np.savez(folder / "xy.npz", x=x, y=y)
    assert main(["import-keras", str(source), "--out", str(folder / "run")]) == 0
    return {"model": model, "x": x, "y": y, "folder": folder, "run": folder / "run", "name": request.param}


def test_predict_on_an_imported_model_gives_keras_predictions(
    imported: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run, folder = imported["run"], imported["folder"]
    status, out, err = run_cli(["predict", run, "--input", folder / "x.npz"], capsys)
    assert status == 0, err
    expected = keras_predict(imported["model"], imported["x"])  # (N, C) or (N, T, 1)
    got = printed_probabilities(out)
    got = got if expected.ndim == 3 else got[:, 0]
    np.testing.assert_allclose(got, expected, **TOL)
    classes = [line.split("\t")[0].split() for line in out.splitlines()]
    keras_classes = expected.argmax(-1) if expected.shape[-1] > 1 else (expected[..., 0] > 0.5).astype(int)
    assert classes == [[str(c) for c in np.atleast_1d(row)] for row in keras_classes]
    description = json.loads((run / "config.json").read_text())
    assert description["kind"] == "imported" and "layout" in description["model"]
    assert description["inputs"] == ("ids" if imported["name"] == "softmax-ids" else "values")
    classes = [layer["class"] for layer in description["model"]["layout"]["layers"]]
    assert (classes[0] == "Masking") == (imported["name"] == "masked-values") and "mask_value" not in description


def test_evaluate_on_an_imported_model_scores_as_keras(
    imported: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run, folder, y = imported["run"], imported["folder"], imported["y"]
    status, out, err = run_cli(["evaluate", run, "--data", folder / "xy.npz"], capsys)
    assert status == 0, err
    p = keras_predict(imported["model"], imported["x"]).astype("float64")
    if p.shape[-1] == 1:
        p = p[..., 0]
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        accuracy = np.mean((p > 0.5) == y)
    else:
        loss = -np.mean(np.log(np.take_along_axis(p, y[:, None], axis=-1)))
        accuracy = np.mean(p.argmax(-1) == y)
    assert f"loss {loss:.4f}, accuracy {accuracy:.4f} over {y.size} scored items" in out


def test_export_of_an_imported_model_loads_in_keras_and_predicts_the_same(
    imported: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run, folder = imported["run"], imported["folder"]
    target = folder / "back.keras"
    status, out, err = run_cli(["export", run, "--format", "keras", "--out", target], capsys)
    assert status == 0, err
    assert f"exported {run} to {target}" in out
    again = keras.saving.load_model(target)
    np.testing.assert_allclose(
        keras_predict(again, imported["x"]), keras_predict(imported["model"], imported["x"]), **TOL
    )
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no scratch left


def test_text_lines_of_several_features_predict_as_the_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, x, y = binary_values()
    model.save(tmp_path / "m.keras")
    succeed(["import-keras", str(tmp_path / "m.keras"), "--out", str(tmp_path / "run")], capsys)
    lines = tmp_path / "rows.txt"
    rows = [x[0, :10], x[1, :4], x[2, :1]]  # step after step, D values each; shorter rows as if alone
    lines.write_text("\n".join(", ".join(f"{v:.9g}" for v in row.ravel()) for row in rows) + "\n")
    out = succeed(["predict", tmp_path / "run", "--input", lines], capsys)
    expected = [keras_predict(model, row[None])[0] for row in rows]
    np.testing.assert_allclose(printed_probabilities(out)[:, 0], np.array(expected), **TOL)
    labelled = tmp_path / "labelled.txt"
    labelled.write_text("".join(f"{y[i]}, " + " ".join(f"{v:.9g}" for v in x[i].ravel()) + "\n" for i in range(6)))
    out = succeed(["evaluate", tmp_path / "run", "--data", labelled], capsys)
    p = keras_predict(model, x)[:, 0]
    assert f"accuracy {np.mean((p > 0.5) == y):.4f} over 6 scored items" in out


def test_export_of_a_trained_run_loads_in_keras_and_predicts_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    succeed(["train", "--updates", "3", "--out", str(run)], capsys)
    status, out, err = run_cli(["export", run, "--format", "keras"], capsys)
    assert status == 0, err
    assert (run / "model.keras").is_file() and "a final sigmoid" in out
    model = load_run(run).model
    x = np.random.default_rng(4).random((3, 10, 1)).astype("float32")
    with torch.no_grad():
        expected = ACTIVATIONS["sigmoid"](model(torch.from_numpy(x))).numpy()
    np.testing.assert_allclose(keras_predict(keras.saving.load_model(run / "model.keras"), x), expected, **TOL)


# ------------------------------------------------------------------------------------------------ refusals
def keras_file(folder: Path, layers: list[Any], name: str = "model.keras") -> Path:
    path = folder / name
    randomize(keras.Sequential(layers), 0).save(path)
    return path


def assert_refused(argv: list[Any], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and out == ""


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda folder: (folder / "bad.keras").write_text("not a model") and folder / "bad.keras",
            "Expected a Keras 3",
        ),
        (lambda folder: folder / "missing.keras", "which is not a file"),
        (
            lambda folder: keras_file(folder, [keras.Input((5, 1)), L.GRU(3), L.Dense(1, activation="sigmoid")]),
            "GRU",
        ),
        (
            lambda folder: keras_file(folder, [keras.Input((5, 1)), L.LSTM(3), L.Dense(1)]),
            "Expected a classifier (a last Dense with a sigmoid or softmax) to import",
        ),
        (
            lambda folder: keras_file(folder, [keras.Input((5, 1)), L.LSTM(3), L.Dense(2, activation="sigmoid")]),
            "Expected one sigmoid unit (two classes) or a softmax over two or more. Received: sigmoid over 2",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_and_leaves_nothing(
    make: Callable[[Path], Path], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(["import-keras", source, "--out", tmp_path / "run"], message, capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no run, no run.partial


def test_import_onto_existing_files_needs_overwrite_and_replaces_only_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = keras_file(tmp_path, [keras.Input((5, 1)), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    other = keras_file(tmp_path, [keras.Input((5, 1)), L.LSTM(4), L.Dense(3, activation="softmax")], "other.keras")
    run = tmp_path / "run"
    succeed(["import-keras", str(source), "--out", str(run)], capsys)
    weights = (run / "model.safetensors").read_bytes()
    assert_refused(["import-keras", other, "--out", run], "Expected a new or empty run directory", capsys)
    assert (run / "model.safetensors").read_bytes() == weights
    succeed(["import-keras", str(other), "--out", str(run), "--overwrite"], capsys)
    assert json.loads((run / "config.json").read_text())["labels"] == ["0", "1", "2"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert_refused(["import-keras", source, "--out", foreign, "--overwrite"], "lstmlab replaces only its own", capsys)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert not (tmp_path / "run.partial").exists() and not (tmp_path / "foreign.partial").exists()


def test_export_refusals_leave_files_as_they_were(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = keras_file(tmp_path, [keras.Input((5, 1)), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    run = tmp_path / "run"
    succeed(["import-keras", str(source), "--out", str(run)], capsys)
    existing = tmp_path / "existing.keras"
    existing.write_text("keep me")
    assert_refused(["export", run, "--format", "keras", "--out", existing], "is an existing file", capsys)
    assert existing.read_text() == "keep me"
    assert_refused(["export", run, "--format", "keras", "--out", tmp_path / "m.h5"], "ending in .keras", capsys)
    succeed(["export", str(run), "--format", "keras", "--out", str(existing), "--overwrite"], capsys)
    assert keras.saving.load_model(existing).count_params() == 3 * 4 * (1 + 3 + 1) + 4
    ensemble = tmp_path / "ensemble"
    succeed(["train", "--updates", "2", "--ensemble", "2", "--out", str(ensemble)], capsys)
    assert_refused(["export", ensemble, "--format", "keras"], "Expected one model to export", capsys)
    assert not (ensemble / "model.keras").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_imported_run_asks_for_its_sequences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = keras_file(tmp_path, [keras.Input((5, 1)), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    run = tmp_path / "run"
    succeed(["import-keras", str(source), "--out", str(run)], capsys)
    assert_refused(["predict", run], "holds an imported model (give it sequences: predict --input FILE", capsys)
    assert_refused(["predict", run, "--text", "hello"], "holds an imported model", capsys)
    assert_refused(["evaluate", run], "Expected --data FILE (labelled sequences)", capsys)
    x = np.zeros((2, 5, 1), dtype="float32")
    np.savez(tmp_path / "objects.npz", x=np.array([object(), object()], dtype=object))
    assert_refused(["predict", run, "--input", tmp_path / "objects.npz"], "an object array (refused)", capsys)
    np.savez(tmp_path / "upper.npz", X=x)
    assert_refused(
        ["predict", run, "--input", tmp_path / "upper.npz"], "Expected arrays named in ['x', 'y', 'lengths']", capsys
    )
    np.savez(tmp_path / "unlabelled.npz", x=x)
    assert_refused(["evaluate", run, "--data", tmp_path / "unlabelled.npz"], "Expected an array y of class ids", capsys)
    np.savez(tmp_path / "wrong.npz", x=x, y=np.array([0, 2]))
    assert_refused(["evaluate", run, "--data", tmp_path / "wrong.npz"], "Expected y of class ids in 0..1", capsys)
    (tmp_path / "labels.txt").write_text("yes, 0.1 0.2\n")
    assert_refused(["evaluate", run, "--data", tmp_path / "labels.txt"], "Expected a class label in ['0', '1']", capsys)


def test_a_masking_run_reads_right_padded_values_and_text_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = keras_file(tmp_path, [keras.Input((6, 2)), L.Masking(0.0), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    run = tmp_path / "run"
    succeed(["import-keras", source, "--out", run], capsys)
    x = np.random.default_rng(5).random((3, 6, 2)).astype("float32") + 0.5
    x[1, 4:] = 0.0  # right-padded with the mask value
    x[2, 1:] = 0.0
    np.savez(tmp_path / "x.npz", x=x)
    out = succeed(["predict", run, "--input", tmp_path / "x.npz"], capsys)
    keras_model = keras.saving.load_model(source)
    np.testing.assert_allclose(printed_probabilities(out)[:, 0], keras_predict(keras_model, x), **TOL)
    lines = tmp_path / "rows.txt"  # text lines: each row as if alone, its length given
    lines.write_text("\n".join(" ".join(f"{v:.9g}" for v in x[b, :n].ravel()) for b, n in enumerate([6, 4, 1])))
    out = succeed(["predict", run, "--input", lines], capsys)
    np.testing.assert_allclose(printed_probabilities(out)[:, 0], keras_predict(keras_model, x), **TOL)
    x[0, 2] = 0.0  # a masked step between unmasked ones, which Keras would skip
    np.savez(tmp_path / "middle.npz", x=x)
    assert_refused(["predict", run, "--input", tmp_path / "middle.npz"], "row 0 has masked steps between", capsys)


def test_a_run_imported_with_a_mask_value_beside_its_model_still_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs imported before Masking was a layer recorded its value beside a layout without it."""
    source = keras_file(tmp_path, [keras.Input((6, 2)), L.Masking(0.0), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    run = tmp_path / "run"
    succeed(["import-keras", source, "--out", run], capsys)
    saved = load_run(run)
    unmasked = Sequential(list(saved.model.layers)[1:], input_shape=(6, 2), name=saved.model.name)
    extra = {k: v for k, v in saved.description.items() if k not in ("format", "kind", "model")}
    save_model(run, unmasked, layout_run_config(unmasked, {**extra, "mask_value": 0.0}, kind="imported"))
    assert load_run(run).model.layers[0].mask_value == 0.0  # type: ignore[union-attr]
    x = np.random.default_rng(6).random((2, 6, 2)).astype("float32") + 0.5
    x[1, 3:] = 0.0
    np.savez(tmp_path / "x.npz", x=x)
    out = succeed(["predict", run, "--input", tmp_path / "x.npz"], capsys)
    np.testing.assert_allclose(
        printed_probabilities(out)[:, 0], keras_predict(keras.saving.load_model(source), x), **TOL
    )
    succeed(["export", run, "--format", "keras"], capsys)  # with its Masking layer now
    np.testing.assert_allclose(
        keras_predict(keras.saving.load_model(run / "model.keras"), x),
        keras_predict(keras.saving.load_model(source), x),
        **TOL,
    )


def test_per_step_targets_under_masking_are_scored_at_valid_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = [
        keras.Input((5, 1)),
        L.Masking(0.0),
        L.LSTM(3, return_sequences=True),
        L.TimeDistributed(L.Dense(1, activation="sigmoid")),
    ]
    source = keras_file(tmp_path, layers)
    run = tmp_path / "run"
    succeed(["import-keras", source, "--out", run], capsys)
    x = np.random.default_rng(7).random((3, 5, 1)).astype("float32") + 0.5
    x[1, :3] = 0.0  # left-padded: 2 valid steps
    x[2, :4] = 0.0  # 1 valid step
    y = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 1]])
    np.savez(tmp_path / "xy.npz", x=x, y=y)
    out = succeed(["evaluate", run, "--data", tmp_path / "xy.npz"], capsys)
    valid = x[..., 0] != 0.0
    p = keras_predict(keras.saving.load_model(source), x)[..., 0].astype("float64")[valid]
    t = y[valid]
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert f"loss {loss:.4f}, accuracy {np.mean((p > 0.5) == t):.4f} over {t.size} scored items" in out
