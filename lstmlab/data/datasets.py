"""The user's own labelled data as training and test sets: texts (fit the text encoder on the training split) or
multichannel series (fit the per-channel standardisation on the training split).

Everything needed to rebuild the same sets (paths, format, columns, split seed, settings) and to encode new inputs
(vocabulary and length, or channel means and deviations; class names) is plain JSON saved with the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..seeds import training_order_seed
from .bundled import is_bundled
from .loaders import Example, guess_text_format, load_texts
from .sequence import BatchStream, SequenceData
from .series import LabelledSeries, SeriesScaler, load_series
from .spec import STREAM_FORMATS, DataSpec, StreamSettings, guessed_text_format
from .stream import STREAM_ABOVE_BYTES, CorpusScan, Parts, RecordFormat, TextStream, scan
from .text import TextEncoder

__all__ = [
    "DataSets",
    "Encoder",
    "StreamedSets",
    "encoder_from_json",
    "load_split",
    "prepare_data",
    "saved_test_set",
    "scan_corpus",
    "stratified_split",
    "streamed_sets",
    "streamed_test_set",
    "with_auto_stream",
]

Encoder = TextEncoder | SeriesScaler  # fitted on the training split, saved with the model


def stratified_split(labels: list[str], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of a training and a test part with each class's share kept (at least one test example per class
    of two or more examples); shuffled by `seed`."""
    generator = torch.Generator().manual_seed(seed)
    train, test = [], []
    for label in sorted(set(labels)):
        members = [i for i, x in enumerate(labels) if x == label]
        order = [members[j] for j in torch.randperm(len(members), generator=generator).tolist()]
        count = max(1, round(fraction * len(members))) if len(members) > 1 else 0
        test += order[:count]
        train += order[count:]
    return sorted(train), sorted(test)


@dataclass(frozen=True)
class DataSets:
    train: SequenceData
    test: SequenceData
    encoder: Encoder


def encoder_from_json(value: dict[str, Any]) -> Encoder:
    return SeriesScaler.from_json(value) if "mean" in value else TextEncoder.from_json(value)


def _encode(encoder: TextEncoder, examples: list[Example]) -> SequenceData:
    token_lists = [encoder.tokens(e.text) for e in examples]
    for example, tokens in zip(examples, token_lists, strict=True):  # name the file and line of an empty text
        if not tokens:
            raise ValueError(f"Expected text with at least one token at {example.where}. Received: {example.text!r}")
    return encoder.dataset(token_lists, [e.label for e in examples])


def _check_known(test: list[Example], labels: list[str] | tuple[str, ...], known_by: str) -> None:
    unseen = next((e for e in test if e.label not in labels), None)
    if unseen is not None:
        raise ValueError(
            f"Expected test labels {known_by} ({list(labels)}). Received: {unseen.label!r} at {unseen.where}"
        )


def load_split(spec: DataSpec, *, test_only: bool = False) -> tuple[list[Example], list[Example]]:
    """The training and test examples: two files, or a stratified split of one by the spec's seed. `test_only`:
    the training file is not read where the test set has its own (training examples come back empty)."""

    def load(path: str) -> list[Example]:
        return load_texts(
            Path(path),
            data_format=spec.data_format,
            text_column=spec.text_column,
            label_column=spec.label_column,
            encoding=spec.encoding,
        )

    if spec.test_path is not None and test_only:
        return [], load(spec.test_path)
    examples = load(spec.path)
    if spec.test_path is not None:
        return _shuffled(examples, spec.split), load(spec.test_path)
    train_index, test_index = stratified_split([e.label for e in examples], spec.test_fraction, spec.split)
    return _shuffled([examples[i] for i in train_index], spec.split), [examples[i] for i in test_index]


def _shuffled(items: list[Any], seed: int) -> list[Any]:
    """The training examples in an order drawn by the split seed: files often list one class after another, and
    the validation split is the last part of the training set (as in Keras), so it must not be one class."""
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(training_order_seed(seed))).tolist()
    return [items[i] for i in order]


def load_series_split(spec: DataSpec, *, test_only: bool = False) -> tuple[LabelledSeries, LabelledSeries]:
    """Training and test series: an aeon archive's TRAIN and TEST splits, two files, or a stratified split.
    `test_only`: the training series are not read where the test set has its own (they come back empty)."""
    fmt = spec.data_format
    train: LabelledSeries | None = None
    if spec.aeon:
        train = None if test_only else load_series(spec.path, "aeon", "TRAIN")
        test = load_series(spec.path, "aeon", "TEST")
    elif spec.test_path is not None:
        train = None if test_only else load_series(spec.path, fmt)
        test = load_series(spec.test_path, fmt)
    else:
        every = load_series(spec.path, fmt)
        train_index, test_index = stratified_split(every.labels, spec.test_fraction, spec.split)
        train, test = every.take(train_index), every.take(test_index)
    if train is None:  # test_only
        return test.take([]), test
    order = _shuffled(list(range(len(train.labels))), spec.split)
    return train.take(order), test


def _check_known_series(test: LabelledSeries, labels: tuple[str, ...], known_by: str) -> None:
    unseen = next((i for i, label in enumerate(test.labels) if label not in labels), None)
    if unseen is not None:
        raise ValueError(
            f"Expected test labels {known_by} ({list(labels)}). Received: {test.labels[unseen]!r} in "
            f"{test.where(unseen)}"
        )


def _check_classes(labels: list[str], spec: DataSpec) -> None:
    if len(labels) < 2:
        raise ValueError(f"Expected at least two classes in {spec.path}. Received: only {labels}")


def saved_test_set(spec: DataSpec, encoder: Encoder) -> SequenceData | BatchStream:
    """A saved run's test set, rebuilt from its data spec and encoded with its own encoder (a streamed run's as a
    stream: one pass over the file finds its records)."""
    if spec.stream is not None and isinstance(encoder, TextEncoder):
        return streamed_test_set(spec, encoder)
    if isinstance(encoder, SeriesScaler):
        _, series = load_series_split(spec, test_only=True)
        _check_known_series(series, encoder.labels, "the model knows")
        return encoder.dataset(series)
    _, test = load_split(spec, test_only=True)
    _check_known(test, encoder.labels, "the model knows")
    return _encode(encoder, test)


def prepare_data(spec: DataSpec) -> DataSets:
    """Training and test sets from the spec: labels checked, the encoder (text vocabulary and length, or series
    standardisation) fitted on the training part only."""
    if spec.kind == "series":
        train_series, test_series = load_series_split(spec)
        labels = sorted(set(train_series.labels))
        _check_classes(labels, spec)
        _check_known_series(test_series, tuple(labels), "seen in training")
        if not test_series.labels:
            raise ValueError(f"Expected test series. Received: none from {spec.test_path or spec.path}")
        scaler = SeriesScaler.fit(train_series.values, labels, standardise=spec.standardise, source=train_series.source)
        return DataSets(scaler.dataset(train_series), scaler.dataset(test_series), scaler)
    train, test = load_split(spec)
    labels = sorted({e.label for e in train})
    _check_classes(labels, spec)
    _check_known(test, labels, "seen in training")
    if not test:
        raise ValueError(f"Expected test examples. Received: none from {spec.test_path or spec.path}")
    encoder = TextEncoder.fit([e.text for e in train], spec.text, labels)
    return DataSets(_encode(encoder, train), _encode(encoder, test), encoder)


def with_auto_stream(spec: DataSpec) -> tuple[DataSpec, str | None]:
    """The spec set to stream where its text files are larger than `STREAM_ABOVE_BYTES` in all (and in a format
    that streams), with a note saying so; else as it is."""
    if spec.stream is not None or spec.kind != "text" or is_bundled(spec.path):
        return spec, None
    paths = [Path(p) for p in (spec.path, spec.test_path) if p is not None]
    if (spec.data_format or guessed_text_format(spec.path)) not in STREAM_FORMATS or not all(
        p.is_file() for p in paths
    ):
        return spec, None
    size = sum(p.stat().st_size for p in paths)
    if size <= STREAM_ABOVE_BYTES:
        return spec, None
    note = f"data: streamed ({size / 2**30:.1f} GiB of text; --buffer and --loader-workers set how)"
    return dataclasses.replace(spec, stream=StreamSettings()), note


def _record_format(spec: DataSpec, path: str) -> RecordFormat:
    chosen = spec.data_format or guess_text_format(Path(path))
    return RecordFormat(path, chosen, spec.text_column, spec.label_column, spec.encoding)


def _parts(spec: DataSpec) -> Parts:
    """The parts of the training file: its test records by the split's seed (none where the test set is a file)."""
    return Parts(spec.split, 0.0 if spec.test_path is not None else spec.test_fraction)


def scan_corpus(spec: DataSpec) -> CorpusScan:
    """The pass over a streamed spec's training file: its vocabulary, length and labels fitted on the records
    that are not test records (a separate test file: all of them)."""
    assert spec.stream is not None
    if not Path(spec.path).exists():
        raise ValueError(f"Expected a data file or folder. Received: {spec.path} does not exist")
    return scan(_record_format(spec, spec.path), spec.text, spec.stream, _parts(spec))


@dataclass(frozen=True)
class StreamedSets:
    """A streamed corpus's training, validation and test parts."""

    train: TextStream
    validation: TextStream | None
    test: TextStream
    encoder: TextEncoder
    scan: CorpusScan


def streamed_sets(
    spec: DataSpec, found: CorpusScan, *, validation: float, batch_size: int, seed: int, fixed_width: bool
) -> StreamedSets:
    """The parts of a scanned corpus as streams: training batches shuffled by `seed`, validation (the
    `validation` share of the non-test records) and test batches in file order."""
    assert spec.stream is not None
    encoder = found.encoder
    parts = dataclasses.replace(_parts(spec), validation=validation)
    common = {"settings": spec.stream, "parts": parts, "fixed_width": fixed_width}
    train = TextStream(found, "train", batch_size, seed=seed, **common)  # type: ignore[arg-type]
    if len(train) == 0:
        raise ValueError(f"Expected training examples. Received: none left in {spec.path} after the split")
    held = None
    if validation > 0:
        held = TextStream(found, "validation", max(batch_size, 256), shuffle=False, **common)  # type: ignore[arg-type]
    test = streamed_test_set(spec, encoder, found if spec.test_path is None else None, fixed_width=fixed_width)
    return StreamedSets(train, held, test, encoder, found)


def streamed_test_set(
    spec: DataSpec, encoder: TextEncoder, found: CorpusScan | None = None, *, fixed_width: bool = False
) -> TextStream:
    """The test part of a streamed spec, encoded by `encoder`: its own file (scanned here) or the test records of
    the scanned training file `found` (scanned here when None)."""
    assert spec.stream is not None
    batch = 256
    if spec.test_path is not None:
        if not Path(spec.test_path).exists():
            raise ValueError(f"Expected a test data file or folder. Received: {spec.test_path} does not exist")
        test_found = scan(_record_format(spec, spec.test_path), spec.text, spec.stream, Parts(), labels_from="all")
        unseen = sorted(set(test_found.encoder.labels) - set(encoder.labels))
        if unseen:
            raise ValueError(
                f"Expected test labels seen in training ({list(encoder.labels)}). Received: {unseen[0]!r} in "
                f"{spec.test_path}"
            )
        test_found = dataclasses.replace(test_found, encoder=encoder)
        stream = TextStream(test_found, "all", batch, spec.stream, shuffle=False, fixed_width=fixed_width)
    else:
        found = dataclasses.replace(found or scan_corpus(spec), encoder=encoder)
        stream = TextStream(found, "test", batch, spec.stream, _parts(spec), shuffle=False, fixed_width=fixed_width)
    if len(stream) == 0:
        raise ValueError(f"Expected test examples. Received: none from {spec.test_path or spec.path}")
    return stream
