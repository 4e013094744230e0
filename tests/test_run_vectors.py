"""`--vectors` on a training run (runs/vectors.py): every format starts the Embedding from the same rows; frozen
rows stay as read through training, fine-tuned ones move; the width follows the file; the coverage is counted,
printed and recorded; missing words are drawn with the vectors' spread; a resumed run reads the same file; every bad
file or option is one line, exit 2, nothing written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmlab.cli import main
from lstmlab.data import DataSpec, VectorSettings
from lstmlab.layers import Embedding
from lstmlab.runs import RunSpec, prepare
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.saved import load_run

WORDS = ["good", "fine", "film", "bad", "awful", "plot", "really", "sadly"]  # the texts' words (not the numbers)
VALUES = np.random.default_rng(1).standard_normal((len(WORDS), 6)).astype(np.float32)  # (8, 6)
IN_FILE = [*WORDS[:6], "unused", "Other"]  # "really" and "sadly" are missing; two rows no text has
FILE_VALUES = np.concatenate([VALUES[:6], np.ones((2, 6), np.float32)])
SMALL = ["--set", "units=4", "--epochs", "2", "--ensemble", "1", "--validation-split", "0"]


def reviews(path: Path) -> Path:
    rows = "".join(f"good fine film {i} really,pos\nbad awful plot {i} sadly,neg\n" for i in range(15))
    path.write_text("text,label\n" + rows)
    return path


def glove(path: Path, words: list[str] = IN_FILE, values: np.ndarray = FILE_VALUES) -> Path:
    lines = [" ".join([word, *(f"{v:.9g}" for v in row)]) for word, row in zip(words, values, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def word2vec_text(path: Path) -> Path:
    lines = [f"{len(IN_FILE)} 6"] + [
        " ".join([w, *(f"{v:.9g}" for v in row)]) + " " for w, row in zip(IN_FILE, FILE_VALUES, strict=True)
    ]  # fastText .vec: a header, lines ending in a space
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def word2vec_binary(path: Path) -> Path:
    data = [f"{len(IN_FILE)} 6\n".encode()]
    data += [
        w.encode() + b" " + row.astype("<f4").tobytes() + b"\n" for w, row in zip(IN_FILE, FILE_VALUES, strict=True)
    ]
    path.write_bytes(b"".join(data))
    return path


def gzipped(path: Path) -> Path:
    out = path.with_suffix(".gz")
    out.write_bytes(gzip.compress(glove(path).read_bytes()))
    return out


def spacy_folder(path: Path) -> Path:
    from spacy.strings import get_string_id
    from spacy.vectors import Vectors

    path.mkdir()
    Vectors(data=FILE_VALUES.copy(), keys=[get_string_id(w) for w in IN_FILE]).to_disk(path)
    return path


WRITERS = {"glove": glove, "fasttext-vec": word2vec_text, "word2vec-binary": word2vec_binary, "gzip": gzipped}
WRITERS["spacy"] = spacy_folder


def run_spec(data: Path, vectors: Path, **settings: object) -> RunSpec:
    spec = DataSpec(str(data), vectors=VectorSettings(str(vectors), **settings))  # type: ignore[arg-type]
    train = TrainChoices(epochs=2, ensemble=1, validation_split=0)
    return RunSpec(preset="text-bilstm-pool", data=spec, train=train, model_options={"units": 4})


def embedding(model: torch.nn.Module) -> Embedding:
    return next(m for m in model.modules() if isinstance(m, Embedding))


def rows_of(words: list[str], layer: Embedding, vocabulary: tuple[str, ...]) -> np.ndarray:
    ids = [vocabulary.index(word) + 2 for word in words]
    return layer.embedding.weight.detach()[ids].numpy()


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_format_starts_the_embedding_from_the_rows_read(tmp_path: Path, kind: str) -> None:
    vectors = WRITERS[kind](tmp_path / "vectors.txt" if kind != "spacy" else tmp_path / "vectors")
    prepared = prepare(run_spec(reviews(tmp_path / "r.csv"), vectors))
    vocabulary = prepared.description["dataset"]["encoder"]["vocabulary"]
    layer = embedding(prepared.model)
    assert layer.output_dim == 6  # the file's width, as the user set none
    np.testing.assert_array_equal(rows_of(WORDS[:6], layer, tuple(vocabulary)), VALUES[:6])
    assert not layer.embedding.weight[0].any()  # padding
    recorded = prepared.description["dataset"]["vectors"]
    assert recorded["format"] == {"gzip": "glove", "fasttext-vec": "word2vec-text"}.get(kind, kind)
    assert recorded["dimension"] == 6 and recorded["rows"] == 8
    assert recorded["size"] == (vectors.stat().st_size if vectors.is_file() else recorded["size"]) > 0


def test_coverage_counts_vocabulary_words_and_training_tokens(tmp_path: Path) -> None:
    prepared = prepare(run_spec(reviews(tmp_path / "r.csv"), glove(tmp_path / "v.txt")))
    recorded = prepared.description["dataset"]["vectors"]
    vocabulary = prepared.description["dataset"]["encoder"]["vocabulary"]
    found = [word for word in vocabulary if word in IN_FILE]
    assert recorded["words"] == len(vocabulary) and recorded["words_found"] == len(found) == 6
    assert recorded["word_coverage"] == pytest.approx(6 / len(vocabulary))
    # each training text is 5 tokens: 3 found ("good fine film" / "bad awful plot"), a number and really / sadly
    assert recorded["token_coverage"] == pytest.approx(3 / 5)
    note = next(line for line in prepared.notes if line.startswith("vectors:"))
    assert note.endswith(
        f"6 of {len(vocabulary)} vocabulary words found ({6 / len(vocabulary):.1%}), 60.0% of the training tokens"
    )


def test_missing_words_are_drawn_with_the_found_vectors_spread_or_zeros(tmp_path: Path) -> None:
    data, vectors = reviews(tmp_path / "r.csv"), glove(tmp_path / "v.txt")
    prepared = prepare(run_spec(data, vectors))
    vocabulary = tuple(prepared.description["dataset"]["encoder"]["vocabulary"])
    layer = embedding(prepared.model)
    missing = [w for w in vocabulary if w not in IN_FILE]
    drawn = np.concatenate([rows_of(missing, layer, vocabulary), layer.embedding.weight.detach()[1:2].numpy()])
    bound = np.sqrt(3) * VALUES[:6].std(axis=0)  # uniform on [-a, a] has the variance a^2 / 3
    assert (np.abs(drawn) <= bound + 1e-6).all() and np.abs(drawn).max(axis=0).min() > 0
    again = embedding(prepare(run_spec(data, vectors)).model).embedding.weight
    assert torch.equal(again, layer.embedding.weight)  # drawn from the run's seed
    zeros = embedding(prepare(run_spec(data, vectors, missing="zeros")).model)
    assert not rows_of(missing, zeros, vocabulary).any() and not zeros.embedding.weight[1].any()


@pytest.mark.parametrize("mode", ["frozen", "fine-tuned"])
def test_frozen_rows_stay_as_read_and_fine_tuned_rows_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", reviews(tmp_path / "r.csv"), "--vectors", glove(tmp_path / "v.txt"), "--out", run]
    assert main([str(a) for a in [*argv, "--vectors-mode", mode, *SMALL]]) == 0
    out = capsys.readouterr().out
    assert f"vectors: v.txt (glove, 6 dimensions, {mode}): 6 of " in out and "60.0% of the training tokens" in out
    saved = load_run(run)
    vocabulary = tuple(json.loads((run / "config.json").read_text())["dataset"]["encoder"]["vocabulary"])
    layer = embedding(saved.model)
    rows = rows_of(WORDS[:6], layer, vocabulary)
    if mode == "frozen":
        np.testing.assert_array_equal(rows, VALUES[:6])
        assert not layer.trainable
    else:
        assert np.abs(rows - VALUES[:6]).max() > 1e-4
        assert layer.trainable
    recorded = json.loads((run / "config.json").read_text())["dataset"]["vectors"]
    assert recorded["mode"] == mode and recorded["file"] == "v.txt" and len(recorded["sha256"]) == 64


def test_a_width_set_by_the_user_must_match_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", reviews(tmp_path / "r.csv"), "--vectors", glove(tmp_path / "v.txt"), "--out", run]
    assert main([str(a) for a in [*argv, "--set", "embed_dim=8", *SMALL]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Expected dimension=8 in line 1 of" in err and "Received: 6" in err
    assert not run.exists() and not run.with_name("run.partial").exists()


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "wrong count": (b"good 1 2 3\nfine 1 2\n", r"Expected 3 values \(the first row's\) on line 2 of .*Received: 2"),
    "truncated binary": (b"2 3\ngood " + np.ones(3, "<f4").tobytes() + b"\nfine \x00\x00", r"the file is truncated"),
    "other encoding": ("good 1 2\nfilm\xe9 1 2\n".encode("latin-1"), r"Expected UTF-8 text in .*line 2"),
    "duplicated": (b"good 1 2\nfine 1 2\ngood 3 4\n", r"Expected each word once in .*'good' at line 1 and at line 3"),
    "empty": (b"", r"Expected word vectors in .*Received: an empty file"),
    "no word of the texts": (b"zebra 1 2\n", r"Expected at least one of the \d+ words in"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_vectors_file_is_one_line_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    data, match = BAD_FILES[name]
    vectors = tmp_path / "v.txt"
    vectors.write_bytes(data)
    run = tmp_path / "run"
    argv = ["train", "--data", reviews(tmp_path / "r.csv"), "--vectors", vectors, "--out", run, *SMALL]
    assert main([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert __import__("re").search(match, captured.err), captured.err
    assert not run.exists() and not run.with_name("run.partial").exists()


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--vectors-mode", "frozen"], r"Expected --vectors PATH with --vectors-mode / --vectors-missing"),
        (["--vectors", "MISSING"], r"Expected a vectors file or folder for --vectors\. Received: .*missing, which"),
        (["--vectors", "VECTORS", "--vectors-mode", "static"], r"argument --vectors-mode: invalid choice: 'static'"),
        (["--vectors", "VECTORS", "--model", "text-lstm"], None),  # another preset with an Embedding: runs
    ],
)
def test_bad_vectors_options_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str | None
) -> None:
    vectors = glove(tmp_path / "v.txt")
    extra = [str(tmp_path / "missing") if e == "MISSING" else str(vectors) if e == "VECTORS" else e for e in extra]
    run = tmp_path / "run"
    try:
        status = main([str(a) for a in ["train", "--data", reviews(tmp_path / "r.csv"), "--out", run, *SMALL, *extra]])
    except SystemExit as exit:  # argparse's own refusals (a choice) exit from the parser
        status = exit.code
    err = capsys.readouterr().err
    if match is None:
        assert status == 0, err
        return
    assert status == 2 and err.count("\n") == 1 and __import__("re").search(match, err), err
    assert not run.exists()


def test_series_refuse_vectors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^Expected texts for --vectors .*Received: .*\.npz, a series$"):
        DataSpec(str(tmp_path / "s.npz"), vectors=VectorSettings("v.txt"))


def test_a_resumed_run_refuses_a_changed_vectors_file(tmp_path: Path) -> None:
    from lstmlab.runs import resume_run, train_run

    data, vectors = reviews(tmp_path / "r.csv"), glove(tmp_path / "v.txt")
    calls = iter(range(100))
    result = train_run(run_spec(data, vectors), tmp_path / "run", stop=lambda: next(calls) >= 1)
    assert result is not None and result.interrupted
    glove(vectors, values=FILE_VALUES * 2)  # another file under the same name
    with pytest.raises(ValueError, match=r"^Expected the training data the run began with"):
        resume_run(tmp_path / "run")
    glove(vectors)
    resumed = resume_run(tmp_path / "run")
    assert resumed.scores is not None


@pytest.fixture(scope="module")
def frozen_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained with frozen vectors, for what comes after training."""
    folder = tmp_path_factory.mktemp("vectors-run")
    run = folder / "run"
    argv = ["train", "--data", reviews(folder / "r.csv"), "--vectors", glove(folder / "v.txt"), "--out", run]
    assert main([str(a) for a in [*argv, "--vectors-mode", "frozen", *SMALL]]) == 0
    return run


def test_a_vectors_run_serves_and_exports_without_the_file(frozen_run: Path, tmp_path: Path) -> None:
    import shutil
    import urllib.request

    from helpers import Server

    from lstmlab.runs.saved import predict_texts

    run = tmp_path / "run"
    shutil.copytree(frozen_run, run)
    (frozen_run.parent / "v.txt").rename(frozen_run.parent / "gone.txt")  # the vectors are weights: no file needed
    try:
        texts = ["good fine film", "bad awful plot", "sadly really"]
        expected = [prediction.label for prediction in predict_texts(run, texts)]
        server = Server(run)
        try:
            body = json.dumps({"texts": texts}).encode()
            request = urllib.request.Request(f"{server.url}/predict", body, {"content-type": "application/json"})
            answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        finally:
            server.stop()
        assert answer["labels"] == expected
        assert main(["export", str(run), "--format", "onnx"]) == 0
        assert (run / "model.onnx").stat().st_size > 0
        assert main(["export", str(run), "--format", "keras"]) == 0
        with __import__("zipfile").ZipFile(run / "model.keras") as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
        embedding_config = next(layer for layer in layers if layer["class_name"] == "Embedding")["config"]
        assert embedding_config["trainable"] is False  # Keras keeps the vectors frozen too
    finally:
        (frozen_run.parent / "gone.txt").rename(frozen_run.parent / "v.txt")


def test_a_streamed_corpus_starts_from_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    argv = ["train", "--data", reviews(tmp_path / "r.csv"), "--stream", "--vectors", glove(tmp_path / "v.txt")]
    assert main([str(a) for a in [*argv, "--vectors-mode", "frozen", "--out", run, *SMALL]]) == 0
    out = capsys.readouterr().out
    assert "vectors: v.txt (glove, 6 dimensions, frozen): 6 of " in out and "training tokens" not in out
    recorded = json.loads((run / "config.json").read_text())["dataset"]
    assert recorded["vectors"]["token_coverage"] is None
    vocabulary = tuple(recorded["encoder"]["vocabulary"])
    np.testing.assert_array_equal(rows_of(WORDS[:6], embedding(load_run(run).model), vocabulary), VALUES[:6])


def test_compare_and_tune_start_every_run_from_the_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, vectors = reviews(tmp_path / "r.csv"), glove(tmp_path / "v.txt")
    common = ["--data", data, "--vectors", vectors, "--vectors-mode", "frozen", "--epochs", "1"]
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "models",
        "text-lstm:units=4",
        "text-bilstm-pool:units=4",
        "--seeds",
        "2",
        "--ensemble",
        "1",
        "--no-baselines",
        "--out",
        out,
    ]
    assert main([str(a) for a in [*argv, *common]]) == 0, capsys.readouterr().err
    runs = json.loads((out / "runs.json").read_text())
    assert runs["data"]["vectors"] == {"file": "v.txt", "mode": "frozen", "missing": "random"}
    assert "- Every model started from the word vectors in v.txt (frozen)." in (out / "report.md").read_text()
    tuned = tmp_path / "tune"
    argv = ["tune", "qa-embedding-lstm", "--trials", "1", "--out", tuned, *common]
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    best = json.loads((tuned / "best" / "config.json").read_text())
    assert best["model"]["config"]["embed_dim"] == 6 and best["dataset"]["vectors"]["mode"] == "frozen"


def test_the_report_names_vectors_where_a_baseline_is_as_good_on_texts() -> None:
    import numpy as np

    from lstmlab.compare.data_report import VECTORS_HINT, Entry, _vectors_lines

    def entry(label: str, accuracy: list[float], baseline: bool) -> Entry:
        values = np.array(accuracy)
        return Entry(label, label, baseline, values, values, np.ones(3), np.ones(3))

    level = [entry("text-lstm", [0.7, 0.8, 0.75], False), entry("tfidf-logreg", [0.8, 0.8, 0.8], True)]
    ahead = [entry("text-lstm", [0.9, 0.9, 0.9], False), entry("tfidf-logreg", [0.8, 0.8, 0.8], True)]
    text = {"kind": "text", "vectors": None}
    assert _vectors_lines(text, level, "accuracy") == [f"- {VECTORS_HINT}"]
    assert _vectors_lines(text, ahead, "accuracy") == []
    assert _vectors_lines({"kind": "series", "vectors": None}, level, "accuracy") == []
