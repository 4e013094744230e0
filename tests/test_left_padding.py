"""Left padding (Keras's `pad_sequences` default, padding="pre") gives exactly what right padding gives: every preset,
ids whose side is read from the padding, and the paths the layer harness does not reach (a given or carried state,
which the fused kernel cannot hold through leading padding, so the rows are moved for it).

Each layer that reads lengths is checked on its own in `tests/layer_harness.py` (`check_left_padding`)."""

from __future__ import annotations

import pytest
import torch
from helpers import preset_batch
from torch import Tensor
from torch.testing import assert_close

from lstmlab.data import SequenceData
from lstmlab.layers import LSTM, Bidirectional, check_lengths
from lstmlab.layers.sequence import roll_rows
from lstmlab.models import PRESETS, Sequential, build_model
from lstmlab.training import TrainConfig, evaluate, fit, predict

TOL = {"atol": 1e-6, "rtol": 1e-5}


def to_left(x: Tensor, lengths: Tensor) -> Tensor:
    """A right-padded (B, T, ...) batch with each row's valid steps moved to its end."""
    return roll_rows(x, lengths)


def to_right(x: Tensor, lengths: Tensor) -> Tensor:
    return roll_rows(x, x.shape[1] - lengths)


def valid(x: Tensor, lengths: Tensor) -> Tensor:
    mask = torch.arange(x.shape[1]) < lengths[:, None]
    return x * mask.view(*mask.shape, *[1] * (x.dim() - 2)).to(x.dtype)


# Flatten after the time axis reads each step by its position: a row's logits depend on which end its padding is,
# in Keras as here, so those presets are checked for the side being read, not for equal logits
POSITIONAL = {"text-bilstm"}
SEQUENCE_PRESETS = [name for name in PRESETS if name != "qa-stateful" and name not in POSITIONAL]


@pytest.mark.parametrize("name", SEQUENCE_PRESETS)
def test_every_preset_gives_the_same_on_left_padding(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name).eval()
    x, lengths = preset_batch(model)
    right = model(x, lengths)
    left_x = to_left(x, lengths)
    ids = not x.is_floating_point()
    # ids carry their padding side; numbers need it said
    left = model(left_x) if ids else model(left_x, lengths, padding_side="left")
    if right.dim() == 3:  # per-step logits keep each row's side
        assert_close(valid(to_right(left, lengths), lengths), valid(right, lengths), **TOL)
    else:
        assert_close(left, right, **TOL)
    if not ids:  # the same numbers read as right-padded differ: the side is not ignored
        assert not torch.allclose(model(left_x, lengths), right, **TOL)


def test_positional_preset_reads_the_side_from_the_ids() -> None:
    torch.manual_seed(0)
    model = build_model("text-bilstm", max_len=6, vocab_size=30).eval()
    ids = torch.tensor([[0, 0, 0, 4, 5, 6], [0, 7, 8, 9, 10, 11]])
    checked = model.check_call(ids)
    assert checked is not None and checked.left and checked.values.tolist() == [3, 5]  # type: ignore[union-attr]
    # the Bi-LSTM's outputs sit at each row's end, zero before it: what Flatten -> Dense reads
    rows = [model(ids[b : b + 1]) for b in range(2)]
    assert_close(model(ids), torch.cat(rows), **TOL)


@pytest.mark.parametrize("impl", ["reference", "fused"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_from_a_given_state_on_left_padding(impl: str, go_backwards: bool) -> None:
    torch.manual_seed(1)
    layer = LSTM(4, input_size=3, return_sequences=True, return_state=True, go_backwards=go_backwards, impl=impl)  # type: ignore[arg-type]
    lengths = torch.tensor([5, 2, 1, 4])
    x = torch.randn(4, 5, 3)
    state = (torch.randn(4, 4), torch.randn(4, 4))
    out_r, (h_r, c_r) = layer(x, lengths=lengths, initial_state=state)
    left = check_lengths(lengths, 4, 5, x.device, padding_side="left")
    out_l, (h_l, c_l) = layer(to_left(x, lengths), lengths=left, initial_state=state)
    assert_close(valid(to_right(out_l, lengths), lengths), valid(out_r, lengths), **TOL)
    assert_close((h_l, c_l), (h_r, c_r), **TOL)
    assert layer.last_impl == impl


def test_stateful_lstm_carries_its_state_through_left_padding() -> None:
    torch.manual_seed(2)
    layer = LSTM(4, input_size=3, stateful=True)
    twin = LSTM(4, input_size=3, stateful=True)
    twin.load_state_dict(layer.state_dict())
    lengths = torch.tensor([3, 1])
    pieces = [torch.randn(2, 3, 3) for _ in range(2)]
    left = check_lengths(lengths, 2, 3, torch.device("cpu"), padding_side="left")
    for piece in pieces:  # the second call starts from a carried state: the rows are moved for the kernel
        assert_close(layer(to_left(piece, lengths), lengths=left), twin(piece, lengths=lengths), **TOL)
    assert layer.last_impl == "fused"


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("given_state", [False, True])
def test_bidirectional_on_left_padding(merge_mode: str, given_state: bool) -> None:
    torch.manual_seed(3)
    layer = Bidirectional(LSTM(4, input_size=3, return_sequences=True), merge_mode=merge_mode)  # type: ignore[arg-type]
    reference = Bidirectional(LSTM(4, input_size=3, return_sequences=True, impl="reference"), merge_mode=merge_mode)  # type: ignore[arg-type]
    reference.load_state_dict(layer.state_dict())
    lengths = torch.tensor([5, 2, 1, 4])
    x = torch.randn(4, 5, 3)
    states = ((torch.randn(4, 4), torch.randn(4, 4)), (torch.randn(4, 4), torch.randn(4, 4))) if given_state else None
    want = layer(x, lengths=lengths, initial_state=states)
    left = check_lengths(lengths, 4, 5, x.device, padding_side="left")
    got = layer(to_left(x, lengths), lengths=left, initial_state=states)
    # one kernel call unless a given state would meet the padding first (the forward direction, on the left)
    assert layer.last_one_call is not given_state
    assert_close(valid(to_right(got, lengths), lengths), valid(want, lengths), **TOL)
    by_reference = reference(to_left(x, lengths), lengths=left, initial_state=states)
    assert_close(by_reference, got, **TOL)


# ------------------------------------------------------------------------------------------ training on left padding
def _fit_twice(name: str, data: SequenceData) -> tuple[Sequential, Sequential, SequenceData]:
    """The preset trained on `data` and on its left-padded copy, from the same weights and seed."""
    assert data.lengths is not None
    left_y = to_left(data.y, data.lengths) if data.per_step else data.y
    left = SequenceData(to_left(data.x, data.lengths), left_y, data.lengths, padding_side="left")
    config = TrainConfig(epochs=2, batch_size=4, seed=5)
    models = []
    for each in (data, left):
        torch.manual_seed(0)
        model = build_model(name, units=6)
        fit(model, each, config=config)
        models.append(model)
    return models[0], models[1], left


@pytest.mark.parametrize("name", ["tutorial-bilstm", "series-bilstm"])
def test_training_on_left_padded_data_equals_right_padded(name: str) -> None:
    gen = torch.Generator().manual_seed(4)
    lengths = torch.randint(1, 11, (12,), generator=gen)
    x = torch.rand(12, 10, 1, generator=gen) * (torch.arange(10) < lengths[:, None]).unsqueeze(-1)
    per_step = name.startswith("tutorial")  # one target per step, padded as the inputs are
    y = (x[..., 0].cumsum(1) > 2.5).long() if per_step else (x.sum(dim=(1, 2)) > 2.5).long()
    right_model, left_model, left = _fit_twice(name, SequenceData(x, y, lengths))
    for (key, a), b in zip(right_model.state_dict().items(), left_model.state_dict().values(), strict=True):
        assert_close(b, a, **TOL, msg=key)
    right_scores = evaluate(right_model, SequenceData(x, y, lengths))
    assert evaluate(left_model, left).accuracy == pytest.approx(right_scores.accuracy)
    assert evaluate(left_model, left).loss == pytest.approx(right_scores.loss, rel=1e-5)
    probabilities = predict(left_model, left)  # in the data's own layout: left-padded per-step answers
    want = predict(right_model, SequenceData(x, y, lengths))
    if name.startswith("tutorial"):
        assert_close(valid(to_right(probabilities, lengths), lengths), valid(want, lengths), **TOL)
    else:
        assert_close(probabilities, want, **TOL)


def test_left_padded_targets_are_scored_on_their_valid_steps() -> None:
    data = SequenceData(torch.zeros(2, 3, 1), torch.zeros(2, 3, dtype=torch.long), torch.tensor([1, 3]), "left")
    assert data.scored_lengths.tolist() == [[False, False, True], [True, True, True]]  # type: ignore[union-attr]
    assert data.take(torch.tensor([1])).padding_side == "left"
    with pytest.raises(
        ValueError, match=r"Expected padding_side in \{'right', 'left', None\}\. Received: padding_side='pre'"
    ):
        SequenceData(torch.zeros(2, 3, 1), torch.zeros(2), None, "pre")  # type: ignore[arg-type]


def test_a_plain_module_refuses_left_padded_data() -> None:
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3, 1))
    data = SequenceData(torch.zeros(2, 3, 1), torch.zeros(2), torch.tensor([1, 3]), "left")
    with pytest.raises(
        ValueError, match=r"Expected right-padded data for a Sequential, .*Received: padding_side='left'"
    ):
        evaluate(module, data)
