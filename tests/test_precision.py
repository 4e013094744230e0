"""Mixed precision (`TrainConfig.precision`): the training forward pass runs under autocast in bf16 (fp16 with a
loss scale, on CUDA), the weights, the optimiser and the loss stay float32, and the update is the float32 update
to bf16's precision. fp16's CUDA runs are in tests/test_gpu.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from training_fixtures import fixed_set

from lstmlab import LSTM, Dense, Sequential, TimeDistributed
from lstmlab.training import TrainConfig, Trainer, evaluate
from lstmlab.training.engine import Mixed, _step, cpu_runs_bf16_lstm
from lstmlab.training.hooks import batch_model

# hardware: oneDNN runs the CPU LSTM in bf16 only with AVX-512 (elsewhere lstmlab refuses bf16, tested below)
needs_bf16_cpu = pytest.mark.skipif(not cpu_runs_bf16_lstm(), reason="needs a CPU whose oneDNN runs the LSTM in bf16")


def _model(seed: int = 21) -> Sequential:
    torch.manual_seed(seed)
    return Sequential([LSTM(8, return_sequences=True), TimeDistributed(Dense(1))], input_shape=(None, 1))


def _gradients(model: nn.Module, mixed: Mixed | None) -> tuple[float, list[torch.Tensor]]:
    """One step's loss and gradients (the step itself taken with a zero learning rate)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    value, _ = _step(batch_model(model), optimizer, fixed_set(16, seed=2, min_steps=3), None, mixed=mixed)
    return float(value), [p.grad.clone() for p in model.parameters() if p.grad is not None]


@needs_bf16_cpu
def test_bf16_runs_the_forward_in_bf16_and_gives_the_fp32_gradient_to_its_precision() -> None:
    model = _model()
    seen: list[torch.dtype] = []
    model.layers[0].register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    loss32, grads32 = _gradients(model, None)
    loss16, grads16 = _gradients(model, Mixed.of("bf16", torch.device("cpu")))
    assert seen == [torch.float32, torch.bfloat16]  # the LSTM ran in bf16 under autocast, and only then
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert loss16 == pytest.approx(loss32, rel=2e-2) and loss16 != loss32  # bf16 holds 8 bits of mantissa
    flat32, flat16 = torch.cat([g.flatten() for g in grads32]), torch.cat([g.flatten() for g in grads16])
    assert torch.nn.functional.cosine_similarity(flat32, flat16, dim=0) > 0.99
    assert float(flat16.norm() / flat32.norm()) == pytest.approx(1.0, abs=0.05)  # the loss is weighted as fp32's


@needs_bf16_cpu
def test_bf16_training_learns_as_fp32_does_and_leaves_float32_weights() -> None:
    train, test = fixed_set(256, seed=1), fixed_set(128, seed=2)
    scores = {}
    for precision in ("fp32", "bf16"):
        model = _model()
        config = TrainConfig(epochs=8, batch_size=16, learning_rate=2e-2, precision=precision)  # type: ignore[arg-type]
        Trainer(model, train, config=config).run()
        assert all(p.dtype == torch.float32 for p in model.parameters())
        scores[precision] = evaluate(model, test).accuracy
    assert scores["fp32"] > 0.9 and scores["bf16"] == pytest.approx(scores["fp32"], abs=0.03)


@needs_bf16_cpu
def test_a_resumed_bf16_run_ends_bit_for_bit_and_an_older_checkpoint_still_loads() -> None:
    train = fixed_set(36, seed=4, min_steps=3)
    config = TrainConfig(epochs=2, batch_size=4, learning_rate=0.02, precision="bf16", seed=3)
    whole = Trainer(_model(), train, config=config)
    whole.run()
    first = Trainer(_model(), train, config=config)
    first.run(stop=lambda: first.updates == 5)
    tensors, meta = first.state()
    second = Trainer(_model(), train, config=config)
    second.load_state(tensors, json.loads(json.dumps(meta)))
    second.run()
    for key, value in whole.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[key], value), key
    # a checkpoint written before precision existed (no such field) is a float32 run's
    fp32 = TrainConfig(epochs=2, batch_size=4, learning_rate=0.02, seed=3)
    old = Trainer(_model(), train, config=fp32)
    old.run(stop=lambda: True)
    tensors, meta = old.state()
    del meta["config"]["precision"]
    Trainer(_model(), train, config=fp32).load_state(tensors, meta)
    with pytest.raises(ValueError, match="Expected a checkpoint of this training"):
        Trainer(_model(), train, config=config).load_state(tensors, meta)  # but not a bf16 run's


def test_fp16_loss_scaling_skips_an_overflowing_step_and_unscales_before_clipping() -> None:
    """fp16 runs on CUDA only (the CPU LSTM has no fp16 kernel); the scaler's part, on a model without an LSTM."""
    torch.manual_seed(0)
    model = Sequential([TimeDistributed(Dense(1))], input_shape=(None, 1))
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batch = fixed_set(16, seed=2)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**60)  # the scaled gradients overflow fp16
    mixed = Mixed(torch.float16, scaler)
    _step(batch_model(model), optimizer, batch, 1.0, mixed=mixed)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))  # skipped
    assert scaler.get_scale() == 2.0**59  # and backed off
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    _step(batch_model(model), optimizer, batch, 1e-3, mixed=Mixed(torch.float16, scaler))
    moved = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before, strict=True)])
    # clipped to norm 1e-3 on the unscaled gradient: SGD moves the weights by lr x 1e-3 (scaled: 1024 times more)
    assert float(moved.norm()) == pytest.approx(0.1 * 1e-3, rel=1e-2)


def assert_refused_by_the_command_line(tmp_path: Path, precision: str, message: str) -> None:
    """`lstmlab train --precision PRECISION` exits 2 with `message` on one line and writes nothing."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "lstmlab", "train", "--task", "cumsum", "--train-size", "20", "--epochs", "1"]
    done = subprocess.run([*command, "--precision", precision, "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"lstmlab: error: {message}")
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing half-written


def test_bad_precisions_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected precision one of fp32, bf16, fp16. Received: 'fp8'"):
        TrainConfig(epochs=1, precision="fp8")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected precision fp16 on a CUDA device"):
        Trainer(_model(), fixed_set(8), config=TrainConfig(epochs=1, precision="fp16"))
    assert_refused_by_the_command_line(tmp_path, "fp16", "Expected precision fp16 on a CUDA")


@pytest.mark.skipif(cpu_runs_bf16_lstm(), reason="this CPU runs the LSTM in bf16 (the bf16 tests above run instead)")
def test_bf16_is_refused_in_one_line_on_a_cpu_without_a_bf16_lstm(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected a CPU whose oneDNN runs the LSTM in bf16"):
        Trainer(_model(), fixed_set(8), config=TrainConfig(epochs=1, precision="bf16"))
    assert_refused_by_the_command_line(tmp_path, "bf16", "Expected a CPU whose oneDNN runs")
