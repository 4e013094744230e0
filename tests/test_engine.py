"""The training loop: learning, reproducibility, early stopping and restore-best, evaluate and predict."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lstmlab import build_model
from lstmlab.data import CumsumConfig, make_cumsum
from lstmlab.training import (
    EarlyStopping,
    ModelCheckpoint,
    SequenceData,
    TrainConfig,
    evaluate,
    fit,
    predict,
    predict_classes,
)


def cumsum_source(count: int, generator: torch.Generator) -> SequenceData:
    batch = make_cumsum(CumsumConfig(), count, generator)
    return SequenceData(batch.x, batch.y, batch.lengths)


def fixed_set(count: int = 64, seed: int = 0, **task: object) -> SequenceData:
    batch = make_cumsum(CumsumConfig(**task), count, torch.Generator().manual_seed(seed))  # type: ignore[arg-type]
    return SequenceData(batch.x, batch.y, batch.lengths)


class Constant(nn.Module):
    """Logits that no parameter moves: a model that cannot improve."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return 0.0 * self.weight + torch.zeros(*x.shape[:2], 1)


def test_online_training_learns_the_tutorial_problem() -> None:
    torch.manual_seed(0)
    model = build_model("tutorial-lstm")
    before = evaluate(model, fixed_set(200, seed=99)).accuracy
    history = fit(model, cumsum_source, config=TrainConfig(updates=300, batch_size=4, learning_rate=3e-3))
    after = evaluate(model, fixed_set(200, seed=99)).accuracy
    assert after > 0.85 > before
    assert len(history.update_loss) == 300
    assert len(history.epochs) == 3  # one row per 100 updates
    assert sum(history.update_loss[-50:]) < sum(history.update_loss[:50])


def test_same_seed_same_run_bit_for_bit() -> None:
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = build_model("tutorial-bilstm")
        history = fit(model, fixed_set(40), config=TrainConfig(epochs=2, batch_size=8, seed=5))
        runs.append((model.state_dict(), history.epochs))
    for key in runs[0][0]:
        assert torch.equal(runs[0][0][key], runs[1][0][key])
    assert runs[0][1] == runs[1][1]


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


def test_evaluate_leaves_padded_steps_out_and_reports_per_class_figures() -> None:
    class Fixed(nn.Module):
        def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
            return x  # the input holds the logits

    logits = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 5.0, 0], [0, 0, 5.0]])  # predicts 0, 1, 1, 2
    data = SequenceData(
        logits[:, None, :].expand(4, 2, 3).clone(),
        torch.tensor([[0, 0], [1, 1], [2, 2], [2, 0]]),
        torch.tensor([2, 1, 1, 1]),
    )
    scores = evaluate(Fixed(), data)
    assert scores.count == 5  # 2 + 1 + 1 + 1 valid steps
    assert scores.accuracy == pytest.approx(4 / 5)
    assert scores.confusion == [[2, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert scores.precision == pytest.approx([1.0, 0.5, 1.0])
    assert scores.recall == pytest.approx([1.0, 1.0, 0.5])
    assert scores.f1 == pytest.approx([1.0, 2 / 3, 2 / 3])


def test_predict_gives_probabilities_and_classes() -> None:
    model = build_model("qa-lstm", num_classes=3)
    data = SequenceData(torch.rand(5, 10, 1), torch.zeros(5, dtype=torch.long))
    probabilities = predict(model, data)
    assert probabilities.shape == (5, 3)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(5))
    assert torch.equal(predict_classes(model, data), probabilities.argmax(-1))
    binary = build_model("tutorial-lstm")
    steps = SequenceData(torch.rand(4, 10, 1), torch.zeros(4, 10, dtype=torch.long))
    assert torch.equal(predict_classes(binary, steps), (predict(binary, steps)[..., 0] > 0.5).long())


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


def test_mismatched_data_is_refused() -> None:
    with pytest.raises(ValueError, match="same number of examples"):
        SequenceData(torch.zeros(3, 4, 1), torch.zeros(2))
    with pytest.raises(ValueError, match="Expected epochs for a fixed training set"):
        fit(Constant(), fixed_set(), config=TrainConfig(updates=3))


def test_weight_decay_is_decoupled_adamw_step_by_hand() -> None:
    """One step with zero gradients: Adam leaves a weight alone, AdamW shrinks it by lr * decay exactly."""
    from lstmlab.training.engine import make_optimizer

    model = nn.Linear(3, 1)
    before = model.weight.detach().clone()
    optimizer = make_optimizer(model, TrainConfig(epochs=1, learning_rate=0.1, weight_decay=0.5))
    assert isinstance(optimizer, torch.optim.AdamW)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    assert torch.allclose(model.weight.detach(), before * (1 - 0.1 * 0.5), atol=1e-7, rtol=0)
    assert type(make_optimizer(model, TrainConfig(epochs=1))) is torch.optim.Adam


def test_optimiser_holds_only_trainable_weights() -> None:
    """A BatchNormalization's moving statistics are weights without gradients: the optimiser holds only the trainable
    ones (torch's Adam would skip the others anyway; this keeps its state and fused kernel to what trains)."""
    from lstmlab.training.engine import make_optimizer

    model = build_model("series-lstm-fcn", features=2, units=2, filters=2)
    optimizer = make_optimizer(model, TrainConfig(epochs=1, weight_decay=0.5))
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert held == trainable and len(trainable) < len(list(model.parameters()))


def test_cosine_schedule_follows_the_formula_and_ends_at_zero() -> None:
    """Record the step size used at every update: lr * (1 + cos(pi * k / total)) / 2 for k = 0..total-1."""
    import math

    seen: list[float] = []
    original = torch.optim.Adam.step

    def spy(self: torch.optim.Adam, *args: object, **kwargs: object) -> object:
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    data = fixed_set(32)
    model = build_model("tutorial-lstm")
    config = TrainConfig(epochs=2, batch_size=8, learning_rate=0.01, schedule="cosine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Adam, "step", spy)
        fit(model, data, config=config)
    total = 8  # 2 epochs x 4 batches
    assert seen == pytest.approx([0.01 * (1 + math.cos(math.pi * k / total)) / 2 for k in range(total)], rel=1e-9)
    with pytest.raises(ValueError, match="Expected schedule 'constant' or 'cosine'. Received: schedule='step'"):
        TrainConfig(epochs=1, schedule="step")
