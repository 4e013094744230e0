"""Raw text to token ids: a tokenizer, a vocabulary built on the training split, truncation and padding.

Id 0 is padding and id 1 stands for any token outside the vocabulary; the vocabulary's words take ids 2, 3, ...
by descending count (ties by first appearance). Everything here is plain data that round-trips through JSON.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from .sequence import SequenceData, label_ids
from .spec import Side, TextSettings

__all__ = ["OOV", "PAD", "TextEncoder", "Vocabulary", "pad_sequences", "tokenize"]

PAD, OOV = 0, 1
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]", re.UNICODE)  # words (with inner apostrophes) or one symbol


def tokenize(text: str, *, level: Literal["word", "char"] = "word", lower: bool = True) -> list[str]:
    """Words (letters and digits, inner apostrophes kept: "don't") with each punctuation mark its own token, or
    characters (spaces included, runs of white space as one space)."""
    if lower:
        text = text.lower()
    if level == "char":
        return list(" ".join(text.split()))
    return _WORD.findall(text)


@dataclass(frozen=True)
class Vocabulary:
    """Words of the training split with their ids (PAD = 0, OOV = 1, words from 2)."""

    words: tuple[str, ...]

    @staticmethod
    def build(token_lists: Iterable[Sequence[str]], *, max_words: int | None = None, min_count: int = 1) -> Vocabulary:
        """The `max_words` most frequent tokens seen at least `min_count` times (ids included: max_words - 2
        words fit, as Keras's `num_words` counts the reserved ids)."""
        if max_words is not None and max_words < 3:
            raise ValueError(f"Expected max_words >= 3 (two ids are reserved). Received: {max_words}")
        if min_count < 1:
            raise ValueError(f"Expected min_count >= 1. Received: {min_count}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        return Vocabulary.from_counts(counts, max_words=max_words, min_count=min_count)

    @staticmethod
    def from_counts(counts: Counter[str], *, max_words: int | None = None, min_count: int = 1) -> Vocabulary:
        """`build` from counted tokens (ties in the order the counts first met them)."""
        if max_words is not None and max_words < 3:
            raise ValueError(f"Expected max_words >= 3 (two ids are reserved). Received: {max_words}")
        if min_count < 1:
            raise ValueError(f"Expected min_count >= 1. Received: {min_count}")
        ranked = [word for word, count in counts.most_common() if count >= min_count]  # stable for ties
        if max_words is not None:
            ranked = ranked[: max_words - 2]
        return Vocabulary(tuple(ranked))

    @property
    def size(self) -> int:
        """Embedding rows needed: the words plus the two reserved ids."""
        return len(self.words) + 2

    def ids(self, tokens: Sequence[str]) -> list[int]:
        index = self._index
        return [index.get(token, OOV) for token in tokens]

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {word: i + 2 for i, word in enumerate(self.words)}


def pad_sequences(
    sequences: Sequence[Sequence[int]], max_len: int, *, truncating: Side = "post", padding: Side = "post"
) -> tuple[Tensor, Tensor]:
    """Ids `(N, max_len)` and lengths `(N,)`: longer sequences lose their start (`pre`) or end (`post`), shorter
    ones get PAD before (`pre`) or after (`post`) their ids."""
    if max_len < 1:
        raise ValueError(f"Expected max_len >= 1. Received: {max_len}")
    for name, side in (("truncating", truncating), ("padding", padding)):
        if side not in ("pre", "post"):
            raise ValueError(f"Expected {name} 'pre' or 'post'. Received: {side!r}")
    # each row's kept ids, then all of them written at once (positions computed in NumPy, not row by row)
    kept = [list(ids[-max_len:] if truncating == "pre" else ids[:max_len]) for ids in sequences]
    counts = np.fromiter((len(k) for k in kept), dtype=np.int64, count=len(kept))
    out = np.zeros((len(kept), max_len), dtype=np.int64)
    if counts.sum():
        rows = np.repeat(np.arange(len(kept)), counts)
        starts = np.cumsum(counts) - counts  # each row's first id in the flat list
        within = np.arange(int(counts.sum())) - np.repeat(starts, counts)  # position of each id in its row
        columns = within if padding == "post" else within + np.repeat(max_len - counts, counts)
        out[rows, columns] = np.fromiter(itertools.chain.from_iterable(kept), dtype=np.int64, count=int(counts.sum()))
    return torch.from_numpy(out), torch.from_numpy(counts)


@dataclass(frozen=True)
class TextEncoder:
    """Settings plus the vocabulary and length fitted on a training split."""

    settings: TextSettings
    vocabulary: Vocabulary
    max_len: int
    labels: tuple[str, ...] = field(default=())  # class names by id

    @staticmethod
    def fit(texts: Sequence[str], settings: TextSettings, labels: Sequence[str] = ()) -> TextEncoder:
        tokens = [tokenize(t, level=settings.level, lower=settings.lower) for t in texts]
        vocabulary = Vocabulary.build(tokens, max_words=settings.max_words, min_count=settings.min_count)
        max_len = settings.max_len
        if max_len is None:
            lengths = sorted(len(t) for t in tokens)
            max_len = max(1, lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))]) if lengths else 1
        return TextEncoder(settings, vocabulary, max_len, tuple(labels))

    def tokens(self, text: str) -> list[str]:
        return tokenize(text, level=self.settings.level, lower=self.settings.lower)

    def encode(self, texts: Sequence[str]) -> tuple[Tensor, Tensor | None]:
        """Ids `(N, max_len)` and lengths. A text without any token raises (it would be all padding)."""
        token_lists = [self.tokens(text) for text in texts]
        for number, tokens in enumerate(token_lists):
            if not tokens:
                raise ValueError(
                    f"Expected text with at least one token. Received: text {number + 1} is {texts[number]!r}"
                )
        return self.encode_tokens(token_lists)

    def encode_tokens(self, token_lists: Sequence[Sequence[str]]) -> tuple[Tensor, Tensor | None]:
        """`encode` for texts already split into tokens. Lengths only with padding='post': a model reads
        pre-padded rows whole, padding included (as Keras does), in training and in prediction alike."""
        s = self.settings
        rows = [self.vocabulary.ids(tokens) for tokens in token_lists]
        ids, lengths = pad_sequences(rows, self.max_len, truncating=s.truncating, padding=s.padding)
        return ids, (lengths if s.padding == "post" else None)

    def dataset(self, token_lists: Sequence[Sequence[str]], labels: Sequence[str]) -> SequenceData:
        """Tokenised texts and their class names as a `SequenceData` (class ids by `self.labels`)."""
        ids, lengths = self.encode_tokens(token_lists)
        return SequenceData(ids, label_ids(labels, self.labels), lengths)

    def unlabelled(self, texts: Sequence[str]) -> SequenceData:
        """Raw texts as a `SequenceData` to predict (targets are placeholders)."""
        ids, lengths = self.encode(texts)
        return SequenceData(ids, torch.zeros(len(texts), dtype=torch.long), lengths)

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": asdict(self.settings),
            "vocabulary": list(self.vocabulary.words),
            "max_len": self.max_len,
            "labels": list(self.labels),
        }

    @staticmethod
    def from_json(value: dict[str, Any]) -> TextEncoder:
        try:
            return TextEncoder(
                TextSettings(**value["settings"]),
                Vocabulary(tuple(str(w) for w in value["vocabulary"])),
                int(value["max_len"]),
                tuple(str(label) for label in value["labels"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"Expected a saved text encoder (settings, vocabulary, max_len, labels). {error}"
            ) from None
