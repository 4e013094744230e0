"""`inspect` (lstmlab/explain/inspection.py): every value of every LSTM direction equals the LSTM equations computed
in NumPy float64 from the weights alone, for presets, a user's own stacks, files written by Keras 2 and a trained
run; a padded batch inspects as each sequence alone, padded on either side; inspecting changes no output; an
ensemble answers as a whole and traces the member asked for; per-step models explain the step asked for; refusals
are one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lstmlab.cli import main
from lstmlab.data import SequenceData
from lstmlab.explain import Inspection, inspect
from lstmlab.layers import (
    GATES,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GaussianNoise,
    Masking,
)
from lstmlab.models import Ensemble, Sequential, build_model
from lstmlab.runs.saved import load_run

KERAS2 = Path(__file__).resolve().parent / "keras2"
EXACT = {"atol": 1e-6, "rtol": 0.0}  # float32 values against the float64 equations
SAME = {"atol": 1e-5, "rtol": 0.0}  # a row in a padded batch against the row alone


# ------------------------------------------------------------------------------------------------ the NumPy oracle
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def lstm_equations(layer: LSTM, x: np.ndarray) -> dict[str, np.ndarray]:
    """One unpadded sequence (n, D) read by `layer` from a zero state, in float64: each of `GATES` as (n, H), at the
    input position it was computed at (a go_backwards layer reads from position n - 1 down to 0)."""
    cell = layer.cell
    w_ih, w_hh, b = (p.detach().double().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias))
    units, n = layer.units, len(x)
    values = {name: np.zeros((n, units)) for name in GATES}
    h, c = np.zeros(units), np.zeros(units)
    for t in reversed(range(n)) if layer.go_backwards else range(n):
        z = w_ih @ x[t] + w_hh @ h + b
        i, f = sigmoid(z[:units]), sigmoid(z[units : 2 * units])
        g, o = np.tanh(z[2 * units : 3 * units]), sigmoid(z[3 * units :])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(GATES, (i, f, g, o, c, h), strict=True):
            values[name][t] = value
    return values


MERGES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "concat": lambda a, b: np.concatenate([a, b], axis=-1),
    "sum": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "ave": lambda a, b: (a + b) / 2,
}


def stack_equations(model: Sequential, row: np.ndarray) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """Every LSTM direction of `model` on one unpadded sequence (ids (n,) or values (n, D)), in float64 from the
    weights alone, as (Keras layer name, direction, values) in the order they run. Each layer reads what the layers
    before it computed in NumPy: an Embedding's rows, a go_backwards LSTM's outputs in its reading order (Keras), a
    Bidirectional's merged outputs; Dropout, GaussianNoise and Masking are the identity on the steps read."""
    named = model.named_layers()
    last = max(k for k, (_, layer) in enumerate(named) if isinstance(layer, LSTM | Bidirectional))
    x: Any = row
    found = []
    for name, layer in named[: last + 1]:
        if isinstance(layer, Embedding):
            x = layer.embedding.weight.detach().double().numpy()[x]
        elif isinstance(layer, LSTM):
            values = lstm_equations(layer, x)
            found.append((name, "backward" if layer.go_backwards else "forward", values))
            x = values["hidden"][::-1] if layer.go_backwards else values["hidden"]
        elif isinstance(layer, Bidirectional):
            ahead, back = lstm_equations(layer.forward_layer, x), lstm_equations(layer.backward_layer, x)
            found += [(name, "forward", ahead), (name, "backward", back)]
            x = MERGES[str(layer.merge_mode)](ahead["hidden"], back["hidden"])
        else:
            assert isinstance(layer, Dropout | GaussianNoise | Masking), f"no NumPy oracle for {type(layer).__name__}"
            x = np.asarray(x, dtype=np.float64)
    return found


def assert_equations(model: Sequential, found: Inspection, rows: list[np.ndarray]) -> None:
    """Each sequence's values equal `stack_equations` of its unpadded row, at the row's positions."""
    assert len(found.sequences) == len(rows)
    for sequence, row in zip(found.sequences, rows, strict=True):
        np.testing.assert_array_equal(sequence.inputs, row)
        want = stack_equations(model, row)
        assert [(d.layer, d.direction) for d in sequence.directions] == [(n, d) for n, d, _ in want]
        for got, (_, _, values) in zip(sequence.directions, want, strict=True):
            for name in GATES:
                np.testing.assert_allclose(got.values[name], values[name], **EXACT, err_msg=f"{got.layer} {name}")


def refused(call: Callable[[], object], *parts: str) -> None:
    """`call` raises a ValueError of one line that says what was expected and what was received, with `parts`."""
    with pytest.raises(ValueError, match=r"^[^\n]*xpected[^\n]*\. Received: [^\n]*$") as err:
        call()
    for part in parts:
        assert part in str(err.value), str(err.value)


# ------------------------------------------------------------------------------------------------ batches
def pad(rows: list[torch.Tensor], steps: int, *, left: bool, fill: float = 0.0) -> torch.Tensor:
    """Rows (n_i,) or (n_i, D) in a (B, steps[, D]) batch, padded with `fill` on the right or the left."""
    batch = torch.full((len(rows), steps, *rows[0].shape[1:]), fill, dtype=rows[0].dtype)
    for k, row in enumerate(rows):
        if left:
            batch[k, steps - len(row) :] = row
        else:
            batch[k, : len(row)] = row
    return batch


def value_rows(lengths: list[int], features: int, seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, features, generator=gen) for n in lengths]


def id_rows(lengths: list[int], vocab: int, seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(1, vocab, (n,), generator=gen) for n in lengths]


def small_text(**options: Any) -> Sequential:
    return build_model("text-bilstm-pool", vocab_size=50, max_len=12, units=4, embed_dim=6, **options)


def user_bidirectional() -> Sequential:
    layers = [LSTM(5, return_sequences=True, go_backwards=True), Bidirectional(LSTM(3), merge_mode="ave"), Dense(2)]
    return Sequential(layers, input_shape=(None, 2))


def user_stack() -> Sequential:
    return Sequential([LSTM(5, return_sequences=True), LSTM(3, go_backwards=True), Dense(2)], input_shape=(None, 2))


BI = [("bidirectional", "forward"), ("bidirectional", "backward")]

# name: (the model, whether it reads ids, its time steps, the rows' lengths, the directions in the order they run)
MODELS: dict[str, tuple[Callable[[], Sequential], bool, int, list[int], list[tuple[str, str]]]] = {
    "tutorial-bilstm": (lambda: build_model("tutorial-bilstm"), False, 10, [10, 6, 1], BI),
    "tutorial-bilstm-sum-reference": (
        lambda: build_model("tutorial-bilstm", merge_mode="sum", impl="reference", steps=None),
        False,
        9,
        [9, 4],
        BI,
    ),
    "text-bilstm-pool": (small_text, True, 12, [12, 7, 1], BI),
    "text-bilstm-pool-depth-2": (
        lambda: small_text(depth=2, pooling="last"),
        True,
        12,
        [12, 5],
        [*BI, ("bidirectional_1", "forward"), ("bidirectional_1", "backward")],
    ),
    "series-bilstm": (
        lambda: build_model("series-bilstm", features=3, units=4, num_classes=3, noise=0.1),
        False,
        8,
        [8, 3, 5],
        BI,
    ),
    "user-lstm-bidirectional": (user_bidirectional, False, 7, [7, 4, 2], [("lstm", "backward"), *BI]),
    "user-two-lstms": (user_stack, False, 7, [7, 4, 2], [("lstm", "forward"), ("lstm_1", "backward")]),
}


def model_and_rows(name: str, seed: int = 0) -> tuple[Sequential, list[torch.Tensor], int, bool]:
    build, reads_ids, steps, lengths, _ = MODELS[name]
    torch.manual_seed(seed)
    model = build().eval()
    features = model.input_shape[-1] if not reads_ids else None
    rows = id_rows(lengths, 50, seed) if reads_ids else value_rows(lengths, int(features or 1), seed)
    return model, rows, steps, reads_ids


def inspect_rows(
    model: Sequential, rows: list[torch.Tensor], width: int, reads_ids: bool, *, left: bool, **options: Any
) -> Inspection:
    """`inspect` of the rows padded into one batch of `width` steps: ids padded with 0 (the lengths derived from
    it), values padded with a value that must never matter, their lengths given."""
    if reads_ids:
        return inspect(model, pad(rows, width, left=left), **options)
    batch = pad(rows, width, left=left, fill=7.0)
    lengths = [len(row) for row in rows]
    return inspect(model, batch, lengths, padding_side="left" if left else "right", **options)


# ------------------------------------------------------------------------------------------------ the equations
@pytest.mark.parametrize("left", [False, True], ids=["right", "left"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_value_of_every_direction_is_the_lstm_equations(name: str, left: bool) -> None:
    model, rows, steps, reads_ids = model_and_rows(name)
    found = inspect_rows(model, rows, steps, reads_ids, left=left, methods=())
    assert [(layer, direction) for layer, direction, _ in found.directions()] == MODELS[name][4]
    for sequence, row in zip(found.sequences, rows, strict=True):
        start = steps - len(row) if left else 0
        np.testing.assert_array_equal(sequence.positions, np.arange(start, start + len(row)))
    assert_equations(model, found, [row.numpy() for row in rows])


@pytest.mark.parametrize("name", ["series_backwards_pre", "qa5_pre"])
def test_a_model_written_by_keras_2_is_inspected_exactly(name: str, tmp_path: Path) -> None:
    # files Keras 2 wrote (tests/keras2/make_files.py), with the predictions it made on left-padded inputs: a Masking
    # by value before a go_backwards LSTM and a softmax; an Embedding(mask_zero=True) before a Bi-LSTM and a sigmoid
    assert main(["import-keras", str(KERAS2 / f"keras2_{name}.h5"), "--out", str(tmp_path / "run")]) == 0
    model = load_run(tmp_path / "run").model
    arrays = np.load(KERAS2 / f"keras2_{name}.npz", allow_pickle=False)
    x, keras_probabilities = torch.from_numpy(arrays["x"]), arrays["y"]
    reads_ids = not x.is_floating_point()
    found = inspect(model, x.long() if reads_ids else x, steps=8)
    rows = [r[r != 0] if reads_ids else r[np.any(r != 0, axis=-1)] for r in arrays["x"]]
    assert {len(r) for r in rows} != {x.shape[1]}, "some rows are padded"
    assert_equations(model, found, [r.astype(np.int64) if reads_ids else r for r in rows])
    for sequence, want in zip(found.sequences, keras_probabilities, strict=True):
        want = np.concatenate([1 - want, want]) if want.shape[-1] == 1 else want
        np.testing.assert_allclose(sequence.probabilities, want, atol=1e-5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Sequential:
    """A run trained by `lstmlab train` (tutorial-bilstm on the cumulative-sum task), loaded back."""
    folder = tmp_path_factory.mktemp("trained")
    argv = ["train", "--task", "cumsum", "--updates", "150", "--test-size", "20", "--seed", "0"]
    assert main([*argv, "--out", str(folder / "run")]) == 0
    return load_run(folder / "run").model


def test_a_trained_run_is_inspected_exactly(trained: Sequential) -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(3, 10, 1, generator=gen)
    found = inspect(trained, x, steps=8)
    assert_equations(trained, found, list(x.numpy()))
    with torch.no_grad():
        p = torch.sigmoid(trained(x))[..., 0].numpy()  # (B, T)
    for sequence, row in zip(found.sequences, p, strict=True):
        np.testing.assert_allclose(sequence.probabilities, np.stack([1 - row, row], axis=-1), atol=1e-6)


# ------------------------------------------------------------------------------------------------ padding
PADDED = ["tutorial-bilstm-sum-reference", "text-bilstm-pool", "series-bilstm", "user-lstm-bidirectional"]


@pytest.mark.parametrize("left", [False, True], ids=["right", "left"])
@pytest.mark.parametrize("name", PADDED)
def test_a_padded_batch_inspects_as_each_sequence_alone(name: str, left: bool) -> None:
    model, rows, steps, reads_ids = model_and_rows(name, seed=1)
    batch = inspect_rows(model, rows, steps, reads_ids, left=left, steps=16)
    for sequence, row in zip(batch.sequences, rows, strict=True):
        # alone: ids still fill the model's fixed length, right-padded; values are the row itself
        alone_input = pad([row], steps, left=False) if reads_ids else row[None]
        (alone,) = inspect(model, alone_input, steps=16).sequences
        np.testing.assert_array_equal(sequence.positions - sequence.positions[0], alone.positions)
        np.testing.assert_array_equal(sequence.inputs, alone.inputs)
        np.testing.assert_allclose(sequence.probabilities, alone.probabilities, **SAME)
        assert (sequence.predicted, sequence.target, sequence.target_step) == (
            alone.predicted,
            alone.target,
            alone.target_step,
        )
        for got, want in zip(sequence.directions, alone.directions, strict=True):
            assert (got.layer, got.direction) == (want.layer, want.direction)
            for gate in GATES:
                np.testing.assert_allclose(got.values[gate], want.values[gate], **SAME)
        assert sorted(sequence.attributions) == ["integrated_gradients", "occlusion"]
        for method, scores in sequence.attributions.items():
            np.testing.assert_allclose(scores, alone.attributions[method], **SAME, err_msg=method)
        np.testing.assert_allclose(sequence.score, alone.score, **SAME)
        np.testing.assert_allclose(sequence.baseline_score, alone.baseline_score, **SAME)


# ------------------------------------------------------------------------------------------------ outputs
@pytest.mark.parametrize("name", ["text-bilstm-pool", "series-bilstm", "tutorial-bilstm-sum-reference"])
def test_inspecting_changes_no_output_and_gives_the_models_probabilities(name: str) -> None:
    model, rows, steps, reads_ids = model_and_rows(name, seed=2)
    x = pad(rows, steps, left=False, fill=0.0 if reads_ids else 3.0)
    lengths = None if reads_ids else torch.tensor([len(r) for r in rows])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        logits = model(x, lengths)
    model.train()  # dropout on: inspect answers in evaluation mode and gives the mode back
    found = inspect(model, x, lengths, steps=8)
    assert model.training
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x, lengths), logits)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    for k, sequence in enumerate(found.sequences):
        answer = logits[k, torch.from_numpy(sequence.positions)] if logits.dim() == 3 else logits[k]
        if answer.shape[-1] == 1:
            p = torch.sigmoid(answer)
            want = torch.cat([1 - p, p], dim=-1)
        else:
            want = torch.softmax(answer, dim=-1)
        np.testing.assert_allclose(sequence.probabilities, want.numpy(), atol=1e-6)
        assert sequence.predicted == int(want[-1].argmax() if want.dim() == 2 else want.argmax())


def test_an_ensemble_answers_as_one_and_traces_the_member_asked_for() -> None:
    torch.manual_seed(4)
    members = [small_text(), small_text()]
    pair = Ensemble(members).eval()
    ids = pad(id_rows([12, 6], 50, seed=4), 12, left=False)
    found = inspect(pair, ids, member=1, steps=32)
    assert found.member == 1
    alone = [inspect(member, ids, steps=32) for member in members]
    with torch.no_grad():
        logits = pair(ids)[:, 0]
    p = torch.sigmoid(logits)
    for k, sequence in enumerate(found.sequences):
        for got, want in zip(sequence.directions, alone[1].sequences[k].directions, strict=True):
            for gate in GATES:
                np.testing.assert_allclose(got.values[gate], want.values[gate], **EXACT)
        assert not np.allclose(
            sequence.directions[0].values["cell"], alone[0].sequences[k].directions[0].values["cell"]
        )
        np.testing.assert_allclose(sequence.probabilities, [1 - float(p[k]), float(p[k])], atol=1e-6)
        assert not np.allclose(sequence.probabilities, alone[1].sequences[k].probabilities, atol=1e-4)
        # the score explained is the ensemble's: its logit, read toward the predicted class
        logit = float(logits[k])
        np.testing.assert_allclose(sequence.score, logit if sequence.target == 1 else -logit, atol=1e-5)
        assert sequence.completeness_gap is not None and abs(sequence.completeness_gap) < 1e-3
    first = inspect(pair, ids, member=0, methods=())
    np.testing.assert_allclose(
        first.sequences[0].directions[1].values["hidden"], alone[0].sequences[0].directions[1].values["hidden"], **EXACT
    )
    for member in (2, -1, True):
        refused(lambda m=member: inspect(pair, ids, member=m), "Expected a member in 0..1", f"member={member!r}")


# ------------------------------------------------------------------------------------------------ per-step models
def test_a_per_step_model_explains_its_last_step_or_the_step_asked_for() -> None:
    torch.manual_seed(5)
    model = build_model("tutorial-lstm", steps=None).eval()  # forward only: step k reads positions 0..k
    rows = value_rows([8, 5], 1, seed=5)
    for left in (False, True):
        batch = pad(rows, 8, left=left, fill=2.0)
        side = "left" if left else "right"
        with torch.no_grad():
            logits = model(batch, [8, 5], padding_side=side)[..., 0]  # (B, T)
        for step, want_steps in [(None, [7, 4]), (2, [2, 2]), (-2, [6, 3]), (-5, [3, 0])]:
            found = inspect(model, batch, [8, 5], padding_side=side, step=step, steps=32)
            for k, sequence in enumerate(found.sequences):
                assert sequence.target_step == want_steps[k]
                position = sequence.positions[sequence.target_step]
                logit = float(logits[k, position])
                assert sequence.predicted == int(logit > 0) == sequence.target
                assert sequence.probabilities.shape == (len(rows[k]), 2)
                np.testing.assert_allclose(sequence.score, logit if logit > 0 else -logit, atol=1e-6)
                for method, scores in sequence.attributions.items():
                    # what comes after the step explained cannot move it; what comes before does
                    assert np.all(scores[sequence.target_step + 1 :] == 0), method
                    assert np.all(scores[: sequence.target_step + 1] != 0), method
    batch = pad(rows, 8, left=False)
    for step in (5, -6, 1.5):
        refused(
            lambda s=step: inspect(model, batch, [8, 5], step=s),
            "Expected a step in -5..4 (the shortest sequence has 5 steps)",
            f"step={step!r}",
        )


# ------------------------------------------------------------------------------------------------ refusals
def test_a_sequence_data_with_lengths_given_twice_is_refused() -> None:
    x = torch.rand(2, 10, 1)
    data = SequenceData(x, torch.zeros(2, 10, dtype=torch.long), torch.tensor([10, 4]))
    model = build_model("tutorial-bilstm").eval()
    (first, second) = inspect(model, data, methods=()).sequences
    assert (len(first.positions), len(second.positions)) == (10, 4)
    refused(lambda: inspect(model, data, [10, 4]), "both")


REFUSALS: dict[str, tuple[Callable[[], object], tuple[str, ...]]] = {
    "no LSTM": (
        lambda: inspect(Sequential([Flatten(), Dense(1)], input_shape=(4, 1)), torch.rand(1, 4, 1)),
        ("Expected a model with an LSTM layer", "Flatten, Dense"),
    ),
    "stateful": (lambda: inspect(build_model("qa-stateful"), torch.rand(1, 1, 1)), ("not stateful", "stateful LSTM")),
    "unknown method": (
        lambda: inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 1), methods=("saliency",)),
        ("integrated_gradients", "occlusion", "saliency"),
    ),
    "methods as one string": (
        lambda: inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 1), methods="occlusion"),
        ("among", "'occlusion'"),
    ),
    "target out of range": (
        lambda: inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 1), target=2),
        ("target class in 0..1", "target=2"),
    ),
    "target of a softmax out of range": (
        lambda: inspect(build_model("series-bilstm", units=4, num_classes=3), torch.rand(1, 6, 1), target=-1),
        ("target class in 0..2", "target=-1"),
    ),
    "no integration steps": (
        lambda: inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 1), steps=0),
        ("positive number of integration steps", "Received: 0"),
    ),
    "wrong input shape": (
        lambda: inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 2)),
        ("input of shape (B, 10, 1)", "shape=(1, 10, 2)"),
    ),
    "ids outside the vocabulary": (
        lambda: inspect(small_text(), torch.full((1, 12), 50)),
        ("50",),
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_input_is_refused_in_one_line(case: str) -> None:
    call, parts = REFUSALS[case]
    refused(call, *parts)
