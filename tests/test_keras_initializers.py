"""Pretrained vectors in the Keras front end, as the Keras tutorials write them: `Embedding(..., weights=[matrix])`,
`embeddings_initializer=Constant(matrix)` and `trainable=False` (lstmlab/keras/initializers.py, layers.py), checked
against Keras itself (parameter counts, the starting vectors, frozen rows after training) and through saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import import_keras

from lstmlab.keras.initializers import Constant
from lstmlab.keras.layers import LSTM, Dense, Embedding
from lstmlab.keras.models import Sequential, load_model
from lstmlab.models import model_config, model_from_config

VECTORS = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)


def _model(embedding: Embedding) -> Sequential:
    model = Sequential()
    model.add(embedding)
    model.add(LSTM(3))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _fit(model: Any) -> None:
    x = np.random.default_rng(1).integers(1, 20, (32, 6))
    model.fit(x, (x.sum(axis=1) > 60).astype("float32"), epochs=2, batch_size=8, verbose=0)


@pytest.mark.parametrize("given", ["weights", "constant"])
@pytest.mark.parametrize("trainable", [False, True])
def test_the_vectors_start_the_embedding_and_stay_when_frozen_as_in_keras(given: str, trainable: bool) -> None:
    keras = import_keras()
    options: dict[str, Any] = (
        {"weights": [VECTORS]} if given == "weights" else {"embeddings_initializer": Constant(VECTORS)}
    )
    ours = _model(Embedding(20, 4, input_length=6, trainable=trainable, **options))
    k_options = (
        {"weights": [VECTORS]}
        if given == "weights"
        else {"embeddings_initializer": keras.initializers.Constant(VECTORS)}
    )
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(20, 4, trainable=trainable, **k_options)])
    theirs.add(keras.layers.LSTM(3))
    theirs.add(keras.layers.Dense(1, activation="sigmoid"))
    theirs.compile(loss="binary_crossentropy", optimizer="adam")
    np.testing.assert_array_equal(ours.get_weights()[0], VECTORS)
    np.testing.assert_array_equal(theirs.get_weights()[0], VECTORS)
    model = ours.lstmlab_model
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert ours.count_params() == theirs.count_params()
    assert frozen == sum(int(np.prod(w.shape)) for w in theirs.non_trainable_weights) == (0 if trainable else 80)
    _fit(ours)
    _fit(theirs)
    assert np.array_equal(ours.get_weights()[0], VECTORS) is (not trainable)
    assert np.array_equal(theirs.get_weights()[0], VECTORS) is (not trainable)


def test_a_frozen_embedding_stays_frozen_through_a_layout_and_a_keras_file(tmp_path: Path) -> None:
    ours = _model(Embedding(20, 4, input_length=6, trainable=False, weights=[VECTORS]))
    ours.build()
    rebuilt = model_from_config(model_config(ours.lstmlab_model))
    assert not rebuilt.layers[0].trainable
    old = model_config(ours.lstmlab_model)
    del old["layers"][0]["config"]["trainable"]  # a run saved before the option: trainable, as it was
    assert model_from_config(old).layers[0].trainable
    ours.save(str(tmp_path / "frozen.keras"))
    loaded = load_model(str(tmp_path / "frozen.keras"))
    assert not loaded.lstmlab_model.layers[0].trainable
    np.testing.assert_array_equal(loaded.get_weights()[0], VECTORS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weights": [VECTORS[:5]]}, r"Expected Embedding weights of shape \(20, 4\) \(input_dim, output_dim\)\. "),
        ({"weights": [VECTORS, VECTORS]}, r"Expected Embedding weights=\[matrix\], one array of shape \(20, 4\)"),
        ({"embeddings_initializer": Constant(VECTORS.T)}, r"Expected Embedding embeddings_initializer of shape"),
        ({"embeddings_initializer": "glorot_uniform"}, r"Expected Embedding with embeddings_initializer='uniform'"),
        ({"weights": [VECTORS], "embeddings_initializer": Constant(VECTORS)}, r"Expected one of weights= or"),
        ({"trainable": "no"}, r"Expected Embedding with trainable True or False\. Received: trainable='no'$"),
    ],
)
def test_bad_vectors_are_one_line(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        Embedding(20, 4, input_length=6, **options)
    assert "\n" not in str(error.value)


def test_the_layers_own_vectors_are_checked() -> None:
    from lstmlab.layers import Embedding as Layer

    layer = Layer(20, 4)
    with pytest.raises(ValueError, match=r"^Embedding expected vectors of shape \(20, 4\)"):
        layer.set_vectors(torch.zeros(4, 20))
    with pytest.raises(ValueError, match=r"^Embedding expected finite vectors"):
        layer.set_vectors(torch.full((20, 4), float("nan")))
    layer.set_vectors(torch.from_numpy(VECTORS))
    assert torch.equal(layer.embedding.weight.detach(), torch.from_numpy(VECTORS))
