"""lstmlab/layers/sequence.py: checked lengths, step masks, reversing within lengths, lengths from padding ids."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from lstmlab.layers.sequence import check_lengths, lengths_from_padding, reverse_padded, step_mask


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
        (torch.tensor([[3, 0, 4]]), r"Expected right-padded ids .*Received: row 0 has padding before a real id"),
        (torch.tensor([[3, 4], [0, 0]]), r"Expected at least one real id per row\. Received: row 1 is all padding"),
        (torch.tensor([1, 2, 0]), r"Expected token ids of shape \(batch, steps\), .*Received: shape=\(3,\)"),
        (torch.zeros(2, 0, dtype=torch.long), r"Expected token ids of shape .*Received: shape=\(2, 0\)"),
    ],
)
def test_lengths_from_padding_rejects_ids_that_are_not_right_padded(ids: Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lengths_from_padding(ids)
