"""The values inside an LSTM at every step (gates, candidate, cell and hidden state), recorded while a model runs.

`recording()` turns recording on for the calls inside it: each LSTM direction that runs reports its input, lengths,
initial state and outputs (`record`), and its values at every step are recomputed from those in a few batched
operations (`trace_direction`), whichever path ran (fused kernel or reference loop). The fused kernel returns only
the hidden state, so the gates come from one matrix product with the previous step's hidden state, and the cell
state from `linear_scan`, the recurrence `c_t = f_t c_(t-1) + i_t g_t` run over chunks of time rather than step by
step. Tracing changes no output: it only reads what the layer computed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .sequence import Lengths

__all__ = [
    "GATES",
    "DirectionRun",
    "DirectionTrace",
    "gate_activations",
    "is_recording",
    "linear_scan",
    "record",
    "recording",
    "trace_direction",
]

# The recorded values, by the names the results and files use (the gate blocks of W are i | f | g | o).
GATES = ("input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden")

# Pre-activation added to the forget gate (+) and the input gate (-) at padded steps (by `fused_lstm` and the
# trace), so that sigmoid gives exactly 1 and 0 there in every float dtype and the cell state is held unchanged;
# trained gate pre-activations are orders of magnitude smaller. 1e4 is also finite in float16 and bfloat16.
HOLD = 1e4

_RECORDS: ContextVar[list[DirectionTrace] | None] = ContextVar("lstmlab_lstm_records", default=None)


def gate_activations(gates: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The input, forget and output gates and the candidate from their pre-activations `(..., 4H)`, blocks
    i | f | g | o: sigmoid, sigmoid, tanh, sigmoid (`lstm_step`'s; the trace computes the same values in one
    sigmoid, `_fast_activations`)."""
    i, f, g, o = gates.chunk(4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


@dataclass
class DirectionTrace:
    """One LSTM direction's values at every step of a batch, in the input's time order.

    A direction that reads backwards has its values placed at the step they were computed at, so step t of every
    direction describes input step t. Padded steps hold zeros.

    Attributes:
        layer: the LSTM layer that ran (a `Bidirectional`'s forward or backward layer).
        backwards: whether it read each row from its last valid step to its first.
        mask: (B, T), True at valid steps; None when no row is padded.
        input_gate, forget_gate, candidate, output_gate, cell, hidden: (B, T, H) each.
    """

    layer: nn.Module
    backwards: bool
    mask: Tensor | None
    input_gate: Tensor
    forget_gate: Tensor
    candidate: Tensor
    output_gate: Tensor
    cell: Tensor
    hidden: Tensor

    def values(self) -> dict[str, Tensor]:
        """The six quantities by name (`GATES`)."""
        return {name: getattr(self, name) for name in GATES}


@contextmanager
def recording() -> Iterator[list[DirectionTrace]]:
    """Record every LSTM direction that runs inside the block, in the order they ran.

    Example:
        >>> from lstmlab.layers import LSTM
        >>> with recording() as traces:
        ...     _ = LSTM(3, input_size=2)(torch.rand(1, 4, 2))
        >>> traces[0].cell.shape
        torch.Size([1, 4, 3])
    """
    records: list[DirectionTrace] = []
    token = _RECORDS.set(records)
    try:
        yield records
    finally:
        _RECORDS.reset(token)


def is_recording() -> bool:
    """Whether a `recording()` block is active (the layers skip all the work of `record` otherwise)."""
    return _RECORDS.get() is not None


@dataclass(frozen=True)
class DirectionRun:
    """What one LSTM direction read and returned, in the input's time order.

    Attributes:
        layer: the LSTM that ran.
        backwards: whether it read each row from its last valid step to its first.
        weights: its `(W_ih (4H, D), W_hh (4H, H), b (4H,))`, gate blocks i | f | g | o.
        x: (B, T, D), what it read; outputs: (B, T, H), its output at each input step (zero at padded steps).
        lengths: the call's checked lengths.
        h0, c0: (B, H), the state it started from.
    """

    layer: nn.Module
    backwards: bool
    weights: tuple[Tensor, Tensor, Tensor]
    x: Tensor
    outputs: Tensor
    lengths: Lengths
    h0: Tensor
    c0: Tensor


def record(run: DirectionRun) -> None:
    """Add one direction's values to the active recording (nothing where none is active)."""
    records = _RECORDS.get()
    if records is None:
        return
    with torch.no_grad():
        records.append(trace_direction(run))


def trace_direction(run: DirectionRun) -> DirectionTrace:
    """The values of one direction at every input step, from what it read and returned.

    `h_(t-1)`, the hidden state before step t in reading order, is the output one input step earlier (one later
    for a backward direction), or the initial h at each row's first step read; so all gates come from one product
    `x W_ih^T + h_(t-1) W_hh^T + b` and one sigmoid. The cell state is `linear_scan` of `c_t = f_t c_(t-1) + i_t g_t`
    (backwards for a backward direction). Padded steps get the pre-activations that hold the state (forget gate
    exactly 1, input gate exactly 0, as the fused kernel does), so the scan carries the state through them; every
    value is zero there afterwards, whatever the padding held.
    """
    weight_ih, weight_hh, bias = (w.detach() for w in run.weights)
    x, outputs, lengths = run.x.detach(), run.outputs.detach(), run.lengths
    h0, c0 = run.h0.detach(), run.c0.detach()
    batch, steps, units = outputs.shape
    pad = None if lengths.values is None else ~lengths.mask().unsqueeze(-1)  # type: ignore[union-attr]
    if pad is not None:
        x = x.masked_fill(pad, 0.0)
    if run.backwards:
        previous = torch.cat([outputs[:, 1:], h0.unsqueeze(1)], dim=1)  # (B, T, H)
    else:
        previous = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
    if lengths.values is not None and run.backwards != lengths.left:  # the first step read follows padding
        first = lengths.values - 1 if run.backwards else steps - lengths.values  # (B,)
        previous[torch.arange(batch, device=x.device), first] = h0
    gates = torch.addmm(bias, x.flatten(0, 1), weight_ih.T)  # (B*T, 4H)
    gates = gates.addmm_(previous.flatten(0, 1), weight_hh.T).view(batch, steps, 4 * units)
    if pad is not None:
        gates = gates + pad * _hold(units, gates)
    i, f, g, o = _fast_activations(gates, units)
    c = linear_scan(f, i * g, c0, reverse=run.backwards)
    values = [i, f, g, o, c, outputs]
    if pad is not None:
        values = [v.masked_fill(pad, 0.0) for v in values[:5]] + [outputs]
    return DirectionTrace(run.layer, run.backwards, None if pad is None else ~pad[..., 0], *values)


def _fast_activations(gates: Tensor, units: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """`gate_activations` in one sigmoid over all four blocks, the candidate as `tanh(z) = 2 sigmoid(2z) - 1`:
    within 2e-7 of tanh in float32 (tests/test_trace.py), and PyTorch's CPU tanh costs 4-10x its sigmoid."""
    scale = gates.new_ones(4 * units)
    scale[2 * units : 3 * units] = 2.0
    s = torch.sigmoid(gates * scale)
    i, f, g, o = s.chunk(4, dim=-1)
    return i, f, 2.0 * g - 1.0, o


def _hold(units: int, like: Tensor) -> Tensor:
    """(4H,): the pre-activation added at padded steps, -HOLD at the input gate and +HOLD at the forget gate."""
    hold = like.new_zeros(4 * units)
    hold[:units], hold[units : 2 * units] = -HOLD, HOLD
    return hold


def linear_scan(a: Tensor, b: Tensor, start: Tensor, *, reverse: bool = False) -> Tensor:
    """All `c_t = a_t * c_(t-1) + b_t` for `t = 0..T-1` from `c_(-1) = start`, over axis 1 (with `reverse`,
    `c_t = a_t * c_(t+1) + b_t` from `c_T = start`).

    Only products and sums (no division), so a forget gate near zero cannot blow it up, in one of two schedules
    of the same sums: on small tensors by recursive doubling (log2 T steps over the whole tensor), on large ones
    over chunks of about sqrt(T) steps (about 2 sqrt(T) small steps); a loop over T steps would cost T tiny calls.

    Shapes:
        a, b: (B, T, H); start: (B, H). Returns (B, T, H).

    Example:
        >>> linear_scan(torch.full((1, 3, 1), 0.5), torch.ones(1, 3, 1), torch.zeros(1, 1)).flatten()
        tensor([1.0000, 1.5000, 1.7500])
    """
    first = -1 if reverse else 0
    b = b.clone()
    b[:, first] = torch.addcmul(b[:, first], a[:, first], start)  # from a zero state from here on
    if reverse:
        a, b = a.flip(1), b.flip(1)
    c = _scan_doubling(a, b) if a.numel() <= DOUBLING_MAX else _scan_chunks(a, b)
    return c.flip(1) if reverse else c


# Up to this many elements linear_scan doubles (fewer calls); above it, it chunks (less work). Not yet measured by
# a script in benchmarks/: a first guess between one 380-step text (12 k elements) and 64 of them (780 k).
DOUBLING_MAX = 1 << 16


def _scan_doubling(a: Tensor, b: Tensor) -> Tensor:
    """`c_t = a_t c_(t-1) + b_t` from zero: after the step of span d, each t holds the sum over its last 2d steps.
    Overwrites `b` (`linear_scan` passes its own copy)."""
    a, c = a.clone(), b
    span, steps = 1, a.shape[1]
    while span < steps:
        c[:, span:] = torch.addcmul(c[:, span:], a[:, span:], c[:, :-span])  # computed whole before it is written
        a[:, span:] = a[:, span:] * a[:, :-span]
        span *= 2
    return c


def _scan_chunks(a: Tensor, b: Tensor) -> Tensor:
    """`c_t = a_t c_(t-1) + b_t` from zero, over chunks: each chunk's recurrence from zero and its running product
    of `a`, for all chunks at once (one loop over a chunk's steps); then the state carried into each chunk (one
    loop over the chunks); then one product adds each chunk's carry."""
    batch, steps, units = a.shape
    size = max(1, math.isqrt(steps))
    chunks = -(-steps // size)
    extra = chunks * size - steps
    if extra:  # steps that keep the state and add nothing, after the last one
        a = torch.cat([a, a.new_ones(batch, extra, units)], dim=1)
        b = torch.cat([b, b.new_zeros(batch, extra, units)], dim=1)
    local, running = [], []
    c = b.new_zeros(batch, chunks, units)
    product = a.new_ones(batch, chunks, units)
    pieces = zip(
        a.view(batch, chunks, size, units).unbind(2), b.view(batch, chunks, size, units).unbind(2), strict=True
    )
    for a_k, b_k in pieces:
        c = torch.addcmul(b_k, a_k, c)
        product = product * a_k
        local.append(c)
        running.append(product)
    locals_ = torch.stack(local, dim=2)  # (B, chunks, size, H)
    products = torch.stack(running, dim=2)
    carry, carries = b.new_zeros(batch, units), []
    for local_end, product_end in zip(locals_[:, :, -1].unbind(1), products[:, :, -1].unbind(1), strict=True):
        carries.append(carry)
        carry = torch.addcmul(local_end, product_end, carry)
    carried = torch.stack(carries, dim=1).unsqueeze(2)  # (B, chunks, 1, H)
    return torch.addcmul(locals_, products, carried).view(batch, chunks * size, units)[:, :steps]
