"""Raw texts to the inputs of an lstmlab text model exported to ONNX, without lstmlab: Python's standard library and
NumPy only. `lstmlab export RUN --format onnx` writes this file beside the model with the reader's settings
(`<model>.onnx.json`, key "text"), and the pair gives exactly the ids and lengths lstmlab would give the model.

    import onnxruntime, text_reader
    reader = text_reader.TextReader.load("model.onnx.json")
    ids, lengths = reader.encode(["a fine film", "dull"])
    logits, probabilities = onnxruntime.InferenceSession("model.onnx").run(None, {"ids": ids, "lengths": lengths})
    labels = [reader.classes[i] for i in probabilities.argmax(-1)]   # one logit: reader.classes[int(p > 0.5)]

What it does, as lstmlab's `TextEncoder` does: lower-cases (unless told not to); splits into words (letters and
digits, inner apostrophes kept) and single punctuation marks, or into characters; maps each token to its id (0 is
padding, 1 any token outside the vocabulary, the vocabulary's words from 2); keeps the first or the last `max_len`
ids; pads each row on the side the settings give. Lengths are each row's real ids where the model reads only those,
and the full width where it reads the padding too (a model trained on pre-padded rows without `mask_zero`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TextReader"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]", re.UNICODE)  # words (with inner apostrophes) or one symbol
PAD, OOV = 0, 1


@dataclass(frozen=True)
class TextReader:
    """The text settings of an exported model (the "text" entry of its `.onnx.json`)."""

    vocabulary: tuple[str, ...]
    max_len: int
    level: str = "word"  # "word" or "char"
    lower: bool = True
    truncating: str = "post"  # "pre": keep the last max_len tokens; "post": the first
    padding: str = "post"  # where padding ids go
    lengths: str = "valid"  # "valid": each row's real ids; "full": max_len (the model reads the padding)
    classes: tuple[str, ...] = ()

    @staticmethod
    def load(path: str | Path) -> TextReader:
        """The reader of an export's settings file (`model.onnx.json`)."""
        saved: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        text = saved["text"]
        return TextReader(
            tuple(text["vocabulary"]),
            int(text["max_len"]),
            text["level"],
            bool(text["lower"]),
            text["truncating"],
            text["padding"],
            text["lengths"],
            tuple(saved.get("classes", ())),
        )

    def tokens(self, text: str) -> list[str]:
        if self.lower:
            text = text.lower()
        if self.level == "char":
            return list(" ".join(text.split()))
        return _WORD.findall(text)

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids `(N, max_len)` and lengths `(N,)`, both int64, for the model's "ids" and "lengths" inputs.

        Raises:
            ValueError: for a text without any token (it would be all padding).
        """
        index = {word: i + 2 for i, word in enumerate(self.vocabulary)}
        ids = np.zeros((len(texts), self.max_len), dtype=np.int64)
        lengths = np.zeros(len(texts), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = self.tokens(text)
            if not tokens:
                raise ValueError(f"Expected text with at least one token. Received: text {row + 1} is {text!r}")
            kept = [index.get(t, OOV) for t in (tokens[-self.max_len :] if self.truncating == "pre" else tokens)]
            kept = kept[: self.max_len]
            if self.padding == "post":
                ids[row, : len(kept)] = kept
            else:
                ids[row, self.max_len - len(kept) :] = kept
            lengths[row] = len(kept) if self.lengths == "valid" else self.max_len
        return ids, lengths
