"""Seeds: every seed a run uses comes from the user's one, each part of a run from its own stream."""

from __future__ import annotations

import torch

from lstmlab.seeds import Seeds, set_seed, training_order_seed


def test_each_part_of_a_run_has_its_own_stream_and_the_split_its_own_seed() -> None:
    seeds = Seeds(7)
    assert seeds.weights == seeds.training == 7
    assert len({seeds.training, seeds.fixed_set, seeds.test_set}) == 3
    assert seeds.test_set not in {Seeds(s).training for s in range(1000)}  # no nearby run trains on our test set
    assert seeds.data_split == 7 and Seeds(7, split=3).data_split == 3
    assert training_order_seed(3) != 3


def test_set_seed_repeats_the_global_draws() -> None:
    generator = set_seed(5)
    first = (torch.rand(3), torch.rand(2, generator=generator))
    generator = set_seed(5)
    assert torch.equal(first[0], torch.rand(3)) and torch.equal(first[1], torch.rand(2, generator=generator))
