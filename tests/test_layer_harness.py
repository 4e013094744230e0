"""Every layer of `lstmlab.layers` through the shared harness (`layer_harness.run_layer_test`), in several options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from layer_harness import STEPS, run_layer_test
from torch import Tensor

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
    LSTMCell,
    LSTMState,
    Masking,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)

D = 3  # input features
H = 4  # units of every LSTM (unequal to STEPS, so that a state is never mistaken for a time axis)
F64 = torch.float64
SEQ = (None, D)  # the input shape of most cases: any number of steps of D features

# Bad (B, T, D) inputs for a layer of D = 3 features, float64 weights
RANK = (
    torch.zeros(2, STEPS, dtype=F64),
    r"expected an input of rank 3 \(batch, steps, features\)\. Received: shape=\(2, 5\)",
)
FEATURES = (
    torch.zeros(2, STEPS, D + 1, dtype=F64),
    r"expected 3 features on the last axis\. Received: shape=\(2, 5, 4\)",
)
INTEGERS = torch.zeros(2, STEPS, D, dtype=torch.long), r"expected a floating-point input\. Received: dtype=torch\.int64"
NO_STEPS = torch.zeros(2, 0, D, dtype=F64), r"expected at least one time step\. Received: shape=\(2, 0, 3\)"
FLOAT32 = torch.zeros(2, STEPS, D), r"LSTM expected inputs of its weights' dtype torch\.float64\. Received: dtype="
SEQUENCE_BAD = [RANK, FEATURES, INTEGERS, NO_STEPS]


def case(name: str, make_layer: Callable[[], Layer], **options: Any) -> Any:
    """One row of the table: `run_layer_test(make_layer, **options)`."""
    return pytest.param(make_layer, options, id=name)


def lstm_case(name: str, expected: tuple[int | None, ...], **options: Any) -> Any:
    training = options.get("dropout", 0.0) > 0  # dropout acts in training only
    return case(
        name,
        lambda: LSTM(H, **options),
        input_shape=SEQ,
        expected_output_shape=expected,
        lengths=True,
        padded_outputs="zero" if options.get("return_sequences") else None,
        reference_and_fused=True,
        bad_inputs=[*SEQUENCE_BAD, FLOAT32],
        training=training,
        random_in_training=training,
    )


def bidirectional_case(name: str, merge_mode: Any, expected: tuple[int | None, ...], **options: Any) -> Any:
    training = options.get("dropout", 0.0) > 0
    in_sequential: bool | str = True
    if merge_mode is None:  # two outputs, not one tensor for the next layer; built here, not by a Sequential
        in_sequential = r"Expected a merge mode inside a Sequential .*Received: merge_mode=None"
        options["input_size"] = D
    return case(
        name,
        lambda: Bidirectional(LSTM(H, **options), merge_mode=merge_mode),
        input_shape=SEQ,
        expected_output_shape=expected,
        lengths=True,
        padded_outputs="zero" if options.get("return_sequences") else None,
        reference_and_fused=True,
        bad_inputs=SEQUENCE_BAD,
        training=training,
        random_in_training=training,
        in_sequential=in_sequential,
    )


def conv_case(kernel: int) -> Any:
    return case(
        f"conv1d-kernel-{kernel}",
        lambda: Conv1D(2, kernel),
        input_shape=SEQ,
        expected_output_shape=(None, 2),
        lengths=True,
        padded_outputs="zero",
        bad_inputs=SEQUENCE_BAD,
    )


def token_ids(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """Token ids in 1..9 (0 is padding)."""
    return torch.randint(1, 10, shape, generator=gen)


def cell_state(x: Tensor) -> tuple[object, ...]:
    """An LSTMCell's state for input x (B, D): each row's from its own input, so that a row alone has it too."""
    h = torch.tanh(x[:, :1] * torch.linspace(-1.0, 1.0, H, dtype=x.dtype))  # (B, H)
    c = x[:, -1:] * torch.linspace(0.5, 2.0, H, dtype=x.dtype)
    return (LSTMState(h, c),)


RANDOM_IN_TRAINING = {"training": True, "random_in_training": True}

# fmt: off
CASES = [  # a table: one case a line or a few, aligned by hand
    # ---------------------------------------------------------------------------------------- lstm.py
    lstm_case("lstm-last", (H,)),
    lstm_case("lstm-sequences", (None, H), return_sequences=True),
    lstm_case("lstm-backwards", (H,), go_backwards=True),
    lstm_case("lstm-backwards-sequences", (None, H), go_backwards=True, return_sequences=True),
    lstm_case("lstm-state", (None, H), return_sequences=True, return_state=True),
    lstm_case("lstm-last-state", (H,), return_state=True),
    lstm_case("lstm-dropout-training", (None, H), return_sequences=True, dropout=0.5),
    lstm_case("lstm-reference", (None, H), return_sequences=True, impl="reference"),
    case("lstm-float32", lambda: LSTM(H, return_sequences=True, return_state=True), input_shape=SEQ,
         expected_output_shape=(None, H), lengths=True, padded_outputs="zero", reference_and_fused=True,
         dtype=torch.float32),
    # one step of (B, D) from a given state: no layer of a Sequential, which has no state to give it
    case("lstm-cell", lambda: LSTMCell(D, H), input_shape=(D,), expected_output_shape=(H,), call_args=cell_state,
         in_sequential=False),
    # ---------------------------------------------------------------------------------------- bidirectional.py
    bidirectional_case("bidirectional-concat-last", "concat", (2 * H,)),
    bidirectional_case("bidirectional-concat-sequences", "concat", (None, 2 * H), return_sequences=True),
    bidirectional_case("bidirectional-sum-sequences", "sum", (None, H), return_sequences=True),
    bidirectional_case("bidirectional-mul-last", "mul", (H,)),
    bidirectional_case("bidirectional-mul-sequences", "mul", (None, H), return_sequences=True),
    bidirectional_case("bidirectional-ave-sequences", "ave", (None, H), return_sequences=True),
    bidirectional_case("bidirectional-none-sequences", None, (None, H), return_sequences=True),
    bidirectional_case("bidirectional-none-last", None, (H,)),
    bidirectional_case("bidirectional-backwards-first", "concat", (None, 2 * H), return_sequences=True,
                       go_backwards=True),  # two kernel calls: the first layer reads backwards
    bidirectional_case("bidirectional-state", "sum", (H,), return_state=True),
    bidirectional_case("bidirectional-dropout-training", "concat", (None, 2 * H), return_sequences=True, dropout=0.5),
    case("bidirectional-float32", lambda: Bidirectional(LSTM(H, return_sequences=True)), input_shape=SEQ,
         expected_output_shape=(None, 2 * H), lengths=True, padded_outputs="zero", reference_and_fused=True,
         dtype=torch.float32),
    # ---------------------------------------------------------------------------------------- core.py
    case("dense-vectors", lambda: Dense(H), input_shape=(D,), expected_output_shape=(H,), bad_inputs=[
        (torch.zeros(2, D + 1, dtype=F64), r"Dense expected 3 features on the last axis\. Received: shape=\(2, 4\)"),
        (torch.zeros(2, D, dtype=torch.long), r"Dense expected a floating-point input\. Received: dtype=torch\.int64"),
    ]),
    case("dense-sequences-relu", lambda: Dense(H, "relu"), input_shape=SEQ, expected_output_shape=(None, H),
         bad_inputs=[FEATURES]),
    case("dropout", lambda: Dropout(0.5), input_shape=SEQ, expected_output_shape=SEQ),
    case("dropout-training", lambda: Dropout(0.5), input_shape=SEQ, expected_output_shape=SEQ, **RANDOM_IN_TRAINING),
    case("dropout-noise-shape-training", lambda: Dropout(0.5, noise_shape=(None, None, 1)), input_shape=SEQ,
         expected_output_shape=SEQ, **RANDOM_IN_TRAINING, bad_inputs=[
             (torch.zeros(2, D, dtype=F64), r"Expected inputs that noise_shape=\(None, None, 1\) broadcasts over")
         ]),
    case("spatial-dropout-training", lambda: SpatialDropout1D(0.5), input_shape=SEQ, expected_output_shape=SEQ,
         **RANDOM_IN_TRAINING),
    case("gaussian-noise", lambda: GaussianNoise(0.3), input_shape=SEQ, expected_output_shape=SEQ),
    case("gaussian-noise-training", lambda: GaussianNoise(0.3), input_shape=SEQ, expected_output_shape=SEQ,
         **RANDOM_IN_TRAINING),
    case("embedding", lambda: Embedding(10, H), input_shape=(None,), expected_output_shape=(None, H),
         make_input=token_ids, bad_inputs=[
             (torch.tensor([[1, 10]]), r"Embedding expected ids in 0\.\.9\. Received: min=1, max=10"),
             (torch.tensor([[1.0, 2.0]]), r"Embedding expected integer token ids\. Received: dtype=torch\.float32"),
             (torch.ones(1, 2, 3, dtype=torch.long), r"Embedding expected an input of rank 2 .*Received: shape="),
         ]),
    case("embedding-mask-zero", lambda: Embedding(10, H, mask_zero=True, input_length=STEPS), input_shape=(STEPS,),
         expected_output_shape=(STEPS, H), make_input=token_ids),
    case("flatten", lambda: Flatten(), input_shape=(STEPS, D), expected_output_shape=(STEPS * D,)),
    case("average-pooling", lambda: GlobalAveragePooling1D(), input_shape=SEQ, expected_output_shape=(D,),
         lengths=True, bad_inputs=[RANK, INTEGERS, NO_STEPS]),
    case("max-pooling", lambda: GlobalMaxPooling1D(), input_shape=SEQ, expected_output_shape=(D,), lengths=True,
         bad_inputs=[RANK, INTEGERS, NO_STEPS]),
    case("reverse-time", lambda: ReverseTime(), input_shape=SEQ, expected_output_shape=SEQ, lengths=True,
         padded_outputs="input", bad_inputs=[
             (torch.zeros(4, dtype=F64), r"ReverseTime expected an input of rank 2 or .*Received: shape=\(4,\)")
         ]),
    case("reverse-time-rank-4", lambda: ReverseTime(), input_shape=(None, 2, D), expected_output_shape=(None, 2, D),
         lengths=True, padded_outputs="input"),
    case("time-distributed-dense", lambda: TimeDistributed(Dense(H)), input_shape=SEQ, expected_output_shape=(None, H),
         bad_inputs=[
             (torch.zeros(2, D, dtype=F64), r"TimeDistributed expected an input of rank 3 or .*Received: shape=")
         ]),
    # ---------------------------------------------------------------------------------------- masking.py
    # with lengths, padded steps (helpers.right_pad's value) become zeros; from the values: tests/test_masking.py
    case("masking", lambda: Masking(), input_shape=SEQ, expected_output_shape=SEQ, lengths=True,
         padded_outputs="zero", bad_inputs=[RANK, INTEGERS, NO_STEPS]),
    case("masking-value", lambda: Masking(mask_value=-1.0), input_shape=SEQ, expected_output_shape=SEQ, lengths=True,
         padded_outputs="zero", dtype=torch.float32),
    # ---------------------------------------------------------------------------------------- conv.py
    conv_case(1),
    conv_case(2),
    conv_case(3),
    conv_case(STEPS + 2),  # wider than every row
    case("batch-norm", lambda: BatchNormalization(), input_shape=SEQ, expected_output_shape=SEQ, lengths=True,
         padded_outputs="zero", bad_inputs=[FEATURES, INTEGERS, NO_STEPS]),
    # training: statistics of the batch's valid steps (invariance "batch"), moving statistics that move
    case("batch-norm-training", lambda: BatchNormalization(momentum=0.5), input_shape=SEQ, expected_output_shape=SEQ,
         lengths=True, padded_outputs="zero", invariance="batch", training=True),
    case("batch-norm-vectors-training", lambda: BatchNormalization(), input_shape=(D,), expected_output_shape=(D,),
         invariance="batch", training=True, bad_inputs=[
             (torch.zeros(2, D, 1, 1, dtype=F64), r"BatchNormalization expected an input of rank 2 or 3 ")
         ]),
    case("activation", lambda: Activation("tanh"), input_shape=SEQ, expected_output_shape=SEQ),
    # ---------------------------------------------------------------------------------------- parallel.py
    case("parallel-pooled", lambda: Parallel([LSTM(H)], [Conv1D(2, 3), GlobalMaxPooling1D()]), input_shape=SEQ,
         expected_output_shape=(H + 2,), lengths=True, bad_inputs=[RANK]),
    case("parallel-sequences",
         lambda: Parallel([Bidirectional(LSTM(H, return_sequences=True))], [Conv1D(2, 2), BatchNormalization()]),
         input_shape=SEQ, expected_output_shape=(None, 2 * H + 2), lengths=True, padded_outputs="zero"),
]
# fmt: on


@pytest.mark.parametrize(("make_layer", "options"), CASES)
def test_layer(make_layer: Callable[[], Layer], options: dict[str, Any]) -> None:
    run_layer_test(make_layer, **options)


def test_every_exported_layer_has_a_case() -> None:
    exported = {
        obj
        for name in lstmlab.layers.__all__
        if isinstance(obj := getattr(lstmlab.layers, name), type) and issubclass(obj, Layer) and obj is not Layer
    }
    tested = {type(param.values[0]()) for param in CASES}
    assert exported - tested == set(), "exported layers without a case in the table"
