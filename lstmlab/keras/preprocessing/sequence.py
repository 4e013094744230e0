"""Keras's `pad_sequences`: lists of token ids to one array, padded (and truncated) at the front by default.

Keras's default `padding='pre'` puts the padding before each row's tokens; an lstmlab.keras model with
`Embedding(mask_zero=True)` reads left- and right-padded ids exactly (only each row's tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (and truncate) sequences to a common length, as Keras's `pad_sequences` does.

    Args:
        sequences: a list of sequences (lists or arrays of ids, or of equal-shaped items).
        maxlen: the length of every row; None: the longest sequence's.
        dtype: the array's dtype (Keras's default 'int32').
        padding: 'pre' (default: padding before the tokens) or 'post'.
        truncating: 'pre' (default: drop the first tokens of a longer sequence) or 'post' (drop the last).
        value: the padding value (Keras's default 0.0, cast to `dtype`).

    Shapes:
        Returns (len(sequences), maxlen, *item shape).

    Raises:
        ValueError: on a non-iterable sequence, an unknown padding or truncating mode, a string value for a numeric
            dtype, or items of different shapes.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    lengths = []
    sample_shape: tuple[int, ...] = ()
    found_shape = False
    for row in sequences:
        try:
            lengths.append(len(row))
        except TypeError:
            raise ValueError(f"Expected a list of iterables in sequences. Received: a non-iterable {row!r}") from None
        if not found_shape and len(row):
            sample_shape, found_shape = np.asarray(row).shape[1:], True
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    numeric = not (np.issubdtype(dtype, np.str_) or dtype is object)
    if isinstance(value, str) and numeric:
        raise ValueError(
            f"Expected a dtype of text or object for a text padding value. Received: dtype={dtype!r}, value={value!r}"
        )
    padded = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for index, row in enumerate(sequences):
        if not len(row):
            continue
        if truncating == "pre":
            kept = row[-maxlen:]
        elif truncating == "post":
            kept = row[:maxlen]
        else:
            raise ValueError(f"Expected truncating in {{'pre', 'post'}}. Received: truncating={truncating!r}")
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Expected items of shape {sample_shape} in every sequence. Received: shape {kept.shape[1:]} in "
                f"sequence {index}"
            )
        if padding == "post":
            padded[index, : len(kept)] = kept
        elif padding == "pre":
            padded[index, -len(kept) :] = kept
        else:
            raise ValueError(f"Expected padding in {{'pre', 'post'}}. Received: padding={padding!r}")
    return padded
