"""The training loop: learning, reproducibility, interruption and resume, evaluate and predict."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from training_fixtures import Constant, cumsum_source, fixed_set

from lstmlab import build_model
from lstmlab.data import SequenceData
from lstmlab.training import TrainConfig, Trainer, evaluate, fit, predict, predict_classes


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


def _dropout_model() -> nn.Module:
    from lstmlab import LSTM, Dense, Sequential, TimeDistributed

    torch.manual_seed(21)
    layers = [LSTM(6, return_sequences=True, dropout=0.3), TimeDistributed(Dense(1))]
    return Sequential(layers, input_shape=(None, 1))


def _stop_after(count: int) -> object:
    calls = iter(range(1, 10**6))
    return lambda: next(calls) == count


def _resumed(
    train: object, config: TrainConfig, stop_at: int, *, callbacks: object = lambda: []
) -> tuple[nn.Module, Trainer]:
    """Train to update `stop_at`, save the state through JSON, rebuild everything and continue to the end."""
    import json

    first = Trainer(_dropout_model(), train, config=config, callbacks=callbacks())  # type: ignore[arg-type, operator]
    first.run(stop=_stop_after(stop_at))  # type: ignore[arg-type]
    assert first.interrupted and first.updates == stop_at
    tensors, meta = first.state()
    meta = json.loads(json.dumps(meta))  # as a checkpoint file holds it
    torch.manual_seed(12345)  # whatever the global generator holds when a resume starts
    second = Trainer(_dropout_model(), train, config=config, callbacks=callbacks())  # type: ignore[arg-type, operator]
    second.load_state({k: v.clone() for k, v in tensors.items()}, meta)
    second.run()
    assert not second.interrupted and second.updates == second.total
    return second.model, second


@pytest.mark.parametrize("stop_at", [1, 6, 8, 13])
def test_a_resumed_fixed_set_run_ends_bit_for_bit_as_an_uninterrupted_one(stop_at: int) -> None:
    """Shuffled batches, a validation split with restore-best, a cosine schedule and dropout: stopped after update
    `stop_at` (8: the end of an epoch), saved, rebuilt and resumed, the weights and history equal an uninterrupted
    run's exactly."""
    from lstmlab.training import EarlyStopping

    train = fixed_set(36, seed=4, min_steps=3)
    config = TrainConfig(epochs=3, batch_size=4, learning_rate=0.02, schedule="cosine", validation_split=0.1, seed=3)

    def callbacks() -> list[EarlyStopping]:
        return [EarlyStopping("val_loss", patience=3, restore_best=True, sink=None)]

    whole = Trainer(_dropout_model(), train, config=config, callbacks=callbacks())
    history = whole.run()
    assert whole.total == 24 and len(history.epochs) == 3
    model, resumed = _resumed(train, config, stop_at, callbacks=callbacks)
    assert resumed.history == history
    for key, value in whole.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


@pytest.mark.parametrize("stop_at", [3, 100, 150])
def test_a_resumed_online_run_ends_bit_for_bit_as_an_uninterrupted_one(stop_at: int) -> None:
    config = TrainConfig(updates=210, batch_size=2, learning_rate=0.01, schedule="cosine", seed=9)
    whole = Trainer(_dropout_model(), cumsum_source, config=config)
    history = whole.run()
    model, resumed = _resumed(cumsum_source, config, stop_at)
    assert resumed.history == history and len(history.update_loss) == 210
    for key, value in whole.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_a_state_of_other_settings_is_refused() -> None:
    config = TrainConfig(updates=5, batch_size=2, seed=1)
    first = Trainer(_dropout_model(), cumsum_source, config=config)
    first.run(stop=lambda: True)
    tensors, meta = first.state()
    other = Trainer(_dropout_model(), cumsum_source, config=TrainConfig(updates=5, batch_size=2, seed=2))
    with pytest.raises(ValueError, match="Expected a checkpoint of this training"):
        other.load_state(tensors, meta)


def test_the_loop_asks_the_model_how_it_answers() -> None:
    """A model with its own hooks (two learners, each clipped on its own) is trained through them; a plain module
    through the plain ones."""
    from lstmlab.training import train_step

    class Pair(nn.Module):
        batch_size = None

        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(1, 1), nn.Linear(1, 1)
            self.asked: list[str] = []

        def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
            return self.a(x) + self.b(x)

        def answer(self, batch: SequenceData) -> tuple[Tensor, Tensor, None]:
            self.asked.append("answer")
            return self(batch.x, batch.lengths), batch.y, None

        def training_answers(self, batch: SequenceData) -> tuple[Tensor, Tensor, None]:
            self.asked.append("training_answers")
            return torch.stack([self.a(batch.x), self.b(batch.x)]), batch.y, None

        def clip_groups(self) -> list[list[nn.Parameter]]:
            self.asked.append("clip_groups")
            return [list(self.a.parameters()), list(self.b.parameters())]

    torch.manual_seed(0)
    model = Pair()
    data = SequenceData(torch.randn(8, 1), torch.randint(0, 2, (8,)))
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train_step(model, optimizer, data, clip_norm=1e-3)
    assert model.asked == ["training_answers", "clip_groups"]
    # each learner moved by exactly the clip norm: clipped on its own, not together
    for layer in (model.a, model.b):
        assert layer.weight.grad is not None
        norm = torch.cat([layer.weight.grad.flatten(), layer.bias.grad.flatten()]).norm()  # type: ignore[union-attr]
        assert float(norm) == pytest.approx(1e-3, rel=1e-4)
    evaluate(model, data)
    assert model.asked[-1] == "answer"
