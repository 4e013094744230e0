"""lstmlab models as exact ONNX graphs: every layer written as ONNX operators by hand, from a registry by layer type.

Why by hand and not `torch.onnx.export`: lstmlab keeps padding out of its LSTMs by lengths (the fused path holds a
padded step's state with an extra input channel; the reference path loops over steps), and PyTorch's exporters
either cannot export variable lengths with a dynamic batch (`PackedSequence`) or fix the time axis of a loop. ONNX's
own `LSTM` operator takes `sequence_lens`: each row is read over its own valid steps only, in both directions (the
reverse direction starts at each row's last valid step), the outputs after a row's length are zeros and `Y_h` is
the state at its last valid step. That is lstmlab's contract exactly, so each lstmlab layer maps onto standard
operators with nothing traced:

- `LSTM`: one `LSTM` node (gates reordered from lstmlab's i|f|g|o to ONNX's i|o|f|c, lstmlab's one bias as `Wb`
  and a zero `Rb`); `go_backwards` is direction "reverse", its outputs put in reading order by `ReverseSequence`
  over each row's length; `Bidirectional` is one node with direction "bidirectional", merged as lstmlab merges.
- layers that mask (`Masking`, `Conv1D`, `BatchNormalization`, the poolings over time) build their (B, T) mask
  from `lengths` once per graph; padded values are replaced (`Where`), never multiplied, so NaN padding stays out.
- `Ensemble`: each member's graph on the shared inputs, combined as `combine_logits` (log of the mean
  probability, in log space).

The graph's inputs: `x` (B, T, D) float32 values or `ids` (B, T) int64 token ids, right-padded, and `lengths` (B,)
int64, each row's valid steps in 1..T (pass T for rows without padding). Outputs: `logits` and `probabilities`
(sigmoid for one logit, softmax otherwise), (B, C), or (B, T, C) for per-step models. A stateful LSTM adds the
inputs `h_in_K` and `c_in_K` (num_directions, B, H) and the outputs `h_out_K`, `c_out_K`: the state to carry into
the next call, as lstmlab's stateful layers carry it. Opset `OPSET`; batch and steps are dynamic (steps fixed where
the model fixes them, as `Flatten` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..layers import (
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
    TimeDistributed,
)
from ..models import Ensemble, Sequential, snake_case

__all__ = ["OPSET", "Standardisation", "export_onnx", "model_to_onnx"]

OPSET = 17  # ai.onnx; onnxruntime has run it since 1.11
PRODUCER = "lstmlab"


@dataclass(frozen=True)
class Standardisation:
    """A per-channel `(x - mean) / std` folded into the graph before the model (a series run's scaler)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ValueError(
            'Expected the onnx package for the export (pip install -e ".[onnx]"). Received: no module named onnx'
        ) from None
    return onnx


@dataclass
class _Flow:
    """What a layer reads: its input tensor's name and whether it still has a time axis (lengths hold for it)."""

    x: str
    timed: bool


@dataclass
class _Graph:
    """Nodes and initialisers being written, with the names every layer shares (lengths and the step mask)."""

    onnx: Any
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)
    state_inputs: list[Any] = field(default_factory=list)
    state_outputs: list[Any] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    source: str = "x"  # the graph's input, whose shape gives the number of steps
    batch_size: int | None = None
    cached: dict[str, str] = field(default_factory=dict)

    def name(self, hint: str) -> str:
        candidate, number = hint, 1
        while candidate in self.names:
            number += 1
            candidate = f"{hint}_{number}"
        self.names.add(candidate)
        return candidate

    def const(self, hint: str, value: Any, dtype: Any = np.float32) -> str:
        array = np.asarray(value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value, dtype=dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str, outputs: int = 1, **attributes: Any) -> list[str]:
        names = [self.name(f"{hint}_{i}" if outputs > 1 else hint) for i in range(outputs)]
        self.nodes.append(
            self.onnx.helper.make_node(op_type, list(inputs), names, name=self.name(f"{hint}_node"), **attributes)
        )
        return names

    def one(self, op_type: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
        return self.op(op_type, inputs, hint, **attributes)[0]

    def shared(self, hint: str, value: Any, dtype: Any = np.float32) -> str:
        """A constant written once per graph, named `hint` (every use of the same hint reads it)."""
        if hint not in self.cached:
            self.cached[hint] = self.const(hint, value, dtype)
        return self.cached[hint]

    def axes(self, *axes: int) -> str:
        return self.shared("axes_" + "_".join(str(a).replace("-", "m") for a in axes), axes, np.int64)

    # the names every masking layer shares, made on first use
    def mask(self) -> str:
        """(B, T, 1) bool: True at each row's valid steps."""
        if "mask" not in self.cached:
            shape = self.one("Shape", [self.source], "input_shape")
            steps = self.one("Gather", [shape, self.shared("one", 1, np.int64)], "steps", axis=0)
            start, step = self.shared("zero", 0, np.int64), self.shared("one", 1, np.int64)
            positions = self.one("Range", [start, steps, step], "positions")
            row = self.one("Unsqueeze", [positions, self.axes(0)], "positions_row")  # (1, T)
            column = self.one("Unsqueeze", [self.lengths(), self.axes(1)], "lengths_column")  # (B, 1)
            valid = self.one("Less", [row, column], "valid_steps")  # (B, T)
            self.cached["mask"] = self.one("Unsqueeze", [valid, self.axes(2)], "mask")
        return self.cached["mask"]

    def lengths(self) -> str:
        return "lengths"

    def lengths32(self) -> str:
        if "lengths32" not in self.cached:
            self.cached["lengths32"] = self.one(
                "Cast", [self.lengths()], "lengths_int32", to=self.onnx.TensorProto.INT32
            )
        return self.cached["lengths32"]

    def zeroed(self, x: str, hint: str) -> str:
        """`x` (B, T, D) with zeros at padded steps, whatever they held."""
        return self.one("Where", [self.mask(), x, self.shared("zero_f", 0.0)], hint)


_Converter = Callable[[_Graph, Any, _Flow, str], _Flow]
_CONVERTERS: dict[type, _Converter] = {}


def _converts(*types: type) -> Callable[[_Converter], _Converter]:
    def register(function: _Converter) -> _Converter:
        for kind in types:
            _CONVERTERS[kind] = function
        return function

    return register


def _convert(graph: _Graph, layer: Layer, flow: _Flow, hint: str) -> _Flow:
    converter = next((_CONVERTERS[kind] for kind in type(layer).__mro__ if kind in _CONVERTERS), None)
    if converter is None or type(layer).__module__.split(".")[0] != "lstmlab":
        raise ValueError(
            f"Expected layers that have an ONNX form ({', '.join(sorted(k.__name__ for k in _CONVERTERS))}). "
            f"Received: {type(layer).__name__} ({hint})"
        )
    return converter(graph, layer, flow, hint)


@_converts(Dropout, GaussianNoise)
def _identity(graph: _Graph, layer: Any, flow: _Flow, hint: str) -> _Flow:
    return flow  # noise only in training


_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softmax": "Softmax"}


def _activation(graph: _Graph, name: str | None, x: str, hint: str) -> str:
    if name in (None, "linear"):
        return x
    attributes = {"axis": -1} if name == "softmax" else {}
    return graph.one(_ACTIVATIONS[name], [x], hint, **attributes)


@_converts(Activation)
def _activation_layer(graph: _Graph, layer: Activation, flow: _Flow, hint: str) -> _Flow:
    return replace(flow, x=_activation(graph, layer.activation, flow.x, hint))


@_converts(Dense)
def _dense(graph: _Graph, layer: Dense, flow: _Flow, hint: str) -> _Flow:
    assert layer.linear is not None
    product = graph.one("MatMul", [flow.x, graph.const(f"{hint}_kernel", layer.linear.weight.T)], f"{hint}_matmul")
    out = graph.one("Add", [product, graph.const(f"{hint}_bias", layer.linear.bias)], f"{hint}_add")
    return replace(flow, x=_activation(graph, layer.activation, out, f"{hint}_{layer.activation}"))


@_converts(TimeDistributed)
def _time_distributed(graph: _Graph, layer: TimeDistributed, flow: _Flow, hint: str) -> _Flow:
    inner = layer.layer
    if not isinstance(inner, Dense | Activation | Dropout | GaussianNoise):  # these act on the last axis alone
        raise ValueError(
            f"Expected TimeDistributed around Dense, Activation, Dropout or GaussianNoise to export. Received: "
            f"TimeDistributed({type(inner).__name__}) ({hint})"
        )
    out = _convert(graph, inner, replace(flow, timed=False), f"{hint}_inner")
    return replace(out, timed=flow.timed)


@_converts(Embedding)
def _embedding(graph: _Graph, layer: Embedding, flow: _Flow, hint: str) -> _Flow:
    table = graph.const(f"{hint}_table", layer.embedding.weight)
    return replace(flow, x=graph.one("Gather", [table, flow.x], hint, axis=0))


@_converts(Masking)
def _masking(graph: _Graph, layer: Masking, flow: _Flow, hint: str) -> _Flow:
    return replace(flow, x=graph.zeroed(flow.x, hint))  # lengths are given: they mark the padding


@_converts(Flatten)
def _flatten(graph: _Graph, layer: Flatten, flow: _Flow, hint: str) -> _Flow:
    return _Flow(graph.one("Flatten", [flow.x], hint, axis=1), timed=False)


@_converts(GlobalAveragePooling1D)
def _average(graph: _Graph, layer: GlobalAveragePooling1D, flow: _Flow, hint: str) -> _Flow:
    total = graph.one("ReduceSum", [graph.zeroed(flow.x, f"{hint}_zeroed"), graph.axes(1)], f"{hint}_sum", keepdims=0)
    count = graph.one("Cast", [graph.lengths()], f"{hint}_count", to=graph.onnx.TensorProto.FLOAT)
    column = graph.one("Unsqueeze", [count, graph.axes(1)], f"{hint}_count_column")
    return _Flow(graph.one("Div", [total, column], hint), timed=False)


@_converts(GlobalMaxPooling1D)
def _maximum(graph: _Graph, layer: GlobalMaxPooling1D, flow: _Flow, hint: str) -> _Flow:
    kept = graph.one("Where", [graph.mask(), flow.x, graph.shared("minus_inf", -np.inf)], f"{hint}_masked")
    return _Flow(graph.one("ReduceMax", [kept], hint, axes=[1], keepdims=0), timed=False)


@_converts(ReverseTime)
def _reverse_time(graph: _Graph, layer: ReverseTime, flow: _Flow, hint: str) -> _Flow:
    return replace(flow, x=graph.one("ReverseSequence", [flow.x, graph.lengths()], hint, batch_axis=0, time_axis=1))


@_converts(Conv1D)
def _conv1d(graph: _Graph, layer: Conv1D, flow: _Flow, hint: str) -> _Flow:
    assert layer.conv is not None
    k = layer.kernel_size
    channels_first = graph.one("Transpose", [graph.zeroed(flow.x, f"{hint}_zeroed")], f"{hint}_in", perm=[0, 2, 1])
    weights = [graph.const(f"{hint}_kernel", layer.conv.weight), graph.const(f"{hint}_bias", layer.conv.bias)]
    # Keras's 'same': (k-1)//2 zeros before, k//2 after; steps at and after a row's length are zeros already
    out = graph.one("Conv", [channels_first, *weights], f"{hint}_conv", pads=[(k - 1) // 2, k // 2])
    back = graph.one("Transpose", [out], f"{hint}_out", perm=[0, 2, 1])
    return replace(flow, x=graph.zeroed(back, hint))


@_converts(BatchNormalization)
def _batch_normalization(graph: _Graph, layer: BatchNormalization, flow: _Flow, hint: str) -> _Flow:
    names = ["moving_mean", "moving_variance", "gamma", "beta"]
    mean, variance, gamma, beta = (graph.const(f"{hint}_{n}", getattr(layer, n)) for n in names)
    epsilon = graph.const(f"{hint}_epsilon", layer.epsilon)
    x = graph.zeroed(flow.x, f"{hint}_zeroed") if flow.timed else flow.x
    # (x - mean) * rsqrt(variance + epsilon) * gamma + beta, in lstmlab's order
    centred = graph.one("Sub", [x, mean], f"{hint}_centred")
    root = graph.one("Sqrt", [graph.one("Add", [variance, epsilon], f"{hint}_variance")], f"{hint}_root")
    scaled = graph.one("Mul", [graph.one("Div", [centred, root], f"{hint}_scaled"), gamma], f"{hint}_gamma")
    out = graph.one("Add", [scaled, beta], f"{hint}_beta")
    return replace(flow, x=graph.zeroed(out, hint) if flow.timed else out)


@_converts(Parallel)
def _parallel(graph: _Graph, layer: Parallel, flow: _Flow, hint: str) -> _Flow:
    flows: dict[int, _Flow] = {}
    for number, inner, _ in layer.inner_layers():  # each branch's layers in order, branch after branch
        flows[number] = _convert(graph, inner, flows.get(number, flow), f"{hint}_b{number}_{_snake(inner)}")
    outputs = list(flows.values())
    return _Flow(graph.one("Concat", [o.x for o in outputs], hint, axis=-1), timed=outputs[0].timed)


def _gates(tensor: torch.Tensor) -> torch.Tensor:
    """lstmlab's gate blocks i|f|g|o (axis 0) in ONNX's order i|o|f|c."""
    i, f, g, o = tensor.detach().float().chunk(4, dim=0)
    return torch.cat([i, o, f, g])


def _lstm_node(
    graph: _Graph,
    cells: Sequence[Any],
    direction: str,
    x: str,
    hint: str,
    stateful: bool,
) -> tuple[str, str, str]:
    """One ONNX LSTM over `x` (B, T, D): Y (B, T, num_directions, H), Y_h and Y_c (num_directions, B, H)."""
    onnx = graph.onnx
    units = cells[0].units
    weights = graph.const(f"{hint}_W", torch.stack([_gates(c.weight_ih) for c in cells]))
    recurrent = graph.const(f"{hint}_R", torch.stack([_gates(c.weight_hh) for c in cells]))
    bias = torch.stack([torch.cat([_gates(c.bias), torch.zeros(4 * units)]) for c in cells])
    time_major = graph.one("Transpose", [x], f"{hint}_time_major", perm=[1, 0, 2])
    inputs = [time_major, weights, recurrent, graph.const(f"{hint}_B", bias), graph.lengths32()]
    if stateful:
        number = len(graph.state_inputs) // 2 + 1
        shape = [len(cells), graph.batch_size or "batch", units]
        for part in ("h", "c"):
            graph.state_inputs.append(
                onnx.helper.make_tensor_value_info(f"{part}_in_{number}", onnx.TensorProto.FLOAT, shape)
            )
            inputs.append(f"{part}_in_{number}")
            graph.names.add(f"{part}_in_{number}")
    y, y_h, y_c = graph.op("LSTM", inputs, hint, outputs=3, direction=direction, hidden_size=units)
    if stateful:
        for part, name in (("h", y_h), ("c", y_c)):
            out = f"{part}_out_{number}"
            graph.nodes.append(onnx.helper.make_node("Identity", [name], [out], name=graph.name(f"{out}_node")))
            graph.state_outputs.append(onnx.helper.make_tensor_value_info(out, onnx.TensorProto.FLOAT, shape))
    batch_major = graph.one("Transpose", [y], f"{hint}_outputs", perm=[2, 0, 1, 3])  # (B, T, dirs, H)
    return batch_major, y_h, y_c


def _check_lstm(layer: LSTM, hint: str) -> None:
    if layer.return_state:
        raise ValueError(f"Expected LSTM layers without return_state to export. Received: return_state=True ({hint})")


@_converts(LSTM)
def _lstm(graph: _Graph, layer: LSTM, flow: _Flow, hint: str) -> _Flow:
    _check_lstm(layer, hint)
    direction = "reverse" if layer.go_backwards else "forward"
    y, y_h, _ = _lstm_node(graph, [layer.cell], direction, flow.x, hint, layer.stateful)
    if not layer.return_sequences:
        return _Flow(graph.one("Squeeze", [y_h, graph.axes(0)], f"{hint}_last"), timed=False)
    out = graph.one("Squeeze", [y, graph.axes(2)], f"{hint}_sequence")  # (B, T, H), input time order
    if layer.go_backwards:  # lstmlab keeps the outputs in reading order
        out = graph.one("ReverseSequence", [out, graph.lengths()], f"{hint}_reading_order", batch_axis=0, time_axis=1)
    return _Flow(out, timed=True)


_MERGES = {"sum": "Add", "mul": "Mul"}


@_converts(Bidirectional)
def _bidirectional(graph: _Graph, layer: Bidirectional, flow: _Flow, hint: str) -> _Flow:
    first, second = layer.forward_layer, layer.backward_layer
    for part in (first, second):
        _check_lstm(part, hint)
    # ONNX's direction 0 reads forwards, 1 backwards; lstmlab merges (forward_layer, backward_layer), and its
    # forward_layer reads backwards when it was given go_backwards
    ordered = [second, first] if first.go_backwards else [first, second]
    y, y_h, _ = _lstm_node(graph, [p.cell for p in ordered], "bidirectional", flow.x, hint, first.stateful)
    position = [1, 0] if first.go_backwards else [0, 1]  # where (forward_layer, backward_layer) sit in ONNX's axis
    if layer.return_sequences:
        halves = graph.op("Split", [y], f"{hint}_direction", outputs=2, axis=2)  # (B, T, 1, H) each
        parts = [graph.one("Squeeze", [halves[p], graph.axes(2)], f"{hint}_half") for p in position]
    else:
        halves = graph.op("Split", [y_h], f"{hint}_state", outputs=2, axis=0)  # (1, B, H) each
        parts = [graph.one("Squeeze", [halves[p], graph.axes(0)], f"{hint}_half") for p in position]
    mode = layer.merge_mode
    if mode == "concat":
        merged = graph.one("Concat", parts, hint, axis=-1)
    elif mode in _MERGES:
        merged = graph.one(_MERGES[mode], parts, hint)
    else:  # "ave": (a + b) / 2, in lstmlab's order
        merged = graph.one("Div", [graph.one("Add", parts, f"{hint}_sum"), graph.const(f"{hint}_two", 2.0)], hint)
    return _Flow(merged, timed=layer.return_sequences)


def _snake(layer: Layer) -> str:
    return snake_case(type(layer).__name__)


def _member_logits(graph: _Graph, model: Sequential, x: str, prefix: str) -> str:
    flow = _Flow(x, timed=True)
    for index, layer in enumerate(model.layers):
        assert isinstance(layer, Layer)
        flow = _convert(graph, layer, flow, f"{prefix}{index}_{_snake(layer)}")
    return flow.x


def _combine(graph: _Graph, logits: list[str], classes: int) -> str:
    """`combine_logits`: log of the members' mean probability (two logs of sums for one logit)."""
    stacked = graph.one(
        "Concat", [graph.one("Unsqueeze", [m, graph.axes(0)], "member") for m in logits], "members", axis=0
    )
    if classes == 1:
        negated = graph.one("Neg", [stacked], "members_negated")
        log_p = graph.one("Neg", [graph.one("Softplus", [negated], "softplus_p")], "log_p")
        log_q = graph.one("Neg", [graph.one("Softplus", [stacked], "softplus_q")], "log_q")
        positive = graph.one("ReduceLogSumExp", [log_p], "log_sum_p", axes=[0], keepdims=0)
        negative = graph.one("ReduceLogSumExp", [log_q], "log_sum_q", axes=[0], keepdims=0)
        return graph.one("Sub", [positive, negative], "ensemble_logits")
    log_softmax = graph.one("LogSoftmax", [stacked], "members_log_softmax", axis=-1)
    total = graph.one("ReduceLogSumExp", [log_softmax], "log_sum", axes=[0], keepdims=0)
    return graph.one("Sub", [total, graph.const("log_members", math.log(len(logits)))], "ensemble_logits")


def model_to_onnx(model: Sequential, *, standardisation: Standardisation | None = None) -> Any:
    """The ONNX model (an `onnx.ModelProto`) of an lstmlab model in evaluation, checked by `onnx.checker` with full
    shape inference. See the module's text for its inputs and outputs.

    Args:
        model: a `Sequential` (of lstmlab's layers, `Parallel` branches included) or an `Ensemble`.
        standardisation: a per-channel `(x - mean) / std` to run first (a series run's scaler).

    Raises:
        ValueError: naming the first layer without an ONNX form; for a model that reads no time axis, or for
            standardisation of token ids or of another channel count; without the onnx package.
    """
    onnx = _require_onnx()
    if not isinstance(model, Sequential):
        raise ValueError(f"Expected an lstmlab Sequential or Ensemble to export. Received: {type(model).__name__}")
    members = [m for m in model.members if isinstance(m, Sequential)] if isinstance(model, Ensemble) else [model]
    first = members[0].layers[0]
    if not model.input_shape or len(model.input_shape) not in (1, 2):
        raise ValueError(
            f"Expected a model over sequences, (T,) token ids or (T, D) values. Received: input shape "
            f"{model.input_shape}"
        )
    ids = isinstance(first, Embedding)
    input_name = "ids" if ids else "x"
    graph = _Graph(onnx, source=input_name, batch_size=model.batch_size)
    graph.names.update({input_name, "lengths", "logits", "probabilities"})
    batch: int | str = model.batch_size or "batch"
    steps: int | str = model.input_shape[0] or "steps"
    dims = [batch, steps] if ids else [batch, steps, model.input_shape[1]]
    x = input_name
    if standardisation is not None:
        if ids or len(standardisation.mean) != model.input_shape[1]:
            raise ValueError(
                f"Expected a standardisation of {model.input_shape[-1] if not ids else 'no'} channels. Received: "
                f"{len(standardisation.mean)} channels for a model of input shape {model.input_shape}"
            )
        centred = graph.one("Sub", [x, graph.const("scaler_mean", standardisation.mean)], "centred")
        x = graph.one("Div", [centred, graph.const("scaler_std", standardisation.std)], "standardised")
    with torch.no_grad():
        was_training = model.training
        model.eval()
        try:
            logits = [_member_logits(graph, m, x, f"m{n}_" if len(members) > 1 else "") for n, m in enumerate(members)]
        finally:
            model.train(was_training)
    output_shape = model.output_shapes[-1]
    classes = output_shape[-1]
    assert classes is not None
    final = logits[0] if len(logits) == 1 else _combine(graph, logits, classes)
    graph.nodes.append(onnx.helper.make_node("Identity", [final], ["logits"], name="logits_node"))
    if classes == 1:
        graph.nodes.append(onnx.helper.make_node("Sigmoid", ["logits"], ["probabilities"], name="probabilities_node"))
    else:
        graph.nodes.append(
            onnx.helper.make_node("Softmax", ["logits"], ["probabilities"], name="probabilities_node", axis=-1)
        )
    out_dims: list[int | str] = [batch, steps, classes] if len(output_shape) == 2 else [batch, classes]
    element = onnx.TensorProto.INT64 if ids else onnx.TensorProto.FLOAT
    inputs = [
        onnx.helper.make_tensor_value_info(input_name, element, dims),
        onnx.helper.make_tensor_value_info("lengths", onnx.TensorProto.INT64, [batch]),
        *graph.state_inputs,
    ]
    outputs = [
        onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, out_dims),
        onnx.helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, out_dims),
        *graph.state_outputs,
    ]
    body = onnx.helper.make_graph(graph.nodes, _graph_name(model), inputs, outputs, graph.initializers)
    proto = onnx.helper.make_model(body, opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    proto.ir_version = 8  # what opset 17 needs; onnxruntime reads it from 1.11
    proto = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _graph_name(model: Sequential) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in model.name) or "model"


def export_onnx(model: Sequential, path: str | Path, *, standardisation: Standardisation | None = None) -> Path:
    """Write `model` as ONNX to `path` (through a temporary file beside it: nothing half-written) and return it.

    Example:
        >>> import tempfile, pathlib
        >>> from lstmlab.models import build_model
        >>> with tempfile.TemporaryDirectory() as d:
        ...     export_onnx(build_model("qa-lstm"), pathlib.Path(d) / "qa.onnx").name
        'qa.onnx'
    """
    proto = model_to_onnx(model, standardisation=standardisation)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_bytes(proto.SerializeToString())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
