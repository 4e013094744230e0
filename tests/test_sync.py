"""Host synchronisations: a model call reads numbers from the device at most once (on a GPU each read stalls it).

The lengths (given, or derived from padding ids) and a first Embedding's ids are checked together by `Sequential`,
and the layers take the checked `Lengths` as they are; a layer called on its own still checks plain lengths.
"""

from __future__ import annotations

import pytest
import torch
from helpers import HostSyncs, preset_batch
from torch import Tensor

from lstmlab.layers import (
    LSTM,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Dense,
    DeviceCheck,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    Parallel,
    ReverseTime,
    check_lengths,
    run_checks,
)
from lstmlab.models import PRESETS, Sequential, build_model


def syncs_of_one_call(model: Sequential, x: Tensor, lengths: Tensor | None) -> list[str]:
    model.reset_states()
    with torch.no_grad(), HostSyncs() as syncs:
        model(x, lengths)
    return syncs.names


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_call_with_lengths_reads_the_device_at_most_once(name: str, mode: str) -> None:
    torch.manual_seed(0)
    model = build_model(name).train(mode == "train")
    x, lengths = preset_batch(model)
    names = syncs_of_one_call(model, x, lengths)
    assert len(names) <= 1, f"{name} ({mode}) read the device {len(names)} times: {names}"


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_call_without_lengths_reads_only_what_token_ids_need(name: str, mode: str) -> None:
    """Numeric inputs without lengths need no read at all; token ids need one (their range, and the lengths their
    padding implies)."""
    torch.manual_seed(0)
    model = build_model(name).train(mode == "train")
    x, _ = preset_batch(model)
    names = syncs_of_one_call(model, x, None)
    token_model = x.dim() == 2
    assert len(names) <= (1 if token_model else 0), f"{name} ({mode}) read the device {len(names)} times: {names}"


def test_the_counter_sees_each_kind_of_host_read() -> None:
    """The oracle itself: each of these waits for the device on a GPU, and is counted once."""
    t = torch.tensor([1, 0, 2])
    with HostSyncs() as syncs:
        int(t.sum())
        t.tolist()
        torch.equal(t, t)
        t.nonzero()
        torch.randn(3)[t > 0]
        bool(t.any())
    assert syncs.names == [
        "_local_scalar_dense",
        "tolist",
        "equal",
        "nonzero",
        "index[bool mask]",
        "_local_scalar_dense",
    ]
    with HostSyncs() as none:
        (t + 1).sum().max()
    assert none.count == 0


# ------------------------------------------------------------------------------------------ layers on their own
def length_layers() -> list[tuple[str, Layer]]:
    """One of each layer that takes lengths, built for 3 features."""
    norm = BatchNormalization()
    norm.build((None, 3))
    both = Parallel([LSTM(4), Dense(2)], [Conv1D(2, 3), GlobalMaxPooling1D()])
    both.build((None, 3))
    return [
        ("lstm-reference", LSTM(4, input_size=3, return_sequences=True, impl="reference")),
        ("lstm-fused", LSTM(4, input_size=3, return_sequences=True, impl="fused")),
        ("lstm-backwards", LSTM(4, input_size=3, go_backwards=True)),
        ("bidirectional", Bidirectional(LSTM(4, input_size=3, return_sequences=True))),
        ("conv1d", Conv1D(2, 3, input_size=3)),
        ("batch-norm", norm),
        ("average-pooling", GlobalAveragePooling1D()),
        ("max-pooling", GlobalMaxPooling1D()),
        ("reverse-time", ReverseTime()),
        ("parallel", both),
    ]


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("index", range(10), ids=[name for name, _ in length_layers()])
def test_a_layer_checks_plain_lengths_once_and_takes_checked_ones_as_they_are(index: int, mode: str) -> None:
    torch.manual_seed(0)
    _, layer = length_layers()[index]
    layer.train(mode == "train")
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    checked = check_lengths(lengths, 3, 6, x.device)
    state = torch.get_rng_state()
    with HostSyncs() as plain:
        want = layer(x, lengths=lengths)
    torch.set_rng_state(state)  # the same dropout masks
    with HostSyncs() as trusted:
        got = layer(x, lengths=checked)
    assert plain.count == 1 and trusted.count == 0, (plain.names, trusted.names)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"Expected lengths in 1\.\.6 \(the time axis\)\. Received: min=0, max=6"):
        layer(x, lengths=torch.tensor([6, 0, 4]))


def test_lengths_checked_for_another_input_raise() -> None:
    checked = check_lengths(torch.tensor([4, 2]), 2, 4, torch.device("cpu"))
    with pytest.raises(
        ValueError,
        match=r"Expected lengths checked for 2 rows of 5 steps on cpu\. Received: Lengths for 2 rows of 4 steps on cpu",
    ):
        LSTM(3, input_size=1)(torch.zeros(2, 5, 1), lengths=checked)
    model = build_model("qa-lstm", steps=None)
    with pytest.raises(ValueError, match=r"Expected lengths checked for 3 rows of 4 steps"):
        model(torch.zeros(3, 4, 1), checked)


def test_checks_are_read_together_and_conclude_in_order() -> None:
    seen: list[list[int]] = []

    def first(read: list[int]) -> str:
        seen.append(read)
        return "first"

    def second(read: list[int]) -> None:
        seen.append(read)
        raise ValueError(f"second saw {read}")

    values = torch.tensor([3, 1, 4])
    with HostSyncs() as syncs:
        assert run_checks(DeviceCheck((values.min(), values.max()), first)) == ["first"]
    assert syncs.names == ["tolist"] and seen == [[1, 4]]
    with HostSyncs() as syncs, pytest.raises(ValueError, match=r"second saw \[1\]"):
        run_checks(DeviceCheck((values.max(),), first), DeviceCheck(((values < 2).any(),), second))
    assert syncs.names == ["tolist"] and seen[1:] == [[4], [1]]


def test_a_model_checks_a_call_once_for_several_runs() -> None:
    """`check_call` then `run_checked` is `forward`; the checked lengths serve further runs without a read."""
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=30, max_len=6).eval()
    ids = torch.tensor([[3, 4, 5, 0, 0, 0], [7, 8, 9, 1, 2, 3]])
    with HostSyncs() as syncs:
        checked = model.check_call(ids)
    assert syncs.count == 1 and checked is not None and checked.values is not None
    assert checked.values.tolist() == [3, 6]
    with HostSyncs() as none:
        out = model.run_checked(ids, checked)
    assert none.count == 0
    torch.testing.assert_close(out, model(ids), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"Embedding expected ids in 0\.\.29\. Received: min=0, max=30"):
        model(torch.tensor([[3, 30, 0, 0, 0, 0]]), torch.tensor([2]))
    with pytest.raises(ValueError, match=r"Expected lengths in 1\.\.6 \(the time axis\)\. Received: min=7, max=7"):
        model(ids, torch.tensor([7, 7]))


@pytest.mark.parametrize("name", ["text-bilstm-pool", "series-lstm-fcn"])
def test_an_ensemble_checks_its_input_once_for_all_members(name: str) -> None:
    from lstmlab.models import ensemble_of

    torch.manual_seed(0)
    model = ensemble_of(lambda: build_model(name), 3).train()
    x, lengths = preset_batch(model)
    for given in (lengths, None):
        with torch.no_grad(), HostSyncs() as syncs:
            model(x, given)
        assert len(syncs.names) <= 1, syncs.names
