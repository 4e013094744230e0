"""Bidirectional: nn.LSTM(bidirectional=True) as the oracle, packed for variable lengths; every merge mode padded."""

from __future__ import annotations

import pytest
import torch
from helpers import HostSyncs, flatten_outputs, grads, right_pad, twin
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close

from lstmlab import LSTM, Bidirectional
from lstmlab.layers import check_lengths

MODES = ["concat", "sum", "mul", "ave", None]


def make_bi(merge_mode="concat", impl="auto", dtype=torch.float64, seed=0, **options) -> Bidirectional:  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    bi = Bidirectional(LSTM(4, input_size=3, impl=impl, **options), merge_mode=merge_mode).to(dtype)
    with torch.no_grad():
        for p in bi.parameters():
            if p.dim() == 1:
                p.uniform_(-0.5, 0.5)
    return bi


@pytest.mark.parametrize("impl", ["reference", "fused"])
def test_concat_matches_torch_bidirectional(impl: str) -> None:
    torch.manual_seed(0)
    module = nn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    ours = Bidirectional.from_torch(module, return_sequences=True, return_state=True, impl=impl)
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    want, (h_n, c_n) = module(x)
    got, (fwd, bwd) = ours(x)
    assert_close(got, want)
    assert_close(torch.stack([fwd.h, bwd.h]), h_n)
    assert_close(torch.stack([fwd.c, bwd.c]), c_n)
    (g_want,) = torch.autograd.grad((want * torch.arange(8.0, dtype=torch.float64)).sum(), x)
    (g_got,) = torch.autograd.grad((got * torch.arange(8.0, dtype=torch.float64)).sum(), x)
    assert_close(g_got, g_want)


@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_variable_lengths_match_packed_torch_bidirectional(impl: str, dtype: torch.dtype) -> None:
    torch.manual_seed(1)
    module = nn.LSTM(3, 4, batch_first=True, bidirectional=True).to(dtype)
    ours = Bidirectional.from_torch(module, return_sequences=True, return_state=True, impl=impl)
    x = torch.randn(5, 7, 3, dtype=dtype, requires_grad=True)
    lengths = torch.tensor([7, 1, 4, 6, 2])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    want_packed, (h_n, c_n) = module(packed)
    want, _ = pad_packed_sequence(want_packed, batch_first=True, total_length=7)
    got, (fwd, bwd) = ours(x, lengths)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == torch.float32 else {}
    assert_close(got, want, **tol)
    assert_close(torch.stack([fwd.h, bwd.h]), h_n, **tol)
    assert_close(torch.stack([fwd.c, bwd.c]), c_n, **tol)
    weight = torch.randn(want.shape, dtype=dtype)
    (g_want,) = torch.autograd.grad((want * weight).sum() + c_n.sum(), x)
    (g_got,) = torch.autograd.grad((got * weight).sum() + fwd.c.sum() + bwd.c.sum(), x)
    assert_close(g_got, g_want, **tol)


def test_to_torch_round_trip() -> None:
    ours = make_bi(return_sequences=True)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    assert_close(ours.to_torch()(x)[0], ours(x))


@pytest.mark.parametrize("merge_mode", MODES)
@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_padded_batch_equals_each_sequence_alone(merge_mode, impl, return_sequences) -> None:  # type: ignore[no-untyped-def]
    bi = make_bi(merge_mode, impl, return_sequences=return_sequences)
    rows = [torch.randn(n, 3, dtype=torch.float64) for n in (6, 2, 1, 4)]
    batch_out = flatten_outputs(bi(right_pad(rows, 6), torch.tensor([6, 2, 1, 4])))
    for b, row in enumerate(rows):
        alone_out = flatten_outputs(bi(row[None]))
        for got, want in zip(batch_out, alone_out, strict=True):
            if return_sequences:
                assert_close(got[b, : len(row)], want[0])
                assert torch.count_nonzero(got[b, len(row) :]) == 0
            else:
                assert_close(got[b], want[0])


@pytest.mark.parametrize("return_sequences", [False, True])
def test_merge_modes_combine_the_two_directions(return_sequences: bool) -> None:
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    lengths = torch.tensor([5, 3, 2])
    fwd, bwd = make_bi(None, return_sequences=return_sequences)(x, lengths)
    expected = {"concat": torch.cat([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd, "ave": (fwd + bwd) / 2}
    for mode, want in expected.items():
        assert_close(make_bi(mode, return_sequences=return_sequences)(x, lengths), want)


def test_backward_half_is_realigned_to_input_time() -> None:
    bi = make_bi(None, return_sequences=True)
    x = torch.randn(1, 5, 3, dtype=torch.float64)
    _, bwd = bi(x)
    # the backward half at step t has read x[t:] from the end: run the backward layer on that suffix alone
    for t in range(5):
        suffix_out, _ = bi.backward_layer.run(x[:, t:])
        assert_close(bwd[0, t], suffix_out[0, -1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("merge_mode", ["concat", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_reference_equals_fused(dtype, merge_mode, return_sequences) -> None:  # type: ignore[no-untyped-def]
    ref = make_bi(merge_mode, "reference", dtype, return_sequences=return_sequences, return_state=True)
    fused = twin(ref, impl="fused")
    x = torch.randn(3, 6, 3, dtype=dtype, requires_grad=True)
    lengths = torch.tensor([6, 1, 3])
    out_ref, out_fused = ref(x, lengths), fused(x, lengths)
    tol = {"atol": 2e-5, "rtol": 1e-4} if dtype == torch.float32 else {}
    for a, b in zip(flatten_outputs(out_ref), flatten_outputs(out_fused), strict=True):
        assert_close(a, b, **tol)
    for a, b in zip(grads(ref, x, out_ref), grads(fused, x, out_fused), strict=True):
        assert_close(a, b, **tol)
    assert fused.last_impl == "fused"


def test_stateful_carries_both_directions_and_resets() -> None:
    bi = make_bi(stateful=True, return_state=True)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    first, (f1, b1) = bi(x)
    second, _ = bi(x)
    assert not torch.allclose(first, second)  # the carried state changed the second call
    assert_close(bi(x, initial_state=(tuple(f1), tuple(b1)))[0], second)
    bi.reset_states()
    assert_close(bi(x)[0], first)


def test_bad_options_and_input() -> None:
    with pytest.raises(
        ValueError, match=r"Expected merge_mode in \{'concat', 'sum', 'mul', 'ave', None\}. Received: merge_mode='avg'"
    ):
        Bidirectional(LSTM(3), merge_mode="avg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected an lstmlab LSTM layer to wrap. Received: LSTM"):
        Bidirectional(nn.LSTM(2, 3))  # type: ignore[arg-type]
    bi = make_bi()
    with pytest.raises(ValueError, match=r"lengths in 1..4 .*Received: min=1, max=9"):
        bi(torch.zeros(2, 4, 3, dtype=torch.float64), torch.tensor([9, 1]))
    with pytest.raises(ValueError, match=r"rank 3 .*Received: shape=\(4, 3\)"):
        bi(torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"Expected an nn.LSTM with bidirectional=True"):
        Bidirectional.from_torch(nn.LSTM(2, 3))


@pytest.mark.parametrize("start", ["zero", "given"])
@pytest.mark.parametrize("lengths", [None, [6, 1, 3]])
def test_one_kernel_call_and_two_calls_equal_the_reference(start: str, lengths: list[int] | None) -> None:
    ref = make_bi("concat", "reference", return_sequences=True, return_state=True)
    fused = twin(ref, impl="fused")
    x = torch.randn(3, 6, 3, dtype=torch.float64, requires_grad=True)
    lens = None if lengths is None else torch.tensor(lengths)
    state = None
    if start == "given":
        state = tuple((torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)) for _ in "fb")
    out_ref, out_fused = ref(x, lens, state), fused(x, lens, state)
    # one call serves every case but a padded batch whose backward direction starts from a given state
    assert fused.last_one_call == (lens is None or start == "zero")
    assert ref.last_one_call is False
    for a, b in zip(flatten_outputs(out_ref), flatten_outputs(out_fused), strict=True):
        assert_close(a, b)
    for a, b in zip(grads(ref, x, out_ref), grads(fused, x, out_fused), strict=True):
        assert_close(a, b)


def test_dropout_in_training_takes_two_calls_with_a_mask_each() -> None:
    bi = make_bi(return_sequences=True, dropout=0.5).train()
    bi(torch.randn(2, 4, 3, dtype=torch.float64))
    assert bi.last_one_call is False
    assert bi.one_call_unsupported_reason(torch.zeros(2, 4, 3), None) == (
        "input dropout draws a separate mask for each direction"
    )
    bi.eval()
    bi(torch.randn(2, 4, 3, dtype=torch.float64))
    assert bi.last_one_call is True


@pytest.mark.parametrize("training", [False, True], ids=["one-kernel-call", "two-calls-input-dropout"])
def test_a_bidirectional_call_reads_its_lengths_once(training: bool) -> None:
    """Checking lengths reads their range from the device (a host sync on a GPU): the two directions share one
    check, and checked `Lengths` are taken as they are."""
    torch.manual_seed(0)
    bi = Bidirectional(LSTM(4, return_sequences=True, input_size=2, dropout=0.5 if training else 0.0))
    x, lengths = torch.randn(3, 5, 2), torch.tensor([5, 2, 4])
    with HostSyncs() as syncs:
        bi.train(training)(x, lengths=lengths)
    assert syncs.names == ["tolist"]
    assert bi.last_one_call is not training
    checked = check_lengths(lengths, 3, 5, x.device)
    with HostSyncs() as none:
        bi(x, lengths=checked)
    assert none.count == 0
    out = bi.eval()(x, lengths=checked)  # compared without dropout masks
    for i, n in enumerate(lengths.tolist()):  # still each row's own answer
        torch.testing.assert_close(out[i, :n], bi(x[i : i + 1, :n])[0])
    with pytest.raises(ValueError, match=r"Expected lengths in 1\.\.5"):
        bi(x, lengths=torch.tensor([5, 0, 4]))


def test_a_given_backward_state_on_a_padded_batch_takes_two_calls_without_reading_it() -> None:
    """Whether a given state is zero would take a device read: any given (or carried) backward state rules out the
    one kernel call on a padded batch, a zero one included, with the same result."""
    ref = make_bi("concat", "reference", return_sequences=True)
    fused = twin(ref, impl="fused")
    x, lengths = torch.randn(3, 6, 3, dtype=torch.float64), torch.tensor([6, 1, 3])
    zeros = torch.zeros(3, 4, dtype=torch.float64)
    with HostSyncs() as syncs:
        out = fused(x, lengths, ((zeros, zeros), (zeros, zeros)))
    assert syncs.count == 1 and fused.last_one_call is False
    assert_close(out, fused(x, lengths))
    assert fused.last_one_call is True
    assert_close(out, ref(x, lengths))
    stateful = twin(ref, impl="fused", stateful=True)
    stateful(x, lengths)
    assert stateful.last_one_call is True  # the first call starts from zeros
    stateful(x, lengths)
    assert stateful.last_one_call is False  # then from the carried state


def test_full_lengths_take_the_unpadded_path_with_the_same_result() -> None:
    torch.manual_seed(0)
    bi = Bidirectional(LSTM(4, return_sequences=True, input_size=3))
    x = torch.randn(2, 6, 3)
    assert torch.equal(bi(x, lengths=torch.tensor([6, 6])), bi(x))
