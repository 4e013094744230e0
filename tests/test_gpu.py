"""GPU parity (cuDNN): reference vs fused and nn.LSTM on CUDA. Skipped, and shown as skipped, without a GPU."""

from __future__ import annotations

import warnings

import pytest
import torch
from helpers import flatten_outputs, grads, preset_batch, twin
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close

from lstmlab import LSTM, PRESETS, Bidirectional, build_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_reference_equals_fused_on_cuda(dtype: torch.dtype, go_backwards: bool) -> None:
    torch.manual_seed(0)
    ref = LSTM(8, input_size=3, return_sequences=True, return_state=True, go_backwards=go_backwards, impl="reference")
    ref = ref.to("cuda", dtype)
    fused = twin(ref, impl="fused").to("cuda")
    x = torch.randn(4, 9, 3, device="cuda", dtype=dtype, requires_grad=True)
    lengths = torch.tensor([9, 1, 5, 7])
    out_ref, out_fused = ref(x, lengths), fused(x, lengths)
    assert fused.last_impl == "fused"
    tol = {"atol": 1e-4, "rtol": 1e-3} if dtype == torch.float32 else {}
    for a, b in zip(flatten_outputs(out_ref), flatten_outputs(out_fused), strict=True):
        assert_close(a, b, **tol)
    for a, b in zip(grads(ref, x, out_ref), grads(fused, x, out_fused), strict=True):
        assert_close(a.cpu(), b.cpu(), **tol)


def test_bidirectional_matches_packed_cudnn() -> None:
    torch.manual_seed(1)
    module = nn.LSTM(3, 8, batch_first=True, bidirectional=True).to("cuda", torch.float64)
    ours = Bidirectional.from_torch(module, return_sequences=True, return_state=True, impl="fused")
    x = torch.randn(5, 7, 3, device="cuda", dtype=torch.float64)
    lengths = torch.tensor([7, 1, 4, 6, 2])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    want_packed, (h_n, c_n) = module(packed)
    want, _ = pad_packed_sequence(want_packed, batch_first=True, total_length=7)
    got, (fwd, bwd) = ours(x, lengths)
    assert ours.last_one_call
    assert_close(got, want)
    assert_close(torch.stack([fwd.h, bwd.h]), h_n)
    assert_close(torch.stack([fwd.c, bwd.c]), c_n)


def test_lstm_fcn_on_cuda_equals_cpu_on_a_padded_batch() -> None:
    """Conv1D and BatchNormalization (cuDNN convolutions, statistics from valid steps) give the CPU's numbers."""
    from lstmlab import build_model

    torch.manual_seed(2)
    cpu = build_model("series-lstm-fcn", features=3, units=8, filters=16, num_classes=4).double()
    gpu = build_model("series-lstm-fcn", features=3, units=8, filters=16, num_classes=4).double()
    gpu.load_state_dict(cpu.state_dict())
    gpu = gpu.to("cuda")
    x = torch.randn(5, 11, 3, dtype=torch.float64)
    lengths = torch.tensor([11, 2, 7, 9, 4])
    for mode in ("train", "eval"):  # dropout off in both: compare the deterministic parts
        cpu.train(mode == "train")
        gpu.train(mode == "train")
        cpu.layers[1].rate = gpu.layers[1].rate = 0.0
        want = cpu(x, lengths)
        got = gpu(x.cuda(), lengths.cuda())
        assert_close(got.cpu(), want)
    for name, value in gpu.state_dict().items():  # the moving statistics followed the same batch
        assert_close(value.cpu(), cpu.state_dict()[name])


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_call_synchronises_with_the_gpu_at_most_once(name: str, mode: str) -> None:
    """CUDA's own sync detector (`set_sync_debug_mode`) as the oracle: the lengths and ids checks are one read."""
    torch.manual_seed(0)
    model = build_model(name).to("cuda").train(mode == "train")
    x, lengths = (t.to("cuda") for t in preset_batch(model))
    model(x, lengths)  # warm-up (cuDNN plans, the allocator) outside the count
    torch.cuda.synchronize()
    model.reset_states()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            model(x, lengths)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message) for w in caught if "synchroniz" in str(w.message)]
    assert len(syncs) <= 1, syncs


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_left_padding_on_cuda_equals_right_padding(merge_mode: str) -> None:
    """cuDNN with the held-padding channel on left-padded rows (the forward direction reads the padding first)."""
    from lstmlab.layers import check_lengths
    from lstmlab.layers.sequence import roll_rows

    torch.manual_seed(3)
    layer = Bidirectional(LSTM(8, input_size=3, return_sequences=True), merge_mode=merge_mode)  # type: ignore[arg-type]
    layer = layer.to("cuda", torch.float64)
    x = torch.randn(5, 7, 3, device="cuda", dtype=torch.float64)
    lengths = torch.tensor([7, 1, 4, 6, 2], device="cuda")
    right = layer(x, lengths)
    left = layer(roll_rows(x, lengths), check_lengths(lengths, 5, 7, x.device, padding_side="left"))
    assert layer.last_one_call
    valid = (torch.arange(7, device="cuda") < lengths[:, None]).unsqueeze(-1)
    assert_close(roll_rows(left, 7 - lengths) * valid, right * valid)


@pytest.mark.parametrize("name", ["text-bilstm-pool", "series-lstm-fcn", "tutorial-bilstm"])
def test_onnx_export_of_a_cuda_model_equals_it(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    from lstmlab.export import model_to_onnx

    torch.manual_seed(0)
    model = build_model(name).to("cuda").eval()
    x, lengths = preset_batch(model)
    session = ort.InferenceSession(model_to_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {session.get_inputs()[0].name: x.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        expected = model(x.cuda(), lengths.cuda()).cpu()
    assert_close(torch.from_numpy(logits), expected, atol=1e-4, rtol=1e-3)


def test_served_predictions_on_cuda_equal_those_on_cpu(tmp_path: object) -> None:
    pytest.importorskip("fastapi")
    from pathlib import Path

    from lstmlab.cli import main
    from lstmlab.serve import Predictor

    run = Path(str(tmp_path)) / "run"
    assert main(["train", "--data", "uci:amazon", "--epochs", "1", "--ensemble", "2", "--out", str(run)]) == 0
    texts = ["Great phone, works well.", "Broke after a week!", "ok", "the battery " * 30]
    on_cpu, on_cuda = Predictor(run, "cpu"), Predictor(run, "cuda")
    assert next(on_cuda.model.parameters()).is_cuda
    cpu_answer = on_cpu.run([on_cpu.encode(texts)])[0]
    cuda_answer = on_cuda.run([on_cuda.encode(texts)])[0]
    assert_close(
        torch.tensor(cuda_answer["probabilities"]), torch.tensor(cpu_answer["probabilities"]), atol=1e-4, rtol=1e-3
    )


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cuda_learns_and_resumes_where_it_stopped(precision: str) -> None:
    """fp16's loss scale is part of the checkpoint: a resumed run ends with the uninterrupted run's weights (to
    cuDNN's reproducibility; a scale restarted from its default skips other steps and ends far off)."""
    import json

    from training_fixtures import fixed_set

    from lstmlab import Dense, Sequential, TimeDistributed
    from lstmlab.training import TrainConfig, Trainer, evaluate

    def model() -> Sequential:
        torch.manual_seed(21)
        layers = [LSTM(8, return_sequences=True), TimeDistributed(Dense(1))]
        return Sequential(layers, input_shape=(None, 1)).to("cuda")

    from lstmlab.data import SequenceData

    def on_cuda(data: SequenceData) -> SequenceData:
        return SequenceData(data.x.cuda(), data.y.cuda(), None if data.lengths is None else data.lengths.cuda())

    train, test = on_cuda(fixed_set(256, seed=1)), on_cuda(fixed_set(128, seed=2))
    config = TrainConfig(epochs=8, batch_size=16, learning_rate=2e-2, precision=precision)  # type: ignore[arg-type]
    whole = Trainer(model(), train, config=config)
    whole.run()
    assert evaluate(whole.model, test).accuracy > 0.85
    first = Trainer(model(), train, config=config)
    first.run(stop=lambda: first.updates == 37)
    tensors, meta = first.state()
    assert (meta["scaler"] is None) == (precision == "bf16")
    second = Trainer(model(), train, config=config)
    second.load_state(tensors, json.loads(json.dumps(meta)))
    second.run()
    for key, value in whole.model.state_dict().items():
        assert_close(second.model.state_dict()[key], value, rtol=1e-4, atol=1e-5)
