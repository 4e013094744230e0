"""Training settings: what `TrainConfig` refuses, with one-line messages."""

from __future__ import annotations

import pytest

from lstmlab.training import TrainConfig


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 2, "updates": 5}, "Expected exactly one of epochs or updates"),
        ({}, "Expected exactly one of epochs or updates"),
        ({"epochs": 0}, "Expected epochs to be a positive integer. Received: epochs=0"),
        ({"epochs": 1, "batch_size": -2}, "Expected batch_size to be a positive integer"),
        ({"epochs": 1, "learning_rate": 0.0}, "Expected a finite learning_rate > 0"),
        ({"epochs": 1, "weight_decay": -0.1}, "Expected a finite weight_decay >= 0"),
    ],
)
def test_bad_training_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)  # type: ignore[arg-type]
