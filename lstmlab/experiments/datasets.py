"""The user's own labelled texts as training and test sets: load, split, fit the text encoder on the training split.

Everything needed to rebuild the same sets (paths, format, columns, split seed, text settings) and to encode new
text (vocabulary, length, class names) is plain JSON saved with the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data.loaders import Example, load_texts
from ..data.text import TextEncoder, TextSettings
from ..training import SequenceData

__all__ = ["DataSpec", "TextSets", "load_split", "prepare_texts", "saved_test_set", "stratified_split"]


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
    split_seed: int = 0
    text: TextSettings = field(default_factory=TextSettings)

    def __post_init__(self) -> None:
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"Expected a test fraction in (0, 1). Received: {self.test_fraction}")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(value: dict[str, Any]) -> DataSpec:
        return DataSpec(**{**value, "text": TextSettings(**value["text"])})


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
class TextSets:
    train: SequenceData
    test: SequenceData
    encoder: TextEncoder


def _encode(encoder: TextEncoder, examples: list[Example]) -> SequenceData:
    token_lists = [encoder.tokens(e.text) for e in examples]
    for example, tokens in zip(examples, token_lists, strict=True):  # name the file and line of an empty text
        if not tokens:
            raise ValueError(f"Expected text with at least one token at {example.where}. Received: {example.text!r}")
    ids, lengths = encoder.encode_tokens(token_lists)
    index = {label: i for i, label in enumerate(encoder.labels)}
    y = torch.tensor([index[e.label] for e in examples], dtype=torch.long)
    return SequenceData(ids, y, lengths if encoder.settings.padding == "post" else None)


def _check_known(test: list[Example], labels: list[str] | tuple[str, ...], known_by: str) -> None:
    unseen = next((e for e in test if e.label not in labels), None)
    if unseen is not None:
        raise ValueError(
            f"Expected test labels {known_by} ({list(labels)}). Received: {unseen.label!r} at {unseen.where}"
        )


def load_split(spec: DataSpec) -> tuple[list[Example], list[Example]]:
    """The training and test examples: two files, or a stratified split of one by the spec's seed."""

    def load(path: str) -> list[Example]:
        return load_texts(
            Path(path),
            data_format=spec.data_format,
            text_column=spec.text_column,
            label_column=spec.label_column,
            encoding=spec.encoding,
        )

    examples = load(spec.path)
    if spec.test_path is not None:
        return examples, load(spec.test_path)
    train_index, test_index = stratified_split([e.label for e in examples], spec.test_fraction, spec.split_seed)
    return [examples[i] for i in train_index], [examples[i] for i in test_index]


def saved_test_set(spec: DataSpec, encoder: TextEncoder) -> SequenceData:
    """A saved run's test set, rebuilt from its data spec and encoded with its own encoder."""
    _, test = load_split(spec)
    _check_known(test, encoder.labels, "the model knows")
    return _encode(encoder, test)


def prepare_texts(spec: DataSpec) -> TextSets:
    """Training and test sets from the spec: labels checked, encoder fitted on the training part only."""
    train, test = load_split(spec)
    labels = sorted({e.label for e in train})
    if len(labels) < 2:
        raise ValueError(f"Expected at least two classes in {spec.path}. Received: only {labels}")
    _check_known(test, labels, "seen in training")
    if not test:
        raise ValueError(f"Expected test examples. Received: none from {spec.test_path or spec.path}")
    encoder = TextEncoder.fit([e.text for e in train], spec.text, labels)
    return TextSets(_encode(encoder, train), _encode(encoder, test), encoder)
