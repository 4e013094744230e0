"""Every seed a run or a comparison uses, derived in one place from the one seed the user gives.

One seed determines a run: CPU runs with the same seed (and thread count) repeat bit for bit. The parts of a run
draw from separate streams so that changing one part (a longer training, a bigger test set) leaves the others as
they were.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["COMPARISON_TEST_SEED", "COMPARISON_VALIDATION_SEED", "Seeds", "set_seed", "training_order_seed"]

# The test set's seed is the run's seed plus this: never one of the training streams of nearby seeds.
TEST_SEED_OFFSET = 1_000_003
# Fresh validation examples (a grid's choice of point, a tuning trial's score): the run's seed plus this, apart from
# its training stream and its test set.
VALIDATION_SEED_OFFSET = 2_000_029
# The stacked comparisons score every run on one test set, and choose grid points on one validation set, the same
# for every seed.
COMPARISON_TEST_SEED = 10_000_019
COMPARISON_VALIDATION_SEED = 20_000_003


@dataclass(frozen=True)
class Seeds:
    """The seeds of one run, from the user's `seed` (and `split`, the data split's own seed where given)."""

    seed: int = 0
    split: int | None = None  # None: the run's seed

    @property
    def weights(self) -> int:
        """Initial weights: the global generators are seeded with this before the model is built."""
        return self.seed

    @property
    def training(self) -> int:
        """Training: batch order, online examples and dropout (`TrainConfig.seed`)."""
        return self.seed

    @property
    def fixed_set(self) -> int:
        """A fixed generated training set (`--train-size`): drawn apart from the online stream."""
        return self.seed + 1

    @property
    def test_set(self) -> int:
        """A task's fresh test examples."""
        return self.seed + TEST_SEED_OFFSET

    @property
    def validation_set(self) -> int:
        """A task's fresh validation examples (choosing a grid point, scoring a tuning trial): never the test set."""
        return self.seed + VALIDATION_SEED_OFFSET

    @property
    def data_split(self) -> int:
        """The stratified training / test split of the user's data."""
        return self.seed if self.split is None else self.split


def training_order_seed(split_seed: int) -> int:
    """The order of the user's training examples after a split by `split_seed` (files often list one class after
    another, and the validation split is the last part of the training set)."""
    return split_seed + 1


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch's global generators; return a generator for data order and sampling."""
    # imported here, not above: `Seeds` is part of a run's spec, which the command line builds while it parses,
    # and `lstmlab --help` never imports PyTorch or NumPy
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
