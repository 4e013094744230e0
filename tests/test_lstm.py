"""LSTM cell and layer: hand-computed values, gradcheck, reference vs fused, torch.nn.LSTM and Keras as oracles."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import flatten_outputs, grads, right_pad, twin
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close

from lstmlab import LSTM, LSTMCell, LSTMState

TOL = {torch.float32: {"atol": 2e-5, "rtol": 1e-4}, torch.float64: {"atol": 1e-10, "rtol": 1e-9}}


def make_lstm(units: int = 5, size: int = 3, dtype: torch.dtype = torch.float64, seed: int = 0, **options) -> LSTM:
    torch.manual_seed(seed)
    layer = LSTM(units, input_size=size, **options).to(dtype)
    with torch.no_grad():  # random biases too, so that no gate term can hide behind a zero
        layer.cell.bias.uniform_(-0.5, 0.5)
    return layer


def numpy_lstm(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An independent LSTM over one (T, D) sequence: returns outputs (T, H) and the final c."""

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-z))

    units = w_hh.shape[1]
    h, c, outs = np.zeros(units), np.zeros(units), []
    for x_t in x:
        z = w_ih @ x_t + w_hh @ h + b
        i, f, g, o = (
            sigmoid(z[:units]),
            sigmoid(z[units : 2 * units]),
            np.tanh(z[2 * units : 3 * units]),
            sigmoid(z[3 * units :]),
        )
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs), c


# ------------------------------------------------------------------------------------------ hand-computed values
def test_cell_one_step_by_hand() -> None:
    cell = LSTMCell(1, 1).double()
    with torch.no_grad():
        cell.weight_ih.fill_(0.5)
        cell.weight_hh.fill_(0.5)
        cell.bias.zero_()
    h, c = cell(torch.ones(1, 1, dtype=torch.float64), (torch.zeros(1, 1).double(), torch.zeros(1, 1).double()))
    # every gate sees 0.5: i = f = o = sigmoid(0.5), g = tanh(0.5); c = i*g (c0 = 0), h = o*tanh(c)
    s, g = 1 / (1 + np.exp(-0.5)), np.tanh(0.5)
    assert c.item() == pytest.approx(s * g, abs=1e-15)
    assert h.item() == pytest.approx(s * np.tanh(s * g), abs=1e-15)
    # sigmoid(0.5) = 0.62245933, tanh(0.5) = 0.46211716: c = 0.62245933 * 0.46211716, h = 0.62245933 * tanh(c)
    assert c.item() == pytest.approx(0.28764914, abs=1e-8)
    assert h.item() == pytest.approx(0.17426972, abs=1e-8)


@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_constant_weights_match_numpy(impl: str, go_backwards: bool) -> None:
    layer = LSTM(2, input_size=3, return_sequences=True, return_state=True, go_backwards=go_backwards, impl=impl)
    layer = layer.double()
    with torch.no_grad():
        layer.cell.weight_ih.fill_(0.1)
        layer.cell.weight_hh.fill_(-0.2)
        layer.cell.bias.copy_(torch.tensor([0.0, 0.1, 1.0, 1.1, -0.3, 0.3, 0.2, -0.2]))
    x = torch.arange(12, dtype=torch.float64).reshape(1, 4, 3) / 10
    out, (h, c) = layer(x)
    args = [p.detach().numpy() for p in (layer.cell.weight_ih, layer.cell.weight_hh, layer.cell.bias)]
    seq = x[0].numpy()[::-1] if go_backwards else x[0].numpy()
    want_out, want_c = numpy_lstm(seq, *args)
    np.testing.assert_allclose(out[0].detach().numpy(), want_out, atol=1e-12)
    np.testing.assert_allclose(c[0].detach().numpy(), want_c, atol=1e-12)
    np.testing.assert_allclose(h[0].detach().numpy(), want_out[-1], atol=1e-12)


def test_keras_initialisation() -> None:
    torch.manual_seed(0)
    cell = LSTMCell(3, 4)
    assert torch.equal(cell.bias, torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 8))  # unit forget bias
    recurrent = cell.weight_hh.detach()  # (4H, H) with orthonormal columns
    assert_close(recurrent.T @ recurrent, torch.eye(4), atol=1e-5, rtol=0)
    assert cell.weight_ih.abs().max() <= (6 / (3 + 16)) ** 0.5


# ------------------------------------------------------------------------------------------ gradcheck
def test_gradcheck_cell() -> None:
    torch.manual_seed(0)
    cell = LSTMCell(3, 2).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)

    def fn(x, h, c, w_ih, w_hh, b):  # type: ignore[no-untyped-def]
        return torch.func.functional_call(cell, {"weight_ih": w_ih, "weight_hh": w_hh, "bias": b}, (x, (h, c)))

    assert torch.autograd.gradcheck(fn, (x, h, c, *(p.detach().requires_grad_() for p in cell.parameters())))


@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradcheck_layer(impl: str, go_backwards: bool) -> None:
    layer = make_lstm(2, 2, impl=impl, go_backwards=go_backwards, return_sequences=True, return_state=True)
    x = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 1, 3])
    names = [n for n, _ in layer.named_parameters()]

    def fn(x, *params):  # type: ignore[no-untyped-def]
        out = torch.func.functional_call(layer, dict(zip(names, params, strict=True)), (x, lengths))
        return tuple(flatten_outputs(out))

    params = [p.detach().requires_grad_() for p in layer.parameters()]
    assert torch.autograd.gradcheck(fn, (x, *params))


# ------------------------------------------------------------------------------------------ reference vs fused
LENGTHS = {"none": None, "full": [6, 6, 6], "mixed": [6, 1, 4], "ones": [1, 1, 1]}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("lengths", list(LENGTHS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_reference_equals_fused(dtype, batch, lengths, go_backwards, return_sequences) -> None:  # type: ignore[no-untyped-def]
    ref = make_lstm(
        dtype=dtype, impl="reference", go_backwards=go_backwards, return_sequences=return_sequences, return_state=True
    )
    fused = twin(ref, impl="fused")
    x = torch.randn(batch, 6, 3, dtype=dtype, requires_grad=True)
    lens = None if LENGTHS[lengths] is None else torch.tensor(LENGTHS[lengths][:batch])
    h0 = (torch.randn(batch, 5, dtype=dtype), torch.randn(batch, 5, dtype=dtype))
    out_ref, out_fused = ref(x, lens, h0), fused(x, lens, h0)
    assert (ref.last_impl, fused.last_impl) == ("reference", "fused")
    for a, b in zip(flatten_outputs(out_ref), flatten_outputs(out_fused), strict=True):
        assert_close(a, b, **TOL[dtype])
    for a, b in zip(grads(ref, x, out_ref), grads(fused, x, out_fused), strict=True):
        assert_close(a, b, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_stateful_two_calls_reference_equals_fused(dtype, go_backwards) -> None:  # type: ignore[no-untyped-def]
    ref = make_lstm(dtype=dtype, impl="reference", stateful=True, go_backwards=go_backwards, return_sequences=True)
    fused = twin(ref, impl="fused")
    lengths = torch.tensor([5, 2])
    for call in range(2):
        x = torch.randn(2, 5, 3, dtype=dtype, requires_grad=True)
        out_ref, out_fused = ref(x, lengths), fused(x, lengths)
        assert_close(out_ref, out_fused, **TOL[dtype])
        for a, b in zip(grads(ref, x, out_ref), grads(fused, x, out_fused), strict=True):
            assert_close(a, b, **TOL[dtype], msg=lambda m, call=call: f"call {call}: {m}")
    assert ref._carried is not None and fused._carried is not None
    assert_close(ref._carried.c, fused._carried.c, **TOL[dtype])


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_stateful_pieces_equal_one_call(impl: str) -> None:
    whole = make_lstm(impl=impl, return_sequences=True, return_state=True)
    pieces = twin(whole, stateful=True)
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    out, state = whole(x)
    parts = [pieces(x[:, :3]), pieces(x[:, 3:4]), pieces(x[:, 4:])]
    assert_close(torch.cat([p[0] for p in parts], dim=1), out)
    assert_close(parts[-1][1].c, state.c)
    pieces.reset_states()
    assert_close(pieces(x)[0], out)  # after a reset the state starts from zeros again


# ------------------------------------------------------------------------------------------ torch.nn.LSTM oracle
@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch_lstm(impl: str, dtype: torch.dtype) -> None:
    torch.manual_seed(1)
    torch_lstm = nn.LSTM(3, 4, batch_first=True).to(dtype)
    ours = LSTM.from_torch(torch_lstm, return_sequences=True, return_state=True, impl=impl)
    x = torch.randn(2, 5, 3, dtype=dtype, requires_grad=True)
    h0 = (torch.randn(1, 2, 4, dtype=dtype), torch.randn(1, 2, 4, dtype=dtype))
    want, (h_n, c_n) = torch_lstm(x, h0)
    got, state = ours(x, initial_state=(h0[0][0], h0[1][0]))
    assert_close(got, want, **TOL[dtype])
    assert_close(state.h, h_n[0], **TOL[dtype])
    assert_close(state.c, c_n[0], **TOL[dtype])
    (gx_want,) = torch.autograd.grad(want.sum() + c_n.sum(), x)
    (gx_got,) = torch.autograd.grad(got.sum() + state.c.sum(), x)
    assert_close(gx_got, gx_want, **TOL[dtype])


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_variable_lengths_match_packed_torch_lstm(impl: str) -> None:
    torch.manual_seed(2)
    torch_lstm = nn.LSTM(3, 4, batch_first=True).double()
    ours = LSTM.from_torch(torch_lstm, return_sequences=True, return_state=True, impl=impl)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([3, 6, 1, 5])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    want_packed, (h_n, c_n) = torch_lstm(packed)
    want, _ = pad_packed_sequence(want_packed, batch_first=True, total_length=6)
    got, state = ours(x, lengths)
    assert_close(got, want)
    assert_close(state.h, h_n[0])
    assert_close(state.c, c_n[0])


def test_to_torch_round_trip() -> None:
    ours = make_lstm(return_sequences=True)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    module = ours.to_torch()
    assert module.bias_hh_l0.abs().sum() == 0
    assert_close(module(x)[0], ours(x))
    assert_close(LSTM.from_torch(module, return_sequences=True)(x), ours(x))


def test_from_torch_rejects_what_it_cannot_hold() -> None:
    with pytest.raises(ValueError, match="Expected an nn.LSTM with bidirectional=False. Received: bidirectional=True"):
        LSTM.from_torch(nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="num_layers=1. Received: num_layers=2"):
        LSTM.from_torch(nn.LSTM(2, 3, num_layers=2))


# ------------------------------------------------------------------------------------------ padding and direction
@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_padded_batch_equals_each_sequence_alone(impl: str, go_backwards: bool) -> None:
    layer = make_lstm(impl=impl, go_backwards=go_backwards, return_sequences=True, return_state=True)
    rows = [torch.randn(n, 3, dtype=torch.float64) for n in (5, 1, 3, 7)]
    out, (h, c) = layer(right_pad(rows, 7), torch.tensor([5, 1, 3, 7]))
    for b, row in enumerate(rows):
        alone, (h_alone, c_alone) = layer(row[None])
        assert_close(out[b, : len(row)], alone[0])
        assert torch.count_nonzero(out[b, len(row) :]) == 0  # padded steps give zeros
        assert_close(h[b], h_alone[0])
        assert_close(c[b], c_alone[0])


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_go_backwards_reads_from_each_rows_last_valid_step(impl: str) -> None:
    backward = make_lstm(impl=impl, go_backwards=True, return_sequences=True)
    forward = twin(backward, go_backwards=False)
    rows = [torch.randn(n, 3, dtype=torch.float64) for n in (4, 2)]
    got = backward(right_pad(rows, 4), torch.tensor([4, 2]))
    for b, row in enumerate(rows):  # outputs in reading order: step k has read row[L-1], ..., row[L-1-k]
        assert_close(got[b, : len(row)], forward(row.flip(0)[None])[0])


def _keras():  # type: ignore[no-untyped-def]
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras is the go_backwards oracle; install lstmlab[dev]")


@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_keras_lstm(go_backwards: bool) -> None:
    keras = _keras()
    ours = make_lstm(4, 3, dtype=torch.float32, return_sequences=True, go_backwards=go_backwards)
    klayer = keras.layers.LSTM(4, return_sequences=True, go_backwards=go_backwards)
    klayer.build((None, 5, 3))
    klayer.set_weights(  # Keras keeps kernels as (D, 4H) with the same gate order i, f, c, o
        [
            ours.cell.weight_ih.detach().T.numpy(),
            ours.cell.weight_hh.detach().T.numpy(),
            ours.cell.bias.detach().numpy(),
        ]
    )
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    want = keras.ops.convert_to_numpy(klayer(x))
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), want, atol=1e-5)


# ------------------------------------------------------------------------------------------ dropout, impl choice
def test_input_dropout_mask_is_shared_by_all_steps() -> None:
    layer = make_lstm(units=3, size=1, dropout=0.5, return_sequences=True)
    layer.train()
    x = torch.ones(64, 4, 1, dtype=torch.float64)
    torch.manual_seed(3)
    out = layer(x)
    layer.eval()
    kept, dropped = layer(2 * x[:1])[0], layer(0 * x[:1])[0]  # a kept feature is scaled by 1/(1-0.5)
    is_kept = [torch.allclose(row, kept) for row in out]
    is_dropped = [torch.allclose(row, dropped) for row in out]
    assert all(k != d for k, d in zip(is_kept, is_dropped, strict=True))  # each row: all steps kept or all dropped
    assert 10 < sum(is_kept) < 54


def test_dropout_same_seed_same_result_in_both_impls() -> None:
    ref = make_lstm(dropout=0.3, impl="reference", return_sequences=True).train()
    fused = twin(ref, impl="fused").train()
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    torch.manual_seed(7)
    a = ref(x)
    torch.manual_seed(7)
    assert_close(a, fused(x))


def test_auto_takes_fused_and_says_so() -> None:
    layer = make_lstm()
    assert layer.resolve_impl(torch.zeros(1, 2, 3)) == "fused"
    layer(torch.zeros(1, 2, 3, dtype=torch.float64))
    assert layer.last_impl == "fused"


def test_auto_falls_back_on_a_named_condition_and_fused_raises() -> None:
    x = torch.zeros(2, 3, 3, device="meta")
    auto = LSTM(4, input_size=3).to("meta")
    assert auto.fused_unsupported_reason(x) is not None
    assert auto(x).shape == (2, 4)
    assert auto.last_impl == "reference"
    fused = LSTM(4, input_size=3, impl="fused").to("meta")
    with pytest.raises(ValueError, match="impl='fused' cannot run this input: device type 'meta'"):
        fused(x)


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m(torch.zeros(2, 3)), r"rank 3 \(batch, steps, features\). Received: shape=\(2, 3\)"),
        (lambda m: m(torch.zeros(2, 4, 2)), r"expected 3 features on the last axis. Received: shape=\(2, 4, 2\)"),
        (lambda m: m(torch.zeros(2, 4, 3), torch.tensor([4, 0])), r"lengths in 1..4 .*Received: min=0, max=4"),
        (lambda m: m(torch.zeros(2, 4, 3), torch.tensor([5, 1])), r"lengths in 1..4 .*Received: min=1, max=5"),
        (
            lambda m: m(torch.zeros(2, 4, 3), torch.tensor([4, 2, 1])),
            r"lengths of shape \(2,\).*Received: shape=\(3,\)",
        ),
        (
            lambda m: m(torch.zeros(2, 4, 3), torch.tensor([4.0, 2.0])),
            r"integer lengths. Received: dtype=torch.float32",
        ),
        (lambda m: m(torch.zeros(2, 4, 3, dtype=torch.long)), r"floating-point input. Received: dtype=torch.int64"),
        (
            lambda m: m(torch.zeros(2, 4, 3), initial_state=(torch.zeros(2, 5), torch.zeros(1, 5))),
            r"initial_state c of shape \(2, 5\). Received: shape=\(1, 5\)",
        ),
    ],
)
def test_bad_input_says_what_was_expected(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call(LSTM(5, input_size=3))


def test_bad_options() -> None:
    with pytest.raises(ValueError, match=r"Expected impl in .*Received: impl='cudnn'"):
        LSTM(5, impl="cudnn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected units to be a positive integer. Received: units=0"):
        LSTM(0)
    with pytest.raises(ValueError, match=r"Expected dropout in \[0, 1\). Received: dropout=1.0"):
        LSTM(3, dropout=1.0)
    with pytest.raises(ValueError, match="no input size yet"):
        LSTM(3)(torch.zeros(1, 2, 3))


def test_stateful_batch_size_change_is_refused() -> None:
    layer = LSTM(5, input_size=3, stateful=True)
    layer(torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="expected batch size 2 .*reset_states.*Received: batch size 3"):
        layer(torch.zeros(3, 4, 3))
    layer.reset_states()
    assert layer(torch.zeros(3, 4, 3)).shape == (3, 5)


def test_state_is_a_named_tuple() -> None:
    _, state = make_lstm(return_state=True)(torch.zeros(2, 3, 3, dtype=torch.float64))
    assert isinstance(state, LSTMState) and state.h.shape == state.c.shape == (2, 5)


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_nan_and_inf_in_padding_reach_no_output_and_no_gradient(impl: str) -> None:
    layer = make_lstm(impl=impl, return_sequences=True, return_state=True)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    x[1, 4:] = float("nan")
    x[2, 1:] = float("inf")
    x.requires_grad_(True)
    result = layer(x, torch.tensor([6, 4, 1]))
    gradients = grads(layer, x, result)
    assert all(torch.isfinite(t).all() for t in flatten_outputs(result))
    assert all(torch.isfinite(g).all() for g in gradients)
    assert torch.count_nonzero(gradients[0][1, 4:]) == 0  # no gradient flows to padded inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: LSTM.from_torch(nn.GRU(3, 4)), "Expected a torch.nn.LSTM. Received: GRU"),
        (lambda: LSTM.from_torch(nn.LSTM(3, 4), input_size=3), "Expected options other than input_size"),
        (lambda: LSTM.from_torch(nn.LSTM(3, 4), go_backwards=True), "Expected options other than go_backwards"),
        (lambda: LSTM(4, input_size=0), "Expected input_size to be a positive integer. Received: input_size=0"),
        (lambda: LSTM(True), r"Expected units to be a positive integer. Received: units=True"),
        (
            lambda: LSTM(2, input_size=3)(torch.zeros(2, 0, 3)),
            r"LSTM expected at least one time step. Received: shape=\(2, 0, 3\)",
        ),
        (lambda: LSTM(4, dropout="0.1"), r"Expected dropout in \[0, 1\)"),  # type: ignore[arg-type]
        (lambda: LSTM(4, input_size=3)(torch.zeros(2, 4, 3), "abc"), "Expected lengths as a 1-D tensor or list"),
        (lambda: LSTM(4, input_size=3)(torch.zeros(0, 4, 3), torch.tensor([], dtype=torch.long)), "batch size 0"),
        (
            lambda: LSTM(4, input_size=3)(
                torch.zeros(2, 4, 3), initial_state=(torch.zeros(2, 4, dtype=torch.float64),) * 2
            ),
            r"initial_state h as a tensor of the input's dtype and device .*Received: \(torch.float64",
        ),
        (lambda: LSTM(4, input_size=3)(torch.zeros(2, 4, 3), initial_state=(1, 2)), "Received: int"),
    ],
)
def test_more_bad_input(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()
