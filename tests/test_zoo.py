"""The model zoo: every preset builds, has Keras's parameter count, trains, and reports itself like Keras."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
import torch
from helpers import import_keras
from torch import Tensor, nn

import lstmlab
from lstmlab.models import Sequential, parse_option, preset_config

SEED = 1234
FREE_STEPS = 6  # steps used where a preset's time axis is free (steps=None)

# One override per preset, changing its sizes (and merge mode, class count, order where the preset has one).
OVERRIDES: dict[str, dict[str, Any]] = {
    "text-lstm": {"vocab_size": 50, "embed_dim": 6, "max_len": 12, "units": 7, "dense_units": 5, "num_classes": 3},
    "text-bilstm": {"vocab_size": 40, "embed_dim": 5, "max_len": 9, "units": 7, "merge_mode": "sum"},
    "text-bilstm-pool": {
        "vocab_size": 40,
        "embed_dim": 5,
        "max_len": 9,
        "units": 7,
        "pooling": "average",
        "input_dropout": 0.3,
        "word_dropout": 0.2,
        "spatial_dropout": 0.1,
    },
    "series-bilstm": {"steps": 8, "features": 3, "units": 6, "merge_mode": "sum", "pooling": "max", "num_classes": 4},
    "series-lstm-fcn": {"steps": 8, "features": 3, "units": 5, "filters": 4, "num_classes": 4},
    "qa-lstm": {"steps": None, "features": 3, "units": 7},
    "qa-stateful": {"features": 2, "units": 7, "batch_size": 3},
    "qa-timedistributed": {"steps": 6, "features": 2, "dense_units": 4, "units": 7, "num_classes": 4},
    "qa-embedding-lstm": {"vocab_size": 30, "embed_dim": 8, "max_len": 11, "units": 7},
    "qa-embedding-bilstm": {"vocab_size": 30, "embed_dim": 8, "max_len": 11, "units": 7, "merge_mode": "ave"},
    "tutorial-lstm": {"steps": None, "features": 3, "units": 7, "num_classes": 3},
    "tutorial-lstm-backward": {"units": 7, "keras_order": True},
    "tutorial-bilstm": {"units": 7, "merge_mode": "mul"},
}

CASES = [pytest.param(name, {}, id=f"{name}-default") for name in lstmlab.PRESETS] + [
    pytest.param(name, OVERRIDES[name], id=f"{name}-override") for name in lstmlab.PRESETS
]


def test_every_preset_has_an_override_case() -> None:
    assert sorted(OVERRIDES) == sorted(lstmlab.PRESETS)


# ------------------------------------------------------------------------------------------ inputs and losses
def is_token_model(config: Any) -> bool:
    return hasattr(config, "vocab_size")


def make_batch(model: Sequential, config: Any, gen: torch.Generator) -> Tensor:
    """A small fixed batch for `model`: token ids (some rows right-padded with 0) or values in [0, 1)."""
    batch = model.batch_size or 4
    shape = tuple(FREE_STEPS if d is None else d for d in model.input_shape)
    if not is_token_model(config):
        return torch.rand(batch, *shape, generator=gen)
    steps = shape[0]
    ids = torch.randint(1, config.vocab_size, (batch, steps), generator=gen)
    lengths = [steps, max(1, steps // 2), 1, steps - 1][:batch]
    for row, length in enumerate(lengths):
        ids[row, length:] = 0
    return ids


def make_targets(logits: Tensor, gen: torch.Generator) -> Tensor:
    """Fixed labels: one 0/1 label per logit for one-logit outputs, class indices otherwise."""
    if logits.shape[-1] == 1:
        return torch.randint(0, 2, logits.shape, generator=gen).to(logits.dtype)
    return torch.randint(0, logits.shape[-1], logits.shape[:-1], generator=gen)


def loss_fn(logits: Tensor, targets: Tensor) -> Tensor:
    if logits.shape[-1] == 1:
        return nn.functional.binary_cross_entropy_with_logits(logits, targets)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def expected_output_shape(model: Sequential, x: Tensor) -> tuple[int, ...]:
    steps = x.shape[1]
    return (x.shape[0], *(steps if d is None else d for d in model.output_shape))


# ------------------------------------------------------------------------------------------ Keras formulas
def lstm_params(inputs: int, units: int) -> int:
    """Keras LSTM: four gates, each with an input kernel, a recurrent kernel and a bias."""
    return 4 * (units * (inputs + units) + units)


def dense_params(inputs: int, units: int) -> int:
    return (inputs + 1) * units


def embedding_params(vocab: int, width: int) -> int:
    return vocab * width


def conv_params(inputs: int, filters: int, kernel: int) -> int:
    """Keras Conv1D: a (kernel, inputs, filters) kernel and a bias per filter."""
    return kernel * inputs * filters + filters


def batch_norm_params(features: int) -> int:
    """Keras BatchNormalization: gamma and beta (trainable), moving mean and variance (non-trainable)."""
    return 4 * features


def fcn_params(inputs: int, filters: int) -> int:
    """The three FCN blocks: Conv1D(filters, 8), Conv1D(2 filters, 5), Conv1D(filters, 3), each with BN."""
    sizes = [(inputs, filters, 8), (filters, 2 * filters, 5), (2 * filters, filters, 3)]
    return sum(conv_params(i, f, k) + batch_norm_params(f) for i, f, k in sizes)


def logits_of(c: Any) -> int:
    return 1 if c.num_classes == 2 else c.num_classes


def merged(c: Any) -> int:
    return 2 * c.units if c.merge_mode == "concat" else c.units


def keras_formula(name: str, c: Any) -> int:
    """The parameter count of the Keras model that preset `name` reproduces, by the formulas above."""
    k = logits_of(c)
    if name == "text-lstm":
        return (
            embedding_params(c.vocab_size, c.embed_dim)
            + lstm_params(c.embed_dim, c.units)
            + dense_params(c.units, c.dense_units)
            + dense_params(c.dense_units, k)
        )
    if name == "text-bilstm":
        return (
            embedding_params(c.vocab_size, c.embed_dim)
            + 2 * lstm_params(c.embed_dim, c.units)
            + dense_params(c.max_len * merged(c), k)
        )
    if name == "text-bilstm-pool":
        return (
            embedding_params(c.vocab_size, c.embed_dim)
            + 2 * lstm_params(c.embed_dim, c.units)
            + dense_params(merged(c), k)
        )
    if name == "series-bilstm":
        return 2 * lstm_params(c.features, c.units) + dense_params(merged(c), k)
    if name == "series-lstm-fcn":
        return (
            2 * lstm_params(c.features, c.units)
            + fcn_params(c.features, c.filters)
            + dense_params(2 * c.units + c.filters, k)
        )
    if name in ("qa-lstm", "qa-stateful", "tutorial-lstm", "tutorial-lstm-backward"):
        return lstm_params(c.features, c.units) + dense_params(c.units, k)
    if name == "qa-timedistributed":
        return dense_params(c.features, c.dense_units) + lstm_params(c.dense_units, c.units) + dense_params(c.units, k)
    if name == "qa-embedding-lstm":
        return (
            embedding_params(c.vocab_size, c.embed_dim) + lstm_params(c.embed_dim, c.units) + dense_params(c.units, k)
        )
    if name == "qa-embedding-bilstm":
        return (
            embedding_params(c.vocab_size, c.embed_dim)
            + 2 * lstm_params(c.embed_dim, c.units)
            + dense_params(merged(c), k)
        )
    if name == "tutorial-bilstm":
        return 2 * lstm_params(c.features, c.units) + dense_params(merged(c), k)
    raise AssertionError(f"no Keras formula for preset {name}")


def test_keras_formulas_on_the_articles_numbers() -> None:
    # The tutorial's Bi-LSTM(20) on one feature: 2 * 4 * (20 * 21 + 20) + 41.
    assert lstm_params(1, 20) == 1760
    assert keras_formula("tutorial-bilstm", preset_config("tutorial-bilstm")) == 3561
    assert keras_formula("text-bilstm", preset_config("text-bilstm")) == 121_600 + 16_640 + 24_321


# ------------------------------------------------------------------------------------------ Keras oracle
def keras_model(name: str, c: Any) -> Any:
    """The Keras model that preset `name` reproduces, built with config `c` (sigmoid/softmax heads as Keras)."""
    keras = import_keras()
    L = keras.layers
    k = logits_of(c)
    head = "sigmoid" if k == 1 else "softmax"
    if name == "text-lstm":
        layers = [
            keras.Input(shape=(c.max_len,)),
            L.Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero),
            L.Dropout(c.dropout),
            L.LSTM(c.units),
            L.Dense(c.dense_units, activation="relu"),
            L.Dropout(c.dropout),
            L.Dense(k, activation=head),
        ]
    elif name == "text-bilstm":
        layers = [
            keras.Input(shape=(c.max_len,)),
            L.Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero),
            L.Dropout(c.dropout),
            L.Bidirectional(L.LSTM(c.units, return_sequences=True), merge_mode=c.merge_mode),
            L.Dropout(c.dropout),
            L.Flatten(),
            L.Dense(k, activation=head),
        ]
    elif name == "text-bilstm-pool":
        pool = L.GlobalMaxPooling1D() if c.pooling == "max" else L.GlobalAveragePooling1D()
        layers = [
            keras.Input(shape=(c.max_len,)),
            L.Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero),
            *([L.Dropout(c.word_dropout, noise_shape=(None, None, 1))] if c.word_dropout else []),
            *([L.SpatialDropout1D(c.spatial_dropout)] if c.spatial_dropout else []),
            L.Dropout(c.dropout),
            L.Bidirectional(L.LSTM(c.units, return_sequences=True, dropout=c.input_dropout), merge_mode=c.merge_mode),
            pool,
            L.Dropout(c.dropout),
            L.Dense(k, activation=head),
        ]
    elif name == "series-bilstm":
        pool = L.GlobalMaxPooling1D() if c.pooling == "max" else L.GlobalAveragePooling1D()
        layers = [
            keras.Input(shape=(c.steps, c.features)),
            *([L.GaussianNoise(c.noise)] if c.noise > 0 else []),
            L.Bidirectional(L.LSTM(c.units, return_sequences=True, dropout=c.input_dropout), merge_mode=c.merge_mode),
            pool,
            L.Dropout(c.dropout),
            L.Dense(k, activation=head),
        ]
    elif name == "series-lstm-fcn":
        return keras_lstm_fcn(keras, c, k, head)
    elif name == "qa-lstm":
        layers = [keras.Input(shape=(c.steps, c.features)), L.LSTM(c.units), L.Dense(k, activation=head)]
    elif name == "qa-stateful":
        layers = [
            keras.Input(batch_shape=(c.batch_size, c.steps, c.features)),
            L.LSTM(c.units, stateful=True),
            L.Dense(k, activation=head),
        ]
    elif name == "qa-timedistributed":
        layers = [
            keras.Input(shape=(c.steps, c.features)),
            L.TimeDistributed(L.Dense(c.dense_units)),
            L.LSTM(c.units),
            L.Dense(k, activation=head),
        ]
    elif name == "qa-embedding-lstm":
        layers = [
            keras.Input(shape=(c.max_len,)),
            L.Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero),
            L.LSTM(c.units),
            L.Dense(k, activation=head),
        ]
    elif name == "qa-embedding-bilstm":
        layers = [
            keras.Input(shape=(c.max_len,)),
            L.Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero),
            L.Bidirectional(L.LSTM(c.units), merge_mode=c.merge_mode),
            L.Dense(k, activation=head),
        ]
    elif name in ("tutorial-lstm", "tutorial-lstm-backward"):
        layers = [
            keras.Input(shape=(c.steps, c.features)),
            L.LSTM(c.units, return_sequences=True, go_backwards=name.endswith("backward")),
            L.TimeDistributed(L.Dense(k, activation=head)),
        ]
    elif name == "tutorial-bilstm":
        layers = [
            keras.Input(shape=(c.steps, c.features)),
            L.Bidirectional(L.LSTM(c.units, return_sequences=True), merge_mode=c.merge_mode),
            L.TimeDistributed(L.Dense(k, activation=head)),
        ]
    else:
        raise AssertionError(f"no Keras model for preset {name}")
    with warnings.catch_warnings():
        # Keras warns that Flatten drops the Embedding's mask; the article's model does exactly that.
        warnings.filterwarnings("ignore", message=".*does not support masking.*", category=UserWarning)
        return keras.Sequential(layers)


def keras_lstm_fcn(keras: Any, c: Any, k: int, head: str) -> Any:
    """LSTM-FCN in Keras's functional API: a Bi-LSTM path and a convolutional path, joined by Concatenate."""
    L = keras.layers
    inputs = keras.Input(shape=(c.steps, c.features))
    recurrent = L.GlobalAveragePooling1D()(L.Bidirectional(L.LSTM(c.units, return_sequences=True))(inputs))
    x = inputs
    for filters, kernel in [(c.filters, 8), (2 * c.filters, 5), (c.filters, 3)]:
        x = L.Activation("relu")(L.BatchNormalization()(L.Conv1D(filters, kernel, padding="same")(x)))
    joined = L.Concatenate()([recurrent, L.GlobalAveragePooling1D()(x)])
    return keras.Model(inputs, L.Dense(k, activation=head)(L.Dropout(c.dropout)(joined)))


def keras_layers(model: Any) -> list[Any]:
    """The layers of a Keras model whose counterparts are top-level layers of ours: a functional model's
    branches and their Concatenate stand for our Parallel (compared by their total), the rest one to one."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if not any(type(layer).__name__ == "Concatenate" for layer in layers):
        return layers
    join = next(i for i, layer in enumerate(layers) if type(layer).__name__ == "Concatenate")
    return [layers[: join + 1], *layers[join + 1 :]]


def keras_count(layer: Any) -> int:
    return sum(part.count_params() for part in layer) if isinstance(layer, list) else int(layer.count_params())


def keras_shape(layer: Any) -> tuple[int | None, ...]:
    return tuple((layer[-1] if isinstance(layer, list) else layer).output.shape[1:])


# ------------------------------------------------------------------------------------------ shape and count
@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_preset_output_shape(name: str, overrides: dict[str, Any]) -> None:
    gen = torch.Generator().manual_seed(SEED)
    config = preset_config(name, **overrides)
    model = lstmlab.build_model(name, **overrides).eval()
    x = make_batch(model, config, gen)
    if is_token_model(config):
        assert int((x == 0).sum()) > 0, "the token batch should hold right-padded rows"
    with torch.no_grad():
        y = model(x)
    assert tuple(y.shape) == expected_output_shape(model, x)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_preset_parameter_count_matches_keras_formula(name: str, overrides: dict[str, Any]) -> None:
    model = lstmlab.build_model(name, **overrides)
    assert model.count_params() == keras_formula(name, preset_config(name, **overrides))
    assert model.count_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_preset_parameter_count_matches_keras_model(name: str, overrides: dict[str, Any]) -> None:
    reference = keras_model(name, preset_config(name, **overrides))
    model = lstmlab.build_model(name, **overrides)
    assert model.count_params() == reference.count_params()
    # layer by layer too (Keras's Input is not a layer; ReverseTime has no Keras counterpart and no parameters)
    kept = [i for i, layer in enumerate(model.layers) if not isinstance(layer, lstmlab.ReverseTime)]
    assert len(kept) == len(keras_layers(reference))
    ours = [sum(p.numel() for p in model.layers[i].parameters()) for i in kept]
    assert ours == [keras_count(layer) for layer in keras_layers(reference)]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == sum(int(w.numpy().size) for w in reference.trainable_weights)


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_preset_output_shapes_match_keras_model(name: str, overrides: dict[str, Any]) -> None:
    reference = keras_model(name, preset_config(name, **overrides))
    model = lstmlab.build_model(name, **overrides)
    kept = [
        shape
        for shape, layer in zip(model.output_shapes, model.layers, strict=True)
        if type(layer).__name__ != "ReverseTime"
    ]
    assert kept == [keras_shape(layer) for layer in keras_layers(reference)]


# ------------------------------------------------------------------------------------------ one optimiser step
def eval_loss(model: Sequential, x: Tensor, targets: Tensor) -> float:
    model.eval()
    model.reset_states()  # stateful presets: every evaluation starts from zero state
    with torch.no_grad():
        return float(loss_fn(model(x), targets))


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_one_adam_step_lowers_the_loss(name: str, overrides: dict[str, Any]) -> None:
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    config = preset_config(name, **overrides)
    model = lstmlab.build_model(name, **overrides)
    x = make_batch(model, config, gen)
    with torch.no_grad():
        targets = make_targets(model.eval()(x), gen)
    before = eval_loss(model, x, targets)

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    model.reset_states()
    torch.manual_seed(SEED)  # the dropout masks of the training step are fixed
    loss = loss_fn(model(x), targets)
    optimizer.zero_grad()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad), "every weight takes part"
    optimizer.step()

    after = eval_loss(model, x, targets)
    assert after < before - 1e-4, f"{name}: loss {before:.5f} -> {after:.5f}"


# ------------------------------------------------------------------------------------------ errors and options
def test_unknown_preset_raises_naming_expected_and_received() -> None:
    with pytest.raises(ValueError, match=r"Expected a preset in \[.*'text-bilstm'.*\]\. Received: 'nope'"):
        lstmlab.build_model("nope")


def test_unknown_override_raises_naming_expected_and_received() -> None:
    with pytest.raises(ValueError, match=r"Expected options of qa-lstm in \[.*'units'.*\]\. Received: hidden$"):
        lstmlab.build_model("qa-lstm", hidden=3)


def test_known_override_is_applied() -> None:
    config = preset_config("tutorial-bilstm", merge_mode="sum", units=7)
    assert (config.merge_mode, config.units, config.steps) == ("sum", 7, 10)
    assert lstmlab.PRESETS["tutorial-bilstm"].config.units == 20, "the preset's default config stays unchanged"


@pytest.mark.parametrize(
    ("name", "key", "text", "expected"),
    [
        ("text-lstm", "units", "7", 7),
        ("text-lstm", "dropout", "0.25", 0.25),
        ("text-lstm", "dropout", "1e-1", 0.1),
        ("text-lstm", "dropout", "1", 1.0),
        ("text-lstm", "mask_zero", "false", False),
        ("text-lstm", "mask_zero", "True", True),
        ("text-bilstm", "merge_mode", "sum", "sum"),
        ("text-bilstm", "impl", "reference", "reference"),
        ("qa-lstm", "steps", "none", None),
        ("qa-lstm", "steps", "None", None),
        ("qa-lstm", "steps", "12", 12),
        ("qa-stateful", "batch_size", "none", None),
        ("tutorial-lstm-backward", "keras_order", "1", True),
    ],
)
def test_parse_option_converts(name: str, key: str, text: str, expected: object) -> None:
    value = parse_option(name, key, text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "key", "text", "message"),
    [
        ("text-lstm", "units", "seven", r"Expected units as int\. Received: units='seven'"),
        ("text-lstm", "units", "7.5", r"Expected units as int\. Received: units='7.5'"),
        ("text-lstm", "units", "none", r"Expected units as int\. Received: units='none'"),
        ("text-lstm", "dropout", "half", r"Expected dropout as float\. Received: dropout='half'"),
        ("text-lstm", "mask_zero", "yes", r"Expected mask_zero as bool\. Received: mask_zero='yes'"),
        ("text-bilstm", "merge_mode", "avg", r"Expected merge_mode as one of 'concat', .*'ave'\. Received: .*'avg'"),
        ("qa-lstm", "steps", "ten", r"Expected steps as int or none\. Received: steps='ten'"),
        ("qa-lstm", "hidden", "3", r"Expected options of qa-lstm in \[.*'units'.*\]\. Received: hidden"),
        ("qa-lstm", "unit", "3", r"Expected options of qa-lstm in \[.*\]\. Received: unit \(did you mean 'units'\?\)$"),
        ("nope", "units", "3", r"Expected a preset in .*Received: 'nope'$"),
        ("qa-lstn", "units", "3", r"Expected a preset in .*Received: 'qa-lstn' \(did you mean 'qa-lstm'\?\)$"),
    ],
)
def test_parse_option_rejects(name: str, key: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_option(name, key, text)


# ------------------------------------------------------------------------------------------ summary
SUMMARY_ROW = re.compile(r"\((\w+)\)[\s│]*\(([^)]*)\)[\s│]*([\d,]+)")


def summary_rows(text: str) -> list[tuple[str, tuple[str, ...], int]]:
    """(layer type, output shape, parameter count) of each row of a Keras-style summary."""
    rows = []
    for kind, shape, count in SUMMARY_ROW.findall(text):
        dims = tuple(d.strip() for d in shape.split(",") if d.strip())
        rows.append((kind, dims, int(count.replace(",", ""))))
    return rows


def test_summary_of_tutorial_bilstm() -> None:
    printed: list[str] = []
    text = lstmlab.build_model("tutorial-bilstm").summary(print_fn=printed.append)
    assert printed == [text]
    assert 'Model: "tutorial-bilstm"' in text
    assert re.search(r"bidirectional \(Bidirectional\)\s+\(None, 10, 40\)\s+3,520", text)
    assert re.search(r"time_distributed \(TimeDistributed\)\s+\(None, 10, 1\)\s+41", text)
    assert "Total params: 3,561" in text
    assert "Trainable params: 3,561" in text
    assert "Non-trainable params: 0" in text


def test_summary_names_repeated_layers_like_keras() -> None:
    text = lstmlab.build_model("text-lstm").summary(print_fn=None)
    names = re.findall(r"^(\w+) \((\w+)\)", text, flags=re.MULTILINE)
    assert names[0] == ("Layer", "type")
    assert names[1:] == [
        ("embedding", "Embedding"),
        ("dropout", "Dropout"),
        ("lstm", "LSTM"),
        ("dense", "Dense"),
        ("dropout_1", "Dropout"),
        ("dense_1", "Dense"),
    ]
    assert re.search(r"lstm \(LSTM\)\s+\(None, 32\)\s+8,320", text)


def test_summary_of_stateful_model_shows_its_batch_size() -> None:
    text = lstmlab.build_model("qa-stateful").summary(print_fn=None)
    assert re.search(r"lstm \(LSTM\)\s+\(1, 10\)\s+480", text)
    assert re.search(r"dense \(Dense\)\s+\(1, 1\)\s+11", text)


def test_summary_of_text_bilstm_matches_keras() -> None:
    text = lstmlab.build_model("text-bilstm").summary(print_fn=None)
    ours = summary_rows(text)
    reference = keras_model("text-bilstm", preset_config("text-bilstm"))
    # The rows of Keras's summary, from the layers it prints them from: its table wraps long layer names
    # (keras names count up per session: "bidirectional_7"), so its text is not parsed row by row.
    theirs = [
        (type(layer).__name__, tuple(str(d) for d in layer.output.shape), layer.count_params())
        for layer in reference.layers
    ]
    assert ours == theirs
    assert [count for _, _, count in ours] == [121_600, 0, 16_640, 0, 0, 24_321]
    printed: list[str] = []
    reference.summary(print_fn=lambda line, **_: printed.append(line))
    keras_total = re.search(r"Total params: ([\d,]+)", "\n".join(printed))
    assert keras_total is not None
    assert f"Total params: {keras_total.group(1)}" in text


def test_summary_lists_each_branch_of_lstm_fcn_with_keras_counts() -> None:
    config = preset_config("series-lstm-fcn", features=12, num_classes=9)
    text = lstmlab.build_model("series-lstm-fcn", features=12, num_classes=9).summary(print_fn=None)
    assert re.search(r"^parallel \(Parallel\)\s+\(None, 256\)\s+316,416$", text, flags=re.MULTILINE)
    assert re.search(r"^  1: bidirectional \(Bidirectional\)\s+\(None, None, 128\)\s+39,424$", text, flags=re.MULTILINE)
    assert re.search(
        r"^  2: conv1d \(Conv1D\)\s+\(None, None, 128\)\s+12,416$", text, flags=re.MULTILINE
    )  # 8*12*128+128
    assert re.search(r"^  2: batch_normalization_1 \(BatchNormalization\)\s+\(None, None, 256\)\s+1,024$", text, re.M)
    assert re.search(r"^dense \(Dense\)\s+\(None, 9\)\s+2,313$", text, flags=re.MULTILINE)
    assert f"Total params: {keras_formula('series-lstm-fcn', config):,}" in text
    assert "Non-trainable params: 1,024" in text  # the moving mean and variance of 128 + 256 + 128 features
