"""What the user asked of their data, typed and checked where it is made: where the examples are (`DataSpec`), how
texts become ids (`TextSettings`), how a corpus streams (`StreamSettings`), the pretrained word vectors a text
model starts from (`VectorSettings`), and the formats a path may name.

Nothing here reads a file or imports PyTorch: the command line builds these while it parses, and `lstmlab --help`
prints their defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .bundled import is_bundled
from .loaders import guess_text_format

__all__ = [
    "AEON_PREFIX",
    "SERIES_FORMATS",
    "STREAM_FORMATS",
    "VECTORS_MISSING",
    "VECTORS_MODES",
    "DataSpec",
    "Side",
    "StreamSettings",
    "TextSettings",
    "VectorSettings",
    "aeon_name",
    "guess_series_format",
    "is_aeon",
]

Side = Literal["pre", "post"]


@dataclass(frozen=True)
class TextSettings:
    """How texts become ids; saved with a model so that raw text can be predicted later."""

    level: Literal["word", "char"] = "word"
    lower: bool = True
    max_words: int | None = 20000  # vocabulary size including the two reserved ids (None: every token)
    min_count: int = 1  # tokens seen fewer times in the training split become OOV
    max_len: int | None = None  # ids per text (None: the 95th percentile of the training split's lengths)
    truncating: Side = "post"
    padding: Side = "post"


VECTORS_MODES = ("fine-tuned", "frozen")
VECTORS_MISSING = ("random", "zeros")


@dataclass(frozen=True)
class VectorSettings:
    """Pretrained word vectors the model's Embedding starts from; saved with the run, as its weights began there.

    `mode`: "frozen" keeps them as they are while the rest of the model trains (Kim's "static"), "fine-tuned" lets
    training move them ("non-static"). `missing`: what the vocabulary's words missing from the file (and the OOV id)
    start as: "random", uniform on each dimension with the spread of the vectors found (Kim's choice), or "zeros"
    (the Keras example's)."""

    path: str  # a vectors file (GloVe, word2vec text or binary, fastText .vec; gzipped or not) or a spaCy folder
    # fine-tuned: frozen vectors scored 0.10-0.14 below on each UCI set and 0.05 below on sentence polarity, whatever
    # the vectors (benchmarks/results/text_defaults-vectors-choice-*.csv, splits 10-14 and 10-11)
    mode: Literal["fine-tuned", "frozen"] = "fine-tuned"
    missing: Literal["random", "zeros"] = "random"

    def __post_init__(self) -> None:
        if self.mode not in VECTORS_MODES:
            raise ValueError(f"Expected a vectors mode in {VECTORS_MODES}. Received: {self.mode!r}")
        if self.missing not in VECTORS_MISSING:
            raise ValueError(f"Expected missing words to start as one of {VECTORS_MISSING}. Received: {self.missing!r}")


SERIES_FORMATS = ("aeon", "ts", "npz")


AEON_PREFIX = "aeon:"


def is_aeon(path: str, data_format: str | None = None) -> bool:
    """Whether `path` names a data set bundled with aeon (`aeon:Name`, any case, or `--data-format aeon`)."""
    return data_format == "aeon" or path.lower().startswith(AEON_PREFIX)


def aeon_name(path: str) -> str:
    return path[len(AEON_PREFIX) :] if path.lower().startswith(AEON_PREFIX) else path


def guess_series_format(path: str) -> str | None:
    """'aeon' for `aeon:Name`, 'ts' / 'npz' by suffix, None for anything else (text)."""
    if is_aeon(path):
        return "aeon"
    return {".ts": "ts", ".npz": "npz"}.get(Path(path).suffix.lower())


STREAM_FORMATS = ("csv", "tsv", "jsonl", "tab-lines", "folder")


@dataclass(frozen=True)
class StreamSettings:
    """How a corpus streams; saved with the run (its batches depend on them)."""

    buffer: int = 16384  # records a worker holds, shuffles and sorts by length (rounded up to whole batches)
    workers: int = 1  # DataLoader worker processes preparing batches (0: in the training process)
    shard_records: int = 8192  # records per shard (the unit of shuffling between workers)
    max_counts: int = 2_000_000  # distinct tokens counted before the rarest half is dropped (`BoundedCounts`)
    # a batch pads to its longest text rounded up to this (at most max_len): every distinct width costs oneDNN a
    # cached kernel, some 4 MB each; 1 width a token grew training past 2 GB, widths of 16 stay flat
    width_multiple: int = 16

    def __post_init__(self) -> None:
        for name in ("buffer", "shard_records", "max_counts", "width_multiple"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected a positive integer {name} for streaming. Received: {value!r}")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise ValueError(f"Expected loader workers >= 0. Received: {self.workers!r}")


@dataclass(frozen=True)
class DataSpec:
    """Where the examples come from and how they are split and encoded."""

    path: str
    test_path: str | None = None  # None: a stratified split of `path`
    data_format: str | None = None  # None: guessed from the path
    text_column: str = "text"
    label_column: str = "label"
    encoding: str = "utf-8"
    test_fraction: float = 0.1  # of each class, when there is no test_path
    split_seed: int | None = None  # the stratified split's seed; None: the run's (see `resolved`)
    text: TextSettings = field(default_factory=TextSettings)
    standardise: bool = True  # series: per-channel standardisation fitted on the training split
    stream: StreamSettings | None = None  # texts: stream the files instead of reading them into memory
    vectors: VectorSettings | None = None  # texts: the Embedding starts from these pretrained word vectors

    def __post_init__(self) -> None:
        if self.vectors is not None and self.kind != "text":
            raise ValueError(
                f"Expected texts for --vectors (word vectors start an Embedding). Received: {self.path}, a series"
            )
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"Expected a test fraction in (0, 1). Received: {self.test_fraction}")
        if self.aeon and self.test_path is not None:
            raise ValueError(
                f"Expected no --test-data with {self.path} (its archive TEST split is the test set). "
                f"Received: {self.test_path}"
            )
        if self.stream is not None:
            if is_bundled(self.path):
                raise ValueError(
                    f"Expected a file or folder of yours to stream. Received: {self.path} (a bundled set fits in "
                    "memory: train it without --stream)"
                )
            chosen = self.data_format or guessed_text_format(self.path)
            if Path(self.path).exists() and (self.kind != "text" or chosen not in STREAM_FORMATS):
                raise ValueError(
                    f"Expected texts as {', '.join(STREAM_FORMATS)} to stream. Received: {self.path} "
                    f"({chosen or self.kind})"
                )

    @property
    def aeon(self) -> bool:
        """A data set bundled with aeon: its archive's TRAIN and TEST splits are the training and test sets."""
        return is_aeon(self.path, self.data_format)

    @property
    def kind(self) -> str:
        """'series' (aeon:NAME, .ts, .npz or a series --data-format) or 'text'."""
        if self.data_format is not None:
            return "series" if self.data_format in SERIES_FORMATS else "text"
        return "series" if guess_series_format(self.path) is not None else "text"

    @property
    def split(self) -> int:
        """The split's seed (0 where none is set)."""
        return 0 if self.split_seed is None else self.split_seed

    def resolved(self, split_seed: int) -> DataSpec:
        """The spec as a run records it: file paths made absolute (so that a saved run finds its data from any
        working directory; named sets such as `aeon:NAME` and `uci:NAME` stay names) and the split seed set."""

        def absolute(path: str | None) -> str | None:
            if path is None or is_aeon(path, self.data_format) or is_bundled(path):
                return path
            return str(Path(path).expanduser().absolute())

        seed = split_seed if self.split_seed is None else self.split_seed
        vectors = self.vectors
        if vectors is not None:
            vectors = dataclasses.replace(vectors, path=str(Path(vectors.path).expanduser().absolute()))
        return dataclasses.replace(
            self,
            path=absolute(self.path) or self.path,
            test_path=absolute(self.test_path),
            split_seed=seed,
            vectors=vectors,
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(value: dict[str, Any]) -> DataSpec:
        stream, vectors = value.get("stream"), value.get("vectors")  # neither in runs made before them
        return DataSpec(
            **{
                **value,
                "text": TextSettings(**value["text"]),
                "stream": None if stream is None else StreamSettings(**stream),
                "vectors": None if vectors is None else VectorSettings(**vectors),
            }
        )


def guessed_text_format(path: str) -> str | None:
    try:
        return guess_text_format(Path(path))
    except ValueError:
        return None
