"""Keras model files in and out (lstmlab/keras/archive.py), against Keras 3 itself on its torch backend: models built
in Keras with random weights, saved by Keras as a .keras archive and as a legacy .h5, read by `read_keras`, give
Keras's predictions to 1e-5 on padded batches; lstmlab models written by `write_keras` load in Keras and predict
the same; what cannot be mapped is refused in one line naming the Keras layer and option."""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import import_keras, preset_batch

from lstmlab.keras.archive import read_keras, write_keras
from lstmlab.layers import (
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Masking,
    Parallel,
    ReverseTime,
    TimeDistributed,
)
from lstmlab.models import PRESETS, Sequential, build_model

keras = import_keras()
L = keras.layers
TOL = {"rtol": 1e-5, "atol": 1e-5}
LEFT_PADDING = "padding_side" in inspect.signature(Sequential.forward).parameters


def randomize(model: Any, seed: int) -> Any:
    """Random weights large enough that every one of them shows in the outputs; positive BN variances."""
    rng = np.random.default_rng(seed)
    values = []
    for variable in model.weights:
        value = rng.normal(0.0, 0.5, tuple(variable.shape)).astype("float32")
        if "moving_variance" in variable.path:
            value = np.abs(value) + 0.5
        values.append(value)
    model.set_weights(values)
    return model


def sequential(layers: list[Any], seed: int, name: str | None = None) -> Any:
    model = keras.Sequential(layers, **({"name": name} if name else {}))
    return randomize(model, seed)


def bidirectional(units: int, *, merge_mode: str, return_sequences: bool = False, backwards: bool = False) -> Any:
    """Keras's Bidirectional over an LSTM; one reading backwards needs a forward-reading backward_layer in Keras 3."""
    layer = L.LSTM(units, return_sequences=return_sequences, go_backwards=backwards)
    if not backwards:
        return L.Bidirectional(layer, merge_mode=merge_mode)
    backward = L.LSTM(units, return_sequences=return_sequences)
    return L.Bidirectional(layer, backward_layer=backward, merge_mode=merge_mode)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


def ids_batch(vocab: int, steps: int, lengths: list[int], *, left: bool = False, seed: int = 0) -> np.ndarray:
    """Token ids 1..vocab-1 padded with 0 after (or before) each row's length."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, (len(lengths), steps)).astype("int32")
    for row, length in enumerate(lengths):
        if left:
            ids[row, : steps - length] = 0
        else:
            ids[row, length:] = 0
    return ids


def values_batch(steps: int, features: int, batch: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((batch, steps, features)).astype("float32")


# ------------------------------------------------------------------------------------------------ the models
# name -> (Keras model builder, input batch); every model is built once and saved in both formats
def _cases() -> dict[str, tuple[Callable[[], Any], np.ndarray]]:
    text_ids = ids_batch(3800, 380, [380, 200, 37, 1])
    qa_ids = ids_batch(100, 12, [12, 7, 3, 1], seed=1)
    cases: dict[str, tuple[Callable[[], Any], np.ndarray]] = {
        # the articles' models (SOURCES.md)
        "text_lstm": (
            lambda: sequential(
                [
                    keras.Input((380,), dtype="int32"),
                    L.Embedding(3800, 32),
                    L.Dropout(0.2),
                    L.LSTM(32),
                    L.Dense(256, activation="relu"),
                    L.Dropout(0.2),
                    L.Dense(1, activation="sigmoid"),
                ],
                1,
            ),
            text_ids,
        ),
        "text_bilstm": (
            lambda: sequential(
                [
                    keras.Input((380,), dtype="int32"),
                    L.Embedding(3800, 32),
                    L.Dropout(0.5),
                    L.Bidirectional(L.LSTM(32, return_sequences=True), merge_mode="concat"),
                    L.Dropout(0.5),
                    L.Flatten(),
                    L.Dense(1, activation="sigmoid"),
                ],
                2,
            ),
            text_ids,
        ),
        "qa_model1": (
            lambda: sequential([keras.Input((12, 1)), L.LSTM(10), L.Dense(1, activation="sigmoid")], 3),
            values_batch(12, 1),
        ),
        "qa_model3": (
            lambda: sequential(
                [keras.Input((8, 1)), L.TimeDistributed(L.Dense(8)), L.LSTM(10), L.Dense(1, activation="sigmoid")], 4
            ),
            values_batch(8, 1),
        ),
        "qa_model4": (
            lambda: sequential(
                [
                    keras.Input((12,), dtype="int32"),
                    L.Embedding(100, 128),
                    L.LSTM(10),
                    L.Dense(1, activation="sigmoid"),
                ],
                5,
            ),
            qa_ids,
        ),
        "qa_model5": (
            lambda: sequential(
                [
                    keras.Input((12,), dtype="int32"),
                    L.Embedding(100, 128),
                    L.Bidirectional(L.LSTM(10)),
                    L.Dense(1, activation="sigmoid"),
                ],
                6,
            ),
            qa_ids,
        ),
        "tutorial_lstm": (
            lambda: sequential(
                [
                    keras.Input((10, 1)),
                    L.LSTM(20, return_sequences=True),
                    L.TimeDistributed(L.Dense(1, activation="sigmoid")),
                ],
                7,
            ),
            values_batch(10, 1),
        ),
        "tutorial_backward": (
            lambda: sequential(
                [
                    keras.Input((10, 1)),
                    L.LSTM(20, return_sequences=True, go_backwards=True),
                    L.TimeDistributed(L.Dense(1, activation="sigmoid")),
                ],
                8,
            ),
            values_batch(10, 1),
        ),
        # inner layer reading backwards: Keras returns both halves in reversed time order
        "bilstm_inner_backwards": (
            lambda: sequential(
                [
                    keras.Input((10, 1)),
                    bidirectional(6, merge_mode="mul", return_sequences=True, backwards=True),
                    L.TimeDistributed(L.Dense(2, activation="softmax")),
                ],
                9,
            ),
            values_batch(10, 1),
        ),
        "pooling_max": (
            lambda: sequential(
                [keras.Input((9, 3)), L.LSTM(5, return_sequences=True), L.GlobalMaxPooling1D(), L.Dense(2)], 10
            ),
            values_batch(9, 3),
        ),
        "conv_batchnorm": (
            lambda: sequential(
                [
                    keras.Input((12, 3)),
                    L.Conv1D(4, 4, padding="same", activation="relu"),
                    L.BatchNormalization(),
                    L.Activation("tanh"),
                    L.SpatialDropout1D(0.1),
                    L.LSTM(5),
                    L.Dense(3),
                    L.Activation("softmax"),
                ],
                11,
            ),
            values_batch(12, 3),
        ),
    }
    for mode in ("concat", "sum", "mul", "ave"):
        cases[f"tutorial_bilstm_{mode}"] = (
            lambda mode=mode: sequential(  # type: ignore[misc]
                [
                    keras.Input((10, 1)),
                    L.Bidirectional(L.LSTM(20, return_sequences=True), merge_mode=mode),
                    L.TimeDistributed(L.Dense(1, activation="sigmoid")),
                ],
                12,
            ),
            values_batch(10, 1),
        )
    return cases


# masked models (Embedding(mask_zero=True)): compared on right- and left-padded batches at what Keras defines
def _masked_cases() -> dict[str, Callable[[], Any]]:
    def ids_input() -> Any:
        return keras.Input((9,), dtype="int32")

    def functional() -> Any:
        inputs = ids_input()
        x = L.Embedding(30, 6, mask_zero=True)(inputs)
        x = L.LSTM(5)(x)
        model = keras.Model(inputs, L.Dense(3, activation="softmax")(x), name="chain")
        return randomize(model, 20)

    cases: dict[str, Callable[[], Any]] = {
        "masked_lstm": lambda: sequential(
            [ids_input(), L.Embedding(30, 6, mask_zero=True), L.LSTM(5), L.Dense(3, activation="softmax")], 21
        ),
        "masked_lstm_backwards": lambda: sequential(
            [ids_input(), L.Embedding(30, 6, mask_zero=True), L.LSTM(5, go_backwards=True), L.Dense(1)], 22
        ),
        "masked_sequences_average": lambda: sequential(
            [
                ids_input(),
                L.Embedding(30, 6, mask_zero=True),
                L.LSTM(5, return_sequences=True),
                L.GlobalAveragePooling1D(),
                L.Dense(1, activation="sigmoid"),
            ],
            23,
        ),
        "masked_functional": functional,
    }
    for mode in ("concat", "sum", "mul", "ave"):
        cases[f"masked_bilstm_{mode}"] = lambda mode=mode: sequential(  # type: ignore[misc]
            [
                ids_input(),
                L.Embedding(30, 6, mask_zero=True),
                bidirectional(5, merge_mode=mode, return_sequences=True),
                bidirectional(4, merge_mode=mode, backwards=mode in ("sum", "ave")),
                L.Dense(2),
            ],
            24,
        )
    return cases


CASES = _cases()
MASKED = _masked_cases()
MASKED_LENGTHS = [9, 5, 2, 1]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path, Path]]:
    """Each Keras model, saved as a .keras archive and as a legacy .h5 file."""
    folder = tmp_path_factory.mktemp("keras")
    models = {}
    for name, build in [*((n, c[0]) for n, c in CASES.items()), *MASKED.items()]:
        model = build()
        archive, legacy = folder / f"{name}.keras", folder / f"{name}.h5"
        model.save(archive)
        model.save(legacy)
        models[name] = (model, archive, legacy)
    return models


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_read_keras_predicts_as_keras(saved: dict[str, tuple[Any, Path, Path]], name: str, fmt: str) -> None:
    model, archive, legacy = saved[name]
    x = CASES[name][1]
    imported = read_keras(archive if fmt == "keras" else legacy)
    np.testing.assert_allclose(imported.predict(x).numpy(), predict(model, x), **TOL)
    assert imported.format == fmt and imported.layer_names == tuple(layer.name for layer in model.layers)
    assert imported.model.count_params() == model.count_params()
    # logits: the model itself stops before Keras's final sigmoid or softmax
    last = model.layers[-1]
    final = getattr(getattr(last, "layer", last), "activation", None)
    expected = final.__name__ if final is not None and final.__name__ in ("sigmoid", "softmax") else "linear"
    assert imported.activation == expected


def test_a_wrong_weight_changes_the_predictions(saved: dict[str, tuple[Any, Path, Path]]) -> None:
    """The comparison can fail: one recurrent weight of the backward half changed shows in the outputs."""
    model, archive, _ = saved["tutorial_bilstm_ave"]
    x = CASES["tutorial_bilstm_ave"][1]
    imported = read_keras(archive)
    layer = imported.model.layers[0]
    assert isinstance(layer, Bidirectional)
    with torch.no_grad():
        layer.backward_layer.cell.weight_hh[3, 2] += 0.05
    assert np.abs(imported.predict(x).numpy() - predict(model, x)).max() > 1e-4


def _valid(out: np.ndarray, lengths: list[int], *, left: bool) -> list[np.ndarray]:
    steps = out.shape[1]
    return [out[b, steps - n :] if left else out[b, :n] for b, n in enumerate(lengths)]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_models_on_padded_batches(
    saved: dict[str, tuple[Any, Path, Path]], name: str, fmt: str, side: str
) -> None:
    if side == "left" and not LEFT_PADDING:
        pytest.skip("left-padded ids need lstmlab's left padding (Sequential.forward(padding_side=...))")
    model, archive, legacy = saved[name]
    ids = ids_batch(30, 9, MASKED_LENGTHS, left=side == "left", seed=3)
    imported = read_keras(archive if fmt == "keras" else legacy)
    np.testing.assert_allclose(imported.predict(ids).numpy(), predict(model, ids), **TOL)


def test_keras_masked_step_outputs_and_lstmlab_zeros() -> None:
    """What Keras outputs at masked steps (stated in the README): a plain LSTM(return_sequences=True) repeats the
    output of the last unmasked step before it in reading order (zeros before the first one); a Bidirectional's
    halves output zeros; lstmlab outputs zeros. Valid steps agree; with go_backwards, Keras's valid outputs of a
    right-padded row sit at its last steps (the whole padded axis reversed), lstmlab's at the row's own steps."""
    lengths = [9, 5, 2]
    forward = sequential(
        [keras.Input((9,), dtype="int32"), L.Embedding(30, 6, mask_zero=True), L.LSTM(4, return_sequences=True)], 30
    )
    backward = keras.Sequential(
        [
            keras.Input((9,), dtype="int32"),
            L.Embedding(30, 6, mask_zero=True),
            L.LSTM(4, return_sequences=True, go_backwards=True),
        ]
    )
    backward.set_weights(forward.get_weights())
    both = sequential(
        [
            keras.Input((9,), dtype="int32"),
            L.Embedding(30, 6, mask_zero=True),
            L.Bidirectional(L.LSTM(4, return_sequences=True)),
        ],
        31,
    )
    right = ids_batch(30, 9, lengths, seed=4)
    left = np.zeros_like(right)
    for b, n in enumerate(lengths):
        left[b, 9 - n :] = right[b, :n]
    keras_right, keras_left = predict(forward, right), predict(forward, left)
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(keras_right[b, n:], np.broadcast_to(keras_right[b, n - 1], (9 - n, 4)))
        np.testing.assert_array_equal(keras_left[b, : 9 - n], 0.0)
        np.testing.assert_allclose(keras_left[b, 9 - n :], keras_right[b, :n], **TOL)
    keras_both = predict(both, right)
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(keras_both[b, n:], 0.0)
    keras_back = predict(backward, right)
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(keras_back[b, : 9 - n], 0.0)

    folder = Path(pytest.importorskip("tempfile").mkdtemp())
    for model, keras_out in ((forward, keras_right), (both, keras_both)):
        model.save(folder / "m.keras")
        ours = read_keras(folder / "m.keras").predict(right).numpy()
        for b, n in enumerate(lengths):
            np.testing.assert_allclose(ours[b, :n], keras_out[b, :n], **TOL)
            np.testing.assert_array_equal(ours[b, n:], 0.0)
    backward.save(folder / "b.keras")
    imported = read_keras(folder / "b.keras")
    assert any("reads backwards under a mask" in note for note in imported.notes)
    ours = imported.predict(right).numpy()
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(ours[b, :n], keras_back[b, 9 - n :], **TOL)


@pytest.mark.filterwarnings("ignore:.*does not support masking:UserWarning")  # Keras on its own Flatten
def test_notes_name_what_keras_computes_differently_on_padded_rows(tmp_path: Path) -> None:
    """Flatten over a masked plain LSTM's padded steps, and GlobalMaxPooling1D (Keras's ignores the mask)."""
    for head, expected in ((L.Flatten(), "Flatten layer"), (L.GlobalMaxPooling1D(), "GlobalMaxPooling1D layer")):
        model = keras.Sequential(
            [
                keras.Input((6,), dtype="int32"),
                L.Embedding(9, 3, mask_zero=True),
                L.LSTM(2, return_sequences=True),
                head,
            ]
        )
        model.save(tmp_path / "m.keras")
        imported = read_keras(tmp_path / "m.keras")
        assert [note for note in imported.notes if note.startswith(expected)], imported.notes
        ids = ids_batch(9, 6, [6, 6])  # rows without padding: Keras's numbers
        np.testing.assert_allclose(imported.predict(ids).numpy(), predict(model, ids), **TOL)


def test_stateful_model_carries_state_across_calls(tmp_path: Path) -> None:
    """Q&A model 2: LSTM(10, batch_input_shape=(1, 1, 1), stateful=True); two pieces in a row, state carried."""
    model = sequential(
        [keras.Input(batch_shape=(1, 1, 1)), L.LSTM(10, stateful=True), L.Dense(1, activation="sigmoid")], 40
    )
    model.save(tmp_path / "stateful.keras")
    model.save(tmp_path / "stateful.h5")
    pieces = [np.array([[[0.3]]], dtype="float32"), np.array([[[0.9]]], dtype="float32")]
    expected = [predict(model, piece) for piece in pieces]
    for path in (tmp_path / "stateful.keras", tmp_path / "stateful.h5"):
        imported = read_keras(path)
        assert imported.batch_size == 1
        got = [imported.predict(piece).numpy() for piece in pieces]
        np.testing.assert_allclose(got, expected, **TOL)
        imported.model.reset_states()
        fresh = imported.predict(pieces[1]).numpy()
        assert np.abs(fresh - expected[1]).max() > 1e-4  # the second answer depended on the first piece


def masked_values(steps: int, features: int, lengths: list[int], *, left: bool, value: float) -> np.ndarray:
    """Values in [0.5, 1.5) padded with `value` in every feature after (or before) each row's length, as Keras's
    `pad_sequences(..., dtype='float32', padding='post' or 'pre', value=value)` pads them."""
    x = values_batch(steps, features, batch=len(lengths)) + 0.5
    for row, length in enumerate(lengths):
        if left:
            x[row, : steps - length] = value
        else:
            x[row, length:] = value
    return x


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_masking_layer_and_recurrent_dropout(tmp_path: Path, fmt: str, side: str) -> None:
    model = sequential([keras.Input((7, 2)), L.Masking(0.0), L.LSTM(5, recurrent_dropout=0.3), L.Dense(1)], 41)
    model.save(tmp_path / f"masking.{fmt}")
    x = masked_values(7, 2, [7, 4, 2, 1], left=side == "left", value=0.0)
    imported = read_keras(tmp_path / f"masking.{fmt}")
    first = imported.model.layers[0]
    assert isinstance(first, Masking) and first.mask_value == 0.0  # the native layer, inside the model
    assert any("recurrent_dropout=0.3" in note for note in imported.notes)
    np.testing.assert_allclose(imported.predict(x).numpy(), predict(model, x), **TOL)
    without = x.copy()
    without[:, :, :] = np.where(without == 0.0, 0.25, without)  # the same rows read in full: other answers
    assert np.abs(imported.predict(without).numpy() - predict(model, x)).max() > 1e-4


@pytest.mark.parametrize("side", ["right", "left"])
def test_masking_with_another_value_before_a_bidirectional(tmp_path: Path, side: str) -> None:
    model = sequential(
        [
            keras.Input((8, 3)),
            L.Masking(mask_value=-1.0),
            L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="ave"),
            L.GlobalAveragePooling1D(),
            L.Dense(3, activation="softmax"),
        ],
        42,
    )
    model.save(tmp_path / "masking.keras")
    x = masked_values(8, 3, [8, 5, 3, 1], left=side == "left", value=-1.0)
    imported = read_keras(tmp_path / "masking.keras")
    np.testing.assert_allclose(imported.predict(x).numpy(), predict(model, x), **TOL)


def test_masked_steps_between_unmasked_ones_are_refused(tmp_path: Path) -> None:
    model = sequential([keras.Input((5, 1)), L.Masking(0.0), L.LSTM(2)], 43)
    model.save(tmp_path / "masking.keras")
    x = np.array([[[1.0], [0.0], [2.0], [0.0], [0.0]]], dtype="float32")  # Keras skips step 1 and reads step 2
    with pytest.raises(ValueError, match=r"^Expected padded values .*Received: row 0 has masked steps between") as e:
        read_keras(tmp_path / "masking.keras").predict(x)
    assert "\n" not in str(e.value)


def test_a_later_masking_is_refused(tmp_path: Path) -> None:
    model = keras.Sequential([keras.Input((5, 2)), L.Dense(2), L.Masking(0.0), L.LSTM(2)])
    model.save(tmp_path / "later.keras")
    with pytest.raises(ValueError, match=r"^Expected Masking as the first layer .*Received: Masking layer 'masking"):
        read_keras(tmp_path / "later.keras")


# ------------------------------------------------------------------------------------------------ export
def _exports() -> dict[str, tuple[Callable[[], Sequential], str, np.ndarray]]:
    return {
        "text_bilstm": (
            lambda: Sequential(
                [Embedding(50, 8), Dropout(0.5), Bidirectional(LSTM(6, return_sequences=True)), Flatten(), Dense(1)],
                input_shape=(12,),
            ),
            "sigmoid",
            ids_batch(50, 12, [12, 12, 12]),
        ),
        "masked_merge_sum": (
            lambda: Sequential(
                [
                    Embedding(50, 8, mask_zero=True),
                    Bidirectional(LSTM(6, return_sequences=True), merge_mode="sum"),
                    GlobalAveragePooling1D(),
                    Dense(3),
                ],
                input_shape=(12,),
            ),
            "softmax",
            ids_batch(50, 12, [12, 6, 1]),
        ),
        "backward_steps": (
            lambda: Sequential(
                [LSTM(7, return_sequences=True, go_backwards=True), TimeDistributed(Dense(1))], input_shape=(10, 1)
            ),
            "sigmoid",
            values_batch(10, 1),
        ),
        "conv_pool": (
            lambda: Sequential(
                [
                    Conv1D(4, 3),
                    BatchNormalization(),
                    LSTM(5, return_sequences=True),
                    GlobalMaxPooling1D(),
                    Dense(2, "relu"),
                ],
                input_shape=(11, 3),
            ),
            "linear",
            values_batch(11, 3),
        ),
    }


EXPORTS = _exports()


def _randomized(model: Sequential, seed: int) -> Sequential:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            values = torch.randn(parameter.shape, generator=gen) * 0.5
            parameter.copy_(values.abs() + 0.5 if name.endswith("moving_variance") else values)
    return model.eval()


@pytest.mark.parametrize("side", ["right", "left"])
def test_write_keras_writes_a_masking_layer(tmp_path: Path, side: str) -> None:
    model = _randomized(
        Sequential([Masking(mask_value=-1.0), LSTM(5), Dense(3)], input_shape=(9, 2), name="masked_values"), 52
    )
    write_keras(model, tmp_path / "m.keras", activation="softmax")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]).__name__ == "Masking" and loaded.layers[0].mask_value == -1.0
    x = masked_values(9, 2, [9, 6, 2, 1], left=side == "left", value=-1.0)
    with torch.no_grad():
        ours = torch.softmax(model(torch.as_tensor(x)), -1).numpy()
    np.testing.assert_allclose(predict(loaded, x), ours, **TOL)
    back = read_keras(tmp_path / "m.keras")
    first = back.model.layers[0]
    assert isinstance(first, Masking) and first.mask_value == -1.0
    np.testing.assert_allclose(back.predict(x).numpy(), ours, **TOL)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_write_keras_loads_in_keras_and_predicts_the_same(tmp_path: Path, name: str) -> None:
    build, activation, x = EXPORTS[name]
    model = _randomized(build(), 50)
    path = tmp_path / f"{name}.keras"
    write_keras(model, path, activation=activation)
    loaded = keras.saving.load_model(path)
    with torch.no_grad():
        logits = model(torch.as_tensor(x))
    ours = {"sigmoid": torch.sigmoid, "softmax": lambda t: torch.softmax(t, -1), "linear": lambda t: t}[activation](
        logits
    )
    np.testing.assert_allclose(predict(loaded, x), ours.numpy(), **TOL)
    assert loaded.count_params() == model.count_params()
    back = read_keras(path)  # and back again
    assert back.activation == activation
    np.testing.assert_allclose(back.predict(x).numpy(), ours.numpy(), **TOL)


def test_write_keras_stateful_model(tmp_path: Path) -> None:
    model = _randomized(Sequential([LSTM(4, stateful=True), Dense(1)], input_shape=(3, 2), batch_size=2), 51)
    write_keras(model, tmp_path / "s.keras")
    loaded = keras.saving.load_model(tmp_path / "s.keras")
    x = values_batch(6, 2, batch=2)
    with torch.no_grad():
        ours = [model(torch.as_tensor(x[:, :3])).numpy(), model(torch.as_tensor(x[:, 3:])).numpy()]
    np.testing.assert_allclose([predict(loaded, x[:, :3]), predict(loaded, x[:, 3:])], ours, **TOL)


# ------------------------------------------------------------------------------------------------ refusals
def _edited(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a .keras archive with its config.json edited."""
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


def _layer(config: dict[str, Any], index: int) -> dict[str, Any]:
    entry: dict[str, Any] = config["config"]["layers"][index]
    return entry


def _set(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: _layer(config, index)["config"].update(changes)


def _rename_class(index: int, class_name: str) -> Callable[[dict[str, Any]], None]:
    return lambda config: _layer(config, index).update(class_name=class_name)


def _set_inner(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: _layer(config, index)["config"]["layer"]["config"].update(changes)


REFUSALS = [
    # (case, edit, the one line's pattern)
    (
        "qa_model1",
        _rename_class(1, "GRU"),
        r"Expected Keras layers lstmlab has \(.*\)\. Received: GRU layer 'lstm(_\d+)?'$",
    ),
    ("qa_model1", _rename_class(2, "Lambda"), r"Expected no Lambda layer .*Received: Lambda layer 'dense(_\d+)?'$"),
    (
        "qa_model1",
        _set(1, activation="relu"),
        r"Expected activation='tanh'.* Received: LSTM layer 'lstm(_\d+)?' with activation='relu'",
    ),
    (
        "qa_model1",
        _set(1, recurrent_activation="hard_sigmoid"),
        r"Received: LSTM layer 'lstm(_\d+)?' with recurrent_activation='hard_sigmoid'",
    ),
    (
        "qa_model1",
        _set(1, use_bias=False),
        r"Expected use_bias=True.*Received: LSTM layer 'lstm(_\d+)?' with use_bias=False",
    ),
    ("qa_model1", _set(2, activation="elu"), r"Received: Dense layer 'dense(_\d+)?' with activation='elu'"),
    (
        "qa_model1",
        _set(1, dtype="float16"),
        r"Expected dtype 'float32'.*Received: LSTM layer 'lstm(_\d+)?' with dtype='float16'",
    ),
    (
        "tutorial_bilstm_sum",
        _set(1, merge_mode=None),
        r"Expected merge_mode in \{'concat', 'sum', 'mul', 'ave'\}.*Received: Bidirectional layer 'bidirectional(_\d+)?' "
        r"with merge_mode=None",
    ),
    (
        "tutorial_bilstm_sum",
        _set_inner(1, activation="relu"),
        r"Received: LSTM layer 'forward_lstm(_\d+)?' with activation='relu'",
    ),
    (
        "conv_batchnorm",
        _set(1, padding="valid"),
        r"Expected padding='same'.*Received: Conv1D layer 'conv1d(_\d+)?' with padding='valid'",
    ),
    (
        "masked_lstm",
        lambda config: _layer(config, 2).update(class_name="Conv1D"),
        r"Expected no Conv1D after a mask .*Received: Conv1D layer 'lstm(_\d+)?'$",
    ),
]


@pytest.mark.parametrize(("case", "edit", "pattern"), REFUSALS)
def test_refusals_are_one_line_naming_the_layer(
    saved: dict[str, tuple[Any, Path, Path]], tmp_path: Path, case: str, edit: Any, pattern: str
) -> None:
    path = _edited(saved[case][1], tmp_path / "edited.keras", edit)
    with pytest.raises(ValueError, match=r"^Expected ") as error:
        read_keras(path)
    message = str(error.value)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_refusals_of_files_and_functional_models(tmp_path: Path) -> None:
    inputs = keras.Input((5, 2))
    left, right = L.LSTM(3)(inputs), L.LSTM(3)(inputs)
    branched = keras.Model(inputs, L.Concatenate()([left, right]))
    branched.save(tmp_path / "branched.keras")
    with pytest.raises(ValueError, match=r"^Expected a functional model that is a chain.*Received: Concatenate"):
        read_keras(tmp_path / "branched.keras")
    model = keras.Sequential([keras.Input((5, 2)), L.LSTM(3)])
    model.save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(ValueError, match=r"^Expected a whole-model \.h5 file"):
        read_keras(tmp_path / "only.weights.h5")
    (tmp_path / "text.keras").write_text("not a model")
    with pytest.raises(ValueError, match=r"^Expected a Keras 3 \.keras archive .* neither$"):
        read_keras(tmp_path / "text.keras")


def test_write_keras_refusals(tmp_path: Path) -> None:
    path = tmp_path / "x.keras"
    reversing = Sequential([LSTM(3, return_sequences=True), ReverseTime()], input_shape=(4, 1))
    with pytest.raises(
        ValueError, match=r"^Expected lstmlab layers that Keras has .*Received: ReverseTime 'reverse_time'$"
    ):
        write_keras(reversing, path)
    both = Sequential([Parallel([LSTM(2)], [LSTM(2)])], input_shape=(4, 1))
    with pytest.raises(ValueError, match=r"Received: Parallel 'parallel'$"):
        write_keras(both, path)
    backwards = Sequential([Bidirectional(LSTM(2, return_sequences=True, go_backwards=True))], input_shape=(4, 1))
    with pytest.raises(ValueError, match=r"^Expected a forward-reading LSTM in a Bidirectional"):
        write_keras(backwards, path)
    with pytest.raises(ValueError, match=r"^Expected activation in .*Received: activation='relu'$"):
        write_keras(reversing, path, activation="relu")
    later = Sequential([Dense(2), Masking(), LSTM(2)], input_shape=(4, 1))
    with pytest.raises(ValueError, match=r"^Expected Masking as the first layer only .*Received: Masking 'masking' at"):
        write_keras(later, path)
    convolved = Sequential([Masking(), Conv1D(2, 3), LSTM(2)], input_shape=(4, 1))
    with pytest.raises(ValueError, match=r"^Expected no Conv1D after a mask .*Received: Conv1D 'conv1d' after a"):
        write_keras(convolved, path)


def _keras2_style(value: Any) -> Any:
    """A Keras 3 config entry as Keras 2 wrote it: no module keys or build configs, dtypes as plain strings."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy":
            return value["config"]["name"]
        drop = ("module", "registered_name", "build_config", "compile_config")
        return {key: _keras2_style(item) for key, item in value.items() if key not in drop}
    if isinstance(value, list):
        return [_keras2_style(item) for item in value]
    return value


def test_keras2_h5_layout(saved: dict[str, tuple[Any, Path, Path]], tmp_path: Path) -> None:
    """A legacy file in Keras 2's layout (written by hand from Keras's own .h5): no InputLayer, batch_input_shape
    on the first layer, plain dtype strings, weights named `kernel:0`."""
    h5py = pytest.importorskip("h5py")
    model, _, legacy = saved["qa_model5"]
    path = tmp_path / "keras2.h5"
    path.write_bytes(legacy.read_bytes())
    with h5py.File(path, "r+") as store:
        config = _keras2_style(json.loads(store.attrs["model_config"]))
        layers = config["config"]["layers"]
        first_input = layers.pop(0)
        layers[0]["config"]["batch_input_shape"] = first_input["config"]["batch_shape"]
        store.attrs["model_config"] = json.dumps(config)
        weights = store["model_weights"]
        for name in weights.attrs["layer_names"]:
            group = weights[name]
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]
            for stored in names:
                group.move(stored, stored + ":0")
            group.attrs["weight_names"] = [(n + ":0").encode() for n in names]
    x = CASES["qa_model5"][1]
    imported = read_keras(path)
    assert imported.input_shape == (12,)
    np.testing.assert_allclose(imported.predict(x).numpy(), predict(model, x), **TOL)


# ------------------------------------------------------------------------------------------------ every preset
# presets Keras has no layers for: named in one line
PRESET_REFUSALS = {
    "series-lstm-fcn": r"Received: Parallel 'parallel'$",  # two branches: a functional model that is no chain
    "tutorial-lstm-backward": r"Received: ReverseTime 'reverse_time'$",  # Keras would need code (a Lambda)
}
# Keras's GlobalMaxPooling1D takes the maximum over padded steps too: compared on full-length rows only
PADDED_DIFFERS = {"text-bilstm-pool"}


@pytest.mark.filterwarnings("ignore:Layer .* does not support masking:UserWarning")  # Keras on its Flatten, pooling
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_goes_to_keras_and_back(name: str, tmp_path: Path) -> None:
    """Every preset: written with write_keras, loaded by Keras 3, the same predictions (padded token ids too, which
    Keras masks); read back with read_keras, the same model; or refused in one line."""
    torch.manual_seed(0)
    model = build_model(name).eval()
    path = tmp_path / f"{name}.keras"
    if name in PRESET_REFUSALS:
        with pytest.raises(ValueError, match=PRESET_REFUSALS[name]) as error:
            write_keras(model, path)
        assert "\n" not in str(error.value) and not path.exists()
        return
    x, lengths = preset_batch(model)
    activation = "sigmoid" if model.output_shape[-1] == 1 else "softmax"
    write_keras(model, path, activation=activation)
    theirs = keras.saving.load_model(path)
    assert theirs.count_params() == sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        logits = model(x)  # ids: padding id 0 gives the lengths, as Keras's mask_zero
    ours = torch.sigmoid(logits) if activation == "sigmoid" else torch.softmax(logits, dim=-1)
    ids = not x.is_floating_point()
    rows = slice(None) if ids and name not in PADDED_DIFFERS else (lengths == x.shape[1])
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x.numpy(), verbose=0))[rows.numpy() if isinstance(rows, torch.Tensor) else rows],
        ours[rows].numpy(),
        atol=1e-5,
    )
    back = read_keras(path)
    assert back.activation == activation
    with torch.no_grad():
        assert_close_outputs(back.model(x), logits)


def assert_close_outputs(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


# ------------------------------------------------------------------------------------------------ Keras 2 files
KERAS2 = Path(__file__).resolve().parent / "keras2"


@pytest.mark.parametrize("name", ["qa5_pre", "text_lstm", "tutorial_sum", "series_backwards_pre", "qa2_stateful"])
def test_files_written_by_keras_2_predict_as_keras_2_did(name: str) -> None:
    """Legacy .h5 files made by Keras 2 itself (tf_keras 2.21; tests/keras2/make_files.py), read without it: the
    predictions Keras 2 made, on left-padded ids and values too, and a stateful model's state carried."""
    imported = read_keras(KERAS2 / f"keras2_{name}.h5")
    arrays = np.load(KERAS2 / f"keras2_{name}.npz", allow_pickle=False)
    x, want = torch.from_numpy(arrays["x"]), arrays["y"]
    if name == "qa2_stateful":
        assert imported.batch_size == 1
        imported.model.reset_states()
        got = np.stack([imported.predict(step).numpy() for step in x])
    else:
        got = imported.predict(x.long() if not x.is_floating_point() else x).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert imported.format == "h5"
