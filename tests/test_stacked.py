"""A stack of tutorial models trains exactly as each model alone: same seeds, same data, same losses and weights."""

from __future__ import annotations

import pytest
import torch

from lstmlab import build_model
from lstmlab.data import CumsumConfig, SequenceData, make_cumsum
from lstmlab.models.stacked import StackedTutorial
from lstmlab.training import TrainConfig, fit
from lstmlab.training.stacked import fit_stacked

VARIANTS = [
    ("tutorial-lstm", {}),
    ("tutorial-lstm-backward", {}),
    ("tutorial-lstm-backward", {"keras_order": True}),
    ("tutorial-bilstm", {"merge_mode": "concat"}),
    ("tutorial-bilstm", {"merge_mode": "sum"}),
    ("tutorial-bilstm", {"merge_mode": "mul"}),
    ("tutorial-bilstm", {"merge_mode": "ave"}),
]


def streams(models: int, updates: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's own data: x (U, M, 1, T, 1), y (U, M, 1, T)."""
    xs, ys = [], []
    for m in range(models):
        batch = make_cumsum(CumsumConfig(), updates, torch.Generator().manual_seed(seed + m))
        xs.append(batch.x.double())
        ys.append(batch.y)
    return torch.stack(xs, 1)[:, :, None], torch.stack(ys, 1)[:, :, None]


@pytest.mark.parametrize(("preset", "options"), VARIANTS)
def test_stack_trains_as_each_model_alone(preset: str, options: dict[str, object]) -> None:
    seeds, updates = [3, 4, 5], 30
    alone = []
    for seed in seeds:
        torch.manual_seed(seed)
        alone.append(build_model(preset, **options).double())
    stack = StackedTutorial([build_model(preset, **options).double() for _ in seeds])  # placeholder weights
    stack.load_state_dict(StackedTutorial(alone).state_dict())  # the same initial weights as the models alone
    x, y = streams(len(seeds), updates)
    losses, _ = fit_stacked(stack, zip(x, y, strict=True), learning_rate=3e-3)
    for m, model in enumerate(alone):
        batches = iter([SequenceData(x[u, m], y[u, m]) for u in range(updates)])
        history = fit(
            model,
            lambda count, generator, batches=batches: next(batches),
            config=TrainConfig(updates=updates, batch_size=1, learning_rate=3e-3),
        )
        torch.testing.assert_close(
            losses[:, m], torch.tensor(history.update_loss, dtype=torch.float64), rtol=1e-9, atol=1e-10
        )
        for key, value in stack.unstack(m).items():
            torch.testing.assert_close(value, model.state_dict()[key], rtol=1e-9, atol=1e-10)


def test_a_mixed_stack_trains_as_each_model_alone() -> None:
    # the directions comparison: forward, backward (aligned and Keras order) and Bi-LSTM models in one stack
    alone = []
    for seed, (preset, options) in enumerate(VARIANTS):
        torch.manual_seed(seed)
        alone.append(build_model(preset, **options).double())
    stack = StackedTutorial(alone)
    x, y = streams(len(alone), 20)
    losses, _ = fit_stacked(stack, zip(x, y, strict=True), learning_rate=3e-3)
    for m, model in enumerate(alone):
        batches = iter([SequenceData(x[u, m], y[u, m]) for u in range(20)])
        history = fit(
            model,
            lambda count, generator, batches=batches: next(batches),
            config=TrainConfig(updates=20, batch_size=1, learning_rate=3e-3),
        )
        torch.testing.assert_close(
            losses[:, m], torch.tensor(history.update_loss, dtype=torch.float64), rtol=1e-9, atol=1e-10
        )
        for key, value in stack.unstack(m).items():
            torch.testing.assert_close(value, model.state_dict()[key], rtol=1e-9, atol=1e-10)


def test_stacked_forward_equals_each_model() -> None:
    models = []
    for seed in range(4):
        torch.manual_seed(seed)
        models.append(build_model("tutorial-bilstm", merge_mode="mul"))
    stack = StackedTutorial(models)
    x = torch.rand(4, 2, 10, 1)
    with torch.no_grad():
        got = stack(x)
        for m, model in enumerate(models):
            torch.testing.assert_close(got[m], model(x[m]), rtol=1e-5, atol=1e-6)


def test_stack_refuses_other_models() -> None:
    with pytest.raises(ValueError, match="Expected tutorial models"):
        StackedTutorial([build_model("qa-timedistributed")])
    with pytest.raises(ValueError, match="Expected one"):
        StackedTutorial([build_model("tutorial-lstm"), build_model("tutorial-lstm", units=7)])


def test_a_learning_rate_per_model_trains_each_as_alone_at_its_rate() -> None:
    """One stack, three rates (the learning-rate grid of `compare directions`): each model equals `fit` at its own."""
    rates = [1e-3, 3e-3, 1e-2, 3e-3]
    presets = [("tutorial-lstm", {}), ("tutorial-bilstm", {}), ("tutorial-lstm-backward", {}), ("tutorial-bilstm", {})]
    alone = []
    for seed, (preset, options) in enumerate(presets):
        torch.manual_seed(seed)
        alone.append(build_model(preset, **options).double())
    stack = StackedTutorial(alone)
    x, y = streams(len(alone), 25)
    losses, _ = fit_stacked(stack, zip(x, y, strict=True), learning_rate=rates)
    for m, model in enumerate(alone):
        batches = iter([SequenceData(x[u, m], y[u, m]) for u in range(25)])
        history = fit(
            model,
            lambda count, generator, batches=batches: next(batches),
            config=TrainConfig(updates=25, batch_size=1, learning_rate=rates[m]),
        )
        torch.testing.assert_close(
            losses[:, m], torch.tensor(history.update_loss, dtype=torch.float64), rtol=1e-9, atol=1e-10
        )
        for key, value in stack.unstack(m).items():
            torch.testing.assert_close(value, model.state_dict()[key], rtol=1e-9, atol=1e-10)


def test_rates_per_model_are_checked() -> None:
    stack = StackedTutorial([build_model("tutorial-lstm"), build_model("tutorial-bilstm")])
    x, y = streams(2, 2)
    with pytest.raises(ValueError, match=r"Expected one learning rate per model \(2\)"):
        fit_stacked(stack, zip(x, y, strict=True), learning_rate=[1e-3])
    with pytest.raises(ValueError, match="Expected a stack with slot_models"):
        fit_stacked(torch.nn.Linear(1, 1), [], learning_rate=[1e-3])
