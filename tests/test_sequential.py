"""Sequential: shape inference, input checks, lengths flowing from Embedding(mask_zero=True), stateful models."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import Tensor, nn

import lstmlab
from lstmlab import (
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    ReverseTime,
    Sequential,
    TimeDistributed,
)
from lstmlab.models import preset_config

SEED = 7


def token_batch(lengths: list[int], steps: int, vocab: int, seed: int = SEED) -> Tensor:
    """Random ids in 1..vocab-1, each row right-padded with 0 after its length."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (len(lengths), steps), generator=gen)
    for row, length in enumerate(lengths):
        ids[row, length:] = 0
    return ids


def rebuilt(name: str, model: Sequential, **overrides: Any) -> Sequential:
    """Preset `name` built with `overrides`, holding `model`'s weights, in eval mode."""
    other = lstmlab.build_model(name, **overrides)
    other.load_state_dict(model.state_dict())
    return other.eval()


# ------------------------------------------------------------------------------------------ shape inference
def test_shape_inference_through_a_stack() -> None:
    model = Sequential(
        [TimeDistributed(Dense(4)), LSTM(5, return_sequences=True), ReverseTime(), GlobalMaxPooling1D(), Dense(2)],
        input_shape=(None, 3),
    )
    assert model.output_shapes == [(None, 4), (None, 5), (None, 5), (5,), (2,)]
    assert model.output_shape == (2,)
    assert model(torch.rand(2, 7, 3)).shape == (2, 2)
    assert model.layer_names[:3] == ["time_distributed", "lstm", "reverse_time"]
    assert model.layer_names[4] == "dense"


def test_pooling_layer_names_match_keras() -> None:
    # Names as Keras 3.15 gives them to the same layers (keras.layers.GlobalMaxPooling1D().name, ...).
    model = Sequential([LSTM(3, return_sequences=True), GlobalMaxPooling1D(), Dense(1)], input_shape=(None, 2))
    other = Sequential([LSTM(3, return_sequences=True), GlobalAveragePooling1D()], input_shape=(None, 2))
    assert model.layer_names == ["lstm", "global_max_pooling1d", "dense"]
    assert other.layer_names == ["lstm", "global_average_pooling1d"]


@pytest.mark.parametrize(
    ("layers", "input_shape", "message"),
    [
        (
            lambda: [LSTM(4, return_sequences=True), Flatten(), Dense(1)],
            (None, 2),
            r"Flatten expected a fully known input shape\. Received: input_shape=\(None, 4\)",
        ),
        (lambda: [Dense(3)], (5, None), r"Dense expected a known last axis\. Received: input_shape=\(5, None\)"),
        (lambda: [Dense(3, input_size=4)], (2,), r"Dense was built for 4 inputs\. Received: input_shape=\(2,\)"),
        (
            lambda: [LSTM(3)],
            (5,),
            r"LSTM expected an input shape \(T, D\) with a known D\. Received: input_shape=\(5,\)",
        ),
        (lambda: [LSTM(3)], (5, None), r"LSTM expected an input shape \(T, D\) with a known D"),
        (lambda: [LSTM(3, input_size=2)], (5, 4), r"LSTM was built for 2 input features\. Received"),
        (lambda: [Embedding(10, 4)], (5, 1), r"Embedding expected an input shape \(T,\) of token ids\. Received"),
        (
            lambda: [TimeDistributed(Dense(2))],
            (3,),
            r"TimeDistributed expected an input shape \(T, \.\.\.\)\. Received",
        ),
        (
            lambda: [LSTM(3), GlobalAveragePooling1D()],
            (5, 2),
            r"GlobalAveragePooling1D expected an input shape \(T, D\)",
        ),
        (
            lambda: [LSTM(3), ReverseTime()],
            (5, 2),
            r"ReverseTime expected an input shape \(T, D\) with a time axis\. Received: input_shape=\(3,\)",
        ),
        (
            lambda: [Bidirectional(LSTM(3), merge_mode=None)],
            (5, 2),
            r"Expected a merge mode inside a Sequential .*Received: merge_mode=None",
        ),
        (lambda: [], (5, 2), r"Expected at least one layer\. Received: an empty list"),
        (lambda: [nn.Linear(2, 2)], (2,), r"Expected lstmlab layers\. Received: Linear"),
    ],
)
def test_shape_inference_errors(layers: Any, input_shape: tuple[int | None, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sequential(layers(), input_shape=input_shape)


def test_layers_without_input_size_cannot_run_standalone() -> None:
    with pytest.raises(ValueError, match=r"Dense has no input size yet\. Expected Dense\(units, input_size=D\)"):
        Dense(3)(torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"LSTM has no input size yet\. Expected LSTM\(units, input_size=D\)"):
        LSTM(3)(torch.rand(2, 5, 4))


# ------------------------------------------------------------------------------------------ input checks
@pytest.mark.parametrize(
    ("name", "overrides", "shape", "expected"),
    [
        ("qa-lstm", {}, (2, 9, 1), r"\(B, 10, 1\)"),
        ("qa-lstm", {}, (2, 10, 2), r"\(B, 10, 1\)"),
        ("qa-lstm", {}, (2, 10), r"\(B, 10, 1\)"),
        ("qa-lstm", {"steps": None}, (2, 10, 3), r"\(B, any, 1\)"),
        ("qa-stateful", {}, (2, 1, 1), r"\(1, 1, 1\)"),
        ("tutorial-bilstm", {}, (1, 10, 1, 1), r"\(B, 10, 1\)"),
    ],
)
def test_wrong_input_shape_raises(name: str, overrides: dict[str, Any], shape: tuple[int, ...], expected: str) -> None:
    model = lstmlab.build_model(name, **overrides)
    received = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(
        ValueError, match=rf'Model "{name}" expected an input of shape {expected}\. Received: shape={received}'
    ):
        model(torch.rand(*shape))


def test_wrong_token_shape_raises() -> None:
    model = lstmlab.build_model("qa-embedding-lstm", max_len=8, vocab_size=20)
    with pytest.raises(ValueError, match=r"expected an input of shape \(B, 8\)\. Received: shape=\(2, 9\)"):
        model(torch.ones(2, 9, dtype=torch.long))


def test_free_time_axis_accepts_any_length() -> None:
    model = lstmlab.build_model("qa-lstm", steps=None).eval()
    assert model(torch.rand(2, 3, 1)).shape == (2, 1)
    assert model(torch.rand(2, 17, 1)).shape == (2, 1)


# ------------------------------------------------------------------------------------------ padding invariance
TEXT_LENGTHS = [380, 211, 37, 1]


def test_text_bilstm_padded_row_in_batch_equals_row_alone() -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model("text-bilstm").eval()
    ids = token_batch(TEXT_LENGTHS, 380, 3800)
    with torch.no_grad():
        batch_logits = model(ids)
        for row in range(len(TEXT_LENGTHS)):
            alone = model(ids[row : row + 1])
            torch.testing.assert_close(batch_logits[row : row + 1], alone)


def text_bilstm_by_hand(model: Sequential, ids: Tensor, length: int) -> Tensor:
    """The text-bilstm logits of one row computed on its real tokens only, zeros after them (eval mode)."""
    embedding, _, bidirectional, _, _, dense = model.layers
    seen = bidirectional(embedding(ids[:, :length]))  # (1, L, 2H): no padding ever enters the LSTMs
    steps = ids.shape[1]
    out = seen.new_zeros(1, steps, seen.shape[-1])
    out[:, :length] = seen
    return dense(out.flatten(1))


def test_text_bilstm_padding_never_reaches_the_lstms() -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model("text-bilstm").eval()
    ids = token_batch(TEXT_LENGTHS, 380, 3800)
    with torch.no_grad():
        logits = model(ids)
        expected = torch.cat([text_bilstm_by_hand(model, ids[r : r + 1], n) for r, n in enumerate(TEXT_LENGTHS)])
        torch.testing.assert_close(logits, expected)
        # without the mask, padding is read as tokens and the logits of padded rows change
        unmasked = rebuilt("text-bilstm", model, mask_zero=False)(ids)
    assert not torch.allclose(unmasked[1:], expected[1:], atol=1e-4)
    torch.testing.assert_close(unmasked[:1], expected[:1])  # the full row has no padding


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("qa-embedding-bilstm", {"max_len": 30}),
        ("qa-embedding-bilstm", {"max_len": 30, "merge_mode": "mul", "vocab_size": 50}),
        ("qa-embedding-lstm", {"max_len": 30}),
        ("text-lstm", {"max_len": 30}),
    ],
)
def test_longer_padding_gives_the_logits_of_the_row_alone(name: str, overrides: dict[str, Any]) -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model(name, **overrides).eval()
    lengths = [30, 12, 5, 1]
    ids = token_batch(lengths, 30, preset_config(name, **overrides).vocab_size)
    with torch.no_grad():
        logits = model(ids)
        for row, length in enumerate(lengths):
            exact = rebuilt(name, model, **{**overrides, "max_len": length})  # no padding at all
            torch.testing.assert_close(logits[row : row + 1], exact(ids[row : row + 1, :length]))
        unmasked = rebuilt(name, model, **{**overrides, "mask_zero": False})(ids)
    assert not torch.allclose(unmasked[1:], logits[1:], atol=1e-4), "the test must depend on the mask"


@pytest.mark.parametrize("pooling", [GlobalAveragePooling1D, GlobalMaxPooling1D])
def test_lengths_reach_pooling_after_an_lstm(pooling: type[nn.Module]) -> None:
    torch.manual_seed(SEED)
    layers = [Embedding(20, 4, mask_zero=True), LSTM(3, return_sequences=True), pooling(), Dense(1)]
    model = Sequential(layers, input_shape=(None,)).eval()
    lengths = [9, 4, 1]
    ids = token_batch(lengths, 9, 20)
    with torch.no_grad():
        logits = model(ids)
        for row, length in enumerate(lengths):
            torch.testing.assert_close(logits[row : row + 1], model(ids[row : row + 1, :length]))


@pytest.mark.parametrize("name", ["tutorial-lstm", "tutorial-lstm-backward", "tutorial-bilstm"])
def test_numeric_lengths_passed_explicitly(name: str) -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model(name, steps=None).eval()
    lengths = torch.tensor([8, 5, 2])
    x = torch.rand(3, 8, 1)
    x[1, 5:] = 50.0  # padding values that would change every output if they were read
    x[2, 2:] = -50.0
    with torch.no_grad():
        out = model(x, lengths=lengths)
        for row, length in enumerate(lengths.tolist()):
            torch.testing.assert_close(out[row, :length], model(x[row : row + 1, :length])[0])


def test_tutorial_bilstm_equals_torch_bidirectional_lstm_on_a_packed_batch() -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model("tutorial-bilstm", steps=None).eval()
    bidirectional, head = model.layers
    oracle = bidirectional.to_torch()
    lengths = torch.tensor([8, 5, 2])
    x = torch.rand(3, 8, 1, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        both, _ = oracle(packed)
        both, _ = nn.utils.rnn.pad_packed_sequence(both, batch_first=True, total_length=8)  # (B, T, 2H)
        expected = head(both)
        out = model(x, lengths=lengths)
    for row, length in enumerate(lengths.tolist()):
        torch.testing.assert_close(out[row, :length], expected[row, :length])


@pytest.mark.parametrize("keras_order", [False, True])
def test_tutorial_backward_reads_each_row_from_its_end(keras_order: bool) -> None:
    torch.manual_seed(SEED)
    backward = lstmlab.build_model("tutorial-lstm-backward", steps=None, keras_order=keras_order).eval()
    forward = lstmlab.build_model("tutorial-lstm", steps=None).eval()  # reads forwards; gets the same weights
    forward.layers[0].load_state_dict(backward.layers[0].state_dict())  # LSTM
    forward.layers[1].load_state_dict(backward.layers[-1].state_dict())  # TimeDistributed(Dense) after ReverseTime
    lengths = torch.tensor([8, 5, 2])
    x = torch.rand(3, 8, 1, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        out = backward(x, lengths=lengths)
        for row, length in enumerate(lengths.tolist()):
            reading_order = forward(x[row : row + 1, :length].flip(1))[
                0
            ]  # output k after reading k+1 steps from the end
            expected = reading_order if keras_order else reading_order.flip(0)  # re-aligned: step t beside input t
            torch.testing.assert_close(out[row, :length], expected)


def test_ids_padded_on_both_sides_in_one_batch_raise() -> None:
    model = lstmlab.build_model("qa-embedding-bilstm", max_len=5, vocab_size=20)
    ids = torch.tensor([[3, 4, 5, 0, 0], [0, 0, 7, 8, 9]])
    with pytest.raises(
        ValueError, match=r"Expected ids padded on one side .*Received: row 0 is right-padded and row 1 left-padded"
    ):
        model(ids)


def test_a_demanded_padding_side_is_checked() -> None:
    model = lstmlab.build_model("qa-embedding-bilstm", max_len=5, vocab_size=20)
    left = torch.tensor([[3, 4, 5, 6, 7], [0, 0, 7, 8, 9]])
    with pytest.raises(ValueError, match=r"Expected right-padded ids .*Received: row 1 has padding before a real id"):
        model(left, padding_side="right")
    with pytest.raises(ValueError, match=r"Expected left-padded ids .*Received: row 1 has padding after a real id"):
        model(torch.tensor([[3, 4, 5, 6, 7], [7, 8, 9, 0, 0]]), padding_side="left")
    with pytest.raises(
        ValueError, match=r"Expected padding_side in \{'right', 'left'\}\. Received: padding_side='pre'"
    ):
        model(left, padding_side="pre")  # type: ignore[arg-type]


def test_all_padding_row_raises() -> None:
    model = lstmlab.build_model("text-bilstm", max_len=4, vocab_size=20)
    with pytest.raises(ValueError, match=r"Expected at least one real id per row\. Received: row 1 is all padding"):
        model(torch.tensor([[3, 4, 0, 0], [0, 0, 0, 0]]))


# ------------------------------------------------------------------------------------------ stateful
def stateful_pair(steps: int, **overrides: Any) -> tuple[Sequential, Sequential]:
    """A qa-stateful model and a qa-lstm model (free time axis) with the same weights, both in eval mode."""
    torch.manual_seed(SEED)
    stateful = lstmlab.build_model("qa-stateful", steps=steps, **overrides).eval()
    whole = rebuilt("qa-lstm", stateful, steps=None, **{k: v for k, v in overrides.items() if k != "batch_size"})
    return stateful, whole


def test_stateful_one_step_per_call_equals_whole_sequence() -> None:
    stateful, whole = stateful_pair(1)
    x = torch.rand(1, 10, 1, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        stepwise = [stateful(x[:, t : t + 1]) for t in range(10)]
        prefixes = [whole(x[:, : t + 1]) for t in range(10)]
    for step, prefix in zip(stepwise, prefixes, strict=True):
        torch.testing.assert_close(step, prefix)
    assert not torch.allclose(stepwise[-1], stepwise[0], atol=1e-4), "the state really changes the output"


def test_stateful_chunks_in_a_batch_equal_whole_sequences() -> None:
    stateful, whole = stateful_pair(2, batch_size=3, features=2, units=4)
    x = torch.rand(3, 8, 2, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        for t in range(0, 8, 2):
            last = stateful(x[:, t : t + 2])
        torch.testing.assert_close(last, whole(x))


def test_stateful_reset_states_restarts() -> None:
    stateful, whole = stateful_pair(1)
    x = torch.rand(1, 4, 1, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        first = [stateful(x[:, t : t + 1]) for t in range(4)]
        carried = stateful(x[:, :1])  # continues from step 4
        stateful.reset_states()
        again = [stateful(x[:, t : t + 1]) for t in range(4)]
        fresh = whole(x[:, :1])
    assert not torch.allclose(carried, first[0], atol=1e-4), "without a reset the state is carried on"
    for a, b in zip(first, again, strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(again[0], fresh)


def test_stateful_batch_size_change_raises() -> None:
    fixed = lstmlab.build_model("qa-stateful")
    with pytest.raises(ValueError, match=r"expected an input of shape \(1, 1, 1\)\. Received: shape=\(2, 1, 1\)"):
        fixed(torch.rand(2, 1, 1))

    free = lstmlab.build_model("qa-stateful", batch_size=None).eval()
    with torch.no_grad():
        free(torch.rand(1, 1, 1))
        with pytest.raises(
            ValueError, match=r"Stateful LSTM expected batch size 1 .*reset_states.*Received: batch size 2"
        ):
            free(torch.rand(2, 1, 1))
        free.reset_states()
        assert free(torch.rand(2, 1, 1)).shape == (2, 1)


def test_reset_states_reaches_bidirectional_layers() -> None:
    torch.manual_seed(SEED)
    model = Sequential([Bidirectional(LSTM(3, stateful=True)), Dense(1)], input_shape=(2, 1)).eval()
    x = torch.rand(1, 2, 1, generator=torch.Generator().manual_seed(SEED))
    with torch.no_grad():
        first = model(x)
        second = model(x)
        model.reset_states()
        third = model(x)
    assert not torch.allclose(first, second, atol=1e-4)
    torch.testing.assert_close(first, third)


def test_dropout_layers_are_identity_in_eval_only() -> None:
    torch.manual_seed(SEED)
    model = lstmlab.build_model("text-lstm", max_len=20, vocab_size=50)
    ids = token_batch([20, 7], 20, 50)
    model.eval()
    with torch.no_grad():
        a, b = model(ids), model(ids)
        model.train()
        c = model(ids)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c, atol=1e-5)
    assert any(isinstance(layer, Dropout) for layer in model.layers)
