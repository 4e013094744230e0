"""ONNX export: every preset and every layer, run by onnxruntime on batches of mixed lengths, equals lstmlab.

The oracle is lstmlab's own forward (itself proven equal to `torch.nn.LSTM` and Keras elsewhere) on the same
right-padded batch; onnxruntime runs the exported graph independently of PyTorch. Weights are perturbed from their
initial values (biases, moving statistics) so that a gate order, a direction or a merge read the wrong way shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from lstmlab.export import OPSET, Standardisation, export_onnx, model_to_onnx
from lstmlab.layers import (
    LSTM,
    Activation,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    Masking,
    Parallel,
    ReverseTime,
    SpatialDropout1D,
    TimeDistributed,
)
from lstmlab.models import PRESETS, Ensemble, Sequential, build_model

onnx = pytest.importorskip("onnx")  # the `onnx` extra, in `dev` too: CI runs these
ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-5


def _session(proto: object) -> object:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no notes on the console
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])  # type: ignore[attr-defined]


def _perturb(model: torch.nn.Module, seed: int = 0) -> None:
    """Move every weight and statistic off its initial value (zero biases, unit variances would hide mistakes)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                noise = 0.3 * torch.randn(tensor.shape, generator=gen)
                tensor.copy_(tensor.abs() + 0.5 + noise.abs() if "variance" in name else tensor + noise)


def _batch(model: Sequential, batch: int, steps: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded inputs of lengths 1..steps (the first row full, one row of one step) and their lengths."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    lengths[0], lengths[-1] = steps, 1
    valid = torch.arange(steps)[None, :] < lengths[:, None]
    first = next(m for m in model.modules() if isinstance(m, Layer))
    if isinstance(first, Embedding):
        return torch.randint(1, first.input_dim, (batch, steps), generator=gen) * valid, lengths
    assert model.input_shape[1] is not None
    x = torch.randn(batch, steps, model.input_shape[1], generator=gen)
    return torch.where(valid[..., None], x, torch.full_like(x, 7.0)), lengths  # padding holds values, not zeros


def _check(model: Sequential, steps: int = 9, batch: int = 6, tolerance: float = TOLERANCE, **kwargs: object) -> None:
    model.eval()
    proto = model_to_onnx(model, **kwargs)  # type: ignore[arg-type]
    session = _session(proto)
    steps = model.input_shape[0] or steps
    x, lengths = _batch(model, model.batch_size or batch, steps)
    feeds = {session.get_inputs()[0].name: x.numpy(), "lengths": lengths.numpy()}  # type: ignore[attr-defined]
    for state in session.get_inputs()[2:]:  # type: ignore[attr-defined]  # a stateful model's, from zeros
        feeds[state.name] = np.zeros(state.shape, np.float32)
    logits, probabilities = session.run(["logits", "probabilities"], feeds)  # type: ignore[attr-defined]
    with torch.no_grad():
        expected = model(x, lengths)
    np.testing.assert_allclose(logits, expected.numpy(), atol=tolerance, rtol=tolerance)
    soft = torch.sigmoid(expected) if expected.shape[-1] == 1 else torch.softmax(expected, dim=-1)
    np.testing.assert_allclose(probabilities, soft.numpy(), atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_equals_lstmlab_on_mixed_lengths(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name)
    _perturb(model)
    if model.stateful:  # one call from the zero state; the carried state is tested below
        model.reset_states()
    _check(model)


def test_graph_passes_the_checker_with_full_shape_inference_and_dynamic_axes() -> None:
    proto = model_to_onnx(build_model("series-lstm-fcn", features=3, num_classes=4))
    onnx.checker.check_model(proto, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    assert [o.opset_import[0].version for o in [inferred]] == [OPSET]
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in inferred.graph.input}
    assert dims == {"x": ["batch", "steps", 3], "lengths": ["batch"]}
    out = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output}
    assert out == {"logits": ["batch", 4], "probabilities": ["batch", 4]}
    # every intermediate value has a type after inference
    assert len(inferred.graph.value_info) >= len(inferred.graph.node) - len(inferred.graph.output)


def test_one_graph_runs_any_batch_and_any_number_of_steps() -> None:
    torch.manual_seed(0)
    model = build_model("series-bilstm", features=2, num_classes=3).eval()
    _perturb(model)
    session = _session(model_to_onnx(model))
    for batch, steps in ((1, 1), (3, 4), (17, 40)):
        x, lengths = _batch(model, batch, steps) if batch > 1 else (torch.randn(1, steps, 2), torch.tensor([steps]))
        (logits,) = session.run(["logits"], {"x": x.numpy(), "lengths": lengths.numpy()})  # type: ignore[attr-defined]
        with torch.no_grad():
            np.testing.assert_allclose(logits, model(x, lengths).numpy(), atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("first_backwards", [False, True])
@pytest.mark.parametrize("sequences", [True, False])
def test_bidirectional_every_merge_mode_and_direction(merge_mode: str, first_backwards: bool, sequences: bool) -> None:
    torch.manual_seed(0)
    layer = LSTM(5, return_sequences=sequences, go_backwards=first_backwards)
    head = [TimeDistributed(Dense(2))] if sequences else [Dense(2)]
    model = Sequential([Bidirectional(layer, merge_mode=merge_mode), *head], input_shape=(None, 3))  # type: ignore[arg-type]
    _perturb(model)
    _check(model)


@pytest.mark.parametrize("realign", [False, True])
def test_go_backwards_outputs_in_reading_order_and_realigned(realign: bool) -> None:
    torch.manual_seed(0)
    layers: list[Layer] = [LSTM(4, return_sequences=True, go_backwards=True)]
    layers += [ReverseTime()] if realign else []
    model = Sequential([*layers, LSTM(3, return_sequences=True), TimeDistributed(Dense(1))], input_shape=(None, 2))
    _perturb(model)
    _check(model)


@pytest.mark.parametrize("pooling", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_masked_poolings_read_valid_steps_only(pooling: Callable[[], Layer]) -> None:
    torch.manual_seed(0)
    # negative outputs everywhere: a max over padded zeros, or a mean over padded steps, would differ
    model = Sequential([LSTM(4, return_sequences=True), Dense(3), pooling(), Dense(2)], input_shape=(None, 2))
    _perturb(model)
    with torch.no_grad():
        model.layers[1].linear.bias.fill_(-5.0)  # type: ignore[union-attr]
    _check(model)


@pytest.mark.parametrize("kernel", [1, 2, 3, 8])
def test_convolutions_and_batch_normalisation_keep_padding_out(kernel: int) -> None:
    torch.manual_seed(0)
    model = Sequential(
        [
            Conv1D(4, kernel),
            BatchNormalization(),
            Activation("relu"),
            SpatialDropout1D(0.3),
            GaussianNoise(0.1),
            GlobalAveragePooling1D(),
            BatchNormalization(),
            Dense(3, activation="tanh"),
            Dense(2),
        ],
        input_shape=(None, 2),
    )
    _perturb(model)
    _check(model)


def test_masking_first_with_nan_padding() -> None:
    torch.manual_seed(0)
    model = Sequential([Masking(0.0), LSTM(4), Dense(1)], input_shape=(None, 2))
    _perturb(model)
    model.eval()
    x, lengths = _batch(model, 5, 6)
    x[lengths < 6, -1] = float("nan")  # padding that is not even a number
    session = _session(model_to_onnx(model))
    (logits,) = session.run(["logits"], {"x": x.numpy(), "lengths": lengths.numpy()})  # type: ignore[attr-defined]
    with torch.no_grad():
        expected = model(x, lengths)
    assert np.isfinite(logits).all()
    np.testing.assert_allclose(logits, expected.numpy(), atol=TOLERANCE, rtol=TOLERANCE)


def test_parallel_branches_keeping_time_and_flatten() -> None:
    torch.manual_seed(0)
    both = Parallel([LSTM(3, return_sequences=True)], [Conv1D(2, 3), Activation("sigmoid")])
    model = Sequential([Embedding(30, 4), Dropout(0.2), both, Flatten(), Dense(3)], input_shape=(7,))
    _perturb(model)
    _check(model)


@pytest.mark.parametrize("classes", [2, 3])  # 2: one logit (sigmoid), 3: softmax
def test_ensemble_combines_members_as_lstmlab(classes: int) -> None:
    torch.manual_seed(0)
    model = Ensemble([build_model("text-bilstm-pool", vocab_size=50, num_classes=classes) for _ in range(3)])
    _perturb(model)
    _check(model)


def test_stateful_model_carries_its_state_through_the_graph() -> None:
    torch.manual_seed(0)
    model = Sequential([LSTM(4, stateful=True, return_sequences=True), Dense(1)], input_shape=(3, 2), batch_size=2)
    _perturb(model)
    model.eval()
    session = _session(model_to_onnx(model))
    gen = torch.Generator().manual_seed(3)
    h = c = np.zeros((1, 2, 4), np.float32)
    model.reset_states()
    for call in range(3):
        x = torch.randn(2, 3, 2, generator=gen)
        lengths = torch.tensor([3, 3 if call < 2 else 2])
        logits, h, c = session.run(  # type: ignore[attr-defined]
            ["logits", "h_out_1", "c_out_1"], {"x": x.numpy(), "lengths": lengths.numpy(), "h_in_1": h, "c_in_1": c}
        )
        with torch.no_grad():
            expected = model(x, lengths)
        np.testing.assert_allclose(logits, expected.numpy(), atol=TOLERANCE, rtol=TOLERANCE)
    assert np.abs(h).sum() > 0


def test_standardisation_is_folded_into_the_graph() -> None:
    torch.manual_seed(0)
    model = build_model("series-bilstm", features=2).eval()
    _perturb(model)
    mean, std = (3.0, -1.0), (2.0, 0.5)
    session = _session(model_to_onnx(model, standardisation=Standardisation(mean, std)))
    x, lengths = _batch(model, 4, 5)
    (logits,) = session.run(["logits"], {"x": x.numpy(), "lengths": lengths.numpy()})  # type: ignore[attr-defined]
    with torch.no_grad():
        expected = model((x - torch.tensor(mean)) / torch.tensor(std), lengths)
    np.testing.assert_allclose(logits, expected.numpy(), atol=TOLERANCE, rtol=TOLERANCE)
    with pytest.raises(ValueError, match=r"^Expected a standardisation of 2 channels\. Received: 3 channels"):
        model_to_onnx(model, standardisation=Standardisation((0.0,) * 3, (1.0,) * 3))


class _Doubling(Layer):
    """A layer of the user's own: no ONNX form."""

    def build(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


def test_layers_without_an_onnx_form_are_refused_naming_them(tmp_path: object) -> None:
    model = Sequential([LSTM(3), _Doubling(), Dense(1)], input_shape=(None, 2))
    with pytest.raises(ValueError, match=r"^Expected layers that have an ONNX form \(.*\)\. Received: _Doubling \(1_"):
        model_to_onnx(model)
    wrapped = Sequential([TimeDistributed(_Doubling()), LSTM(3), Dense(1)], input_shape=(None, 2))
    with pytest.raises(ValueError, match=r"Received: TimeDistributed\(_Doubling\)"):
        model_to_onnx(wrapped)
    target = tmp_path / "model.onnx"  # type: ignore[operator]
    with pytest.raises(ValueError, match="_Doubling"):
        export_onnx(model, target)
    assert not list(target.parent.iterdir())  # nothing half-written


def test_export_writes_a_file_onnxruntime_loads(tmp_path: object) -> None:
    torch.manual_seed(0)
    model = build_model("qa-embedding-bilstm").eval()
    path = export_onnx(model, tmp_path / "qa.onnx")  # type: ignore[operator]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x, lengths = _batch(model, 4, model.input_shape[0] or 5)
    (logits,) = session.run(["logits"], {"ids": x.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(x, lengths).numpy(), atol=TOLERANCE, rtol=TOLERANCE)
    assert sorted(p.name for p in path.parent.iterdir()) == ["qa.onnx"]
