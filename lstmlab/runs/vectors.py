"""A run's Embedding started from pretrained word vectors (`--vectors`): the file read once for the run's
vocabulary, its dimension checked against the model (or giving the model its width), the rows of the words it lacks
drawn, the layer frozen or not, and what was found recorded in `config.json`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..data import OOV, FoundVectors, SequenceData, TextEncoder, VectorSettings, read_vectors
from ..layers import Embedding

__all__ = ["RunVectors", "read_run_vectors"]

WIDTH_FIELD = "embed_dim"  # the presets' Embedding width, which a vectors file sets unless the user did


class RunVectors:
    """The vectors of one run's vocabulary, as read, and how its model starts from them."""

    def __init__(self, settings: VectorSettings, found: FoundVectors, encoder: TextEncoder) -> None:
        self.settings = settings
        self.found = found
        self.encoder = encoder

    @property
    def dimension(self) -> int:
        return self.found.dimension

    def start(self, model: nn.Module, seed: int) -> None:
        """Set every Embedding of `model` (each ensemble member's) to the vectors, rows 2.. the vocabulary's words,
        row 0 (padding) zeros, the OOV row and the words the file lacks as `settings.missing` says (drawn from
        `seed`, member after member); freeze them in "frozen" mode.

        Raises:
            ValueError: a model without an Embedding, or one whose Embedding is not (vocabulary, dimension).
        """
        layers = [module for module in model.modules() if isinstance(module, Embedding)]
        if not layers:
            raise ValueError("Expected a model with an Embedding for --vectors. Received: none in the model")
        generator = torch.Generator().manual_seed(seed)
        for layer in layers:
            expected = (self.encoder.vocabulary.size, self.dimension)
            if (layer.input_dim, layer.output_dim) != expected:
                raise ValueError(
                    f"Expected an Embedding of {expected[0]} ids x {expected[1]} dimensions (the vocabulary, the "
                    f"vectors' dimension) for --vectors. Received: {layer.input_dim} x {layer.output_dim}"
                )
            layer.set_vectors(self.matrix(generator))
            layer.trainable = self.settings.mode == "fine-tuned"

    def matrix(self, generator: torch.Generator) -> Tensor:
        """(vocabulary size, D): padding, OOV, then the words; missing rows uniform on [-a, a] per dimension with
        a = sqrt(3) * the found vectors' standard deviation (the same variance, Kim 2014), or zeros."""
        found = torch.from_numpy(self.found.matrix.copy())  # (V - 2, D)
        hit = torch.from_numpy(self.found.found.copy())
        out = torch.zeros(len(hit) + 2, self.dimension)
        out[2:] = found
        if self.settings.missing == "random":
            spread = found[hit].std(dim=0, correction=0) * 3**0.5 if int(hit.sum()) > 1 else torch.full((1,), 0.05)
            rows = torch.cat([torch.tensor([OOV]), torch.nonzero(~hit).flatten() + 2])
            drawn = torch.rand(len(rows), self.dimension, generator=generator) * 2 - 1
            out[rows] = drawn * spread
        return out

    def describe(self, train: Any) -> dict[str, Any]:
        """What `config.json` records: the file (name, format, size, SHA-256), the dimension, the mode, and the
        coverage of the vocabulary's words and of the training tokens the model reads (None for a streamed
        corpus, whose tokens are not kept)."""
        found = self.found
        tokens = _token_coverage(found, train) if isinstance(train, SequenceData) else None
        return {
            "file": found.source,
            "format": found.format,
            "size": found.size,
            "sha256": found.sha256,
            "rows": found.rows_read,
            "dimension": found.dimension,
            "mode": self.settings.mode,
            "missing": self.settings.missing,
            "words": len(found.words),
            "words_found": int(found.found.sum()),
            "word_coverage": float(found.found.mean()),
            "token_coverage": tokens,
        }

    def note(self, described: dict[str, Any]) -> str:
        """The line `train` prints: the file and how much of the data it covers."""
        tokens = described["token_coverage"]
        token_part = "" if tokens is None else f", {tokens:.1%} of the training tokens"
        return (
            f"vectors: {described['file']} ({described['format']}, {described['dimension']} dimensions, "
            f"{described['mode']}): {described['words_found']} of {described['words']} vocabulary words found "
            f"({described['word_coverage']:.1%}){token_part}"
        )


def _token_coverage(found: FoundVectors, train: SequenceData) -> float:
    """The share of the training ids (padding left out) whose word has a vector; OOV ids count as not found."""
    ids = train.x.flatten().long()
    ids = ids[ids != 0]
    if ids.numel() == 0:
        return 0.0
    hit = torch.cat([torch.zeros(2, dtype=torch.bool), torch.from_numpy(found.found.copy())])
    return float(hit[ids].float().mean())


def read_run_vectors(settings: VectorSettings, encoder: TextEncoder, dimension: int | None) -> RunVectors:
    """The vectors of the encoder's vocabulary, lower-cased as its tokenizer is; `dimension`: the model's
    Embedding width where the user set it (another in the file raises), None to take the file's.

    A comparison prepares many runs on one vocabulary per split: the last few reads are kept, keyed by the file's
    path, size and modification time with the words, so a file is read once per vocabulary."""
    path = Path(settings.path)
    if not path.exists():
        raise ValueError(f"Expected a vectors file or folder for --vectors. Received: {path}, which does not exist")
    stat = os.stat(path)
    lower = encoder.settings.lower
    found = _read(str(path), stat.st_size, stat.st_mtime_ns, encoder.vocabulary.words, lower, dimension)
    return RunVectors(settings, found, encoder)


@functools.lru_cache(maxsize=4)
def _read(
    path: str, size: int, modified: int, words: tuple[str, ...], lower: bool, dimension: int | None
) -> FoundVectors:
    del size, modified  # keys only: a changed file is read again
    if not words:
        raise ValueError("Expected a vocabulary of at least one word for --vectors. Received: an empty vocabulary")
    return read_vectors(Path(path), words, lower=lower, dimension=dimension)
