"""lstmlab/layers/sequence.py: checked lengths, step masks, reversing within lengths, lengths from padding ids."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from torch import Tensor

from lstmlab.layers.sequence import (
    check_lengths,
    lengths_from_padding,
    padding_lengths_check,
    reverse_padded,
    roll_rows,
    step_mask,
)


def test_full_lengths_check_to_no_values() -> None:
    assert check_lengths(torch.tensor([5, 5]), 2, 5, torch.device("cpu")).values is None
    assert check_lengths(torch.tensor([5, 4]), 2, 5, torch.device("cpu")).values.tolist() == [5, 4]  # type: ignore[union-attr]


def test_no_lengths_check_to_no_values_for_the_shape() -> None:
    checked = check_lengths(None, 3, 7, torch.device("cpu"))
    assert (checked.values, checked.batch, checked.steps, checked.padded) == (None, 3, 7, False)
    assert check_lengths([2, 7, 1], 3, 7, torch.device("cpu")).padded


def test_step_mask_hand_computed() -> None:
    mask = step_mask(torch.tensor([3, 1, 4]), 4)
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False], [True, True, True, True]]


def test_reverse_padded_hand_computed() -> None:
    x = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    assert reverse_padded(x, torch.tensor([4, 2, 1])).tolist() == [[4, 3, 2, 1], [6, 5, 7, 8], [9, 10, 11, 12]]
    assert reverse_padded(x, None).tolist() == [[4, 3, 2, 1], [8, 7, 6, 5], [12, 11, 10, 9]]
    features = torch.arange(12.0).reshape(2, 3, 2)  # (B, T, 2): whole steps move, features stay together
    assert reverse_padded(features, torch.tensor([2, 3])).tolist() == [
        [[2.0, 3.0], [0.0, 1.0], [4.0, 5.0]],
        [[10.0, 11.0], [8.0, 9.0], [6.0, 7.0]],
    ]


def test_lengths_from_padding_hand_computed() -> None:
    ids = torch.tensor([[5, 3, 0, 0], [1, 2, 3, 4], [7, 0, 0, 0]])
    assert lengths_from_padding(ids).tolist() == [2, 4, 1]
    assert lengths_from_padding(torch.tensor([[1, 2], [3, 4]])).tolist() == [2, 2]  # no padding: every step
    assert lengths_from_padding(torch.tensor([[1, 9, 9], [2, 3, 9]]), padding_id=9).tolist() == [1, 2]


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (torch.tensor([[3, 0, 4]]), r"Expected padded ids .*Received: row 0 has padding between real ids"),
        (
            torch.tensor([[3, 4, 0], [0, 0, 1]]),
            r"Expected ids padded on one side .*Received: row 0 is right-padded and row 1 left-padded",
        ),
        (torch.tensor([[0, 3, 0]]), r"Expected padded ids .*Received: row 0 has padding between real ids"),
        (torch.tensor([[3, 4], [0, 0]]), r"Expected at least one real id per row\. Received: row 1 is all padding"),
        (torch.tensor([1, 2, 0]), r"Expected token ids of shape \(batch, steps\), .*Received: shape=\(3,\)"),
        (torch.zeros(2, 0, dtype=torch.long), r"Expected token ids of shape .*Received: shape=\(2, 0\)"),
    ],
)
def test_lengths_from_padding_rejects_ids_padded_inside_or_on_both_sides(ids: Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lengths_from_padding(ids)


def test_left_padding_hand_computed() -> None:
    assert step_mask(torch.tensor([3, 1, 4]), 4, left=True).tolist() == [
        [False, True, True, True],
        [False, False, False, True],
        [True, True, True, True],
    ]
    x = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    assert reverse_padded(x, torch.tensor([4, 2, 1]), left=True).tolist() == [
        [4, 3, 2, 1],
        [5, 6, 8, 7],
        [9, 10, 11, 12],
    ]
    assert roll_rows(x, torch.tensor([0, 2, 3])).tolist() == [[1, 2, 3, 4], [7, 8, 5, 6], [12, 9, 10, 11]]
    checked = check_lengths([4, 2, 1], 3, 4, torch.device("cpu"), padding_side="left")
    assert (checked.left, checked.side) == (True, "left")
    assert checked.mask().tolist() == step_mask(torch.tensor([4, 2, 1]), 4, left=True).tolist()  # type: ignore[union-attr]
    assert checked.reverse(x).tolist() == reverse_padded(x, torch.tensor([4, 2, 1]), left=True).tolist()


def test_padding_side_read_from_the_ids() -> None:
    left = padding_lengths_check(torch.tensor([[0, 0, 5, 3], [1, 2, 3, 4], [0, 0, 0, 7]])).run()
    assert (left.left, left.values.tolist()) == (True, [2, 4, 1])  # type: ignore[union-attr]
    right = padding_lengths_check(torch.tensor([[5, 3, 0, 0], [1, 2, 3, 4]])).run()
    assert (right.left, right.values.tolist()) == (False, [2, 4])  # type: ignore[union-attr]
    full = padding_lengths_check(torch.tensor([[5, 3], [1, 2]])).run()
    assert (full.values, full.padded) == (None, False)
    assert lengths_from_padding(torch.tensor([[0, 0, 5, 3], [0, 1, 2, 3]])).tolist() == [2, 3]


@pytest.mark.parametrize(
    ("side", "ids", "message"),
    [
        ("right", [[0, 5, 3]], r"Expected right-padded ids .*Received: row 0 has padding before a real id"),
        ("left", [[1, 2], [5, 0]], r"Expected left-padded ids .*Received: row 1 has padding after a real id"),
        ("pre", [[1, 2]], r"Expected padding_side in \{'right', 'left'\}\. Received: padding_side='pre'"),
    ],
)
def test_a_demanded_side_is_checked(side: str, ids: list[list[int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        padding_lengths_check(torch.tensor(ids), padding_side=side).run()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected padding_side") if side == "pre" else nullcontext():
        check_lengths([1], 1, 2, torch.device("cpu"), padding_side=side)  # type: ignore[arg-type]
