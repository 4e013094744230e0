"""The Keras 2 API on lstmlab: the articles' Keras code runs with its imports changed to `lstmlab.keras`.

    from lstmlab.keras.models import Sequential, load_model
    from lstmlab.keras.layers import Embedding, LSTM, Bidirectional, TimeDistributed, Dense, Dropout, Flatten
    from lstmlab.keras.callbacks import EarlyStopping
    from lstmlab.keras.preprocessing.sequence import pad_sequences

Underneath is lstmlab (`Sequential.lstmlab_model`): the same layers, the fused LSTM kernel, exact padding. Keras
options lstmlab does not have raise a one-line ValueError naming the argument and what to use instead.
`load_keras_model` reads a model saved by Keras itself (a `.keras` archive or a `.h5` file).
"""

from __future__ import annotations

from pathlib import Path

from . import callbacks, layers, losses, models, optimizers, preprocessing, utils
from .models import Sequential, load_model

__all__ = [
    "Sequential",
    "callbacks",
    "layers",
    "load_keras_model",
    "load_model",
    "losses",
    "models",
    "optimizers",
    "preprocessing",
    "utils",
]


def load_keras_model(path: str | Path) -> Sequential:
    """A model saved by Keras (a Keras 3 `.keras` archive or a Keras 2 `.h5` file), read without Keras or
    TensorFlow, as an `lstmlab.keras.Sequential` whose `predict` applies the saved output activation.

    Raises:
        ValueError: for a layer or option lstmlab cannot import (named in one line), or a file that is no Keras model.
    """
    from .archive import read_keras  # written beside this module; imported only when a Keras file is read

    imported = read_keras(path)
    return Sequential.from_lstmlab(imported.model, imported.activation)
