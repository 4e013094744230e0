"""A forward model run one step per call gives what it gives on the whole sequence; models that need later steps
are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmlab import build_model
from lstmlab.layers import Embedding
from lstmlab.models import Sequential, Streamer, streaming


@pytest.mark.parametrize("preset", ["tutorial-lstm", "qa-lstm", "qa-timedistributed", "text-lstm", "qa-embedding-lstm"])
def test_step_by_step_equals_whole_sequence(preset: str) -> None:
    torch.manual_seed(0)
    model = build_model(preset, **({"max_len": 12} if "text" in preset or "embedding" in preset else {})).double()
    model.eval()
    if "text" in preset or "embedding" in preset:
        x = torch.randint(1, 50, (3, 12))
    else:
        x = torch.rand(3, 10, 1, dtype=torch.float64)
    whole = model(x)
    live = streaming(model)
    for _ in range(2):  # a second sequence after reset_states() starts from zeros again
        outputs = [live(x[:, t : t + 1]) for t in range(x.shape[1])]
        if whole.dim() == 3:  # per-step outputs: every step's answer as it arrives
            torch.testing.assert_close(torch.cat(outputs, dim=1), whole, rtol=0, atol=1e-12)
        else:  # many-to-one: the answer after the last step is the whole sequence's
            torch.testing.assert_close(outputs[-1], whole, rtol=0, atol=1e-12)
            assert (outputs[0] - whole).abs().max() > 1e-6  # and earlier answers are answers so far, not copies
        live.reset_states()
    assert not any(getattr(m, "stateful", False) for m in model.modules())  # the original is untouched


@pytest.mark.parametrize(
    ("preset", "culprit"),
    [
        ("tutorial-bilstm", "Bidirectional"),
        ("tutorial-lstm-backward", "go_backwards"),
        ("qa-embedding-bilstm", "Bidirectional"),
        ("text-bilstm", "Bidirectional"),
    ],
)
def test_models_that_read_later_steps_are_refused(preset: str, culprit: str) -> None:
    with pytest.raises(ValueError, match=f"Expected a model that reads forwards.*{culprit}"):
        streaming(build_model(preset))


# ---------------------------------------------------------------------------------------- many streams at once
STREAMED = ["qa-lstm", "tutorial-lstm", "qa-timedistributed", "text-lstm", "qa-embedding-lstm"]


def _sequences(model: Sequential, lengths: list[int], gen: torch.Generator) -> list[torch.Tensor]:
    first = model.layers[0]
    if isinstance(first, Embedding):
        return [torch.randint(1, first.input_dim, (n,), generator=gen) for n in lengths]
    return [torch.randn(n, model.input_shape[-1], generator=gen, dtype=torch.float64) for n in lengths]


def _whole(model: Sequential, sequence: torch.Tensor) -> torch.Tensor:
    """The model's answers on the sequence so far after each step t (T, C): each prefix as a row of one padded
    batch (lstmlab's lengths: a padded row gives what it gives alone), or the per-step outputs of the whole."""
    steps = len(sequence)
    width = model.input_shape[0] or steps
    padded = torch.zeros(width, *sequence.shape[1:], dtype=sequence.dtype)
    padded[:steps] = sequence
    with torch.no_grad():
        out = model(padded.unsqueeze(0), torch.tensor([steps]))[0]
        if out.dim() == 2:  # per-step outputs: step t's output is its answer on steps 0..t
            return out[:steps]
        return model(padded.expand(steps, *padded.shape), torch.arange(1, steps + 1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("preset", STREAMED)
def test_interleaved_streams_of_different_lengths_equal_whole_sequences(preset: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    options = {"max_len": 9} if "text" in preset or "embedding" in preset else {"steps": None}
    model = build_model(preset, **options).to(dtype).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))  # biases off zero
    gen = torch.Generator().manual_seed(1)
    lengths = [9, 1, 5, 9, 3, 7]
    sequences = [s.to(dtype) if s.is_floating_point() else s for s in _sequences(model, lengths, gen)]
    streamer = Streamer(model, capacity=2)  # grows twice on the way
    answers: dict[int, list[np.ndarray]] = {i: [] for i in range(len(lengths))}
    position = [0] * len(lengths)
    order = np.random.default_rng(2)
    while any(position[i] < n for i, n in enumerate(lengths)):
        waiting = [i for i, n in enumerate(lengths) if position[i] < n]
        chosen = list(order.permutation(waiting)[: order.integers(1, len(waiting) + 1)])  # a subset, any order
        values = np.stack([sequences[i][position[i]].numpy() for i in chosen])
        out = streamer.step([f"s{i}" for i in chosen], values)
        for row, i in enumerate(chosen):
            answers[i].append(out[row])
            position[i] += 1
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    for i, sequence in enumerate(sequences):
        expected = _whole(model, sequence).numpy()
        np.testing.assert_allclose(np.stack(answers[i]), expected, atol=tolerance, rtol=tolerance)
    assert streamer.live == len(lengths) and streamer.capacity == 8


def test_ended_streams_free_their_slot_and_restart_from_zeros() -> None:
    torch.manual_seed(0)
    model = build_model("qa-lstm").eval()
    streamer = Streamer(model, capacity=1)
    first = streamer.step(["a"], [0.5])
    streamer.step(["a"], [0.9])
    streamer.end("a")
    assert streamer.live == 0
    again = streamer.step(["b", "a"], [0.5, 0.5])  # b takes a's old slot: nothing of a's state is left there
    np.testing.assert_allclose(again, np.concatenate([first, first]), atol=1e-7, rtol=0)
    probabilities = streamer.step(["a"], [0.1], probabilities=True)
    with torch.no_grad():
        whole = torch.sigmoid(_whole(model, torch.tensor([[0.5], [0.1]]))[-1:])
    np.testing.assert_allclose(probabilities, whole.numpy(), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("preset", "call", "message"),
    [
        ("qa-lstm", lambda s: s.step(["a", "a"], [0.1, 0.2]), "Expected each stream once per step. Received: a more"),
        (
            "qa-lstm",
            lambda s: s.step(["a"], [[0.1, 0.2]]),
            r"Expected one row of 1 value\(s\) per stream, shape \(1, 1\)",
        ),
        ("qa-lstm", lambda s: s.step(["a"], [float("nan")]), "Expected finite values"),
        ("qa-lstm", lambda s: s.step(list(range(40)), [0.0] * 39 + [float("inf")]), "Expected finite values"),
        ("qa-lstm", lambda s: s.step([], []), "Expected at least one stream id"),
        ("qa-lstm", lambda s: s.end("never"), "Expected the id of a live stream. Received: 'never'"),
        ("qa-embedding-lstm", lambda s: s.step(["a"], [5000]), r"Expected ids in 0\.\.999\. Received: min=5000"),
        ("qa-embedding-lstm", lambda s: s.step(["a"], [0.5]), "Expected one integer token id per stream"),
    ],
)
def test_bad_steps_are_refused_in_one_line_and_change_nothing(preset: str, call: object, message: str) -> None:
    torch.manual_seed(0)
    model = build_model(preset).eval()
    streamer = Streamer(model)
    with pytest.raises(ValueError, match=message):
        call(streamer)  # type: ignore[operator]
    assert streamer.live == 0
    with pytest.raises(ValueError, match="Expected a model that reads forwards.*Bidirectional"):
        Streamer(build_model("tutorial-bilstm"))
