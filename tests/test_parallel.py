"""Parallel: branches on one input, joined on the last axis; lengths reach every branch."""

from __future__ import annotations

import pytest
import torch

from lstmlab import (
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Parallel,
    Sequential,
    TimeDistributed,
)

SEED = 5
LENGTHS = torch.tensor([6, 2, 4])


def branches() -> tuple[list, list]:  # type: ignore[type-arg]
    torch.manual_seed(SEED)
    recurrent = [Bidirectional(LSTM(3, return_sequences=True)), GlobalMaxPooling1D()]
    convolutional = [Conv1D(4, 3), BatchNormalization(), Activation("relu"), GlobalAveragePooling1D()]
    return recurrent, convolutional


def test_output_is_each_branch_run_alone_then_concatenated() -> None:
    recurrent, convolutional = branches()
    model = Sequential([Parallel(recurrent, convolutional)], input_shape=(None, 2)).eval()
    alone = [Sequential(b, input_shape=(None, 2)).eval() for b in (recurrent, convolutional)]  # the same layers
    x = torch.randn(3, 6, 2)
    out = model(x, LENGTHS)
    assert out.shape == (3, 6 + 4)
    torch.testing.assert_close(out, torch.cat([alone[0](x, LENGTHS), alone[1](x, LENGTHS)], dim=-1))
    assert model.output_shape == (10,)


def test_padded_batch_equals_each_row_alone() -> None:
    model = Sequential([Parallel(*branches()), Dense(2)], input_shape=(None, 2))
    model.train()(torch.randn(3, 6, 2), LENGTHS)  # moving statistics away from their start
    model.eval()
    x = torch.randn(3, 6, 2) * 5  # junk beyond each length
    out = model(x, LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(out[row], model(x[row : row + 1, :length])[0])


def test_branches_that_keep_time_pass_the_lengths_on() -> None:
    torch.manual_seed(SEED)
    both = Parallel([LSTM(3, return_sequences=True)], [Conv1D(2, 3)])
    model = Sequential([both, TimeDistributed(Dense(1)), GlobalAveragePooling1D()], input_shape=(None, 2))
    assert model.output_shapes[0] == (None, 5)
    x = torch.randn(3, 6, 2)
    out = model(x, LENGTHS)
    for row, length in enumerate(LENGTHS.tolist()):  # the pooling after Parallel saw only the valid steps
        torch.testing.assert_close(out[row], model(x[row : row + 1, :length])[0])


def test_parameters_are_the_branches_parameters() -> None:
    recurrent, convolutional = branches()
    both = Parallel(recurrent, convolutional)
    Sequential([both], input_shape=(None, 2))
    expected = sum(p.numel() for layer in recurrent + convolutional for p in layer.parameters())
    assert sum(p.numel() for p in both.parameters()) == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Parallel([LSTM(3)]), r"Expected two or more branches.*Received: 1 branch"),
        (lambda: Parallel([LSTM(3)], LSTM(2)), r"Expected two or more branches.*of types \['list', 'LSTM'\]"),
        (lambda: Parallel([LSTM(3)], []), r"Expected two or more branches, each a non-empty list"),
        (lambda: Parallel([LSTM(3)], [torch.nn.ReLU()]), r"Expected lstmlab layers in each branch\. Received: ReLU"),
        (
            lambda: Parallel([LSTM(3)], [Embedding(9, 2, mask_zero=True), LSTM(2)]),
            r"Expected no Embedding inside a Parallel branch .*Received: an Embedding in branch 2",
        ),
        (
            lambda: Sequential([Parallel([LSTM(3)], [Conv1D(2, 3)])], input_shape=(None, 2)),
            r"Parallel expected branch outputs that differ only in their last axis\. Received: \[\(3,\), \(None, 2\)\]",
        ),
    ],
)
def test_bad_branches_raise(make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()
