"""lstmlab.keras against Keras itself (its PyTorch backend) and Keras 2's documented behaviour: pad_sequences and
Tokenizer, the articles' models (counts and predictions with the same weights), training steps, losses, Keras's
EarlyStopping rule, fit's semantics (validation split, persistent optimiser, history names), stateful models,
save/load, and the one-line refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import import_keras

from lstmlab.keras import callbacks as lk_callbacks
from lstmlab.keras import layers as L
from lstmlab.keras import load_keras_model, load_model, losses, optimizers
from lstmlab.keras.models import Sequential
from lstmlab.keras.preprocessing.sequence import pad_sequences
from lstmlab.keras.preprocessing.text import Tokenizer
from lstmlab.keras.utils import to_categorical


# ----------------------------------------------------------------------------------------- preprocessing
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"maxlen": 3},
        {"maxlen": 6, "padding": "post"},
        {"maxlen": 2, "truncating": "post"},
        {"maxlen": 4, "padding": "post", "truncating": "post", "value": 7},
        {"maxlen": 5, "dtype": "float32", "value": -1.5},
        {"maxlen": 3, "dtype": "int64"},
    ],
)
def test_pad_sequences_equals_keras(kwargs: dict[str, Any]) -> None:
    keras = import_keras()
    sequences = [[1, 2, 3, 4, 5], [6], [], [7, 8], [9, 10, 11, 12, 13, 14, 15]]
    ours, theirs = pad_sequences(sequences, **kwargs), keras.utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    items = [np.ones((2, 3)), np.zeros((4, 3))]  # sequences of vectors
    np.testing.assert_array_equal(pad_sequences(items, maxlen=3), keras.utils.pad_sequences(items, maxlen=3))


def test_pad_sequences_defaults_and_errors() -> None:
    padded = pad_sequences([[1, 2, 3], [4]])
    assert padded.dtype == np.int32
    np.testing.assert_array_equal(padded, [[1, 2, 3], [0, 0, 4]])  # Keras's default: pre
    with pytest.raises(ValueError, match=r"^Expected padding in \{'pre', 'post'\}\. Received: padding='middle'$"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match=r"^Expected truncating in"):
        pad_sequences([[1, 2]], maxlen=1, truncating="x")
    with pytest.raises(ValueError, match=r"^Expected a list of iterables"):
        pad_sequences([1, 2])  # type: ignore[list-item]


def test_tokenizer_ranks_words_by_frequency_as_keras2() -> None:
    texts = ["The cat sat on the mat.", "The dog ate the cat!", "A dog, a cat."]
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(texts)
    # counts: the 4, cat 3, dog 2, a 2, then sat on mat ate (1 each, in the order first seen)
    assert tokenizer.word_index == {"the": 1, "cat": 2, "dog": 3, "a": 4, "sat": 5, "on": 6, "mat": 7, "ate": 8}
    assert tokenizer.word_counts["the"] == 4
    assert tokenizer.word_docs["cat"] == 3
    assert tokenizer.document_count == 3
    assert tokenizer.texts_to_sequences(["the cat ate a fish"]) == [[1, 2, 8, 4]]  # unknown words dropped
    limited = Tokenizer(num_words=4)  # ids below 4 kept
    limited.fit_on_texts(texts)
    assert limited.texts_to_sequences(["the cat ate a dog"]) == [[1, 2, 3]]
    oov = Tokenizer(num_words=4, oov_token="<unk>")
    oov.fit_on_texts(texts)
    assert oov.word_index["<unk>"] == 1 and oov.word_index["the"] == 2
    assert oov.texts_to_sequences(["the cat ate fish"]) == [[2, 3, 1, 1]]
    assert oov.sequences_to_texts([[2, 3, 1]]) == ["the cat <unk>"]
    assert Tokenizer(lower=False, filters="").texts_to_sequences(["x"]) == [[]]


def test_to_categorical() -> None:
    keras = import_keras()
    ids = np.array([[0], [2], [1]])
    np.testing.assert_array_equal(to_categorical(ids, 4), keras.utils.to_categorical(ids, 4))


# ----------------------------------------------------------------------------------------- the articles' models
def _ours(name: str) -> Sequential:
    """The articles' models on lstmlab.keras (small vocabularies where it does not matter)."""
    m = Sequential()
    if name == "text-lstm":
        for layer in (
            L.Embedding(300, 32, input_length=20),
            L.Dropout(0.2),
            L.LSTM(32),
            L.Dense(256, activation="relu"),
            L.Dropout(0.2),
            L.Dense(1, activation="sigmoid"),
        ):
            m.add(layer)
    elif name == "text-bilstm":
        for layer in (
            L.Embedding(300, 32, input_length=20),
            L.Dropout(0.5),
            L.Bidirectional(L.LSTM(32, return_sequences=True), merge_mode="concat"),
            L.Dropout(0.5),
            L.Flatten(),
            L.Dense(1, activation="sigmoid"),
        ):
            m.add(layer)
    elif name == "qa1":
        m.add(L.LSTM(10, input_shape=(10, 1)))
        m.add(L.Dense(1, activation="sigmoid"))
    elif name == "qa3":
        m.add(L.TimeDistributed(L.Dense(10), input_shape=(10, 1)))
        m.add(L.LSTM(10))
        m.add(L.Dense(1, activation="sigmoid"))
    elif name in ("qa4", "qa5", "masked"):
        m.add(L.Embedding(300, 128 if name != "masked" else 8, input_length=20, mask_zero=name == "masked"))
        m.add(L.Bidirectional(L.LSTM(10)) if name != "qa4" else L.LSTM(10))
        m.add(L.Dense(1, activation="sigmoid"))
    elif name.startswith("tutorial"):
        _, kind, mode = name.split("-")
        if kind == "bilstm":
            m.add(L.Bidirectional(L.LSTM(20, return_sequences=True), input_shape=(10, 1), merge_mode=mode))
        else:
            m.add(L.LSTM(20, input_shape=(10, 1), return_sequences=True, go_backwards=kind == "backward"))
        m.add(L.TimeDistributed(L.Dense(1, activation="sigmoid")))
    return m


def _theirs(keras: Any, name: str) -> Any:
    """The same models in Keras 3."""
    K = keras.layers
    if name == "text-lstm":
        layers = [
            keras.Input((20,)),
            K.Embedding(300, 32),
            K.Dropout(0.2),
            K.LSTM(32),
            K.Dense(256, activation="relu"),
            K.Dropout(0.2),
            K.Dense(1, activation="sigmoid"),
        ]
    elif name == "text-bilstm":
        layers = [
            keras.Input((20,)),
            K.Embedding(300, 32),
            K.Dropout(0.5),
            K.Bidirectional(K.LSTM(32, return_sequences=True), merge_mode="concat"),
            K.Dropout(0.5),
            K.Flatten(),
            K.Dense(1, activation="sigmoid"),
        ]
    elif name == "qa1":
        layers = [keras.Input((10, 1)), K.LSTM(10), K.Dense(1, activation="sigmoid")]
    elif name == "qa3":
        layers = [keras.Input((10, 1)), K.TimeDistributed(K.Dense(10)), K.LSTM(10), K.Dense(1, activation="sigmoid")]
    elif name in ("qa4", "qa5", "masked"):
        embedding = K.Embedding(300, 128 if name != "masked" else 8, mask_zero=name == "masked")
        layers = [
            keras.Input((20,)),
            embedding,
            K.Bidirectional(K.LSTM(10)) if name != "qa4" else K.LSTM(10),
            K.Dense(1, activation="sigmoid"),
        ]
    else:
        _, kind, mode = name.split("-")
        lstm = K.LSTM(20, return_sequences=True, go_backwards=kind == "backward")
        layers = [
            keras.Input((10, 1)),
            K.Bidirectional(lstm, merge_mode=mode) if kind == "bilstm" else lstm,
            K.TimeDistributed(K.Dense(1, activation="sigmoid")),
        ]
    return keras.Sequential(layers)


ARTICLE_MODELS = [
    "text-lstm",
    "text-bilstm",
    "qa1",
    "qa3",
    "qa4",
    "qa5",
    "masked",
    "tutorial-lstm-x",
    "tutorial-backward-x",
    *(f"tutorial-bilstm-{mode}" for mode in ("concat", "sum", "mul", "ave")),
]


def _inputs(name: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if name.startswith(("text", "qa4", "qa5", "masked")):
        rows = [list(rng.integers(1, 300, size=n)) for n in (20, 7, 1, 13)]
        return pad_sequences(rows, maxlen=20)  # Keras's default: padded at the front
    return rng.random((4, 10, 1))


@pytest.mark.parametrize("name", ARTICLE_MODELS)
def test_article_models_count_and_predict_as_keras(name: str) -> None:
    """Keras's parameter counts (summary and per layer), and with Keras's weights copied in by set_weights, Keras's
    predictions (left-padded ids included, with and without mask_zero)."""
    keras = import_keras()
    ours, theirs = _ours(name), _theirs(keras, name)
    lines: list[str] = []
    ours.summary(print_fn=lines.append)
    assert f"Total params: {theirs.count_params():,}" in lines[0]
    assert [layer.count_params() for layer in ours.layers] == [layer.count_params() for layer in theirs.layers]
    ours.set_weights(theirs.get_weights())
    x = _inputs(name)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), atol=1e-5, rtol=1e-5)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, keras_weight)


def test_stateful_model_counts_as_keras_and_carries_its_state() -> None:
    """Q&A model 2: a sequence fed one step per call gives the per-step outputs of the same LSTM over the whole
    sequence; reset_states starts again."""
    keras = import_keras()
    model2 = Sequential()
    model2.add(L.LSTM(10, batch_input_shape=(1, 1, 1), return_sequences=False, stateful=True))
    model2.add(L.Dense(1, activation="sigmoid"))
    theirs = keras.Sequential(
        [keras.Input(batch_shape=(1, 1, 1)), keras.layers.LSTM(10, stateful=True), keras.layers.Dense(1)]
    )
    assert model2.count_params() == theirs.count_params()
    whole = Sequential(
        [L.LSTM(10, input_shape=(10, 1), return_sequences=True), L.TimeDistributed(L.Dense(1, activation="sigmoid"))]
    )
    whole.set_weights(model2.get_weights())
    x = np.random.default_rng(0).random((1, 10, 1))
    stepwise = [model2.predict(x[:, t : t + 1])[0, 0] for t in range(10)]  # one call per step
    np.testing.assert_allclose(stepwise, whole.predict(x)[0, :, 0], atol=1e-6)
    model2.reset_states()
    np.testing.assert_allclose(model2.predict(x[:, :1])[0, 0], whole.predict(x)[0, 0, 0], atol=1e-6)


# ----------------------------------------------------------------------------------------- training against Keras
def _tutorial_pair(keras: Any, optimizer: str, loss: str = "binary_crossentropy") -> tuple[Sequential, Any]:
    ours, theirs = _ours("tutorial-bilstm-concat"), _theirs(keras, "tutorial-bilstm-concat")
    ours.set_weights(theirs.get_weights())
    ours.compile(loss=loss, optimizer=optimizer, metrics=["accuracy"])
    theirs.compile(loss=loss, optimizer=optimizer, metrics=["accuracy"])
    return ours, theirs


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_fit_steps_as_keras(optimizer: str) -> None:
    """Three single-sequence fit calls with Keras's default optimisers give Keras's weights, losses and accuracies
    (the loss on logits equals Keras's on probabilities; Adam's moments persist across fit calls as in Keras)."""
    keras = import_keras()
    ours, theirs = _tutorial_pair(keras, optimizer)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.random((1, 10, 1))
        y = (np.cumsum(x, axis=1) > 2.5).astype("float32")
        mine, keras_history = (
            ours.fit(x, y, epochs=1, batch_size=1, verbose=0),
            theirs.fit(x, y, epochs=1, batch_size=1, verbose=0),
        )
        assert mine.history["loss"][0] == pytest.approx(keras_history.history["loss"][0], rel=1e-5)
        assert mine.history["accuracy"] == pytest.approx(keras_history.history["accuracy"])
    for mine_w, keras_w in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine_w, keras_w, atol=2e-6)


def test_losses_equal_keras() -> None:
    """evaluate's loss for each Keras loss on its output activation, with the same weights."""
    keras = import_keras()
    rng = np.random.default_rng(2)
    x = rng.random((6, 10, 1))
    ids = rng.integers(0, 3, size=6)
    cases = [
        ("categorical_crossentropy", "softmax", 3, to_categorical(ids, 3)),
        ("sparse_categorical_crossentropy", "softmax", 3, ids),
        ("binary_crossentropy", "sigmoid", 1, (ids > 0).astype("float32")[:, None]),
        ("mse", None, 1, rng.random((6, 1))),
    ]
    for loss, activation, units, y in cases:
        ours = Sequential([L.LSTM(5, input_shape=(10, 1)), L.Dense(units, activation=activation)])
        theirs = keras.Sequential(
            [keras.Input((10, 1)), keras.layers.LSTM(5), keras.layers.Dense(units, activation=activation)]
        )
        ours.set_weights(theirs.get_weights())
        ours.compile(loss=loss, optimizer="adam")
        theirs.compile(loss=loss, optimizer="adam")
        assert ours.evaluate(x, y, verbose=0) == pytest.approx(theirs.evaluate(x, y, verbose=0), rel=1e-5), loss


def test_optimizer_defaults_are_keras() -> None:
    keras = import_keras()
    for ours, theirs in (
        (optimizers.Adam(), keras.optimizers.Adam()),
        (optimizers.RMSprop(), keras.optimizers.RMSprop()),
        (optimizers.SGD(), keras.optimizers.SGD()),
    ):
        config = theirs.get_config()
        for key, value in ours.get_config().items():
            if key != "name":
                assert config[key] == pytest.approx(value), (type(ours).__name__, key)
    assert optimizers.Adam(lr=0.01).learning_rate == 0.01  # Keras 2's name


# ----------------------------------------------------------------------------------------- fit's semantics
def _small(metrics: list[str] | None = None, loss: str = "binary_crossentropy") -> Sequential:
    torch.manual_seed(0)
    model = Sequential([L.LSTM(4, input_shape=(5, 1)), L.Dense(1, activation="sigmoid")])
    model.compile(loss=loss, optimizer="adam", metrics=metrics if metrics is not None else ["accuracy"])
    return model


def _data(rows: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.random((rows, 5, 1))
    return x, (x.sum(axis=(1, 2)) > 2.5).astype("int64")


def test_fit_trains_in_training_mode_and_leaves_every_layer_in_inference_mode() -> None:
    x, y = _data()
    model = Sequential([L.LSTM(4, input_shape=(5, 1), dropout=0.5), L.Dropout(0.5), L.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    seen: list[set[bool]] = []

    class Modes(lk_callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            seen.append({m.training for m in model.lstmlab_model.modules()})

    model.fit(x, y, epochs=2, batch_size=10, validation_split=0.5, callbacks=[Modes()], verbose=0)
    assert seen == [{True}] * 2  # validation scoring in between did not leave inference mode on
    assert {m.training for m in model.lstmlab_model.modules()} == {False}
    np.testing.assert_array_equal(model.predict(x), model.predict(x))  # dropout off
    model.train_on_batch(x, y)
    assert {m.training for m in model.lstmlab_model.modules()} == {False}


def test_history_names_evaluate_and_predict() -> None:
    x, y = _data()
    model = _small()
    history = model.fit(x, y, epochs=2, batch_size=4, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == [0, 1] and model.history is history
    loss, accuracy = model.evaluate(x, y, verbose=0)  # type: ignore[misc]
    assert 0 <= accuracy <= 1 and loss > 0
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "accuracy": accuracy}
    probabilities = model.predict(x)
    assert (
        isinstance(probabilities, np.ndarray) and probabilities.dtype == np.float32 and probabilities.shape == (20, 1)
    )
    assert ((probabilities > 0) & (probabilities < 1)).all()
    np.testing.assert_array_equal(model.predict_classes(x), (probabilities > 0.5).astype("int32"))
    # float64, float32, lists and tensors alike
    np.testing.assert_array_equal(model.predict(x.astype("float32")), probabilities)
    np.testing.assert_array_equal(model.predict(x.tolist()), probabilities)
    np.testing.assert_array_equal(model.predict(torch.from_numpy(x)), probabilities)
    assert model.evaluate(x, y, verbose=0) == [loss, accuracy]
    acc_named = _small(metrics=["acc"])
    assert set(acc_named.fit(x, y, validation_data=(x, y), verbose=0).history) == {"loss", "acc", "val_loss", "val_acc"}
    no_metric = _small(metrics=[])
    assert set(no_metric.fit(x, y, verbose=0).history) == {"loss"}
    assert isinstance(no_metric.evaluate(x, y, verbose=0), float)


def test_softmax_outputs_and_classes() -> None:
    x, y = _data()
    model = Sequential([L.LSTM(4, input_shape=(5, 1)), L.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    probabilities = model.predict(x)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict_classes(x), probabilities.argmax(axis=-1))


def test_validation_split_holds_out_the_last_rows_before_shuffling() -> None:
    x, y = _data(20)
    x[16:] = np.nan  # the last fifth: trained on, every weight would become NaN
    model = _small()
    history = model.fit(x, y, epochs=2, batch_size=4, validation_split=0.2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isnan(history.history["val_loss"]).all()
    clean = _small()
    x, y = _data(20)
    history = clean.fit(x, y, epochs=1, batch_size=4, validation_split=0.25, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(clean.evaluate(x[15:], y[15:], verbose=0)[0], rel=1e-6)  # type: ignore[index]


def test_the_optimizer_persists_across_fit_calls() -> None:
    x, y = _data()
    once, twice = _small(), _small()
    twice.set_weights(once.get_weights())
    once.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    optimizer = twice._torch_optimizer
    twice.fit(x, y, epochs=1, batch_size=5, shuffle=False, verbose=0)
    twice.fit(x, y, epochs=1, batch_size=5, shuffle=False, verbose=0)
    assert twice._torch_optimizer is optimizer
    for a, b in zip(once.get_weights(), twice.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    twice.compile(loss="binary_crossentropy", optimizer="adam")  # a new compile: a new optimiser, as in Keras
    assert twice._torch_optimizer is not optimizer


def test_verbose_output(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = _data()
    model = _small()
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=10, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"2/2 - \d+s \d+ms/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}", lines[1])


# ----------------------------------------------------------------------------------------- callbacks
class _Stub:
    """What Keras's and our EarlyStopping read of a model when they do not restore weights."""

    stop_training = False


@pytest.mark.parametrize(
    ("values", "options"),
    [
        ([0.5, 0.4, 0.41, 0.42, 0.39, 0.4, 0.4, 0.4], {"patience": 2}),
        ([0.5, 0.5, 0.5, 0.5], {"patience": 0}),
        ([0.5, 0.49, 0.485, 0.48, 0.3], {"patience": 2, "min_delta": 0.02}),
        ([0.6, 0.7, 0.65, 0.66, 0.71, 0.7, 0.69], {"patience": 2, "monitor": "val_accuracy", "mode": "max"}),
        ([0.6, 0.7, 0.65, 0.66, 0.71, 0.7, 0.69], {"patience": 2, "monitor": "val_accuracy", "mode": "min"}),
        ([0.5, 0.45, 0.44, 0.43, 0.42, 0.41], {"patience": 2, "baseline": 0.4}),
        ([0.5, 0.6, 0.7, 0.8, 0.9], {"patience": 1, "start_from_epoch": 3}),
    ],
)
def test_early_stopping_stops_where_keras_stops(values: list[float], options: dict[str, Any]) -> None:
    keras = import_keras()
    monitor = options.get("monitor", "val_loss")

    def stopping_epoch(callback: Any) -> int | None:
        model = _Stub()
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, value in enumerate(values):
            callback.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
            if model.stop_training:
                return epoch
        return None

    ours = stopping_epoch(lk_callbacks.EarlyStopping(**options))
    assert ours == stopping_epoch(keras.callbacks.EarlyStopping(**options))


def test_early_stopping_restores_the_best_epoch_and_reads_val_acc() -> None:
    x, y = _data(40)
    model = _small()
    seen: list[list[np.ndarray]] = []

    class Record(lk_callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            seen.append(self._model().get_weights())

    es = lk_callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, batch_size=4, validation_split=0.5, callbacks=[Record(), es], verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert es.best_epoch == best
    for restored, kept in zip(model.get_weights(), seen[best], strict=True):
        np.testing.assert_array_equal(restored, kept)
    # Keras 2's monitor name for metrics=['accuracy']
    stopper = lk_callbacks.EarlyStopping(monitor="val_acc", patience=1)
    history = _small().fit(x, y, epochs=3, validation_split=0.5, callbacks=[stopper], verbose=0)
    assert stopper.best == max(history.history["val_accuracy"][: len(history.epoch)])
    with pytest.raises(ValueError, match=r"^Expected a logged figure among .*Received: monitor='val_auc'$"):
        _small().fit(x, y, epochs=1, callbacks=[lk_callbacks.EarlyStopping(monitor="val_auc")], verbose=0)


def test_model_checkpoint_saves_the_best(tmp_path: Path) -> None:
    x, y = _data(40)
    model = _small()
    checkpoint = lk_callbacks.ModelCheckpoint(
        str(tmp_path / "model-{epoch:02d}-{val_loss:.3f}.lstmlab"), save_best_only=True
    )
    history = model.fit(x, y, epochs=4, validation_split=0.5, callbacks=[checkpoint], verbose=0)
    saved = sorted(p.name for p in tmp_path.iterdir())
    losses_seen = history.history["val_loss"]
    improved = [e for e, v in enumerate(losses_seen) if v < min(losses_seen[:e], default=np.inf)]
    assert saved == [f"model-{e + 1:02d}-{losses_seen[e]:.3f}.lstmlab" for e in improved]
    best = load_model(str(tmp_path / saved[-1]))
    assert best.evaluate(x[20:], y[20:], verbose=0)[0] == pytest.approx(min(losses_seen), rel=1e-6)  # type: ignore[index]


# ----------------------------------------------------------------------------------------- saving
def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = pad_sequences([list(rng.integers(1, 50, size=n)) for n in (8, 3, 5, 1)], maxlen=8)
    y = np.array([1, 0, 1, 0])
    model = Sequential(
        [
            L.Embedding(50, 8, input_length=8, mask_zero=True),
            L.Bidirectional(L.LSTM(6)),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=optimizers.Adam(learning_rate=0.01), metrics=["acc"])
    model.fit(x, y, epochs=2, verbose=0)
    model.save(str(tmp_path / "model.lstmlab"))
    loaded = load_model(str(tmp_path / "model.lstmlab"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [(layer.kind, layer.name, layer.count_params()) for layer in loaded.layers] == [
        ("Embedding", "embedding", 400),
        ("Bidirectional", "bidirectional", 2 * 4 * 6 * (8 + 6 + 1)),
        ("Dense", "dense", 13),
    ]
    assert all(a.layer is b for a, b in zip(loaded.layers, loaded.lstmlab_model.layers, strict=True))
    assert loaded.metric == "acc" and loaded.optimizer is not None and loaded.optimizer.learning_rate == 0.01
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    loaded.fit(x, y, epochs=1, verbose=0)  # trains on, with a fresh optimiser
    model.save_weights(str(tmp_path / "weights.safetensors"))
    loaded.load_weights(str(tmp_path / "weights.safetensors"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    (tmp_path / "junk").write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"^Expected a file saved by lstmlab.keras"):
        load_model(str(tmp_path / "junk"))


def test_keras_saved_model_loads(tmp_path: Path) -> None:
    keras = import_keras()
    theirs = _theirs(keras, "tutorial-bilstm-sum")
    path = tmp_path / "tutorial.keras"
    theirs.save(path)
    x = _inputs("tutorial-bilstm-sum")
    for loaded in (load_keras_model(path), load_model(str(path))):
        assert loaded.activation == "sigmoid"
        np.testing.assert_allclose(loaded.predict(x), theirs.predict(x, verbose=0), atol=1e-5)
    wrapped = Sequential.from_lstmlab(load_keras_model(path).lstmlab_model, "sigmoid")
    wrapped.compile(loss="binary_crossentropy", optimizer="adam")
    wrapped.fit(x, (x > 0.5).astype("float32"), verbose=0)


def test_save_to_a_keras_name_writes_an_archive_keras_loads(tmp_path: Path) -> None:
    keras = import_keras()
    rng = np.random.default_rng(5)
    x = pad_sequences([list(rng.integers(1, 50, size=n)) for n in (8, 3, 5, 1)], maxlen=8)  # left-padded
    model = Sequential(
        [
            L.Embedding(50, 8, input_length=8, mask_zero=True),
            L.Bidirectional(L.LSTM(6)),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(x, np.array([0, 1, 2, 1]), epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # nothing left beside it
    np.testing.assert_allclose(keras.saving.load_model(path).predict(x, verbose=0), model.predict(x), atol=1e-5)
    np.testing.assert_allclose(load_model(str(path)).predict(x), model.predict(x), atol=1e-6)
    with pytest.raises(ValueError, match=r"^Expected a \.keras name .*Received: .*model\.h5$"):
        model.save(str(tmp_path / "model.h5"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_masking_equals_keras_on_padded_series(padding: str) -> None:
    keras = import_keras()
    rng = np.random.default_rng(6)
    rows = [rng.normal(size=(n, 2)).astype("float32") for n in (6, 2, 4)]
    x = pad_sequences(rows, maxlen=6, dtype="float32", padding=padding)  # (3, 6, 2), zeros at padded steps
    theirs = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.Masking(0.0),
            keras.layers.Bidirectional(keras.layers.LSTM(5)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    ours = Sequential(
        [L.Masking(0.0, input_shape=(None, 2)), L.Bidirectional(L.LSTM(5)), L.Dense(1, activation="sigmoid")]
    )
    ours.build()
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), atol=1e-5)
    alone = np.concatenate([ours.predict(row[None]) for row in rows])  # each row unpadded
    np.testing.assert_allclose(ours.predict(x), alone, atol=1e-6)


# ----------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: L.LSTM(10, recurrent_dropout=0.2), r"^Expected LSTM with dropout= .*Received: recurrent_dropout=0.2$"),
        (
            lambda: L.LSTM(10, activation="relu"),
            r"^Expected LSTM with activation='tanh' .*Received: activation='relu'$",
        ),
        (lambda: L.LSTM(10, unroll=True), r"^Expected LSTM with unroll=False .*Received: unroll=True$"),
        (lambda: L.Dense(3, use_bias=False), r"^Expected Dense with use_bias=True .*Received: use_bias=False$"),
        (
            lambda: L.Dense(3, kernel_regularizer="l2"),
            r"^Expected Dense with weight decay .*Received: kernel_regularizer='l2'$",
        ),
        (lambda: L.LSTM(10, cheese=1), r"^Expected LSTM arguments among \[.*\]\. Received: cheese=1$"),
        (lambda: L.Dense(3, activation="elu"), r"^Expected activation in .*Received: activation='elu'$"),
        (
            lambda: L.Bidirectional(L.LSTM(3), merge_mode="avg"),
            r"^Expected merge_mode in .*Received: merge_mode='avg'$",
        ),
        (lambda: L.Conv1D(4, 3), r"^Expected Conv1D with padding='same' .*Received: padding='valid'$"),
        (
            lambda: L.Embedding(10, 4, dtype="float16"),
            r"^Expected Embedding with dtype='float32' .*Received: dtype='float16'$",
        ),
        (
            lambda: optimizers.Adam(use_ema=True),
            r"^Expected Adam arguments of Keras without use_ema\. Received: use_ema=True$",
        ),
        (
            lambda: losses.BinaryCrossentropy(label_smoothing=0.1),
            r"^Expected label_smoothing=0.0 .*Received: label_smoothing=0.1$",
        ),
        (
            lambda: Sequential().add(object()),
            r"^Expected a layer from lstmlab.keras.layers .*Received: builtins.object$",
        ),
        (
            lambda: _small(loss="categorical_crossentropy"),
            r"^Expected a last layer with activation='softmax' for categorical_crossentropy .*Received: activation 'sigmoid'$",
        ),
        (
            lambda: _small(metrics=["mae"]),
            r"^Expected metrics=None or one of \['accuracy', 'acc', 'binary_accuracy'\] .*Received: metrics=\['mae'\]$",
        ),
        (
            lambda: _small().compile(loss="hinge", optimizer="adam"),
            r"^Expected loss in \[.*\] or an lstmlab.keras.losses.Loss\. Received: loss='hinge'$",
        ),
        (
            lambda: _small().compile(loss="binary_crossentropy", optimizer="adagrad"),
            r"^Expected optimizer in \['adam', 'rmsprop', 'sgd'\] .*Received: optimizer='adagrad'$",
        ),
        (
            lambda: _small().fit(*_data(), class_weight={0: 1, 1: 2}),
            r"^Expected fit\(\) without class_weight .*Received: class_weight=\{0: 1, 1: 2\}$",
        ),
        (
            lambda: _small().fit(_data()[0], _data()[1][:5]),
            r"^Expected as many targets as inputs\. Received: x with 20 rows, y with 5$",
        ),
        (
            lambda: _small().fit(_data()[0], np.zeros((20, 3))),
            r"^Expected targets of shape \(N, 1\) for binary_crossentropy\. Received: shape=\(20, 3\)$",
        ),
        (lambda: Sequential([L.LSTM(3, input_shape=(5, 1))]).fit(*_data()), r"^Expected a compiled model"),
        (lambda: Sequential([L.LSTM(3)]).summary(), r"^Expected an input shape to build the model"),
    ],
)
def test_one_line_refusals(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)


def test_keras_own_layers_are_refused() -> None:
    keras = import_keras()
    with pytest.raises(ValueError, match=r"^Expected a layer from lstmlab.keras.layers .*Received: keras\..*Dense$"):
        Sequential().add(keras.layers.Dense(1))
