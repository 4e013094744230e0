"""Writes the Keras 2 model files that tests/test_keras_archive.py reads (`keras2_*.h5`, with their inputs and Keras's
predictions in `keras2_*.npz`), made by Keras 2 itself (tf_keras on TensorFlow), so that the legacy format is tested
against real files without TensorFlow in CI.

Run once, where tf_keras is installed (`pip install tf-keras`): `python tests/keras2/make_files.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tf_keras as keras  # Keras 2 (tf.keras)
from tf_keras import layers as L
from tf_keras.preprocessing.sequence import pad_sequences

HERE = Path(__file__).resolve().parent


def ids(rng: np.random.Generator, vocab: int, steps: int, padding: str) -> np.ndarray:
    rows = [list(rng.integers(1, vocab, size=n)) for n in (steps, 3, 1, steps - 2)]
    return pad_sequences(rows, maxlen=steps, padding=padding)


def values(rng: np.random.Generator, steps: int, features: int, padding: str) -> np.ndarray:
    rows = [rng.normal(size=(n, features)).astype("float32") for n in (steps, 4, 1)]
    return pad_sequences(rows, maxlen=steps, dtype="float32", padding=padding)


def randomize(model: keras.Model, rng: np.random.Generator) -> None:
    """Weights away from their initial values (biases included), so that no term hides behind 0 or 1."""
    model.set_weights([w + rng.normal(scale=0.3, size=w.shape).astype(w.dtype) for w in model.get_weights()])


def main() -> None:
    rng = np.random.default_rng(0)
    models: dict[str, tuple[keras.Model, np.ndarray]] = {}
    # the Q&A's model 5 over token ids, masked, as pad_sequences pads by default (before each sequence)
    qa5 = keras.Sequential(
        [
            L.Embedding(40, 8, input_length=12, mask_zero=True),
            L.Bidirectional(L.LSTM(6)),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    models["qa5_pre"] = (qa5, ids(rng, 40, 12, "pre"))
    # the first article's text LSTM (dropout, relu), unmasked
    text = keras.Sequential(
        [
            L.Embedding(30, 4, input_length=8),
            L.Dropout(0.2),
            L.LSTM(5),
            L.Dense(7, activation="relu"),
            L.Dropout(0.2),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    models["text_lstm"] = (text, ids(rng, 30, 8, "post"))
    # the tutorial's Bi-LSTM, merge mode sum, a prediction per step
    tutorial = keras.Sequential(
        [
            L.Bidirectional(L.LSTM(5, return_sequences=True), merge_mode="sum", input_shape=(10, 1)),
            L.TimeDistributed(L.Dense(1, activation="sigmoid")),
        ]
    )
    models["tutorial_sum"] = (tutorial, rng.random((3, 10, 1)).astype("float32"))
    # series masked by value, left-padded, a backwards LSTM and a softmax over three classes
    series = keras.Sequential(
        [L.Masking(0.0, input_shape=(None, 2)), L.LSTM(4, go_backwards=True), L.Dense(3, activation="softmax")]
    )
    models["series_backwards_pre"] = (series, values(rng, 7, 2, "pre"))
    # the Q&A's model 2: stateful, one step per call (two calls in a row: the state carried)
    stateful = keras.Sequential(
        [L.LSTM(4, batch_input_shape=(1, 1, 1), stateful=True), L.Dense(1, activation="sigmoid")]
    )
    models["qa2_stateful"] = (stateful, rng.random((2, 1, 1, 1)).astype("float32"))
    for name, (model, x) in models.items():
        randomize(model, rng)
        if name == "qa2_stateful":
            model.reset_states()
            y = np.stack([model.predict(step, verbose=0) for step in x])  # (2, 1, 1): the state carried
        else:
            y = model.predict(x, verbose=0)
        model.save(HERE / f"keras2_{name}.h5")
        np.savez(HERE / f"keras2_{name}.npz", x=x, y=y)
        print(name, x.shape, y.shape)
    print("Keras", keras.__version__)


if __name__ == "__main__":
    main()
