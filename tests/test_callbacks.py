"""Callbacks: early stopping (patience, restore-best) and best-model checkpointing, and their saved state."""

from __future__ import annotations

import pytest
import torch
from training_fixtures import Constant, fixed_set

from lstmlab import build_model
from lstmlab.training import EarlyStopping, ModelCheckpoint, TrainConfig, fit


@pytest.mark.parametrize("patience", [1, 3])
def test_early_stopping_after_exactly_patience_epochs(patience: int) -> None:
    messages: list[str] = []
    stopper = EarlyStopping("val_loss", patience=patience, sink=messages.append)
    history = fit(
        Constant(),
        fixed_set(),
        config=TrainConfig(epochs=20, batch_size=16),
        validation=fixed_set(seed=1),
        callbacks=[stopper],
    )
    assert len(history.epochs) == patience + 1  # epoch 0 sets the best; `patience` epochs without improvement
    assert stopper.stopped_epoch == patience
    assert len(messages) == 1
    assert "has not improved" in messages[0]


def test_early_stopping_with_zero_patience_stops_at_the_first_epoch_without_improvement() -> None:
    stopper = EarlyStopping("val_accuracy", patience=0, sink=None)
    history = fit(
        Constant(), fixed_set(), config=TrainConfig(epochs=9), validation=fixed_set(seed=1), callbacks=[stopper]
    )
    assert len(history.epochs) == 2  # as Keras: epoch 0 is the first best, epoch 1 does not improve on it


def test_restore_best_equals_a_fresh_run_to_the_best_epoch() -> None:
    train, validation = fixed_set(48, seed=2, min_steps=3), fixed_set(32, seed=3, min_steps=3)
    config = TrainConfig(epochs=12, batch_size=16, learning_rate=0.05, seed=11)  # a large step: val_loss wobbles
    torch.manual_seed(4)
    model = build_model("tutorial-bilstm", steps=None)
    stopper = EarlyStopping("val_loss", patience=2, restore_best=True, sink=None)
    history = fit(model, train, config=config, validation=validation, callbacks=[stopper])
    assert stopper.best_epoch is not None
    assert stopper.best_epoch < len(history.epochs) - 1  # the best epoch was not the last one
    torch.manual_seed(4)
    fresh = build_model("tutorial-bilstm", steps=None)
    fit(fresh, train, config=TrainConfig(epochs=stopper.best_epoch + 1, batch_size=16, learning_rate=0.05, seed=11))
    for key, value in fresh.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_checkpoint_saves_on_each_new_best() -> None:
    saved: list[int] = []
    checkpoint = ModelCheckpoint(lambda m: saved.append(len(saved)), monitor="val_loss")
    fit(Constant(), fixed_set(), config=TrainConfig(epochs=4), validation=fixed_set(seed=1), callbacks=[checkpoint])
    assert saved == [0]  # the constant model is best at epoch 0 only
