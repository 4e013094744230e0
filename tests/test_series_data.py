"""Multichannel series in: .npz and .ts files, aeon's bundled sets, per-channel standardisation fitted on the
training split, variable lengths kept end to end, bad input named, and train -> evaluate -> predict from a saved run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmlab.cli import main
from lstmlab.data.datasets import prepare_data
from lstmlab.data.series import SeriesScaler, load_series, pad_series
from lstmlab.data.spec import DataSpec
from lstmlab.runs.saved import load_run
from lstmlab.training import predict

aeon = pytest.importorskip("aeon", reason="the .ts and aeon:NAME paths need aeon (pip install 'lstmlab[timeseries]')")

TS_HEADER = """# a hand-written test file
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
"""


def write_npz(path: Path, n: int = 40, seed: int = 0, channels: int = 3, **extra: np.ndarray) -> None:
    """Two classes told apart by the sign of channel 0's drift; lengths 5-12, padded with junk that must not count."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 13, n)
    y = np.array(["up", "down"])[np.arange(n) % 2]
    x = rng.normal(size=(n, 12, channels)) * 0.3 + 10.0
    x[:, :, 0] += np.where(y == "up", 1.0, -1.0)[:, None] * np.arange(12)[None, :] * 0.5
    for i, length in enumerate(lengths):
        x[i, length:] = 999.0  # beyond the length: must never reach the model or the statistics
    np.savez(path, **{"x": x, "y": y, "lengths": lengths, **extra})


def write_train_and_other(tmp_path: Path, other: str, n: int) -> tuple[Path, Path]:
    """`train.npz` with `n` series (seed 0) and `other` with 6 more from another seed (new or test series)."""
    train, second = tmp_path / "train.npz", tmp_path / other
    write_npz(train, n=n, seed=0)
    write_npz(second, n=6, seed=1)
    return train, second


def test_npz_keeps_lengths_and_ignores_values_past_them(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    write_npz(path, n=6)
    series = load_series(str(path))
    with np.load(path) as raw:
        assert [len(v) for v in series.values] == raw["lengths"].tolist()
        assert series.labels == raw["y"].tolist()
        assert all(np.array_equal(v, raw["x"][i, : len(v)]) for i, v in enumerate(series.values))
    assert all((v < 999).all() for v in series.values)


def test_standardisation_uses_valid_steps_of_the_training_split_only() -> None:
    a = np.array([[1.0, 10.0], [3.0, 10.0]])  # channel 1 is constant: centred, not divided by 0
    b = np.array([[5.0, 10.0]])
    scaler = SeriesScaler.fit([a, b], ["p", "q"])
    assert scaler.mean == pytest.approx((3.0, 10.0))
    assert scaler.std == pytest.approx((np.sqrt(8 / 3), 1.0))  # population std of 1, 3, 5
    x, lengths = scaler.transform([a, b], "here")
    assert lengths.tolist() == [2, 1]
    expected = torch.tensor([[[-2 / np.sqrt(8 / 3), 0.0], [0.0, 0.0]], [[2 / np.sqrt(8 / 3), 0.0], [0.0, 0.0]]])
    assert torch.allclose(x, expected.float())
    assert SeriesScaler.from_json(json.loads(json.dumps(scaler.to_json()))) == scaler
    raw = SeriesScaler.fit([a, b], standardise=False)
    assert torch.equal(raw.transform([a], "here")[0][0], torch.tensor(a, dtype=torch.float32))


def test_ts_file_with_variable_lengths_and_two_channels(tmp_path: Path) -> None:
    unlabelled = tmp_path / "new.ts"
    unlabelled.write_text(TS_HEADER.replace("@classLabel true up down", "@classLabel false") + "1,2:3,4\n5:6\n")
    assert load_series(str(unlabelled), labelled=False).labels == ["", ""]
    with pytest.raises(ValueError, match=r"Expected class labels in .*new.ts"):
        load_series(str(unlabelled))
    path = tmp_path / "tiny.ts"
    path.write_text(TS_HEADER + "1,2,3:4,5,6:up\n7,8:9,10:down\n")
    series = load_series(str(path))
    assert series.labels == ["up", "down"]
    assert [v.tolist() for v in series.values] == [[[1, 4], [2, 5], [3, 6]], [[7, 9], [8, 10]]]
    x, lengths = pad_series(series.values)
    assert x.shape == (2, 3, 2) and lengths.tolist() == [3, 2] and x[1, 2].tolist() == [0.0, 0.0]


def test_bundled_aeon_set_by_name_with_its_own_split() -> None:
    train, test = load_series("aeon:BasicMotions", split="TRAIN"), load_series("aeon:basicmotions", split="TEST")
    assert len(train.labels) == 40 and len(test.labels) == 40
    assert {v.shape for v in train.values} == {(100, 6)}
    assert sorted(set(train.labels)) == ["badminton", "running", "standing", "walking"]
    jv = load_series("aeon:JapaneseVowels")
    assert len(jv.labels) == 270 and {v.shape[1] for v in jv.values} == {12}
    assert min(len(v) for v in jv.values) == 7 and max(len(v) for v in jv.values) == 26


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            TS_HEADER + "1,2,3:4,5,6:up\n1,2:3,4:5,6:down\n",
            "channels.ts",
            r"channels.ts. Received: Inconsistent number of dimensions in case 2",
        ),
        (
            TS_HEADER.replace("@classLabel true up down", "@targetLabel true") + "1,2:3,4:0.5\n",
            "regression.ts",
            r"Expected a classification .ts file \(@classLabel true\) in .*regression.ts. Received: a regression",
        ),
        ("text,label\nhello,1\n", "table.ts", r"Expected a UCR/UEA .ts file with class labels in .*table.ts"),
        (
            TS_HEADER + "1,2,?:4,5,6:up\n7,8:9,10:down\n",
            "missing.ts",
            r"Expected finite values in .*missing.ts series 1",
        ),
        ("not a zip archive", "fake.npz", r"Expected a NumPy .npz archive in .*fake.npz"),
    ],
)
def test_bad_series_files_name_the_file(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_series(str(path))


def test_bad_npz_contents_name_the_series(tmp_path: Path) -> None:
    def case(name: str, **arrays: np.ndarray) -> Path:
        path = tmp_path / name
        np.savez(path, **arrays)
        return path

    x, y = np.zeros((3, 4, 2)), np.array([0, 1, 0])
    nan = x.copy()
    nan[1, 2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"Expected finite values in .*nan.npz series 2. Received: nan at step 3, channel 2"
    ):
        load_series(str(case("nan.npz", x=nan, y=y)))
    with pytest.raises(
        ValueError, match=r"Expected arrays x \(N, steps, channels\) and y \(N,\) in .*Received: \['x'\]"
    ):
        load_series(str(case("noy.npz", x=x)))
    with pytest.raises(ValueError, match=r"Expected lengths in \[1, 4\] .*Received: 5 for series 3"):
        load_series(str(case("long.npz", x=x, y=y, lengths=np.array([1, 2, 5]))))
    with pytest.raises(ValueError, match=r"Expected y of shape \(3,\)"):
        load_series(str(case("short.npz", x=x, y=y[:2])))
    with pytest.raises(ValueError, match="Expected numeric arrays"):
        load_series(str(case("objects.npz", x=x, y=np.array([{}, {}, {}], dtype=object))))
    scaler = SeriesScaler.fit([np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r"Expected 2 channels in every series. Received: 3 in new series 1"):
        scaler.transform([np.zeros((2, 3))], "new")


def test_label_and_split_problems(tmp_path: Path) -> None:
    one = tmp_path / "one.npz"
    np.savez(one, x=np.zeros((4, 3, 1)), y=np.array(["a"] * 4))
    with pytest.raises(ValueError, match=r"Expected at least two classes in .*one.npz. Received: only \['a'\]"):
        prepare_data(DataSpec(str(one)))
    train, test = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(train, x=np.zeros((4, 3, 1)), y=np.array([0, 1, 0, 1]))
    np.savez(test, x=np.zeros((2, 3, 1)), y=np.array([1, 2]))
    with pytest.raises(
        ValueError,
        match=r"Expected test labels seen in training \(\['0', '1'\]\)\. Received: '2' in .*test.npz series 2",
    ):
        prepare_data(DataSpec(str(train), test_path=str(test)))
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros((2, 3, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"Expected 1 channels in every series. Received: 2 in .*other.npz series 1"):
        prepare_data(DataSpec(str(train), test_path=str(other)))
    with pytest.raises(
        ValueError, match="Expected the name of a data set bundled with aeon .*JapaneseVowels.*Received: 'Nope'"
    ):
        prepare_data(DataSpec("aeon:Nope"))
    with pytest.raises(ValueError, match="Expected no --test-data with aeon:BasicMotions"):
        DataSpec("aeon:BasicMotions", test_path=str(test))


def test_missing_aeon_is_named_with_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aeon.datasets", None)  # import fails as if aeon were not installed
    with pytest.raises(
        ValueError, match=r"Expected aeon .*Received: not installed; pip install 'lstmlab\[timeseries\]'"
    ):
        load_series("aeon:JapaneseVowels")


def test_training_order_mixes_classes_for_the_validation_tail(tmp_path: Path) -> None:
    path = tmp_path / "sorted.npz"
    np.savez(path, x=np.zeros((40, 3, 1)), y=np.array([0] * 20 + [1] * 20))
    sets = prepare_data(DataSpec(str(path), test_fraction=0.25))
    tail = sets.train.y[-8:]  # what a 0.25 validation split holds out
    assert 0 < int(tail.sum()) < 8


def test_train_evaluate_predict_series_from_the_saved_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, new = write_train_and_other(tmp_path, "new.npz", n=60)
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--out", str(out), "--epochs", "25", "--set", "units=8"]
    argv += ["--learning-rate", "0.01", "--test-fraction", "0.2", "--model", "series-bilstm"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "accuracy 1.0000 over 12" in printed  # a drift up or down over 5-12 steps: easy, if padding stays out
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["config"]["features"] == 3 and config["model"]["config"]["steps"] is None
    assert config["model"]["config"]["noise"] == 0.3 and config["model"]["config"]["input_dropout"] == 0.4  # series
    assert config["dataset"]["encoder"]["labels"] == ["down", "up"]
    assert config["dataset"]["spec"]["split_seed"] == 0
    assert main(["evaluate", str(out)]) == 0
    assert "accuracy 1.0000 over 12" in capsys.readouterr().out
    assert main(["predict", str(out), "--series-file", str(new)]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    assert len(rows) == 6 and all(row[1] == row[3] for row in rows)  # predicted == the file's label
    # one series alone or in a padded batch with longer ones: the same probabilities
    series = load_series(str(new))
    run = load_run(out)
    _, scaler = run.data
    together = predict(run.model, scaler.unlabelled(series.values, "new"))  # type: ignore[union-attr]
    alone = torch.cat([predict(run.model, scaler.unlabelled([v], "new")) for v in series.values])  # type: ignore[union-attr]
    assert torch.allclose(together, alone, atol=1e-6, rtol=0)
    unlabelled = tmp_path / "unlabelled.npz"  # new recordings have no labels yet
    with np.load(new) as raw:
        np.savez(unlabelled, x=raw["x"], lengths=raw["lengths"])
    assert main(["predict", str(out), "--series-file", str(unlabelled)]) == 0
    unlabelled_rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[:3] for r in unlabelled_rows] == [r[:3] for r in rows] and all(r[3] == "" for r in unlabelled_rows)
    with pytest.raises(ValueError, match=r"Expected arrays x \(N, steps, channels\) and y"):
        load_series(str(unlabelled))  # training data must be labelled
    assert main(["predict", str(out), "--series-file", "aeon:JapaneseVowels"]) == 2
    assert "Expected a .ts or .npz file for --series-file" in capsys.readouterr().err
    assert main(["predict", str(out), "--text", "hello"]) == 2
    assert "Expected --series-file FILE" in capsys.readouterr().err


def test_default_series_model_is_lstm_fcn_and_predicts_each_series_as_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, new = write_train_and_other(tmp_path, "new.npz", n=40)
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--out", str(out), "--epochs", "3", "--set", "units=4", "--set", "filters=4"]
    assert main(argv) == 0
    assert "model: series-lstm-fcn (the default for numeric series" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["learning_rate"] == 1e-3 and config["train"]["epochs"] == 3  # the preset's rate, my epochs
    # batch statistics in training, moving statistics after: one series alone or in a padded batch, the same answer
    series = load_series(str(new))
    assert len({len(v) for v in series.values}) > 1
    run = load_run(out)
    _, scaler = run.data
    together = predict(run.model, scaler.unlabelled(series.values, "new"))  # type: ignore[union-attr]
    alone = torch.cat([predict(run.model, scaler.unlabelled([v], "new")) for v in series.values])  # type: ignore[union-attr]
    assert torch.allclose(together, alone, atol=1e-6, rtol=0)


def test_series_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.npz"
    write_npz(data, n=10)
    cases = [
        (["--data", str(data), "--model", "text-bilstm-pool"], "Expected a model that reads series of any length"),
        (["--data", str(data), "--model", "tutorial-lstm"], "Expected a model that reads series of any length"),
        (["--data", "aeon:Nope"], "Expected the name of a data set bundled with aeon"),
        (["--data", str(tmp_path / "missing.npz")], "Expected a .npz file. Received: "),
        (["--data", str(data), "--validation-split", "0", "--patience", "2"], "Expected a validation split"),
        (["--data", str(data), "--validation-split", "0.95"], "Expected more examples than a 0.95 split holds out"),
        (
            ["--data", str(data), "--model", "series-bilstm", "--set", "noise=-0.3"],
            "Expected a finite noise stddev >= 0. Received: stddev=-0.3",
        ),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert main(["train", *extra, "--out", str(out), "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not out.exists()


@pytest.mark.parametrize(
    ("preset", "depth", "pooling"),
    [
        ("series-bilstm", 1, "average"),
        ("series-bilstm", 2, "last"),
        ("text-bilstm-pool", 2, "max"),
        ("text-bilstm-pool", 1, "last"),
    ],
)
def test_stacked_bilstm_presets_give_each_sequence_its_own_answer_in_a_padded_batch(
    preset: str, depth: int, pooling: str
) -> None:
    from lstmlab.models import build_model

    torch.manual_seed(0)
    if preset == "series-bilstm":
        model = build_model(preset, features=3, depth=depth, num_classes=4, pooling=pooling).eval()
        x = torch.randn(3, 9, 3)
    else:
        model = build_model(preset, vocab_size=50, max_len=9, depth=depth, pooling=pooling).eval()
        x = torch.randint(2, 50, (3, 9))
    lengths = torch.tensor([9, 4, 6])
    together = model(x, lengths=lengths)
    for i, n in enumerate(lengths.tolist()):
        if preset == "series-bilstm":  # the series cut to its length
            alone = model(x[i : i + 1, :n], lengths=lengths[i : i + 1])
        else:  # the text with padding ids where the batch holds other tokens past its length
            ids = x[i : i + 1].clone()
            ids[:, n:] = 0
            alone = model(ids)
        assert torch.allclose(together[i], alone[0], atol=1e-6, rtol=0)
    assert len([layer for layer in model.layers if type(layer).__name__ == "Bidirectional"]) == depth
    with pytest.raises(ValueError, match="Expected depth to be a positive integer. Received: depth=0"):
        build_model(preset, depth=0)


def test_npz_labels_are_class_names_and_missing_ones_are_refused(tmp_path: Path) -> None:
    def labels_of(y: np.ndarray, labelled: bool = True) -> list[str]:
        path = tmp_path / "y.npz"
        np.savez(path, x=np.zeros((len(y), 2, 1)), y=y)
        return load_series(str(path), labelled=labelled).labels

    assert labels_of(np.array([1.0, 0.0, 2.0])) == ["1", "0", "2"]  # as an integer y in another file would give
    assert labels_of(np.array([b"up", b"down"])) == ["up", "down"]
    assert labels_of(np.array([True, False])) == ["True", "False"]
    with pytest.raises(
        ValueError, match=r"Expected class labels \(integers or strings\) in .*y.npz y. Received: nan for series 2"
    ):
        labels_of(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"Received: 0.5 for series 1"):
        labels_of(np.array([0.5, 1.0]))
    with pytest.raises(
        ValueError, match=r"Expected a class label for every series in .*y.npz y. Received: none for series 2"
    ):
        labels_of(np.array(["a", " "]))
    assert labels_of(np.array(["a", ""]), labelled=False) == ["a", ""]


def test_npz_values_must_be_real_arrays(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, x=np.ones((2, 3, 1), dtype=complex), y=np.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"Expected x of real numbers shaped \(N, steps, channels\) .*Received: complex128"
    ):
        load_series(str(path))
    np.savez(path, x=np.float64(3.0))
    with pytest.raises(ValueError, match=r"Expected x of real numbers .*Received: float64 \(\)"):
        load_series(str(path), labelled=False)


def test_aeon_by_format_or_any_case_uses_the_archive_split(tmp_path: Path) -> None:
    by_format = DataSpec("BasicMotions", data_format="aeon")
    assert by_format.aeon and by_format.kind == "series"
    sets = prepare_data(by_format)
    assert len(sets.train) == 40 and len(sets.test) == 40  # the TEST split, not a split of TRAIN
    assert len(prepare_data(DataSpec("AEON:basicmotions")).test) == 40
    with pytest.raises(ValueError, match="Expected no --test-data with BasicMotions"):
        DataSpec("BasicMotions", data_format="aeon", test_path="BasicMotions")
    from lstmlab.data.series import bundled_names

    assert "JapaneseVowels" in bundled_names() and "Covid3Month" not in bundled_names()  # regression sets left out


def test_evaluate_reads_only_the_test_file_where_the_run_had_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, test = write_train_and_other(tmp_path, "test.npz", n=20)
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--test-data", str(test), "--out", str(out), "--epochs", "2"]
    assert main([*argv, "--set", "units=4", "--model", "series-bilstm"]) == 0
    trained = [line for line in capsys.readouterr().out.splitlines() if "accuracy" in line][-1].split(": ", 1)[1]
    data.unlink()
    assert main(["evaluate", str(out)]) == 0
    assert trained in capsys.readouterr().out  # the same scores, from the test file alone


def test_series_too_large_to_standardise_are_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Values around 1e200 overflow the variance: standardised they would all be 0 and training would 'succeed' on
    nothing. Raw (no standardisation) they would overflow float32."""
    data = tmp_path / "huge.npz"
    write_npz(data, n=10)
    with np.load(data) as raw:
        x = raw["x"].copy()
        x[:, :, 1] *= 1e198
        np.savez(data, x=x, y=raw["y"], lengths=raw["lengths"])
    for extra, message in [
        ([], "Expected series values whose squares are finite in float64 (below about 1e154) to standardise"),
        (["--no-standardise"], "Expected values within float32's range (about 3.4e38), standardised or not"),
    ]:
        out = tmp_path / "out"
        assert main(["train", "--data", str(data), "--out", str(out), "--epochs", "1", *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not out.exists() and not (tmp_path / "out.partial").exists()
    assert "channel 2 reaches" in scaler_error(x)


def scaler_error(x: np.ndarray) -> str:
    from lstmlab.data.series import SeriesScaler

    with pytest.raises(ValueError, match="Expected series values whose squares are finite") as error:
        SeriesScaler.fit(list(x), standardise=True)
    return str(error.value)
