"""The cumulative-sum problem: labels by hand, the tutorial's example, balance, variable lengths, bad options."""

from __future__ import annotations

import pytest
import torch

from lstmlab.data import CumsumConfig, make_cumsum


def test_tutorial_example_labels() -> None:
    # the tutorial's example sequence: 0 0 0 1 1 ... once the running sum passes 10 / 4 = 2.5
    values = [0.63, 0.29, 0.92, 0.95, 0.32, 0.1, 0.2, 0.3, 0.4, 0.5]
    gen = torch.Generator().manual_seed(0)
    batch = make_cumsum(CumsumConfig(), 1, gen)
    x = torch.tensor(values)
    running = x.cumsum(0)
    assert running[2] < 2.5 < running[3]
    expected = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert ((running > 2.5).long().tolist()) == expected
    # the generator applies the same rule to its own draws
    own = batch.x[0, :, 0].cumsum(0)
    assert batch.y[0].tolist() == (own > 2.5).long().tolist()


def test_same_seed_same_data_and_shapes() -> None:
    a = make_cumsum(CumsumConfig(steps=7), 5, torch.Generator().manual_seed(3))
    b = make_cumsum(CumsumConfig(steps=7), 5, torch.Generator().manual_seed(3))
    assert torch.equal(a.x, b.x)
    assert torch.equal(a.y, b.y)
    assert a.x.shape == (5, 7, 1)
    assert a.y.shape == (5, 7)
    assert a.lengths is None
    assert ((a.x >= 0) & (a.x < 1)).all()


def test_labels_are_monotone_per_row() -> None:
    batch = make_cumsum(CumsumConfig(steps=20), 200, torch.Generator().manual_seed(1))
    assert (batch.y[:, 1:] >= batch.y[:, :-1]).all()  # once passed, a sum of non-negative values stays passed


def test_variable_lengths_pad_with_zeros_and_label_by_own_length() -> None:
    config = CumsumConfig(steps=12, min_steps=3)
    batch = make_cumsum(config, 300, torch.Generator().manual_seed(2))
    assert batch.lengths is not None
    assert batch.lengths.min() >= 3
    assert batch.lengths.max() <= 12
    for row in range(20):
        n = int(batch.lengths[row])
        values = batch.x[row, :, 0]
        assert torch.count_nonzero(values[n:]) == 0
        assert torch.count_nonzero(batch.y[row, n:]) == 0
        assert batch.y[row, :n].tolist() == (values[:n].cumsum(0) > 0.25 * n).long().tolist()


def test_many_to_one_labels_are_balanced_and_follow_the_rule() -> None:
    batch = make_cumsum(CumsumConfig(steps=10, per_step=False, min_steps=2), 4000, torch.Generator().manual_seed(4))
    assert batch.y.shape == (4000,)
    assert 0.46 < batch.y.float().mean().item() < 0.54
    assert batch.lengths is not None
    sums = batch.x[:, :, 0].sum(1)
    assert torch.equal(batch.y, (sums > batch.lengths / 2).long())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": 0}, "Expected steps to be a positive integer. Received: steps=0"),
        ({"threshold": 1.5}, r"Expected threshold in \(0, 1\)"),
        ({"min_steps": 11}, "Expected min_steps in 1..10. Received: min_steps=11"),
    ],
)
def test_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CumsumConfig(**options)  # type: ignore[arg-type]
