"""Keras's initialisers that the Keras tutorials pass to layers: `Constant`, as in
`Embedding(..., embeddings_initializer=Constant(matrix))` with a matrix of pretrained word vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Constant"]


class Constant:
    """Keras's `Constant(value)`: a layer's weights start as `value` (an array of the weights' shape).

    Example:
        >>> Constant([[0.5, 1.0]]).value.shape
        (1, 2)
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = np.asarray(value, dtype=np.float32)

    def __repr__(self) -> str:
        return f"Constant(value of shape {self.value.shape})"
