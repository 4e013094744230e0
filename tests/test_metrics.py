"""Loss and accuracy: hand-computed values, padded steps left out, shape errors."""

from __future__ import annotations

import math

import pytest
import torch

from lstmlab.training import accuracy, classes_from_logits, loss


def test_binary_per_sequence_by_hand() -> None:
    logits = torch.tensor([[0.0], [2.0], [-1.0]])
    targets = torch.tensor([1, 0, 0])
    # -log(sigmoid(0)), -log(1 - sigmoid(2)), -log(1 - sigmoid(-1))
    want = (math.log(2) + math.log(1 + math.exp(2)) + math.log(1 + math.exp(-1))) / 3
    assert loss(logits, targets).item() == pytest.approx(want, rel=1e-6)
    assert accuracy(logits, targets).item() == pytest.approx(1 / 3)  # 0 -> class 0 (wrong), 2 -> 1 (wrong), -1 -> 0


def test_multiclass_per_sequence_by_hand() -> None:
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    targets = torch.tensor([0, 1])
    z = 2 + math.e
    want = (-math.log(math.e / z) - math.log(1 / (2 + math.exp(3)))) / 2
    assert loss(logits, targets).item() == pytest.approx(want, rel=1e-6)
    assert accuracy(logits, targets).item() == 0.5
    assert classes_from_logits(logits).tolist() == [0, 2]


def test_padded_steps_do_not_count() -> None:
    logits = torch.tensor([[[5.0], [5.0], [-9.0]], [[-5.0], [7.0], [7.0]]])  # (B=2, T=3, 1)
    targets = torch.tensor([[1, 1, 1], [0, 0, 0]])
    lengths = torch.tensor([2, 1])
    assert accuracy(logits, targets, lengths).item() == 1.0  # the wrong steps are all padding
    assert accuracy(logits, targets).item() == pytest.approx(3 / 6)
    want = math.log(1 + math.exp(-5))  # every valid step: a correct logit of magnitude 5
    assert loss(logits, targets, lengths).item() == pytest.approx(want, rel=1e-5)


def test_gradient_is_zero_at_padded_steps() -> None:
    logits = torch.randn(2, 4, 3, requires_grad=True)
    loss(logits, torch.randint(0, 3, (2, 4)), torch.tensor([4, 2])).backward()
    assert logits.grad is not None
    assert torch.count_nonzero(logits.grad[1, 2:]) == 0
    assert torch.count_nonzero(logits.grad[1, :2]) > 0


@pytest.mark.parametrize(
    ("logits", "targets", "lengths", "message"),
    [
        (torch.zeros(3, 1), torch.zeros(4), None, r"Received: logits \(3, 1\), targets \(4,\)"),
        (torch.zeros(3, 5, 1), torch.zeros(3), None, r"Received: logits \(3, 5, 1\), targets \(3,\)"),
        (torch.zeros(3, 1), torch.zeros(3), torch.tensor([1, 1, 1]), r"per-step targets \(B, T\) with lengths"),
    ],
)
def test_shape_errors(logits, targets, lengths, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        loss(logits, targets, lengths)
