"""Keras's utilities that the articles' pipelines use: `to_categorical` and `pad_sequences` (Keras 3's path)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .preprocessing.sequence import pad_sequences

__all__ = ["pad_sequences", "to_categorical"]


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """Class ids to one-hot rows, as Keras's `to_categorical` (a trailing axis of 1 is dropped first).

    Shapes:
        y: (N, ...) ids in 0..num_classes-1. Returns (N, ..., num_classes).

    Example:
        >>> to_categorical([0, 2], 3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    ids = np.asarray(y, dtype="int64")
    if ids.ndim > 1 and ids.shape[-1] == 1:
        ids = ids.reshape(ids.shape[:-1])
    classes = int(ids.max()) + 1 if num_classes is None else num_classes
    if ids.size and (ids.min() < 0 or ids.max() >= classes):
        raise ValueError(f"Expected class ids in 0..{classes - 1}. Received: min={ids.min()}, max={ids.max()}")
    result: np.ndarray = np.eye(classes, dtype=dtype)[ids]
    return result
