"""Text corpora larger than memory: one pass over the file builds the vocabulary, then every epoch streams it.

- **The pass** (`scan`): reads the file once, record by record (a line; in CSV / TSV, lines joined while a quoted
  field is open), checks every record (the same one-line errors as `loaders`), counts the training records'
  tokens with bounded memory (`BoundedCounts`), their lengths (a histogram) and the labels, and notes where every
  `shard_records`-th record starts (`Shard`: byte offsets, line and record numbers).
- **The parts**: record i is a test record where a seeded hash of i falls below the test fraction, and a
  validation record where a second hash falls below the validation split (`Parts`): a split that needs no
  list of records, the same in every pass and every worker. A separate test file is streamed whole.
- **An epoch** (`TextStream`): the shards in an order drawn from the seed and the epoch, dealt to the DataLoader's
  workers in turn; each worker fills a buffer of `buffer` records of its part, shuffles it, sorts it by length
  (bucketing: a batch pads to its longest text, rounded up to a multiple of 16, not to `max_len`), cuts it into
  batches and yields them in a shuffled order. Memory is bounded by the buffer (and the DataLoader's prefetched
  batches), not by the corpus.
  The number of batches of each epoch is known in advance (`epoch_length`), so that a schedule and a progress
  bar know the run's length.

Padding stays exact whatever a batch's width: lengths keep it out of both directions of a Bi-LSTM. Only
`padding='post'` streams (a pre-padded text is read padding included, as in Keras, so its width would matter).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .loaders import SKIPPED_FOLDERS, json_record, read_text
from .sequence import BatchStream, SequenceData
from .spec import StreamSettings, TextSettings
from .text import OOV, TextEncoder, Vocabulary, pad_sequences, tokenize

__all__ = [
    "STREAM_ABOVE_BYTES",
    "BoundedCounts",
    "CorpusScan",
    "Parts",
    "Shard",
    "TextStream",
    "scan",
]

STREAM_ABOVE_BYTES = 1 << 30  # `--data` files larger than this stream without --stream
Part = Literal["train", "validation", "test", "all"]
_MASK = (1 << 64) - 1


# ----------------------------------------------------------------------------------------- parts of the corpus
def _uniform(seed: int, salt: int, index: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) for each record number (SplitMix64 of the number, keyed by seed and salt)."""
    key = np.uint64((((seed & 0xFFFFFFFF) << 2 | salt) * 0x9E3779B97F4A7C15) & _MASK)
    with np.errstate(over="ignore"):
        z = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class Parts:
    """The corpus's parts by record number: test where the first hash < `test_fraction`; of the others,
    validation where the second hash < `validation`; the rest train."""

    seed: int = 0
    test_fraction: float = 0.0
    validation: float = 0.0

    def mask(self, part: Part, first: int, count: int) -> np.ndarray:
        """Which of records first..first+count-1 belong to `part`."""
        index = np.arange(first, first + count, dtype=np.int64)
        if part == "all":
            return np.ones(count, dtype=bool)
        test = _uniform(self.seed, 1, index) < self.test_fraction
        if part == "test":
            return test
        held = (_uniform(self.seed, 2, index) < self.validation) & ~test
        return held if part == "validation" else ~test & ~held

    def numbers(self, first: int, count: int) -> np.ndarray:
        """0 train, 1 validation, 2 test for records first..first+count-1."""
        out = np.zeros(count, dtype=np.int8)
        out[self.mask("validation", first, count)] = 1
        out[self.mask("test", first, count)] = 2
        return out


# ----------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Shard:
    """`records` records from byte `start` to byte `end` of the file, the first on line `line`, numbered from
    `first` in the corpus."""

    start: int
    end: int
    line: int
    first: int
    records: int


@dataclass(frozen=True)
class RecordFormat:
    """How a file's records become (text, label): its format, columns and encoding."""

    path: str
    data_format: str
    text_column: str = "text"
    label_column: str = "label"
    encoding: str = "utf-8"
    columns: tuple[int, int] = (-1, -1)  # CSV / TSV: the text's and the label's field numbers (from the header)

    @property
    def quoted(self) -> bool:
        return self.data_format in ("csv", "tsv")

    def parse(self, record: bytes, line: int) -> tuple[str, str]:
        where = f"{self.path}:{line}"
        try:
            value = record.decode(self.encoding).removesuffix("\n").removesuffix("\r")
        except LookupError:
            raise ValueError(f"Expected a known text encoding. Received: --encoding {self.encoding}") from None
        except UnicodeDecodeError as error:
            bad = record[error.start : error.end + 3]
            raise ValueError(
                f"Expected {self.encoding} text in {where}. Received: undecodable bytes {bad!r} (give --encoding, "
                "e.g. latin-1)"
            ) from None
        if self.data_format == "tab-lines":
            sentence, tab, label = value.rpartition("\t")
            if not tab:
                raise ValueError(f"Expected 'sentence<TAB>label' at {where}. Received: {value[:60]!r}")
            return _checked(sentence, label.strip(), where)
        if self.data_format == "jsonl":
            example = json_record(value, where, self.text_column, self.label_column)
            return _checked(example.text, example.label, where)
        fields = next(csv.reader([value], delimiter="," if self.data_format == "csv" else "\t"))
        text_at, label_at = self.columns
        if len(fields) <= max(text_at, label_at):
            raise ValueError(f"Expected a text and a label field at {where}. Received: {fields}")
        return _checked(fields[text_at], fields[label_at].strip(), where)


def _checked(text: str, label: str, where: str) -> tuple[str, str]:
    if not text.strip():
        raise ValueError(f"Expected a non-empty text at {where}. Received: {text!r}")
    if not label:
        raise ValueError(f"Expected a label at {where}. Received: an empty label")
    return text, label


def _raw_records(handle: IO[bytes], start: int, end: int, line: int, quoted: bool) -> Iterator[tuple[bytes, int, int]]:
    """(record, its first line, the offset after it) between two offsets; blank lines are skipped. `quoted`: a
    record goes on over newlines while a double quote is open (CSV's rule)."""
    handle.seek(start)
    position, pending, first, quotes = start, b"", line, 0
    while position < end:
        raw = handle.readline()
        if not raw:
            break
        position += len(raw)
        if quoted:
            quotes += raw.count(b'"')
            pending += raw
            line += 1
            if quotes % 2:
                continue
            record, pending, quotes = pending, b"", 0
        else:
            record = raw
            line += 1
        if record.strip():
            yield record, first, position
        first = line
    if pending.strip():
        raise ValueError(f"Expected a closing quote for the record at {handle.name}:{first}. Received: end of file")


def documents_of(path: Path) -> tuple[list[tuple[str, str]], int]:
    """A folder of class folders as (document, class) in the order `loaders` reads them (classes, then files,
    sorted), and their size in bytes. The list is what a streamed folder holds in memory: a name a document."""
    classes = sorted(p for p in path.iterdir() if p.is_dir() and p.name not in SKIPPED_FOLDERS)
    out, size = [], 0
    for folder in classes:
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise ValueError(f"Expected .txt files in the class folder {folder}. Received: none")
        out += [(str(f), folder.name) for f in files]
        size += sum(f.stat().st_size for f in files)
    return out, size


def _read(
    source: RecordFormat,
    documents: tuple[tuple[str, str], ...] | None,
    handle: IO[bytes] | None,
    start: int,
    end: int,
    line: int,
) -> Iterator[tuple[str, str, str, int, int, int]]:
    """(text, label, where, first line, start, end) of the records between two positions: byte offsets in a file,
    or document numbers in a folder (whose records have no line: 0)."""
    if documents is not None:
        for number in range(start, end):
            name, label = documents[number]
            text, label = _checked(read_text(Path(name), source.encoding), label, name)
            yield text, label, name, 0, number, number + 1
        return
    assert handle is not None
    for record, first, position in _raw_records(handle, start, end, line, source.quoted):
        text, label = source.parse(record, first)
        yield text, label, f"{source.path}:{first}", first, position - len(record), position


# ----------------------------------------------------------------------------------------- the pass
class BoundedCounts:
    """Token counts in at most `cap` entries: past it, the rarer half is dropped (the largest dropped count is
    kept in `floor`). Exact while the distinct tokens fit; beyond, a word's count can fall short only through
    the times it was dropped, which touches words near the vocabulary's cut-off, never the frequent ones."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: Counter[str] = Counter()
        self.floor = 0  # the largest count ever dropped (0: exact)

    def update(self, tokens: list[str]) -> None:
        self.counts.update(tokens)
        if len(self.counts) > self.cap:
            values = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
            threshold = int(np.partition(values, len(values) // 2)[len(values) // 2])
            self.floor = max(self.floor, threshold)
            self.counts = Counter({w: c for w, c in self.counts.items() if c > threshold})

    def vocabulary(self, max_words: int | None, min_count: int) -> Vocabulary:
        return Vocabulary.from_counts(self.counts, max_words=max_words, min_count=min_count)


@dataclass(frozen=True)
class CorpusScan:
    """What the pass found: the shards, the training part's vocabulary and length, labels, sizes."""

    source: RecordFormat
    shards: tuple[Shard, ...]
    encoder: TextEncoder
    counts: dict[str, int]  # records of each part ("train", "validation", "test")
    bytes: int
    pruned_below: int  # BoundedCounts.floor
    documents: tuple[tuple[str, str], ...] | None = None  # a folder's (document, class), in order

    @property
    def records(self) -> int:
        return sum(shard.records for shard in self.shards)


def _header(handle: IO[bytes], source: RecordFormat) -> tuple[RecordFormat, int, int]:
    """The CSV / TSV header's columns; the offset and line after it."""
    for record, line, position in _raw_records(handle, 0, os.fstat(handle.fileno()).st_size, 1, True):
        text = record.decode(source.encoding, errors="replace").rstrip("\r\n")
        columns = next(csv.reader([text], delimiter="," if source.data_format == "csv" else "\t"))
        found = []
        for column in (source.text_column, source.label_column):
            if column not in columns:
                raise ValueError(
                    f"Expected a column {column!r} in {source.path} (set --text-column / --label-column). "
                    f"Received: columns {columns}"
                )
            found.append(columns.index(column))
        return RecordFormat(**{**asdict(source), "columns": (found[0], found[1])}), position, line + 1
    raise ValueError(f"Expected labelled examples in {source.path}. Received: none")


def scan(
    source: RecordFormat,
    settings: TextSettings,
    stream: StreamSettings,
    parts: Parts,
    *,
    labels_from: Part = "train",
) -> CorpusScan:
    """One pass over the file: every record checked; the `labels_from` part's tokens counted (bounded), lengths
    and labels gathered (the vocabulary and length are fitted on the training part, validation records included,
    as in memory); the shards noted."""
    if settings.padding != "post":
        raise ValueError(
            "Expected padding='post' for a streamed corpus (batches pad to their longest text). Received: "
            f"padding={settings.padding!r}"
        )
    if settings.max_words is None:
        raise ValueError("Expected --max-words for a streamed corpus (its counts are bounded). Received: none")
    path = Path(source.path)
    counts = BoundedCounts(stream.max_counts)
    lengths: Counter[int] = Counter()
    labels: set[str] = set()
    first_seen: dict[str, str] = {}  # a test record's label, where first met before any training record had it
    sizes = {"train": 0, "validation": 0, "test": 0}
    shards: list[Shard] = []
    documents, size = (None, 0)
    if source.data_format == "folder":
        listed, size = documents_of(path)
        documents = tuple(listed)
    with nullcontext(None) if documents is not None else path.open("rb") as handle:
        if handle is None:
            end = len(documents or ())
        else:
            end = size = os.fstat(handle.fileno()).st_size
        start, line = 0, 1
        if source.quoted and handle is not None:
            source, start, line = _header(handle, source)
        shard_start, shard_line, number, in_shard = start, line, 0, 0
        mask = np.empty(0, dtype=bool)
        for text, label, where, first_line, record_start, record_end in _read(
            source, documents, handle, start, end, line
        ):
            if in_shard == 0:
                shard_start, shard_line = record_start, first_line
                mask = parts.numbers(number, stream.shard_records)
            part = int(mask[in_shard])
            tokens = tokenize(text, level=settings.level, lower=settings.lower)
            if not tokens:
                raise ValueError(f"Expected text with at least one token at {where}. Received: {text!r}")
            if labels_from == "all" or part != 2:
                counts.update(tokens)
                lengths[len(tokens)] += 1
                labels.add(label)
            elif label not in labels:
                first_seen.setdefault(label, where)
            sizes[("train", "validation", "test")[part]] += 1
            number, in_shard = number + 1, in_shard + 1
            if in_shard == stream.shard_records:
                shards.append(Shard(shard_start, record_end, shard_line, number - in_shard, in_shard))
                in_shard = 0
        if in_shard:
            shards.append(Shard(shard_start, end, shard_line, number - in_shard, in_shard))
    if not shards:
        raise ValueError(f"Expected labelled examples in {source.path}. Received: none")
    unseen = [(label, where) for label, where in first_seen.items() if label not in labels]
    if unseen:
        label, where = unseen[0]
        raise ValueError(f"Expected test labels seen in training ({sorted(labels)}). Received: {label!r} at {where}")
    vocabulary = counts.vocabulary(settings.max_words, settings.min_count)
    encoder = TextEncoder(settings, vocabulary, settings.max_len or _percentile_95(lengths), tuple(sorted(labels)))
    return CorpusScan(source, tuple(shards), encoder, sizes, size, counts.floor, documents)


def _percentile_95(lengths: Counter[int]) -> int:
    """TextEncoder.fit's length: the 95th percentile of the sorted lengths (index int(0.95 n))."""
    total = sum(lengths.values())
    if not total:
        return 1
    wanted, seen = min(total - 1, int(0.95 * total)), 0
    for length in sorted(lengths):
        seen += lengths[length]
        if seen > wanted:
            return max(1, length)
    return 1


# ----------------------------------------------------------------------------------------- epochs
def _batches_of(records: int, buffer: int, batch: int) -> int:
    """Batches a worker yields from `records` records: full buffers of buffer/batch batches, then the rest."""
    full, rest = divmod(records, buffer)
    return full * (buffer // batch) + -(-rest // batch)


@dataclass
class TextStream(BatchStream):
    """One part of a scanned corpus as batches: shuffled, bucketed and prepared in DataLoader workers for training
    (`shuffle`), or in file order for scoring."""

    scan: CorpusScan
    part: Part
    batch_size: int
    settings: StreamSettings = field(default_factory=StreamSettings)
    parts: Parts = field(default_factory=Parts)
    seed: int = 0  # the epochs' shard orders and buffer shuffles
    shuffle: bool = True
    fixed_width: bool = False  # pad every batch to max_len (a model that reads a fixed number of steps)

    def __post_init__(self) -> None:
        self.buffer = -(-self.settings.buffer // self.batch_size) * self.batch_size
        self.shard_counts = np.array(
            [int(self.parts.mask(self.part, s.first, s.records).sum()) for s in self.scan.shards], dtype=np.int64
        )

    def __len__(self) -> int:
        return int(self.shard_counts.sum())

    @property
    def workers(self) -> int:
        """Workers the shards are dealt to (the training process counts as one when there are none)."""
        return max(1, self.settings.workers)

    def order(self, epoch: int) -> list[int]:
        """The shards in the order this epoch reads them."""
        if not self.shuffle:
            return list(range(len(self.scan.shards)))
        order: list[int] = np.random.default_rng([self.seed, epoch]).permutation(len(self.scan.shards)).tolist()
        return order

    def epoch_length(self, epoch: int) -> int:
        order = self.order(epoch)
        per_worker = [int(self.shard_counts[order[w :: self.workers]].sum()) for w in range(self.workers)]
        return sum(_batches_of(n, self.buffer, self.batch_size) for n in per_worker)

    def epoch(self, epoch: int) -> Iterator[SequenceData]:
        """This epoch's batches, `epoch_length(epoch)` of them."""
        loader = DataLoader(
            _Epoch(self, epoch),
            batch_size=None,
            num_workers=self.settings.workers,
            prefetch_factor=2 if self.settings.workers else None,
            persistent_workers=False,
            generator=torch.Generator().manual_seed(epoch),  # workers' seeds; the global generator stays untouched
        )
        yield from loader

    def worker_batches(self, epoch: int, worker: int) -> Iterator[SequenceData]:
        """The batches worker `worker` prepares in `epoch`."""
        shards = self.order(epoch)[worker :: self.workers]
        rows: list[tuple[list[int], int]] = []
        index = {label: i for i, label in enumerate(self.scan.encoder.labels)}
        flushed = 0
        for ids, label in self._records(shards, index):
            rows.append((ids, label))
            if len(rows) == self.buffer:
                yield from self._flush(rows, epoch, worker, flushed)
                rows, flushed = [], flushed + 1
        if rows:
            yield from self._flush(rows, epoch, worker, flushed)

    def _records(self, shards: list[int], index: dict[str, int]) -> Iterator[tuple[list[int], int]]:
        encoder, source = self.scan.encoder, self.scan.source
        vocabulary, cut = encoder.vocabulary, encoder.max_len
        pre = encoder.settings.truncating == "pre"
        documents = self.scan.documents
        with nullcontext(None) if documents is not None else Path(source.path).open("rb") as handle:
            for number in shards:
                shard = self.scan.shards[number]
                mine = self.parts.mask(self.part, shard.first, shard.records)
                records = _read(source, documents, handle, shard.start, shard.end, shard.line)
                for keep, (text, label, where, _, _, _) in zip(mine, records, strict=True):
                    if not keep:
                        continue
                    ids = vocabulary.ids(encoder.tokens(text))
                    label_id = index.get(label)
                    if label_id is None:
                        raise ValueError(
                            f"Expected labels seen in training ({list(encoder.labels)}). Received: {label!r} at {where}"
                        )
                    yield (ids[-cut:] if pre else ids[:cut]), label_id

    def _flush(self, rows: list[tuple[list[int], int]], epoch: int, worker: int, number: int) -> Iterator[SequenceData]:
        """A buffer's batches: rows shuffled, sorted by length (stable), cut into batches, batches shuffled."""
        if self.shuffle:
            rng = np.random.default_rng([self.seed, epoch, worker, number])
            rows = [rows[i] for i in rng.permutation(len(rows))]
        rows.sort(key=lambda row: len(row[0]))
        starts = list(range(0, len(rows), self.batch_size))
        if self.shuffle:
            starts = [starts[i] for i in rng.permutation(len(starts))]
        for start in starts:
            part = rows[start : start + self.batch_size]
            longest, most = max(len(ids) for ids, _ in part), self.scan.encoder.max_len
            step = self.settings.width_multiple
            width = most if self.fixed_width else min(most, -(-longest // step) * step)
            ids, lengths = pad_sequences([ids for ids, _ in part], width, truncating="post", padding="post")
            yield SequenceData(ids, torch.tensor([label for _, label in part]), lengths)


class _Epoch(IterableDataset[SequenceData]):
    """One epoch of a stream as the DataLoader's dataset: each worker yields its shards' batches."""

    def __init__(self, stream: TextStream, epoch: int) -> None:
        self.stream, self.number = stream, epoch

    def __iter__(self) -> Iterator[SequenceData]:
        info = get_worker_info()
        if info is None:  # no workers: the training process reads the corpus itself
            return self.stream.worker_batches(self.number, 0)
        torch.set_num_threads(1)  # a worker tokenises; the training process owns the cores' math
        return self.stream.worker_batches(self.number, info.id)


def describe_scan(found: CorpusScan) -> dict[str, Any]:
    """What a run records of the pass (sizes, shards, pruning), beside its encoder."""
    return {
        "bytes": found.bytes,
        "records": found.records,
        "training_records": found.counts["train"] + found.counts["validation"],
        "test_records": found.counts["test"],
        "shards": len(found.shards),
        "pruned_below": found.pruned_below,
        "oov_id": OOV,
    }
