"""The Keras 2 API on lstmlab: the articles' Keras code runs with its imports changed to `lstmlab.keras`.

    from lstmlab.keras.models import Sequential, load_model
    from lstmlab.keras.layers import Embedding, LSTM, Bidirectional, TimeDistributed, Dense, Dropout, Flatten
    from lstmlab.keras.callbacks import EarlyStopping
    from lstmlab.keras.initializers import Constant
    from lstmlab.keras.preprocessing.sequence import pad_sequences

Underneath is lstmlab (`Sequential.lstmlab_model`): the same layers, the fused LSTM kernel, exact padding. Keras
options lstmlab does not have raise a one-line ValueError naming the argument and what to use instead.
`load_keras_model` reads a model saved by Keras itself (a `.keras` archive or a `.h5` file); `read_keras` and
`write_keras` read and write those files for lstmlab's own models (`lstmlab import-keras`, `export --format keras`).
"""

from __future__ import annotations

from . import callbacks, initializers, layers, losses, models, optimizers, preprocessing, utils
from .archive import KerasModel, read_keras, write_keras
from .models import Sequential, load_keras_model, load_model

__all__ = [
    "KerasModel",
    "Sequential",
    "callbacks",
    "initializers",
    "layers",
    "load_keras_model",
    "load_model",
    "losses",
    "models",
    "optimizers",
    "preprocessing",
    "read_keras",
    "utils",
    "write_keras",
]
