"""Keras 2's `Tokenizer`: texts to sequences of word ids, the ids ranked by word frequency from 1.

As in Keras 2 (`keras.preprocessing.text`): words are split on `split` after removing `filters` and lower-casing;
`word_index` ranks every word seen by `fit_on_texts` by its count (ties in the order first seen), from 1, with the
`oov_token` (if any) at 1; `texts_to_sequences` keeps the ids below `num_words` (others are dropped, or become the
`oov_token`'s id); 0 is never an id, so it can pad.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator

__all__ = ["FILTERS", "Tokenizer", "text_to_word_sequence"]

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'  # Keras's default: punctuation, tabs and line breaks


def text_to_word_sequence(text: str, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[str]:
    """The words of `text`, as Keras's `text_to_word_sequence`: lower-cased, `filters` replaced by `split`, split.

    Example:
        >>> text_to_word_sequence("The cat, the hat!")
        ['the', 'cat', 'the', 'hat']
    """
    if lower:
        text = text.lower()
    table: dict[str, str | int | None] = {c: split for c in filters}
    text = text.translate(str.maketrans(table))
    return [word for word in text.split(split) if word]


class Tokenizer:
    """Keras 2's Tokenizer (word level).

    Args:
        num_words: keep only ids below this in `texts_to_sequences` (the `num_words - 1` most frequent words); None
            keeps all.
        filters: characters removed from texts (Keras's default: punctuation, tabs, line breaks).
        lower: lower-case the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: a token for words outside the kept vocabulary; it gets id 1.

    Attributes:
        word_index: word -> id (1 = most frequent), over every word seen; word_counts: word -> count;
        word_docs: word -> number of texts holding it; index_word: id -> word; document_count: texts seen.

    Example:
        >>> tokenizer = Tokenizer(num_words=3)
        >>> tokenizer.fit_on_texts(["a b b", "b c"])
        >>> tokenizer.word_index, tokenizer.texts_to_sequences(["a b c"])
        ({'b': 1, 'a': 2, 'c': 3}, [[2, 1]])
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
    ) -> None:
        if num_words is not None and (not isinstance(num_words, int) or num_words < 0):
            raise ValueError(f"Expected num_words to be a non-negative integer or None. Received: {num_words!r}")
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.char_level, self.oov_token = char_level, oov_token
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.document_count = 0

    def _words(self, text: str | list[str]) -> list[str]:
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else list(text.lower())
            return list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str | list[str]]) -> None:
        """Count the words of `texts` and rank them: `word_index` by count, ties in the order first seen."""
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for word in words:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(words):
                self.word_docs[word] += 1
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep order
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in ranked]
        self.word_index = {word: index for index, word in enumerate(vocabulary, start=1)}
        self.index_word = {index: word for word, index in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})

    def texts_to_sequences(self, texts: Iterable[str | list[str]]) -> list[list[int]]:
        """Each text as its words' ids: ids of `num_words` or more dropped (or the oov_token's id), unknown words
        dropped (or the oov_token's id)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable[str | list[str]]) -> Iterator[list[int]]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            ids = []
            for word in self._words(text):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    ids.append(index)
                elif oov is not None:
                    ids.append(oov)
            yield ids

    def sequences_to_texts(self, sequences: Iterable[Iterable[int]]) -> list[str]:
        """Each sequence of ids back to words joined by spaces (ids of `num_words` or more, and unknown ids, become
        the oov_token or are dropped), as Keras does."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for ids in sequences:
            words = []
            for index in ids:
                word = self.index_word.get(index)
                if word is not None and not (self.num_words and index >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts
