"""Streamed text corpora (`data.stream`): the pass reads every record the in-memory loaders read and fits the
encoder they fit; each epoch yields every training record once, in length-sorted batches whose number is known
beforehand; a model scores a stream as it scores the same texts in memory; bad records fail in one line."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmlab import build_model
from lstmlab.cli import main
from lstmlab.data import SequenceData
from lstmlab.data.loaders import load_texts
from lstmlab.data.spec import StreamSettings, TextSettings
from lstmlab.data.stream import BoundedCounts, Parts, RecordFormat, TextStream, scan
from lstmlab.data.text import TextEncoder, Vocabulary, tokenize
from lstmlab.training import TrainConfig, Trainer, evaluate

WORDS = [f"w{i}" for i in range(200)]


def _texts(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Texts of 1-40 words whose first word gives the label away; some hold quotes, commas and newlines."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        label = rng.choice(["pos", "neg", "mixed"])
        cue = {"pos": "good", "neg": "bad", "mixed": "so"}[label]
        words = [cue, *(rng.choice(WORDS) for _ in range(rng.randint(0, 39)))]
        if i % 7 == 0:
            words.append('said "odd, very\nodd"')
        rows.append((" ".join(words), label))
    return rows


def _write(path: Path, rows: list[tuple[str, str]], data_format: str) -> Path:
    if data_format in ("csv", "tsv"):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="," if data_format == "csv" else "\t")
            writer.writerow(["label", "text"])
            writer.writerows([(label, text) for text, label in rows])
    elif data_format == "jsonl":
        path.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows), encoding="utf-8")
    else:  # tab-lines: one line a text
        path.write_text("".join(f"{t.replace(chr(10), ' ')}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    return path


SMALL = StreamSettings(buffer=64, workers=0, shard_records=37)


@pytest.mark.parametrize("data_format", ["csv", "tsv", "jsonl", "tab-lines"])
def test_the_pass_reads_what_the_loader_reads_and_fits_what_the_encoder_fits(data_format: str, tmp_path: Path) -> None:
    path = _write(tmp_path / f"texts.{data_format}", _texts(500), data_format)
    examples = load_texts(path, data_format=data_format)  # the in-memory loader: the oracle
    parts = Parts(seed=5, test_fraction=0.2)
    found = scan(RecordFormat(str(path), data_format), TextSettings(max_words=100), SMALL, parts)
    assert found.records == len(examples) == 500 and len(found.shards) == -(-500 // 37)
    numbers = parts.numbers(0, 500)
    assert found.counts == {"train": int((numbers == 0).sum()), "validation": 0, "test": int((numbers == 2).sum())}
    kept = [e for e, n in zip(examples, numbers, strict=True) if n != 2]
    labels = sorted({e.label for e in kept})
    expected = TextEncoder.fit([e.text for e in kept], TextSettings(max_words=100), labels)
    assert found.encoder == expected  # vocabulary (ties in file order), 95th-percentile length, labels
    # every shard read alone gives its records, in order
    stream = TextStream(found, "all", 8, SMALL, shuffle=False)
    texts = []
    for batch in stream.epoch(0):
        texts += [tuple(row[: int(n)].tolist()) for row, n in zip(batch.x, batch.lengths, strict=True)]
    wanted = [tuple(found.encoder.vocabulary.ids(tokenize(e.text))[: found.encoder.max_len]) for e in examples]
    assert Counter(texts) == Counter(wanted)


def test_bounded_counts_are_exact_under_their_cap_and_keep_the_frequent_words_past_it() -> None:
    rng = np.random.default_rng(0)
    zipf = [f"t{int(i)}" for i in rng.zipf(1.3, 200_000) if i < 10**6]
    exact = Counter(zipf)
    roomy, tight = BoundedCounts(10**6), BoundedCounts(2_000)
    for start in range(0, len(zipf), 500):
        roomy.update(zipf[start : start + 500])
        tight.update(zipf[start : start + 500])
    assert roomy.counts == exact and roomy.floor == 0
    assert len(tight.counts) <= 2_000 + 500 and tight.floor > 0
    top = Vocabulary.from_counts(exact, max_words=102).words
    assert tight.vocabulary(102, 1).words == top  # the 100 most frequent words, in order


def test_parts_are_disjoint_cover_every_record_and_keep_their_shares() -> None:
    parts = Parts(seed=3, test_fraction=0.1, validation=0.2)
    train, validation, test = (parts.mask(p, 1000, 50_000) for p in ("train", "validation", "test"))  # type: ignore[arg-type]
    assert np.array_equal(train.astype(int) + validation + test, np.ones(50_000))
    assert test.mean() == pytest.approx(0.1, abs=0.006)  # 4 standard deviations
    assert validation.mean() == pytest.approx(0.9 * 0.2, abs=0.007)
    assert np.array_equal(parts.mask("test", 1000, 50_000), test)  # the same in every pass
    assert not np.array_equal(Parts(seed=4, test_fraction=0.1).mask("test", 1000, 50_000), test)


@pytest.mark.parametrize(("workers", "buffer", "batch"), [(0, 64, 8), (2, 64, 8), (2, 50, 16), (1, 10_000, 32)])
def test_an_epoch_yields_every_training_record_once_in_length_sorted_batches(
    workers: int, buffer: int, batch: int, tmp_path: Path
) -> None:
    path = _write(tmp_path / "t.csv", _texts(700), "csv")
    settings = StreamSettings(buffer=buffer, workers=workers, shard_records=37)
    parts = Parts(seed=1, test_fraction=0.1, validation=0.1)
    found = scan(RecordFormat(str(path), "csv"), TextSettings(max_words=300), settings, parts)
    stream = TextStream(found, "train", batch, settings, parts, seed=9)
    oracle = TextStream(found, "train", 1, StreamSettings(buffer=1, workers=0, shard_records=37), parts, shuffle=False)
    wanted = Counter((tuple(b.x[0, : int(b.lengths[0])].tolist()), int(b.y[0])) for b in oracle.epoch(0))
    assert sum(wanted.values()) == len(stream)
    epochs = []
    for epoch in (0, 1):
        batches = list(stream.epoch(epoch))
        assert len(batches) == stream.epoch_length(epoch)
        seen = Counter()
        padded = 0
        for b in batches:
            longest = int(b.lengths.max())  # a batch pads to its own longest text, rounded up to 16 (or max_len)
            assert b.x.shape[1] == min(found.encoder.max_len, -(-longest // 16) * 16)
            padded += b.x.numel()
            for row, n, y in zip(b.x, b.lengths, b.y, strict=True):
                assert not row[int(n) :].any()  # padding after each text
                seen[(tuple(row[: int(n)].tolist()), int(y))] += 1
        assert seen == wanted
        assert padded < 0.8 * len(stream) * found.encoder.max_len  # bucketing pads less than max_len would
        epochs.append([b.y.tolist() for b in batches])
    assert epochs[0] != epochs[1]  # each epoch its own order
    assert [b.y.tolist() for b in stream.epoch(1)] == epochs[1]  # and the same order when read again


def test_a_model_scores_a_stream_as_it_scores_the_same_texts_in_memory(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", _texts(300), "jsonl")
    parts = Parts(seed=2, test_fraction=0.3)
    found = scan(RecordFormat(str(path), "jsonl"), TextSettings(max_words=150), SMALL, parts)
    stream = TextStream(found, "test", 16, SMALL, parts, shuffle=False)
    examples = [e for e, n in zip(load_texts(path), parts.numbers(0, 300), strict=True) if n == 2]
    ids, lengths = found.encoder.encode([e.text for e in examples])  # padded to max_len, in memory
    memory = SequenceData(ids, torch.tensor([found.encoder.labels.index(e.label) for e in examples]), lengths)
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=found.encoder.vocabulary.size, max_len=None, num_classes=3)
    a, b = evaluate(model, stream), evaluate(model, memory)
    assert a.count == b.count == len(examples)
    assert a.loss == pytest.approx(b.loss, rel=1e-6) and a.confusion == b.confusion


def test_a_streamed_run_resumes_bit_for_bit(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", _texts(400), "csv")
    parts = Parts(seed=0, test_fraction=0.1)
    found = scan(RecordFormat(str(path), "csv"), TextSettings(max_words=100), SMALL, parts)
    stream = TextStream(found, "train", 16, SMALL, parts, seed=4)
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=1e-2, seed=1)

    def model() -> torch.nn.Module:
        torch.manual_seed(3)
        options = {"vocab_size": found.encoder.vocabulary.size, "embed_dim": 8, "units": 4, "num_classes": 3}
        options["max_len"] = None
        return build_model("text-bilstm-pool", **options)

    whole = Trainer(model(), stream, config=config)
    whole.run()
    assert whole.total == stream.epoch_length(0) + stream.epoch_length(1)
    first = Trainer(model(), stream, config=config)
    first.run(stop=lambda: first.updates == stream.epoch_length(0) + 3)
    tensors, meta = first.state()
    second = Trainer(model(), stream, config=config)
    second.load_state(tensors, json.loads(json.dumps(meta)))
    second.run()
    for key, value in whole.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[key], value), key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("label,text\npos,fine\nneg\n", "Expected a text and a label field at {path}:3. Received: ['neg']"),
        ('label,text\npos,"open\n', "Expected a closing quote for the record at {path}:2"),
        ("label,text\npos,fine\nneg, ,\n", "Expected a non-empty text at {path}:3"),
        ("label,words\npos,fine\n", "Expected a column 'text' in {path}"),
        ("label,text\npos,fine\nneg,!!! \xff\n", None),
    ],
)
def test_a_bad_record_fails_the_pass_in_one_line(content: str, message: str | None, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="latin-1")
    if message is None:  # latin-1 bytes read as utf-8
        message = "Expected utf-8 text in {path}:3. Received: undecodable bytes"
    with pytest.raises(ValueError, match="^Expected") as error:
        scan(RecordFormat(str(path), "csv"), TextSettings(), SMALL, Parts())
    assert message.format(path=path) in str(error.value) and "\n" not in str(error.value)


def test_the_command_line_streams_saves_and_scores_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "t.csv", _texts(600), "csv")
    out = tmp_path / "run"
    argv = ["train", "--data", str(path), "--stream", "--loader-workers", "1", "--buffer", "128", "--epochs", "3"]
    argv += [
        "--learning-rate",
        "0.01",
        "--set",
        "units=8",
        "--set",
        "embed_dim=8",
        "--ensemble",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "streamed, 3 epochs" in printed and "a hashed 10% split, seed 0" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"]["spec"]["stream"]["buffer"] == 128 and config["dataset"]["stream"]["records"] == 600
    metrics = json.loads((out / "metrics.json").read_text())["test"]
    assert metrics["accuracy"] > 0.9  # the first word gives the label away
    assert main(["evaluate", str(out)]) == 0  # the saved run streams its test part again
    assert f"accuracy {metrics['accuracy']:.4f}" in capsys.readouterr().out
    texts = tmp_path / "new.txt"
    texts.write_text("good w1 w2\nbad w3\n")
    assert main(["predict", str(out), "--text-file", str(texts)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "pos" in lines[-2] and "neg" in lines[-1]


def test_streaming_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "t.csv", _texts(50), "csv")
    folder = tmp_path / "folder"
    (folder / "pos").mkdir(parents=True)
    (folder / "pos" / "a.txt").write_text("good")
    cases = [
        (["--data", str(path), "--stream", "--padding", "pre"], "Expected padding='post' for a streamed corpus"),
        (["--data", str(folder / "pos"), "--stream"], "Expected texts as csv, tsv, jsonl, tab-lines, folder to stream"),
        (["--task", "cumsum", "--stream"], "they describe --data"),
        (["--data", "uci:yelp", "--stream"], "Expected a file or folder of yours to stream"),
        (["--data", str(tmp_path / "missing.csv"), "--stream"], "missing.csv does not exist"),
        (["--data", str(path), "--stream", "--loader-workers", "-1"], "Expected loader workers >= 0"),
    ]
    for argv, message in cases:
        out = tmp_path / "never"
        assert main(["train", *argv, "--epochs", "1", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1 and not out.exists()


def test_a_large_file_streams_without_being_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import lstmlab.data.datasets as datasets

    monkeypatch.setattr(datasets, "STREAM_ABOVE_BYTES", 1000)
    path = _write(tmp_path / "t.csv", _texts(200), "csv")
    argv = ["train", "--data", str(path), "--epochs", "1", "--set", "units=4", "--ensemble", "1"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    assert "data: streamed (0.0 GiB of text; --buffer and --loader-workers set how)" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]["spec"]["stream"] is not None


def test_a_test_label_never_seen_in_training_fails_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _texts(100)
    parts = Parts(seed=0, test_fraction=0.1)
    first_test = int(np.flatnonzero(parts.mask("test", 0, 100))[0])
    rows[first_test] = ("an odd one", "surprise")  # a label only a test record has
    path = _write(tmp_path / "t.csv", rows, "csv")
    with pytest.raises(ValueError, match=r"Expected test labels seen in training \(\['mixed', 'neg', 'pos'\]\)"):
        scan(RecordFormat(str(path), "csv"), TextSettings(), SMALL, parts)
    test = _write(tmp_path / "test.csv", [("good w1", "pos"), ("so w2", "other")], "csv")
    train = _write(tmp_path / "train.csv", _texts(100), "csv")
    out = tmp_path / "run"
    argv = ["train", "--data", str(train), "--test-data", str(test), "--stream", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Expected test labels seen in training" in err and "Received: 'other'" in err and not out.exists()


def test_a_folder_of_class_folders_streams_its_documents(tmp_path: Path) -> None:
    folder = tmp_path / "reviews"
    for number, (text, label) in enumerate(_texts(120)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        (folder / label / f"{number:04d}.txt").write_text(text, encoding="utf-8")
    (folder / "unsup").mkdir()
    (folder / "unsup" / "x.txt").write_text("not a labelled document")
    examples = load_texts(folder)  # the in-memory loader's order and checks
    parts = Parts(seed=1, test_fraction=0.25)
    found = scan(RecordFormat(str(folder), "folder"), TextSettings(max_words=80), SMALL, parts)
    assert found.records == len(examples) == 120 and len(found.shards) == 4  # 37 documents a shard
    kept = [e for e, n in zip(examples, parts.numbers(0, 120), strict=True) if n != 2]
    assert found.encoder == TextEncoder.fit([e.text for e in kept], TextSettings(max_words=80), ["mixed", "neg", "pos"])
    stream = TextStream(found, "test", 8, StreamSettings(buffer=16, workers=1, shard_records=37), parts, seed=2)
    tested = [e for e, n in zip(examples, parts.numbers(0, 120), strict=True) if n == 2]
    got = Counter()
    for batch in stream.epoch(0):
        for row, n, y in zip(batch.x, batch.lengths, batch.y, strict=True):
            got[(tuple(row[: int(n)].tolist()), found.encoder.labels[int(y)])] += 1
    ids = found.encoder.vocabulary.ids
    assert got == Counter((tuple(ids(tokenize(e.text))[: found.encoder.max_len]), e.label) for e in tested)
    (folder / "pos" / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match=r"Expected a non-empty text at .*empty\.txt"):
        scan(RecordFormat(str(folder), "folder"), TextSettings(), SMALL, parts)
