"""The model zoo: named presets of the source articles' models, each a frozen config plus a builder.

Every preset returns logits: one per sequence (or per step) for two classes, one per class otherwise; the loss
applies the sigmoid or softmax that the Keras models put in their last layer. Parameter counts equal Keras's.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..layers import (
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
    Impl,
    Layer,
    MergeMode,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from ..names import unknown_name
from .sequential import Sequential

__all__ = [
    "PRESETS",
    "Preset",
    "QAConfig",
    "QAEmbeddingConfig",
    "QATimeDistributedConfig",
    "SeriesBiLSTMConfig",
    "SeriesLSTMFCNConfig",
    "TextBiLSTMConfig",
    "TextBiLSTMPoolConfig",
    "TextLSTMConfig",
    "TutorialConfig",
    "build_model",
    "get_preset",
    "parse_field",
    "parse_option",
    "parse_options",
    "preset_config",
    "replace_fields",
]


def _logits(num_classes: int) -> int:
    """Output units for `num_classes`: one logit for a binary problem, one per class otherwise."""
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    return 1 if num_classes == 2 else num_classes


@dataclass(frozen=True)
class TextLSTMConfig:
    vocab_size: int = 3800  # Embedding rows, as in the first article
    embed_dim: int = 32  # Embedding width
    max_len: int = 380  # tokens per text
    units: int = 32  # LSTM hidden size
    dense_units: int = 256  # hidden Dense (relu) after the LSTM
    dropout: float = 0.2  # Dropout after the Embedding and after the hidden Dense
    mask_zero: bool = True  # id 0 is padding: the LSTM stops at each text's last token (Keras's article: off)
    num_classes: int = 2  # 2: one logit; more: one logit per class
    impl: Impl = "auto"  # LSTM implementation


@dataclass(frozen=True)
class TextBiLSTMConfig:
    vocab_size: int = 3800  # Embedding rows
    embed_dim: int = 32  # Embedding width
    max_len: int = 380  # tokens per text (the article's input_length=3800 is a slip for 380)
    units: int = 32  # hidden size of each direction
    merge_mode: MergeMode = "concat"  # how the two directions are combined at each step
    dropout: float = 0.5  # Dropout after the Embedding and after the Bi-LSTM
    mask_zero: bool = True  # id 0 is padding: both directions see only each text's tokens
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class QAConfig:
    steps: int | None = 10  # sequence length (None: any); the Q&A leaves max_len open
    features: int = 1  # values per step
    units: int = 10  # LSTM hidden size, as in the Q&A
    batch_size: int | None = None  # fixed batch size (stateful models use 1)
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class QATimeDistributedConfig:
    steps: int = 10  # sequence length, n_features in the Q&A
    features: int = 1  # values per step
    dense_units: int = 10  # width of the per-step Dense (n_features in the Q&A)
    units: int = 10  # LSTM hidden size
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class QAEmbeddingConfig:
    vocab_size: int = 1000  # Embedding rows (the Q&A leaves vocab open)
    embed_dim: int = 128  # Embedding width, as in the Q&A
    max_len: int = 100  # tokens per sequence (the Q&A leaves max_len open)
    units: int = 10  # hidden size (of each direction for the Bi-LSTM)
    merge_mode: MergeMode = "concat"  # Bi-LSTM only
    mask_zero: bool = True  # id 0 is padding
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class TutorialConfig:
    steps: int | None = 10  # sequence length of the cumulative-sum problem (None: any)
    features: int = 1  # values per step
    units: int = 20  # hidden size (of each direction for the Bi-LSTM)
    merge_mode: MergeMode = "concat"  # Bi-LSTM only
    keras_order: bool = False  # backward LSTM only: keep Keras's reversed output order (no re-alignment)
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class TextBiLSTMPoolConfig:
    vocab_size: int = 20000  # Embedding rows (set from the training split's vocabulary by `--data`)
    embed_dim: int = 128  # Embedding width
    max_len: int = 100  # tokens per text (set from the data by `--data`)
    units: int = 64  # hidden size of each direction
    depth: int = 1  # stacked Bi-LSTM layers, each reading the previous one's sequence
    merge_mode: MergeMode = "concat"
    pooling: Literal["max", "average", "last"] = "max"  # over each text's own tokens (mask-aware); last: final states
    dropout: float = 0.5  # Dropout after the Embedding and after the pooling
    input_dropout: float = 0.3  # each LSTM's input dropout, one mask per text shared by its steps (MR: +0.007)
    word_dropout: float = 0.0  # drop whole tokens' vectors after the Embedding (Dropout, noise_shape (N, T, 1))
    spatial_dropout: float = 0.0  # drop whole embedding channels for every token of a text (SpatialDropout1D)
    mask_zero: bool = True  # id 0 is padding
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class SeriesBiLSTMConfig:
    steps: int | None = None  # series length (None: any, variable lengths allowed)
    features: int = 1  # channels (set from the data by `--data`)
    noise: float = 0.0  # stddev of Gaussian noise added to the inputs in training (`--data` series: 0.3)
    input_dropout: float = 0.0  # each LSTM's input dropout, one mask per series shared by its steps (`--data`: 0.4)
    units: int = 64  # hidden size of each direction
    depth: int = 1  # stacked Bi-LSTM layers, each reading the previous one's sequence
    merge_mode: MergeMode = "concat"
    pooling: Literal["max", "average", "last"] = (
        "average"  # over each series' own steps (mask-aware); last: final states
    )
    dropout: float = 0.2  # Dropout after the pooling
    num_classes: int = 2
    impl: Impl = "auto"


@dataclass(frozen=True)
class SeriesLSTMFCNConfig:
    steps: int | None = None  # series length (None: any, variable lengths allowed)
    features: int = 1  # channels (set from the data by `--data`)
    units: int = 64  # hidden size of each direction of the Bi-LSTM path (mean over each series' steps)
    filters: int = 128  # the convolutional path: Conv1D blocks of filters, 2*filters, filters (kernels 8, 5, 3)
    dropout: float = 0.5  # Dropout after joining the two paths
    num_classes: int = 2
    impl: Impl = "auto"


FCN_BLOCKS = ((1, 8), (2, 5), (1, 3))  # (filters multiple, kernel size) of each block, as in FCN and LSTM-FCN


Config = Any  # one of the frozen config dataclasses above


@dataclass(frozen=True)
class Preset:
    """A named model: what it is, its default config, and how to build it."""

    name: str
    description: str
    config: Config
    build: Callable[[Any], Sequential]
    streaming: bool = False  # reads a sequence in pieces, one call each (its `steps` is the piece, not the sequence)


def _text_lstm(c: TextLSTMConfig) -> Sequential:
    layers: list[Layer] = [
        Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero, input_length=c.max_len),
        Dropout(c.dropout),
        LSTM(c.units, impl=c.impl),
        Dense(c.dense_units, "relu"),
        Dropout(c.dropout),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.max_len,), name="text-lstm")


def _text_bilstm(c: TextBiLSTMConfig) -> Sequential:
    layers: list[Layer] = [
        Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero, input_length=c.max_len),
        Dropout(c.dropout),
        Bidirectional(LSTM(c.units, return_sequences=True, impl=c.impl), merge_mode=c.merge_mode),
        Dropout(c.dropout),
        Flatten(),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.max_len,), name="text-bilstm")


def _pool(kind: str) -> Layer:
    return GlobalMaxPooling1D() if kind == "max" else GlobalAveragePooling1D()


def _bilstm_stack(
    units: int, depth: int, merge_mode: MergeMode, impl: Impl, pooling: str, dropout: float = 0.0
) -> list[Layer]:
    """`depth` Bi-LSTM layers, then pooling over time; 'last': the last layer's final states instead (each row's
    forward state at its own last step and backward state at its first step). `dropout`: each LSTM's input dropout
    (Keras's `LSTM(dropout=...)`: one mask per sequence, shared by its steps)."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"Expected depth to be a positive integer. Received: depth={depth!r}")
    if pooling not in ("max", "average", "last"):
        raise ValueError(f"Expected pooling 'max', 'average' or 'last'. Received: pooling={pooling!r}")
    layers: list[Layer] = [
        Bidirectional(
            LSTM(units, return_sequences=i < depth - 1 or pooling != "last", dropout=dropout, impl=impl),
            merge_mode=merge_mode,
        )
        for i in range(depth)
    ]
    return layers if pooling == "last" else [*layers, _pool(pooling)]


def _text_bilstm_pool(c: TextBiLSTMPoolConfig) -> Sequential:
    layers: list[Layer] = [
        Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero, input_length=c.max_len),
        *([Dropout(c.word_dropout, noise_shape=(None, None, 1))] if c.word_dropout else []),
        *([SpatialDropout1D(c.spatial_dropout)] if c.spatial_dropout else []),
        Dropout(c.dropout),
        *_bilstm_stack(c.units, c.depth, c.merge_mode, c.impl, c.pooling, c.input_dropout),
        Dropout(c.dropout),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.max_len,), name="text-bilstm-pool")


def _series_bilstm(c: SeriesBiLSTMConfig) -> Sequential:
    layers: list[Layer] = [
        *([noise] if (noise := GaussianNoise(c.noise)).stddev > 0 else []),  # built always: its check runs
        *_bilstm_stack(c.units, c.depth, c.merge_mode, c.impl, c.pooling, c.input_dropout),
        Dropout(c.dropout),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.steps, c.features), name="series-bilstm")


def _series_lstm_fcn(c: SeriesLSTMFCNConfig) -> Sequential:
    convolutional: list[Layer] = []
    for multiple, kernel in FCN_BLOCKS:
        convolutional += [Conv1D(multiple * c.filters, kernel), BatchNormalization(), Activation("relu")]
    recurrent: list[Layer] = [
        Bidirectional(LSTM(c.units, return_sequences=True, impl=c.impl)),
        GlobalAveragePooling1D(),
    ]
    layers: list[Layer] = [
        Parallel(recurrent, [*convolutional, GlobalAveragePooling1D()]),
        Dropout(c.dropout),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.steps, c.features), name="series-lstm-fcn")


def _qa_lstm(c: QAConfig) -> Sequential:
    layers: list[Layer] = [LSTM(c.units, impl=c.impl), Dense(_logits(c.num_classes))]
    return Sequential(layers, input_shape=(c.steps, c.features), batch_size=c.batch_size, name="qa-lstm")


def _qa_stateful(c: QAConfig) -> Sequential:
    layers: list[Layer] = [LSTM(c.units, stateful=True, impl=c.impl), Dense(_logits(c.num_classes))]
    return Sequential(layers, input_shape=(c.steps, c.features), batch_size=c.batch_size, name="qa-stateful")


def _qa_timedistributed(c: QATimeDistributedConfig) -> Sequential:
    layers: list[Layer] = [
        TimeDistributed(Dense(c.dense_units)),
        LSTM(c.units, impl=c.impl),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.steps, c.features), name="qa-timedistributed")


def _qa_embedding_lstm(c: QAEmbeddingConfig) -> Sequential:
    layers: list[Layer] = [
        Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero, input_length=c.max_len),
        LSTM(c.units, impl=c.impl),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.max_len,), name="qa-embedding-lstm")


def _qa_embedding_bilstm(c: QAEmbeddingConfig) -> Sequential:
    layers: list[Layer] = [
        Embedding(c.vocab_size, c.embed_dim, mask_zero=c.mask_zero, input_length=c.max_len),
        Bidirectional(LSTM(c.units, impl=c.impl), merge_mode=c.merge_mode),
        Dense(_logits(c.num_classes)),
    ]
    return Sequential(layers, input_shape=(c.max_len,), name="qa-embedding-bilstm")


def _tutorial_lstm(c: TutorialConfig) -> Sequential:
    layers: list[Layer] = [
        LSTM(c.units, return_sequences=True, impl=c.impl),
        TimeDistributed(Dense(_logits(c.num_classes))),
    ]
    return Sequential(layers, input_shape=(c.steps, c.features), name="tutorial-lstm")


def _tutorial_lstm_backward(c: TutorialConfig) -> Sequential:
    layers: list[Layer] = [LSTM(c.units, return_sequences=True, go_backwards=True, impl=c.impl)]
    if not c.keras_order:
        layers.append(ReverseTime())  # step t's output back beside input step t (and its label)
    layers.append(TimeDistributed(Dense(_logits(c.num_classes))))
    return Sequential(layers, input_shape=(c.steps, c.features), name="tutorial-lstm-backward")


def _tutorial_bilstm(c: TutorialConfig) -> Sequential:
    layers: list[Layer] = [
        Bidirectional(LSTM(c.units, return_sequences=True, impl=c.impl), merge_mode=c.merge_mode),
        TimeDistributed(Dense(_logits(c.num_classes))),
    ]
    return Sequential(layers, input_shape=(c.steps, c.features), name="tutorial-bilstm")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "text-lstm",
            "Article 1: Embedding -> Dropout -> LSTM(32) -> Dense(256, relu) -> Dropout -> Dense(1)",
            TextLSTMConfig(),
            _text_lstm,
        ),
        Preset(
            "text-bilstm",
            "Article 1: Embedding -> Dropout -> Bi-LSTM(32, concat, all steps) -> Dropout -> Flatten -> Dense(1)",
            TextBiLSTMConfig(),
            _text_bilstm,
        ),
        Preset(
            "text-bilstm-pool",
            "Documents: Embedding -> Dropout -> Bi-LSTM(64, all steps) -> max over each text's tokens -> Dropout -> "
            "Dense",
            TextBiLSTMPoolConfig(),
            _text_bilstm_pool,
        ),
        Preset(
            "series-bilstm",
            "Multichannel series: Bi-LSTM(64, all steps) -> mean over each series' steps -> Dropout -> Dense",
            SeriesBiLSTMConfig(),
            _series_bilstm,
        ),
        Preset(
            "series-lstm-fcn",
            "Multichannel series, LSTM-FCN style: [Bi-LSTM(64) -> mean over time] beside [3 x (Conv1D -> "
            "BatchNormalization -> relu), 128/256/128 filters -> mean over time] -> concatenate -> Dropout -> Dense",
            SeriesLSTMFCNConfig(),
            _series_lstm_fcn,
        ),
        Preset("qa-lstm", "Q&A model 1: many-to-one LSTM(10) -> Dense(1)", QAConfig(), _qa_lstm),
        Preset(
            "qa-stateful",
            "Q&A model 2: stateful LSTM(10) -> Dense(1), one step per call, batch 1",
            QAConfig(steps=1, batch_size=1),
            _qa_stateful,
            streaming=True,
        ),
        Preset(
            "qa-timedistributed",
            "Q&A model 3: TimeDistributed(Dense(10)) -> LSTM(10) -> Dense(1)",
            QATimeDistributedConfig(),
            _qa_timedistributed,
        ),
        Preset(
            "qa-embedding-lstm",
            "Q&A model 4: Embedding(128) -> LSTM(10) -> Dense(1)",
            QAEmbeddingConfig(),
            _qa_embedding_lstm,
        ),
        Preset(
            "qa-embedding-bilstm",
            "Q&A model 5: Embedding(128) -> Bi-LSTM(10, final states) -> Dense(1)",
            QAEmbeddingConfig(),
            _qa_embedding_bilstm,
        ),
        Preset(
            "tutorial-lstm",
            "Tutorial: LSTM(20, all steps) -> TimeDistributed(Dense(1))",
            TutorialConfig(),
            _tutorial_lstm,
        ),
        Preset(
            "tutorial-lstm-backward",
            "Tutorial: LSTM(20, go_backwards), outputs re-aligned to input order -> TimeDistributed(Dense(1))",
            TutorialConfig(),
            _tutorial_lstm_backward,
        ),
        Preset(
            "tutorial-bilstm",
            "Tutorial: Bi-LSTM(20, merge mode selectable) -> TimeDistributed(Dense(1))",
            TutorialConfig(),
            _tutorial_bilstm,
        ),
    ]
}


def get_preset(name: str) -> Preset:
    """The preset called `name`; raises a ValueError naming the known presets and the closest ones otherwise."""
    if name not in PRESETS:
        raise ValueError(unknown_name("a preset", name, PRESETS))
    return PRESETS[name]


def preset_config(name: str, **overrides: Any) -> Config:
    """The config of preset `name` with some fields changed; unknown fields raise a ValueError."""
    return replace_fields(get_preset(name).config, overrides, name)


def replace_fields(config: Any, overrides: dict[str, Any], owner: str) -> Any:
    """`config` (a frozen dataclass) with some fields changed; unknown fields raise a ValueError naming `owner`."""
    fields = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(unknown_name(f"options of {owner}", unknown, fields, quote=False))
    return dataclasses.replace(config, **overrides)


def build_model(name: str, **overrides: Any) -> Sequential:
    """Build preset `name` with some config fields changed.

    Example:
        >>> build_model("tutorial-bilstm", merge_mode="sum").count_params()  # the merged width is 20, not 40
        3541
    """
    return get_preset(name).build(preset_config(name, **overrides))


def parse_option(name: str, key: str, text: str) -> Any:
    """Convert the text of a `key=value` option of preset `name` to the type of that config field."""
    return parse_field(get_preset(name).config, key, text, name)


def parse_options(
    name: str,
    pairs: Sequence[str],
    *,
    parse: Callable[[str, str, str], Any] = parse_option,
    usage: str = "--set KEY=VALUE",
) -> dict[str, Any]:
    """`key=value` texts to typed config changes of preset `name` (or of a task, with `parse_task_option`)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"Expected {usage}. Received: {pair!r}")
        out[key.strip()] = parse(name, key.strip(), value.strip())
    return out


def parse_field(config: Any, key: str, text: str, owner: str) -> Any:
    """Convert `text` to the type of field `key` of the config dataclass `config` (named `owner` in errors)."""
    hints = typing.get_type_hints(type(config))
    if key not in hints:
        raise ValueError(unknown_name(f"options of {owner}", key, hints, quote=False))
    kind = hints[key]
    choices = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if text.lower() == "none" and type(None) in choices:
        return None
    for choice in choices:
        value = _convert(choice, text)
        if value is not _NO_VALUE:
            return value
    raise ValueError(f"Expected {key} as {_describe(kind)}. Received: {key}={text!r}")


_NO_VALUE = object()


def _convert(kind: Any, text: str) -> Any:
    if kind is bool:
        return {"true": True, "false": False, "1": True, "0": False}.get(text.lower(), _NO_VALUE)
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            return _NO_VALUE
    if typing.get_origin(kind) is Literal:
        return text if text in typing.get_args(kind) else _NO_VALUE
    return _NO_VALUE


def _describe(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(kind)))
    if isinstance(kind, types.UnionType):
        return " or ".join(_describe(k) for k in typing.get_args(kind))
    return "none" if kind is type(None) else kind.__name__
