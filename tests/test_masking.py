"""lstmlab/layers/masking.py: Keras's Masking for numeric sequences. Hand-computed outputs, Keras's own Masking as an
oracle, lengths derived from the values by a first Masking of a Sequential (side read from the data, one device
read), refusals in one line, and a Sequential(Masking, LSTM, Dense) on right- and left-padded batches equal to each
row alone and to torch.nn.LSTM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import HostSyncs, import_keras
from torch import Tensor, nn

from lstmlab.layers import LSTM, Dense, GlobalAveragePooling1D, Masking, check_lengths
from lstmlab.models import Sequential

TOL = {"rtol": 1e-5, "atol": 1e-6}
LENGTHS = [6, 4, 1, 3]
STEPS = 6


def rows(seed: int = 0, features: int = 2) -> list[Tensor]:
    """One (L, D) row per length in LENGTHS, values in [0.5, 1.5): no step equals a mask value of 0 or -1."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(n, features, generator=gen) + 0.5 for n in LENGTHS]


def pad(parts: list[Tensor], *, left: bool, value: float = 0.0) -> Tensor:
    """Rows padded with `value` in every feature after (or before) their steps, as pad_sequences pads them."""
    out = torch.full((len(parts), STEPS, parts[0].shape[1]), value)
    for b, row in enumerate(parts):
        if left:
            out[b, STEPS - row.shape[0] :] = row
        else:
            out[b, : row.shape[0]] = row
    return out


def model(mask_value: float = 0.0, features: int = 2) -> Sequential:
    torch.manual_seed(3)
    return Sequential([Masking(mask_value), LSTM(5), Dense(2)], input_shape=(None, features)).eval()


# ------------------------------------------------------------------------------------------ the layer alone
def test_steps_whose_features_all_equal_the_mask_value_become_zeros() -> None:
    x = torch.tensor([[[1.0, 5.0], [5.0, 5.0], [5.0, 2.0]], [[5.0, 5.0], [0.0, 0.0], [5.0, 5.0]]])
    expected = torch.tensor([[[1.0, 5.0], [0.0, 0.0], [5.0, 2.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])
    assert torch.equal(Masking(mask_value=5.0)(x), expected)
    assert torch.equal(Masking()(x), x)  # no step of all zeros but one, which stays zeros


def test_the_layer_alone_gives_keras_masking_output() -> None:
    keras = import_keras()
    x = pad(rows(), left=False, value=-1.0).numpy()
    x[0, 2] = -1.0  # masked between unmasked steps: Keras's output zeroes it, and so does the layer alone
    x[3, 0, 0] = -1.0  # one feature only: not masked
    expected = np.asarray(keras.ops.convert_to_numpy(keras.layers.Masking(mask_value=-1.0)(x)))
    np.testing.assert_array_equal(Masking(-1.0)(torch.from_numpy(x)).numpy(), expected)


def test_given_lengths_zero_padded_steps_whatever_they_hold() -> None:
    x = torch.tensor([[[1.0], [2.0], [float("nan")]], [[float("inf")], [3.0], [4.0]]], requires_grad=True)
    right = Masking()(x, lengths=[2, 3])
    assert torch.equal(right, torch.tensor([[[1.0], [2.0], [0.0]], [[float("inf")], [3.0], [4.0]]]))
    x = torch.tensor([[[float("nan")], [1.0], [2.0]], [[float("inf")], [3.0], [4.0]]], requires_grad=True)
    left = Masking()(x, lengths=check_lengths([2, 2], 2, 3, x.device, padding_side="left"))
    assert torch.equal(left, torch.tensor([[[0.0], [1.0], [2.0]], [[0.0], [3.0], [4.0]]]))
    (grad,) = torch.autograd.grad(left.sum(), x)
    assert torch.equal(grad, torch.tensor([[[0.0], [1.0], [1.0]], [[0.0], [1.0], [1.0]]]))  # nothing at padding
    full = torch.rand(2, 3, 1)
    assert Masking()(full, lengths=[3, 3]) is full  # no row padded: the input itself


# ------------------------------------------------------------------------------------------ lengths from values
@pytest.mark.parametrize(
    ("x", "expected", "left"),
    [
        (pad(rows(), left=False), LENGTHS, False),
        (pad(rows(), left=True), LENGTHS, True),
        (pad(rows(), left=True, value=-1.0), None, None),  # the mask value is -1 below, 0 here: nothing masked
    ],
)
def test_a_first_masking_reads_lengths_and_side_from_the_values(
    x: Tensor, expected: list[int] | None, left: bool | None
) -> None:
    checked = model().check_call(x)
    assert checked is not None
    if expected is None:
        assert checked.values is None
        return
    assert checked.values is not None and checked.values.tolist() == expected and checked.left == left


def test_the_mask_value_decides_and_a_batch_without_padding_has_no_values() -> None:
    x = pad(rows(), left=True, value=-1.0)
    checked = model(mask_value=-1.0).check_call(x)
    assert checked is not None and checked.left and checked.values is not None
    assert checked.values.tolist() == LENGTHS
    full = model().check_call(torch.rand(2, STEPS, 2) + 0.5)
    assert full is not None and full.values is None


def test_lengths_from_the_values_cost_one_device_read() -> None:
    m, x = model(), pad(rows(), left=True)
    with HostSyncs() as reads:
        m(x)
    assert reads.count == 1, reads.names


def test_a_demanded_side_is_honoured() -> None:
    m, right, left = model(), pad(rows(), left=False), pad(rows(), left=True)
    torch.testing.assert_close(m(left, padding_side="left"), m(left), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"^Expected left-padded values .*Received: row 1 has masked steps after"):
        m(right, padding_side="left")
    with pytest.raises(ValueError, match=r"^Expected right-padded values .*Received: row 1 has masked steps before"):
        m(left, padding_side="right")


def test_given_lengths_are_used_instead_of_the_values() -> None:
    m = model()
    x = pad(rows(), left=False)
    x[0, 2] = 0.0  # a real step of zeros inside row 0: with lengths given it is read, not masked
    lstm_only = Sequential([m.layers[1], m.layers[2]], input_shape=(None, 2)).eval()  # the same weights
    lengths = torch.tensor(LENGTHS)
    torch.testing.assert_close(m(x, lengths), lstm_only(x, lengths), rtol=0, atol=0)


# ------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            torch.tensor([[[1.0], [0.0], [2.0]]]),
            r"^Expected padded values \(steps of mask_value 0\.0 only before or only after a row's unmasked steps\)\. "
            r"Received: row 0 has masked steps between unmasked steps \(Keras skips masked steps anywhere; lstmlab's "
            r"padding lies at one end of each row\)$",
        ),
        (
            torch.tensor([[[1.0], [0.0]], [[0.0], [1.0]]]),
            r"^Expected values padded on one side for the whole batch\. Received: row 0 is right-padded and row 1 "
            r"left-padded$",
        ),
        (
            torch.tensor([[[1.0], [2.0]], [[0.0], [0.0]]]),
            r"^Expected at least one unmasked step per row\. Received: row 1 is all masked steps$",
        ),
        (torch.ones(2, 3, 1, dtype=torch.long), r"^Masking expected a floating-point input\. Received: dtype="),
    ],
)
def test_values_a_first_masking_cannot_read_are_refused_in_one_line(x: Tensor, message: str) -> None:
    m = Sequential([Masking(), LSTM(2)], input_shape=(None, 1))
    with pytest.raises(ValueError, match=message) as error:
        m(x)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", [True, "0", float("nan"), None])
def test_a_mask_value_that_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"^Expected mask_value to be a number \(not NaN\)\. Received: mask_value="):
        Masking(value)  # type: ignore[arg-type]


def test_a_masking_elsewhere_than_first_needs_lengths() -> None:
    m = Sequential([Dense(2), Masking(), LSTM(3)], input_shape=(None, 2))
    x = pad(rows(), left=False)
    with pytest.raises(
        ValueError, match=r"expected lengths, or Masking as its first layer only .*Received: a Masking "
    ):
        m(x)
    out = m(x, torch.tensor(LENGTHS))  # with lengths it zeroes the padded steps they give
    assert out.shape == (len(LENGTHS), 3)
    with pytest.raises(ValueError, match=r"^Masking expected an input shape \(T, D\)\. Received: input_shape=\(5,\)$"):
        Sequential([GlobalAveragePooling1D(), Masking()], input_shape=(None, 5))


# ------------------------------------------------------------------------------------------ in a model
def oracle(m: Sequential, row: Tensor) -> Tensor:
    """The model's answer for one row alone computed by torch.nn.LSTM and a matrix product."""
    lstm, dense = m.layers[1], m.layers[2]
    assert isinstance(lstm, LSTM) and isinstance(dense, Dense) and dense.linear is not None
    reference = nn.LSTM(row.shape[-1], lstm.units, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(lstm.cell.weight_ih)
        reference.weight_hh_l0.copy_(lstm.cell.weight_hh)
        reference.bias_ih_l0.copy_(lstm.cell.bias)
        reference.bias_hh_l0.zero_()
        _, (h, _) = reference(row[None])
        return h[0] @ dense.linear.weight.T + dense.linear.bias


@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_a_padded_batch_answers_as_each_row_alone(left: bool, mask_value: float) -> None:
    m, parts = model(mask_value), rows()
    batch = pad(parts, left=left, value=mask_value)
    with torch.no_grad():
        out = m(batch)
        for b, row in enumerate(parts):
            torch.testing.assert_close(out[b : b + 1], m(row[None]), **TOL)
            torch.testing.assert_close(out[b : b + 1], oracle(m, row), **TOL)


def test_gradients_of_a_left_padded_batch_equal_the_right_padded_ones() -> None:
    m, parts = model(), rows()
    found = []
    for left in (False, True):
        x = pad(parts, left=left).requires_grad_()
        loss = (m.train()(x) * torch.arange(1.0, 2 * len(LENGTHS) + 1).view(-1, 2)).sum()
        x_grad, *weights = torch.autograd.grad(loss, [x, *m.parameters()])
        valid = torch.stack([torch.arange(STEPS) >= STEPS - n if left else torch.arange(STEPS) < n for n in LENGTHS])
        assert torch.count_nonzero(x_grad[~valid]) == 0, "a gradient reaches a padded step"
        found.append((x_grad[valid], weights))
    torch.testing.assert_close(found[1][0], found[0][0], **TOL)
    for a, b in zip(found[1][1], found[0][1], strict=True):
        torch.testing.assert_close(a, b, **TOL)
