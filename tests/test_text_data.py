"""Raw text in: tokenizer, vocabulary, padding, every loader format, bad input, and train -> predict on raw text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from lstmlab.cli import main
from lstmlab.data.datasets import prepare_data, stratified_split
from lstmlab.data.loaders import guess_text_format, load_texts
from lstmlab.data.spec import DataSpec, TextSettings
from lstmlab.data.text import OOV, PAD, TextEncoder, Vocabulary, pad_sequences, tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
POSITIVE = ["a great film", "great acting, great story", "i loved it", "wonderful and great", "loved the story"]
NEGATIVE = ["a dull film", "boring story, bad acting", "i hated it", "awful and dull", "hated the ending"]


def test_tokenize_words_punctuation_and_chars() -> None:
    assert tokenize("Don't stop -- it's GREAT!") == ["don't", "stop", "-", "-", "it's", "great", "!"]
    assert tokenize("Café, naïve") == ["café", ",", "naïve"]
    assert tokenize("A b", lower=False) == ["A", "b"]
    assert tokenize("ab  c", level="char") == ["a", "b", " ", "c"]
    assert tokenize("a\u0085b") == ["a", "b"]  # NEL is white space inside a line, not a token


def test_vocabulary_by_count_then_first_seen_with_reserved_ids() -> None:
    vocabulary = Vocabulary.build([["b", "a", "b"], ["c", "a", "b", "d"]], max_words=5)
    assert vocabulary.words == ("b", "a", "c")  # counts 3, 2, then c before d (first seen); 5 - 2 reserved = 3
    assert vocabulary.size == 5
    assert vocabulary.ids(["a", "b", "zzz", "d"]) == [3, 2, OOV, OOV]
    assert Vocabulary.build([["x", "y", "x"]], min_count=2).words == ("x",)
    with pytest.raises(ValueError, match="Expected max_words >= 3"):
        Vocabulary.build([], max_words=2)


def test_pad_and_truncate_both_sides_by_hand() -> None:
    rows = [[5, 6, 7, 8], [9]]
    ids, lengths = pad_sequences(rows, 3)
    assert ids.tolist() == [[5, 6, 7], [9, PAD, PAD]] and lengths.tolist() == [3, 1]
    ids, _ = pad_sequences(rows, 3, truncating="pre", padding="pre")
    assert ids.tolist() == [[6, 7, 8], [PAD, PAD, 9]]
    with pytest.raises(ValueError, match="Expected padding 'pre' or 'post'"):
        pad_sequences(rows, 3, padding="left")  # type: ignore[arg-type]


def test_encoder_fits_on_training_texts_only_and_round_trips_json() -> None:
    encoder = TextEncoder.fit(["good good film", "bad film"], TextSettings(max_len=4), ["neg", "pos"])
    ids, lengths = encoder.encode(["good unseen film"])
    assert ids.tolist() == [[2, OOV, 3, PAD]] and lengths.tolist() == [3]
    again = TextEncoder.from_json(json.loads(json.dumps(encoder.to_json())))
    assert again == encoder
    assert torch.equal(again.encode(["bad film"])[0], encoder.encode(["bad film"])[0])
    assert TextEncoder.fit(["a b c d", "a", "a b"] * 10, TextSettings()).max_len == 4  # 95th percentile


def test_stratified_split_keeps_class_shares_and_follows_the_seed() -> None:
    labels = ["a"] * 30 + ["b"] * 10
    train, test = stratified_split(labels, 0.2, seed=3)
    assert sorted(train + test) == list(range(40))
    assert [labels[i] for i in test].count("a") == 6 and [labels[i] for i in test].count("b") == 2
    assert stratified_split(labels, 0.2, seed=3) == (train, test)
    assert stratified_split(labels, 0.2, seed=4) != (train, test)


def write_all_formats(root: Path) -> dict[str, Path]:
    texts = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    paths = {}
    paths["csv"] = root / "reviews.csv"
    paths["csv"].write_text('review,label\n"a, quoted ""text""",pos\n' + "".join(f'"{t}",{y}\n' for t, y in texts[1:]))
    paths["tsv"] = root / "reviews.tsv"
    paths["tsv"].write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in texts))
    paths["jsonl"] = root / "reviews.jsonl"
    paths["jsonl"].write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in texts))
    paths["tab-lines"] = root / "sentences.txt"
    paths["tab-lines"].write_text("".join(f"{t}\t{1 if y == 'pos' else 0}\r\n" for t, y in texts))
    folder = root / "imdb"
    for label in ("pos", "neg", "unsup"):
        (folder / label).mkdir(parents=True)
    for i, (t, y) in enumerate(texts):
        (folder / y / f"{i}_7.txt").write_text(t)
    (folder / "unsup" / "0_0.txt").write_text("unlabelled")
    paths["folder"] = folder
    classes = root / "polarity"
    classes.mkdir()
    (classes / "rt-polarity.pos").write_text("\n".join(POSITIVE) + "\n")
    (classes / "rt-polarity.neg").write_text("\n".join(NEGATIVE))
    (classes / "README.txt").write_text("about these files")
    paths["class-files"] = classes
    return paths


def test_every_format_is_guessed_and_read(tmp_path: Path) -> None:
    for name, path in write_all_formats(tmp_path).items():
        assert guess_text_format(path) == name
        column = "review" if name == "csv" else "text"
        examples = load_texts(path, text_column=column)
        assert len(examples) == 10, name
        labels = {e.label for e in examples}
        assert labels == ({"0", "1"} if name == "tab-lines" else {"pos", "neg"}), name
    csv_examples = load_texts(tmp_path / "reviews.csv", text_column="review")
    assert csv_examples[0].text == 'a, quoted "text"' and csv_examples[0].where.endswith("reviews.csv:2")


BAD = [
    ("empty.csv", "text,label\n,pos\n", {}, r"Expected a non-empty text at .*empty.csv:2"),
    ("nolabel.csv", "text,label\nfine,\n", {}, r"Expected a label at .*nolabel.csv:2"),
    (
        "cols.csv",
        "body,y\nfine,pos\n",
        {},
        r"Expected a column 'text' in .*cols.csv .*Received: columns \['body', 'y'\]",
    ),
    ("short.csv", "text,label\nonly one field\n", {}, r"Expected 2 fields at .*short.csv:2"),
    ("notjson.jsonl", "text,label\n", {}, r"Expected one JSON object a line at .*notjson.jsonl:1"),
    ("keys.jsonl", '{"body": "x", "label": 1}\n', {}, r"Expected an object with 'text' and 'label' at .*keys.jsonl:1"),
    ("notabs.txt", "a sentence without a label\n", {}, r"Expected 'sentence<TAB>label' at .*notabs.txt:1"),
    ("data.xlsx", "x", {}, r"Expected a .csv, .tsv, .jsonl or .txt file"),
]


@pytest.mark.parametrize(("name", "content", "options", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_name_the_file_and_row(
    tmp_path: Path, name: str, content: str, options: dict[str, str], message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_texts(path, **options)


def test_undecodable_bytes_name_the_line_and_encoding_fixes_them(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("fine\t1\ncaf\xe9 au lait\t0\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"Expected utf-8 text in .*latin.txt:2. Received: undecodable bytes"):
        load_texts(path)
    assert load_texts(path, encoding="latin-1")[1].text == "café au lait"
    with pytest.raises(ValueError, match="Expected a known text encoding"):
        load_texts(path, encoding="klingon")


def test_label_problems_across_splits(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("good\t1\nfine\t1\nnice\t1\n")
    with pytest.raises(ValueError, match=r"Expected at least two classes in .*one.txt. Received: only \['1'\]"):
        prepare_data(DataSpec(str(one)))
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_text("good\t1\nbad\t0\n")
    test.write_text("good\t1\nso so\t2\n")
    with pytest.raises(ValueError, match=r"Expected test labels seen in training .*Received: '2' at .*test.txt:2"):
        prepare_data(DataSpec(str(train), test_path=str(test)))
    symbols = tmp_path / "symbols.txt"
    symbols.write_text("good\t1\n   \u0085\t0\n")
    with pytest.raises(ValueError, match=r"Expected a non-empty text at .*symbols.txt:2|at least one token"):
        prepare_data(DataSpec(str(symbols), test_path=str(symbols)))


def test_train_on_raw_text_then_predict_and_evaluate_from_the_saved_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows * 6))
    test = tmp_path / "test.csv"
    test.write_text('text,label\n"great, loved it",pos\n"dull and boring",neg\n')
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--test-data", str(test), "--out", str(out), "--epochs", "15"]
    argv += ["--set", "units=8", "--set", "embed_dim=8", "--set", "dropout=0.0", "--learning-rate", "0.01"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "model: text-bilstm-pool" in printed and "accuracy 1.0000 over 2" in printed
    config = json.loads((out / "config.json").read_text())
    assert "(15 epochs, cosine learning rate, all 60 training examples, the last epoch kept)" in printed
    assert config["train"]["validation_split"] == 0.0 and config["train"]["schedule"] == "cosine"  # few texts
    assert config["dataset"]["encoder"]["labels"] == ["neg", "pos"]
    assert "great" in config["dataset"]["encoder"]["vocabulary"]
    assert main(["predict", str(out), "--text", "a great story, loved it", "--text", "dull, boring, hated it"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["pos", "neg"]
    assert main(["evaluate", str(out)]) == 0
    assert "accuracy 1.0000 over 2" in capsys.readouterr().out
    data.unlink()  # the test set has its own file: evaluating does not need (or read) the training file
    assert main(["evaluate", str(out)]) == 0
    assert "accuracy 1.0000 over 2" in capsys.readouterr().out
    assert main(["predict", str(out)]) == 2
    assert "Expected --text TEXT or --text-file FILE" in capsys.readouterr().err


def test_text_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.txt"
    data.write_text("".join(f"{t}\t1\n" for t in POSITIVE) + "".join(f"{t}\t0\n" for t in NEGATIVE))
    cases = [
        (["--data", str(tmp_path / "missing.csv")], "does not exist"),
        (["--data", str(data), "--model", "tutorial-lstm"], "Expected a model that reads token ids"),
        (["--data", str(data), "--padding", "pre"], "Expected padding='post' with mask_zero=true"),
        (
            ["--test-data", str(data)],
            "Expected only options that apply to this run (they describe --data). Received: ['--test-data']",
        ),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert main(["train", *extra, "--out", str(out), "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not (out / "model.safetensors").exists()


@pytest.mark.skipif(not (SHARED / "uci_sentiment").is_dir(), reason="needs ../shared/datasets (development data)")
def test_shared_uci_files_load_with_nel_inside_lines() -> None:
    examples = load_texts(SHARED / "uci_sentiment" / "imdb_labelled.txt")
    assert len(examples) == 1000 and {e.label for e in examples} == {"0", "1"}


def test_training_order_mixes_classes_for_the_validation_tail(tmp_path: Path) -> None:
    folder = tmp_path / "classes"  # one file per class: every 'neg' line comes before every 'pos' line
    folder.mkdir()
    (folder / "neg.txt").write_text("\n".join(f"bad {i}" for i in range(20)) + "\n")
    (folder / "pos.txt").write_text("\n".join(f"good {i}" for i in range(20)) + "\n")
    sets = prepare_data(DataSpec(str(folder), test_fraction=0.25))
    tail = sets.train.y[-8:]  # what a 0.25 validation split holds out
    assert 0 < int(tail.sum()) < 8


def test_pre_padded_runs_predict_as_they_were_trained_and_scored(tmp_path: Path) -> None:
    """With padding='pre' (mask_zero off) the model reads whole rows in training and scoring, so prediction on raw
    text must too: the same texts give the same probabilities through both paths."""
    from lstmlab.data import SequenceData
    from lstmlab.runs.saved import load_run, predict_texts
    from lstmlab.training import predict

    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows * 3))
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--out", str(out), "--epochs", "2", "--padding", "pre"]
    assert main([*argv, "--set", "mask_zero=false", "--set", "units=4", "--set", "embed_dim=4", "--max-len", "6"]) == 0
    run = load_run(out)
    _, encoder = run.data
    ids, lengths = encoder.encode(POSITIVE)  # type: ignore[union-attr]
    assert lengths is None and bool((ids[:, 0] == 0).any())  # pre-padded, nothing says where the padding ends
    through_predict = [found.confidence for found in predict_texts(out, POSITIVE)]
    as_scored = predict(run.model, SequenceData(ids, torch.zeros(len(POSITIVE), dtype=torch.long)))
    assert through_predict == [max(float(p), 1 - float(p)) for p in as_scored[:, 0]]


def test_larger_text_sets_hold_out_a_tenth_and_keep_the_best_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lstmlab.runs.defaults as defaults

    data = tmp_path / "d.txt"
    data.write_text(("".join(f"{t}\t1\n" for t in POSITIVE) + "".join(f"{t}\t0\n" for t in NEGATIVE)) * 4)

    def config(kind: str, size: int) -> object:
        return defaults.training_config(defaults.TrainChoices(), seed=0, preset="p", kind=kind, train_size=size)

    assert config("text", defaults.SMALL_TEXT - 1).validation_split == 0.0  # type: ignore[attr-defined]
    assert config("text", defaults.SMALL_TEXT).validation_split == 0.1  # type: ignore[attr-defined]
    # series of any size train on all of it (only their epochs grow for small sets: at least 2000 updates)
    assert config("series", 10).validation_split == config("series", 10**6).validation_split == 0.0  # type: ignore[attr-defined]
    monkeypatch.setattr(defaults, "SMALL_TEXT", 10)  # these few texts count as many
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(out), "--set", "units=4", "--set", "embed_dim=4"]) == 0
    printed = capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    size = config["data"]["train_size"]
    assert f"(10 epochs, constant learning rate, the best epoch by val_loss on the last 10% of {size} kept)" in printed
    assert config["train"]["validation_split"] == 0.1 and config["train"]["schedule"] == "constant"


def test_a_run_finds_its_data_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A relative --data is recorded as an absolute path, so evaluate works from elsewhere; named sets stay names."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "d.txt").write_text("".join(f"good fine {i}\t1\nbad awful {i}\t0\n" for i in range(10)))
    monkeypatch.chdir(tmp_path / "a")
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "1", "--ensemble", "1"]
    assert main(["train", "--data", "d.txt", "--out", str(tmp_path / "run"), *small]) == 0
    assert "on d.txt (" in capsys.readouterr().out  # printed as given
    spec = json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]["spec"]
    assert spec["path"] == str(tmp_path / "a" / "d.txt") and spec["split_seed"] == 0
    monkeypatch.chdir(tmp_path / "b")
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    assert f"the stratified 10% split of {tmp_path / 'a' / 'd.txt'}, seed 0" in capsys.readouterr().out


def _padded_row_by_row(sequences: list[list[int]], max_len: int, truncating: str, padding: str) -> tuple[Any, Any]:
    """The oracle: each row cut and placed on its own, as Keras's `pad_sequences` describes it."""
    out = torch.zeros(len(sequences), max_len, dtype=torch.long)
    lengths = torch.zeros(len(sequences), dtype=torch.long)
    for row, ids in enumerate(sequences):
        kept = ids[-max_len:] if truncating == "pre" else ids[:max_len]
        if kept:
            where = slice(0, len(kept)) if padding == "post" else slice(max_len - len(kept), max_len)
            out[row, where] = torch.tensor(kept)
        lengths[row] = len(kept)
    return out, lengths


@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_pad_sequences_places_every_row_as_alone(truncating: str, padding: str) -> None:
    gen = torch.Generator().manual_seed(0)
    sequences = [
        torch.randint(2, 50, (int(n),), generator=gen).tolist() for n in torch.randint(0, 12, (40,), generator=gen)
    ]
    sequences += [[], [7] * 8, list(range(2, 20))]  # empty, exactly max_len, longer than it
    got = pad_sequences(sequences, 8, truncating=truncating, padding=padding)  # type: ignore[arg-type]
    expected = _padded_row_by_row(sequences, 8, truncating, padding)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    assert got[0].dtype == torch.long and got[1].dtype == torch.long
    empty = pad_sequences([], 5)
    assert empty[0].shape == (0, 5) and empty[1].shape == (0,)
