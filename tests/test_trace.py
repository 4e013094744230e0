"""The recorded values inside an LSTM (layers/trace.py) equal the LSTM equations computed in NumPy from the weights,
on every path (fused, reference, one kernel call for both directions), on both padding sides, from given states,
read backwards; a padded batch's values equal each row's alone; recording changes no output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmlab.layers.trace as trace_module
from lstmlab.layers import GATES, LSTM, Bidirectional, Lengths, LSTMState, check_lengths, recording
from lstmlab.layers.trace import linear_scan


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def numpy_direction(layer: LSTM, x: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> dict[str, np.ndarray]:
    """One unpadded sequence (T, D) through the equations, in float64, in reading order; values in input order."""
    cell = layer.cell
    w_ih, w_hh, b = (p.detach().double().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias))
    units = layer.units
    steps = x[::-1] if layer.go_backwards else x
    h, c = h0.astype(np.float64), c0.astype(np.float64)
    out: dict[str, list[np.ndarray]] = {name: [] for name in GATES}
    for x_t in steps:
        z = w_ih @ x_t + w_hh @ h + b
        i, f = sigmoid(z[:units]), sigmoid(z[units : 2 * units])
        g, o = np.tanh(z[2 * units : 3 * units]), sigmoid(z[3 * units :])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(GATES, (i, f, g, o, c, h), strict=True):
            out[name].append(value)
    values = {name: np.stack(v) for name, v in out.items()}
    return {name: v[::-1] for name, v in values.items()} if layer.go_backwards else values


def rows_and_batch(left: bool, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    lengths = [6, 2, 4, 1]
    rows = [torch.randn(n, 3, generator=gen) for n in lengths]
    batch = torch.zeros(len(rows), 6, 3)
    for k, row in enumerate(rows):
        if left:
            batch[k, 6 - len(row) :] = row
        else:
            batch[k, : len(row)] = row
    return rows, batch, torch.tensor(lengths)


def valid(value: torch.Tensor, k: int, length: int, left: bool) -> np.ndarray:
    steps = value.shape[1]
    span = slice(steps - length, steps) if left else slice(0, length)
    return value[k, span].double().numpy()


@pytest.mark.parametrize("impl", ["fused", "reference"])
@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_an_lstm_traces_the_equations_on_a_padded_batch(impl: str, left: bool, go_backwards: bool) -> None:
    torch.manual_seed(1)
    layer = LSTM(5, input_size=3, return_sequences=True, go_backwards=go_backwards, impl=impl).eval()  # type: ignore[arg-type]
    rows, batch, lengths = rows_and_batch(left)
    checked = _lengths(lengths, batch, left)
    with recording() as traces:
        out = layer(batch, lengths=checked)
    (trace,) = traces
    assert trace.backwards is go_backwards
    # a go_backwards layer returns its outputs in its reading order (Keras); the trace places them at their inputs
    torch.testing.assert_close(trace.hidden, checked.reverse(out) if go_backwards else out, rtol=0, atol=0)
    zeros = np.zeros(5)
    for k, row in enumerate(rows):
        want = numpy_direction(layer, row.double().numpy(), zeros, zeros)
        for name in GATES:
            np.testing.assert_allclose(valid(getattr(trace, name), k, len(row), left), want[name], atol=1e-6)


@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_a_bidirectional_layer_traces_both_directions_at_the_input_positions(left: bool, merge_mode: str) -> None:
    torch.manual_seed(2)
    bi = Bidirectional(LSTM(4, input_size=3, return_sequences=True), merge_mode=merge_mode).eval()  # type: ignore[arg-type]
    rows, batch, lengths = rows_and_batch(left, seed=3)
    with recording() as traces:
        bi(batch, lengths=_lengths(lengths, batch, left))
    assert [t.backwards for t in traces] == [False, True]
    assert bi.last_one_call
    zeros = np.zeros(4)
    for trace, layer in zip(traces, (bi.forward_layer, bi.backward_layer), strict=True):
        assert trace.layer is layer
        for k, row in enumerate(rows):
            want = numpy_direction(layer, row.double().numpy(), zeros, zeros)
            for name in GATES:
                np.testing.assert_allclose(valid(getattr(trace, name), k, len(row), left), want[name], atol=1e-6)


def test_a_given_initial_state_and_a_stateful_layer_are_traced_from_their_state() -> None:
    torch.manual_seed(4)
    layer = LSTM(3, input_size=2, return_sequences=True).eval()
    x = torch.randn(1, 5, 2)
    h0, c0 = torch.randn(1, 3), torch.randn(1, 3)
    with recording() as traces:
        layer(x, initial_state=(h0, c0))
    want = numpy_direction(layer, x[0].double().numpy(), h0[0].double().numpy(), c0[0].double().numpy())
    for name in GATES:
        np.testing.assert_allclose(getattr(traces[0], name)[0].double().numpy(), want[name], atol=1e-6)
    stateful = LSTM(3, input_size=2, stateful=True).eval()
    stateful(x[:, :3])
    carried = stateful.carried_state
    assert carried is not None
    with recording() as traces:
        stateful(x[:, 3:])
    want = numpy_direction(stateful, x[0, 3:].double().numpy(), carried.h[0].double().numpy(), carried.c[0].numpy())
    np.testing.assert_allclose(traces[0].cell[0].double().numpy(), want["cell"], atol=1e-6)


def test_recording_changes_no_output_and_nothing_is_recorded_outside_it() -> None:
    torch.manual_seed(5)
    bi = Bidirectional(LSTM(4, input_size=3)).eval()
    x = torch.randn(3, 7, 3)
    lengths = torch.tensor([7, 5, 2])
    plain = bi(x, lengths=lengths)
    with recording() as traces:
        traced = bi(x, lengths=lengths)
    assert torch.equal(plain, traced)
    assert len(traces) == 2
    bi(x, lengths=lengths)
    assert len(traces) == 2


def test_a_left_padded_row_from_a_given_state_starts_from_that_state() -> None:
    torch.manual_seed(6)
    layer = LSTM(3, input_size=2, return_sequences=True, impl="fused").eval()
    rows, batch, lengths = rows_and_batch(left=True)
    batch = batch[:, :, :2]
    h0, c0 = torch.randn(4, 3), torch.randn(4, 3)
    with recording() as traces:
        layer(batch, lengths=_lengths(lengths, batch, True), initial_state=(h0, c0))
    for k, row in enumerate(rows):
        want = numpy_direction(layer, row[:, :2].double().numpy(), h0[k].double().numpy(), c0[k].double().numpy())
        np.testing.assert_allclose(valid(traces[0].cell, k, len(row), True), want["cell"], atol=1e-6)
        np.testing.assert_allclose(valid(traces[0].input_gate, k, len(row), True), want["input_gate"], atol=1e-6)


@pytest.mark.parametrize("steps", [1, 2, 7, 16, 380])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("schedule", ["doubling", "chunks"])
def test_linear_scan_is_the_recurrence(
    steps: int, reverse: bool, schedule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_module, "DOUBLING_MAX", 1 << 30 if schedule == "doubling" else 0)
    gen = torch.Generator().manual_seed(steps)
    a = torch.rand(2, steps, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(2, steps, 3, generator=gen, dtype=torch.float64)
    start = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    c, want = start, [start] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        c = a[:, t] * c + b[:, t]
        want[t] = c
    got = linear_scan(a, b, start, reverse=reverse)
    torch.testing.assert_close(got, torch.stack(want, dim=1), rtol=1e-12, atol=1e-12)


def test_a_traced_state_is_an_lstm_state_of_the_layer() -> None:
    # the final traced state of an unpadded row is what the layer returns as its state
    torch.manual_seed(7)
    layer = LSTM(3, input_size=2, return_state=True).eval()
    x = torch.randn(2, 6, 2)
    with recording() as traces:
        _, state = layer(x)
    assert isinstance(state, LSTMState)
    torch.testing.assert_close(traces[0].cell[:, -1], state.c)
    torch.testing.assert_close(traces[0].hidden[:, -1], state.h)


def _lengths(lengths: torch.Tensor, batch: torch.Tensor, left: bool) -> Lengths:
    return check_lengths(
        lengths, batch.shape[0], batch.shape[1], batch.device, padding_side="left" if left else "right"
    )
