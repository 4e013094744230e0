"""Generated token sequences with a sentiment-like label, for the text presets until real text arrives.

Ids: 0 is padding, 1 unknown, then `cue_words` positive cue ids, `cue_words` negative cue ids, then neutral ids. Each
sequence draws its label by a fair coin, holds 1-3 cues of its label's kind and fewer of the other kind, among
neutral filler, so the label is the majority of cues: the model must find and count the cue words.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .sequence import SequenceData

__all__ = ["TokenConfig", "make_tokens"]


@dataclass(frozen=True)
class TokenConfig:
    vocab_size: int = 1000  # ids 0..vocab_size-1 (0 padding, 1 unknown)
    max_len: int = 60  # steps per padded sequence
    min_len: int = 10  # shortest sequence
    cue_words: int = 20  # ids that carry the label, per kind

    def __post_init__(self) -> None:
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(
                f"Expected 1 <= min_len <= max_len. Received: min_len={self.min_len}, max_len={self.max_len}"
            )
        if self.min_len < 5:
            raise ValueError(f"Expected min_len >= 5 (room for the cue words). Received: min_len={self.min_len}")
        if self.cue_words < 1:
            raise ValueError(f"Expected cue_words >= 1. Received: cue_words={self.cue_words}")
        if self.vocab_size < 2 + 2 * self.cue_words + 10:
            raise ValueError(
                f"Expected vocab_size >= {2 + 2 * self.cue_words + 10} for {self.cue_words} cue words per kind. "
                f"Received: vocab_size={self.vocab_size}"
            )


def make_tokens(config: TokenConfig, count: int, generator: torch.Generator) -> SequenceData:
    """`count` right-padded id sequences x (N, max_len), labels y (N,) and lengths (N,)."""
    first_neutral = 2 + 2 * config.cue_words
    lengths = torch.randint(config.min_len, config.max_len + 1, (count,), generator=generator)
    ids = torch.randint(first_neutral, config.vocab_size, (count, config.max_len), generator=generator)
    labels = torch.randint(0, 2, (count,), generator=generator)
    for row in range(count):
        majority = int(torch.randint(1, 4, (1,), generator=generator))
        minority = int(torch.randint(0, majority, (1,), generator=generator))
        where = torch.randperm(int(lengths[row]), generator=generator)[: majority + minority]
        kinds = [int(labels[row])] * majority + [1 - int(labels[row])] * minority  # 1 positive, 0 negative
        for position, kind in zip(where.tolist(), kinds, strict=True):
            offset = 2 if kind == 1 else 2 + config.cue_words
            ids[row, position] = offset + int(torch.randint(0, config.cue_words, (1,), generator=generator))
    ids = ids.masked_fill(torch.arange(config.max_len) >= lengths[:, None], 0)
    return SequenceData(ids, labels, lengths)
