"""`lstmlab export RUN --format onnx` on trained text, series and ensemble runs: onnxruntime, fed by the written
reader (texts) or by raw right-padded series, gives what `lstmlab predict` gives; refusals write nothing."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch

from lstmlab.cli import main
from lstmlab.data.series import load_series
from lstmlab.data.spec import TextSettings
from lstmlab.data.text import TextEncoder
from lstmlab.runs.saved import load_run
from lstmlab.training import predict

ort = pytest.importorskip("onnxruntime")  # the `onnx` extra, in `dev` too: CI runs these

TOLERANCE = 1e-5
TEXTS = [
    "good fine film",
    "an awful, awful plot!",
    "good",
    "Bad acting; don't watch it",
    "words never seen before in training at all, and many of them so the row is cut somewhere",
    "fine fine fine fine fine fine fine fine fine fine fine fine fine fine fine fine",
]


def _reviews(path: Path) -> Path:
    rows = "".join(f"good fine film {i} really,pos\nbad awful plot {i} sadly,neg\n" for i in range(15))
    path.write_text("text,label\n" + rows + "fine but long: " + "word " * 30 + ",pos\n")
    return path


def _train(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    capsys.readouterr()


def _export(run: Path, capsys: pytest.CaptureFixture[str], *more: Any) -> str:
    status = main(["export", str(run), "--format", "onnx", *map(str, more)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def _reader(path: Path) -> ModuleType:
    """The written text_reader.py, imported from its file."""
    spec = importlib.util.spec_from_file_location(f"reader_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _session(path: Path) -> Any:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(
    "options",
    [
        [],  # the default text model: post padding, mask_zero
        ["--padding", "pre", "--truncating", "pre", "--max-len", "6", "--set", "mask_zero=false"],  # reads padding
        ["--model", "text-lstm", "--truncating", "pre", "--max-len", "6"],
        ["--text-level", "char", "--keep-case", "--max-len", "12"],
    ],
    ids=["default", "pre-padded", "text-lstm", "characters"],
)
def test_text_run_through_the_reader_equals_lstmlab(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "2", "--ensemble", "1"]
    _train(["train", "--data", _reviews(tmp_path / "r.csv"), "--out", run, *small, *options], capsys)
    out = _export(run, capsys)
    assert f"to {run / 'model.onnx'} (ONNX, inputs ids, lengths" in out
    settings = json.loads((run / "model.onnx.json").read_text())
    assert settings["kind"] == "text" and settings["classes"] == ["neg", "pos"] and settings["opset"] == 17
    reader = _reader(run / "text_reader.py").TextReader.load(run / "model.onnx.json")
    ids, lengths = reader.encode(TEXTS)
    saved = load_run(run)
    _, encoder = saved.data
    assert isinstance(encoder, TextEncoder)
    expected = predict(saved.model, encoder.unlabelled(TEXTS)).numpy()  # what `lstmlab predict` computes
    _, probabilities = _session(run / "model.onnx").run(None, {"ids": ids, "lengths": lengths})
    np.testing.assert_allclose(probabilities, expected, atol=TOLERANCE, rtol=TOLERANCE)
    if reader.lengths == "valid":
        assert (lengths < reader.max_len).any()  # some rows padded: the lengths did something
    else:  # the model reads the padding, as lstmlab's does on pre-padded rows
        assert (lengths == reader.max_len).all() and (ids[:, 0] == 0).any()


def test_the_reader_encodes_as_lstmlab_for_every_setting_and_imports_nothing_of_it() -> None:
    from lstmlab.export import text_reader

    source = Path(text_reader.__file__).read_text()
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "json", "re", "collections", "dataclasses", "pathlib", "typing", "numpy"}
    corpus = [*TEXTS, "Ünïcode wörds, snake_case and it's-fine?!", "  spaced   out  "]
    for level in ("word", "char"):
        for padding in ("pre", "post"):
            for truncating in ("pre", "post"):
                settings = TextSettings(
                    level=level,
                    lower=level == "word",
                    max_words=12,
                    max_len=7,  # type: ignore[arg-type]
                    truncating=truncating,
                    padding=padding,
                )  # type: ignore[arg-type]
                encoder = TextEncoder.fit(corpus[:4], settings)
                ids, lengths = encoder.encode(corpus)
                reader = text_reader.TextReader(
                    encoder.vocabulary.words,
                    encoder.max_len,
                    level,
                    settings.lower,
                    truncating,
                    padding,
                    "valid" if padding == "post" else "full",
                )
                got_ids, got_lengths = reader.encode(corpus)
                assert np.array_equal(got_ids, ids.numpy()), (level, padding, truncating)
                expected = lengths.numpy() if lengths is not None else np.full(len(corpus), encoder.max_len)
                assert np.array_equal(got_lengths, expected)
    with pytest.raises(ValueError, match=r"^Expected text with at least one token\. Received: text 2 is '  '"):
        reader.encode(["fine", "  "])


def _series(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 12, n)
    x = np.full((n, 12, 2), 999.0)  # values past a series' length are not part of it
    labels = []
    for i, length in enumerate(lengths):
        up = i % 2 == 0
        x[i, :length] = 50 + np.cumsum(rng.normal(1.0 if up else -1.0, 0.3, (length, 2)), axis=0)
        labels.append("up" if up else "down")
    np.savez(path, x=x, y=np.array(labels), lengths=lengths)
    return path


@pytest.mark.parametrize("model", ["series-lstm-fcn", "series-bilstm"])
def test_series_run_reads_raw_values_with_the_standardisation_in_the_graph(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    small = ["--set", "units=4", "--epochs", "2", "--model", model] + (["--set", "filters=4"] if "fcn" in model else [])
    _train(["train", "--data", _series(tmp_path / "train.npz", 30, 0), "--out", run, *small], capsys)
    target = tmp_path / "elsewhere" / "series.onnx"
    _export(run, capsys, "--out", target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["series.onnx", "series.onnx.json"]  # no text reader
    assert json.loads((target.parent / "series.onnx.json").read_text())["series"]["standardised_in_graph"]
    new = load_series(str(_series(tmp_path / "new.npz", 7, 1)))
    saved = load_run(run)
    _, scaler = saved.data
    expected = predict(saved.model, scaler.unlabelled(new.values, "new")).numpy()  # type: ignore[union-attr]
    longest = max(len(v) for v in new.values)
    x = np.zeros((len(new.values), longest, 2), np.float32)
    for i, v in enumerate(new.values):
        x[i, : len(v)] = v  # raw values, right-padded
    lengths = np.array([len(v) for v in new.values], np.int64)
    (probabilities,) = _session(target).run(["probabilities"], {"x": x, "lengths": lengths})
    np.testing.assert_allclose(probabilities, expected, atol=TOLERANCE, rtol=TOLERANCE)


def test_ensemble_run_and_task_run_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "ensemble"
    _train(["train", "--updates", "3", "--ensemble", "3", "--out", run], capsys)
    _export(run, capsys)
    saved = load_run(run)
    x = torch.rand(4, 10, 1)
    lengths = torch.tensor([10, 3, 1, 7])
    with torch.no_grad():
        expected = saved.model(x, lengths).numpy()
    (logits,) = _session(run / "model.onnx").run(["logits"], {"x": x.numpy(), "lengths": lengths.numpy()})
    np.testing.assert_allclose(logits, expected, atol=TOLERANCE, rtol=TOLERANCE)
    assert json.loads((run / "model.onnx.json").read_text())["kind"] == "task"


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    _train(["train", "--updates", "2", "--out", run], capsys)
    before = sorted(p.name for p in run.iterdir())
    for more, message in (
        (["--out", tmp_path / "model.bin"], "Expected a file name ending in .onnx. Received:"),
        ([], None),
        ([], "model.onnx is an existing file (--overwrite to replace it)"),
    ):
        status = main(["export", str(run), "--format", "onnx", *map(str, more)])
        out, err = capsys.readouterr()
        if message is None:
            assert status == 0
            continue
        assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""
    assert sorted(p.name for p in run.iterdir()) == sorted([*before, "model.onnx", "model.onnx.json"])
    assert main(["export", str(run), "--format", "onnx", "--overwrite"]) == 0
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary files left
