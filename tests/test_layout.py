"""Layouts: every preset and hand-built models of every layer and option, through JSON text and back, give the same
model (outputs in eval and in training, on padded batches, summaries, state-dict keys); bad layouts are refused in
one line."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from helpers import preset_batch
from torch import Tensor, nn

import lstmlab.layers
from lstmlab.layers import (
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    Masking,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from lstmlab.models import PRESETS, Ensemble, Sequential, build_model
from lstmlab.models.layout import LAYER_CLASSES, layer_config, layer_from_config, model_config, model_from_config

SEED = 11


def through_json(model: Sequential) -> Sequential:
    """A fresh model from `model`'s layout written as JSON text and parsed back, holding `model`'s weights."""
    text = json.dumps(model_config(model))
    other = model_from_config(json.loads(text))
    other.load_state_dict(model.state_dict())
    return other


def answers(model: Sequential, x: Tensor, lengths: Tensor | None, *, training: bool) -> Tensor:
    """The model's output on one batch in eval mode, or in training mode from a fixed random state (dropout and
    noise draw the same values in two models whose layers draw the same way)."""
    model.train(training)
    model.reset_states()
    torch.manual_seed(SEED)
    with torch.no_grad():
        out: Tensor = model(x, lengths)
    return out


def assert_same_model(model: Sequential, x: Tensor, lengths: Tensor | None) -> None:
    other = through_json(model)
    assert type(other) is type(model)
    assert model_config(other) == model_config(model)
    assert list(other.state_dict()) == list(model.state_dict())
    assert other.summary(print_fn=None) == model.summary(print_fn=None)
    assert other.count_params() == model.count_params()
    for training in (False, True):
        expected = answers(model, x, lengths, training=training)
        assert torch.equal(answers(other, x, lengths, training=training), expected)


# ------------------------------------------------------------------------------------------ every preset
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_json(name: str) -> None:
    torch.manual_seed(SEED)
    model = build_model(name)
    x, lengths = preset_batch(model)
    assert_same_model(model, x, lengths)


def test_a_preset_with_other_options_round_trips() -> None:
    torch.manual_seed(SEED)
    model = build_model(
        "text-bilstm-pool", vocab_size=40, embed_dim=5, max_len=9, units=4, depth=2, merge_mode="mul", pooling="last"
    )
    x, lengths = preset_batch(model)
    assert_same_model(model, x, None)  # lengths from the padding ids
    assert_same_model(model, x, lengths)


# ------------------------------------------------------------------------------------------ hand-built models
def ids_batch(vocab: int, lengths: list[int], steps: int) -> Tensor:
    gen = torch.Generator().manual_seed(SEED)
    ids = torch.randint(1, vocab, (len(lengths), steps), generator=gen)
    ids[torch.arange(steps) >= torch.tensor(lengths)[:, None]] = 0
    return ids


def values_batch(batch: int, steps: int, features: int) -> Tensor:
    return torch.rand(batch, steps, features, generator=torch.Generator().manual_seed(SEED))


def tokens_model() -> Sequential:
    return Sequential(
        [
            Embedding(30, 6, mask_zero=True, input_length=9),
            Dropout(0.3, noise_shape=(None, None, 1)),
            SpatialDropout1D(0.2),
            Bidirectional(
                LSTM(5, return_sequences=True, go_backwards=True, dropout=0.25, impl="reference"), merge_mode="ave"
            ),
            LSTM(4, return_sequences=True, impl="fused"),
            ReverseTime(),
            TimeDistributed(Dense(3, "tanh")),
            GlobalMaxPooling1D(),
            Dense(2, activation="softmax"),
        ],
        input_shape=(9,),
        name="tokens",
    )


def parallel_model() -> Sequential:
    return Sequential(
        [
            GaussianNoise(0.1),
            Parallel(
                [Bidirectional(LSTM(2, return_sequences=True), merge_mode="sum"), Activation("sigmoid")],
                [Conv1D(3, 2), BatchNormalization(momentum=0.9, epsilon=1e-4, impl="reference"), Activation("tanh")],
            ),
            LSTM(4, return_sequences=True, go_backwards=True),
            GlobalAveragePooling1D(),
            Dense(3, "relu"),
            Dense(1, "linear"),
        ],
        input_shape=(None, 2),
        name="two-paths",
    )


def flatten_model(merge_mode: str) -> Sequential:
    return Sequential(
        [
            Bidirectional(LSTM(3, return_sequences=True), merge_mode=merge_mode),  # type: ignore[arg-type]
            Flatten(),
            Dense(1, "sigmoid"),
        ],
        input_shape=(6, 2),
    )


def stateful_model() -> Sequential:
    return Sequential(
        [LSTM(4, stateful=True, return_sequences=True), TimeDistributed(Dense(2)), GlobalAveragePooling1D()],
        input_shape=(3, 2),
        batch_size=2,
        name="streams",
    )


def masked_values_model() -> Sequential:
    return Sequential([Masking(mask_value=-1.0), LSTM(3, return_sequences=True), Dense(1)], input_shape=(None, 2))


def masked_values_batch() -> tuple[Tensor, Tensor | None]:
    x = values_batch(3, 6, 2)
    x[1, 4:] = -1.0  # lengths from the mask value: 6, 4, 2
    x[2, 2:] = -1.0
    return x, None


def plain_tokens_model() -> Sequential:
    return Sequential([Embedding(12, 3, trainable=False), LSTM(2), Dense(2, "relu")], input_shape=(None,))


HAND_BUILT: dict[str, tuple[Callable[[], Sequential], Callable[[], tuple[Tensor, Tensor | None]]]] = {
    "tokens": (tokens_model, lambda: (ids_batch(30, [9, 4, 1, 7], 9), None)),
    "parallel": (parallel_model, lambda: (values_batch(4, 7, 2), torch.tensor([7, 3, 1, 5]))),
    "flatten-concat": (lambda: flatten_model("concat"), lambda: (values_batch(3, 6, 2), torch.tensor([6, 2, 4]))),
    "flatten-mul": (lambda: flatten_model("mul"), lambda: (values_batch(3, 6, 2), None)),
    "stateful": (stateful_model, lambda: (values_batch(2, 3, 2), None)),
    "plain-tokens": (plain_tokens_model, lambda: (ids_batch(12, [5, 5], 5), None)),
    "masked-values": (masked_values_model, masked_values_batch),
}


@pytest.mark.parametrize("case", sorted(HAND_BUILT))
def test_hand_built_models_round_trip_through_json(case: str) -> None:
    build, batch = HAND_BUILT[case]
    torch.manual_seed(SEED)
    x, lengths = batch()
    assert_same_model(build(), x, lengths)


def test_a_padded_batch_of_a_rebuilt_model_answers_as_each_row_alone() -> None:
    torch.manual_seed(SEED)
    other = through_json(parallel_model()).eval()
    x, lengths = values_batch(3, 7, 2), torch.tensor([7, 3, 5])
    batched = other(x, lengths)
    for row in range(3):
        alone = other(x[row : row + 1, : int(lengths[row])])
        torch.testing.assert_close(batched[row : row + 1], alone, rtol=0, atol=1e-6)


def test_a_stateful_model_carries_its_state_after_the_round_trip() -> None:
    torch.manual_seed(SEED)
    model = stateful_model().eval()
    other = through_json(model).eval()
    x = values_batch(2, 6, 2)
    with torch.no_grad():
        for piece in (x[:, :3], x[:, 3:]):
            assert torch.equal(other(piece), model(piece))
        assert not torch.equal(other(x[:, :3]), answers(other, x[:, :3], None, training=False))  # state carried


def test_an_ensemble_round_trips_with_its_members() -> None:
    torch.manual_seed(SEED)
    model = Ensemble([build_model("qa-lstm", steps=None, units=5) for _ in range(3)])
    config = model_config(model)
    assert config["ensemble"] == 3 and config["name"] == "qa-lstm"
    x = values_batch(4, 5, 1)
    assert_same_model(model, x, torch.tensor([5, 2, 1, 4]))
    assert through_json(model).name == model.name


# ------------------------------------------------------------------------------------------ coverage of the registry
def every_layer(layers: list[Any]) -> Iterator[dict[str, Any]]:
    """Every layer layout in `layers`, wrappers' inner layers included."""
    for layer in layers:
        yield layer
        config = layer["config"]
        if "layer" in config:
            yield from every_layer([config["layer"]])
        for branch in config.get("branches", []):
            yield from every_layer(branch)


# Options no hand-built model sets: an LSTM returning its state gives a tuple, which no next layer reads (the
# layout still records it: test_a_layer_layout_records_return_state).
AT_DEFAULT_ONLY = {"LSTM.return_state"}


def constructor_options(cls: type) -> dict[str, Any]:
    """The constructor's options that a layout records (the input size is `Sequential`'s to infer), with their
    defaults (`inspect.Parameter.empty` where required)."""
    if cls.__init__ is nn.Module.__init__:  # type: ignore[misc]  # a layer without options of its own
        return {}
    parameters = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return {name: p.default for name, p in parameters.items() if name not in ("self", "input_size")}


def test_every_exported_layer_is_registered() -> None:
    exported = {
        name
        for name in lstmlab.layers.__all__
        if isinstance(obj := getattr(lstmlab.layers, name), type) and issubclass(obj, Layer)
    }
    assert exported - {"Layer", "LSTMCell"} == set(LAYER_CLASSES)  # an LSTMCell only lives inside an LSTM
    assert all(LAYER_CLASSES[name] is getattr(lstmlab.layers, name) for name in LAYER_CLASSES)


@pytest.mark.parametrize("name", sorted(LAYER_CLASSES))
def test_a_layout_records_every_constructor_option(name: str) -> None:
    # a new constructor option that the layout forgets would rebuild layers that differ: this test names it
    configs = [c for build, _ in HAND_BUILT.values() for c in every_layer(model_config(build())["layers"])]
    seen = [c["config"] for c in configs if c["class"] == name]
    assert seen, f"no hand-built model has a {name}"
    options = constructor_options(LAYER_CLASSES[name])
    assert all(set(config) == set(options) for config in seen)
    for option, default in options.items():
        if (
            default is not inspect.Parameter.empty and f"{name}.{option}" not in AT_DEFAULT_ONLY
        ):  # each option at a value other than its default somewhere
            assert any(config[option] != default for config in seen), f"{name}.{option} only at its default"


def test_a_layer_layout_records_return_state() -> None:
    layer = layer_from_config(json.loads(json.dumps(layer_config(LSTM(3, return_state=True)))))
    assert isinstance(layer, LSTM) and layer.return_state


def test_omitted_options_take_the_constructor_defaults() -> None:
    model = model_from_config({"input_shape": [None, 2], "layers": [{"class": "LSTM", "config": {"units": 4}}]})
    assert model.name == "sequential" and model.batch_size is None
    assert layer_config(model.layers[0]) == layer_config(LSTM(4))


# ------------------------------------------------------------------------------------------ refusals
LSTM_3 = {"class": "LSTM", "config": {"units": 3}}


def model_of(*layers: Any, **keys: Any) -> dict[str, Any]:
    return {"input_shape": [5, 2], "layers": list(layers), **keys}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            model_of({"class": "Lambda", "config": {}}),
            r"^Expected a layer class in \{'Activation', .*'TimeDistributed'\}\. Received: class='Lambda'$",
        ),
        (model_of({"class": "Lstm", "config": {"units": 3}}), r"Received: class='Lstm' \(did you mean 'LSTM'\?\)$"),
        (model_of({"class": "os.system", "config": {}}), r"Received: class='os.system'$"),
        (model_of({"class": 3, "config": {}}), r"Received: class=3$"),
        (
            model_of({"class": "LSTM"}),
            r'^Expected a layer as \{"class": \.\.\., "config": \{\.\.\.\}\}\. Received: \[\'class\'\]$',
        ),
        (model_of("LSTM"), r"Received: str$"),
        (
            model_of({"class": "LSTM", "config": {"units": 3, "recurrent_dropout": 0.1}}),
            r"^Expected options of LSTM in \[.*'units'\]\. Received: recurrent_dropout",
        ),
        (model_of({"class": "Dense", "config": {}}), r"^Expected Dense option 'units'\. Received: options \[\]$"),
        (
            model_of({"class": "LSTM", "config": {"units": "3"}}),
            r"^Expected LSTM option units to be an integer\. Received: units='3'$",
        ),
        (model_of({"class": "LSTM", "config": {"units": True}}), r"to be an integer\. Received: units=True$"),
        (
            model_of({"class": "LSTM", "config": {"units": 3, "return_sequences": "yes"}}),
            r"^Expected LSTM option return_sequences to be true or false\. Received: return_sequences='yes'$",
        ),
        (
            model_of({"class": "Dropout", "config": {"rate": 0.1, "noise_shape": [None, "a"]}}),
            r"^Expected Dropout option noise_shape to be a list of integers or nulls or null\.",
        ),
        (
            model_of({"class": "Bidirectional", "config": {"layer": "LSTM"}}),
            r"^Expected Bidirectional option layer to be a layer",
        ),
        (
            model_of({"class": "Parallel", "config": {"branches": [LSTM_3]}}),
            r"^Expected Parallel option branches to be a list of branches",
        ),
        (model_of({"class": "LSTM", "config": {"units": 0}}), r"^Expected units to be a positive integer\. Received"),
        (
            model_of({"class": "LSTM", "config": {"units": 3, "impl": "fast"}}),
            r"^Expected impl in \{.*\}\. Received: impl='fast'$",
        ),
        (
            model_of({"class": "Bidirectional", "config": {"layer": LSTM_3, "merge_mode": "avg"}}),
            r"^Expected merge_mode in \{'concat', 'sum', 'mul', 'ave', None\}\. Received: merge_mode='avg'$",
        ),
        (
            model_of({"class": "Bidirectional", "config": {"layer": {"class": "Dense", "config": {"units": 2}}}}),
            r"^Expected an lstmlab LSTM layer to wrap\. Received: Dense$",
        ),
        (model_of(LSTM_3, optimizer="adam"), r"^Expected keys of a model layout in \[.*\]\. Received: optimizer$"),
        ({"input_shape": [5, 2]}, r"^Expected a model layout with layers\. Received: keys \['input_shape'\]$"),
        (model_of(LSTM_3) | {"input_shape": "5"}, r"^Expected the model's input_shape to be a list of integers"),
        (model_of(LSTM_3, layers=LSTM_3), r"^Expected the model's layers to be a list of layers\."),
        (model_of(LSTM_3, ensemble=0), r"^Expected an ensemble size that is a positive integer\. Received: 0$"),
        (model_of(LSTM_3, name=None), r"^Expected the model's name to be a string\. Received: name=None$"),
        (model_of(), r"^Expected at least one layer\. Received: an empty list$"),
        (["LSTM"], r"^Expected a model layout \(a JSON object\)\. Received: list$"),
        (
            {"input_shape": [5], "layers": [LSTM_3]},
            r"^LSTM expected an input shape \(T, D\) with a known D\. Received: input_shape=\(5,\)$",
        ),
    ],
)
def test_bad_layouts_are_refused_in_one_line(config: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        model_from_config(config)
    assert "\n" not in str(error.value)


class Doubled(Dense):
    """A user's subclass: it may compute something else than a Dense, so a layout must not call it one."""


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            lambda: Sequential([LSTM(2), Doubled(1)], input_shape=(None, 1)),
            r"^Expected layers of the classes in \{.*\} to describe\. Received: Doubled$",
        ),
        (
            lambda: Sequential([TimeDistributed(Doubled(1)), LSTM(2)], input_shape=(None, 1)),
            r"Received: Doubled$",
        ),
        (lambda: nn.Linear(2, 2), r"^Expected a Sequential or an Ensemble to describe\. Received: Linear$"),
    ],
)
def test_models_that_a_layout_cannot_describe_are_refused(model: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model_config(model())


def test_a_layer_layout_alone_builds_an_unbuilt_layer() -> None:
    layer = layer_from_config({"class": "Dense", "config": {"units": 2, "activation": "tanh"}})
    assert isinstance(layer, Dense) and layer.linear is None and layer.activation == "tanh"
