"""Cell statistics over a data set (lstmlab/explain/statistics.py), each figure against its own oracle: the values
of each sequence inspected alone (so padding is left out), NumPy's counts and correlations, and plain autograd on
each sequence for the gradient by distance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmlab.data import SequenceData
from lstmlab.explain import cell_statistics, inspect, step_features
from lstmlab.layers import LSTM, Bidirectional, Dense, Embedding, GlobalMaxPooling1D
from lstmlab.models import Sequential


def _text_model() -> Sequential:
    torch.manual_seed(0)
    layers = [Embedding(30, 6, mask_zero=True), Bidirectional(LSTM(5, return_sequences=True)), GlobalMaxPooling1D()]
    return Sequential([*layers, Dense(2)], input_shape=(None,)).eval()


def _texts(count: int = 12, seed: int = 1) -> SequenceData:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 10, (count,), generator=generator)
    ids = torch.randint(1, 30, (count, 9), generator=generator)
    ids[torch.arange(9)[None] >= lengths[:, None]] = 0
    return SequenceData(ids, torch.randint(0, 2, (count,), generator=generator), lengths)


def _alone(model: Sequential, data: SequenceData) -> list[dict[str, dict[str, np.ndarray]]]:
    """Each sequence inspected alone, unpadded: {direction: {quantity: (n, H)}}."""
    found = []
    for row in range(len(data)):
        n = int(data.lengths[row])
        sequence = inspect(model, data.x[row : row + 1, :n], methods=()).sequences[0]
        found.append({d.direction: d.values for d in sequence.directions})
    return found


def test_saturation_and_mean_forget_count_the_steps_read_only() -> None:
    model, data = _text_model(), _texts()
    statistics = cell_statistics(model, data, batch_size=5)
    alone = _alone(model, data)
    assert statistics["sequences"] == len(data) and statistics["steps"] == int(data.lengths.sum())
    for direction in statistics["directions"]:
        name = direction["direction"]
        for gate in ("input_gate", "forget_gate", "output_gate"):
            steps = np.concatenate([a[name][gate] for a in alone])
            np.testing.assert_allclose(direction["saturation"][gate]["low"], (steps < 0.1).mean(axis=0))
            np.testing.assert_allclose(direction["saturation"][gate]["high"], (steps > 0.9).mean(axis=0))
        forget = np.concatenate([a[name]["forget_gate"] for a in alone])
        np.testing.assert_allclose(direction["mean_forget"], forget.mean(axis=0), atol=1e-6)


def test_correlations_are_pearsons_r_over_the_steps_read() -> None:
    model, data = _text_model(), _texts()
    statistics = cell_statistics(model, data)
    alone = _alone(model, data)
    features = step_features(data)
    lengths = data.lengths.tolist()
    for direction in statistics["directions"]:
        hidden = np.concatenate([a[direction["direction"]]["hidden"] for a in alone])  # (steps read, H)
        for feature in ("position", "label"):
            values = np.concatenate([features[feature][row, :n] for row, n in enumerate(lengths)])
            expected = [np.corrcoef(hidden[:, u], values)[0, 1] for u in range(hidden.shape[1])]
            np.testing.assert_allclose(direction["correlations"][feature], expected, atol=1e-6)
            top = direction["top_units"][feature]
            assert [u for u, _ in top] == list(np.argsort(-np.abs(expected), kind="stable")[:5])


def test_a_feature_of_the_users_and_a_constant_one() -> None:
    model, data = _text_model(), _texts()
    running = data.x.double().cumsum(dim=1).numpy()
    statistics = cell_statistics(model, data, features={"running": running, "constant": np.ones(data.x.shape)})
    direction = statistics["directions"][0]
    assert set(direction["correlations"]) == {"running", "constant"}
    assert direction["correlations"]["constant"] == [0.0] * 5  # no variance, no correlation


def test_left_padding_positions_count_from_each_sequences_first_step() -> None:
    data = _texts()
    left = torch.zeros_like(data.x)
    for row, n in enumerate(data.lengths.tolist()):
        left[row, 9 - n :] = data.x[row, :n]
    features = step_features(SequenceData(left, data.y, data.lengths, padding_side="left"))
    for row, n in enumerate(data.lengths.tolist()):
        assert features["position"][row, 9 - n :].tolist() == list(range(n))


def _gradient_norms_alone(model: Sequential, data: SequenceData) -> list[np.ndarray]:
    """Each sequence alone: the norm at each step of the loss's gradient with respect to its embedding."""
    norms = []
    for row in range(len(data)):
        n = int(data.lengths[row])
        vectors = model.layers[0].lookup(data.x[row : row + 1, :n]).detach().requires_grad_()
        logits = model.run_embedded(vectors, None)
        loss = torch.nn.functional.cross_entropy(logits, data.y[row : row + 1])
        (grad,) = torch.autograd.grad(loss, vectors)
        norms.append(grad[0].norm(dim=-1).numpy())
    return norms


def test_gradient_by_distance_through_the_forward_direction_alone() -> None:
    model, data = _text_model(), _texts()
    with torch.no_grad():  # the backward direction reads nothing of its input: all the gradient goes forward
        model.layers[1].backward_layer.cell.weight_ih.zero_()
    statistics = cell_statistics(model, data, batch_size=4)
    lines = {line["direction"]: line for line in statistics["gradient_by_distance"]}
    assert set(lines) == {"forward", "backward"}
    assert max(lines["backward"]["mean_norm"]) == 0.0
    norms = _gradient_norms_alone(model, data)
    longest = max(len(n) for n in norms)
    sums, counts = np.zeros(longest), np.zeros(longest)
    for along in norms:  # distance from the last step read
        sums[: len(along)] += along[::-1]
        counts[: len(along)] += 1
    # each sequence's own loss, whatever the batch it was read in
    np.testing.assert_array_equal(lines["forward"]["count"], counts)
    assert lines["forward"]["distance"] == list(range(longest))
    np.testing.assert_allclose(lines["forward"]["mean_norm"], sums / counts, rtol=1e-4, atol=1e-9)
    again = cell_statistics(model, data, batch_size=12)["gradient_by_distance"][0]
    np.testing.assert_allclose(again["mean_norm"], lines["forward"]["mean_norm"], rtol=1e-5)


def test_a_one_direction_model_has_one_line_and_a_per_step_model_scores_its_last_step() -> None:
    torch.manual_seed(2)
    model = Sequential([LSTM(4, return_sequences=True), Dense(2)], input_shape=(None, 1)).eval()
    x = torch.rand(3, 6, 1)
    data = SequenceData(x, torch.randint(0, 2, (3, 6)), torch.tensor([6, 4, 2]))
    statistics = cell_statistics(model, data)
    (line,) = statistics["gradient_by_distance"]
    assert line["direction"] == "forward" and line["count"] == [3, 3, 2, 2, 1, 1]
    assert line["mean_norm"][0] > 0


def test_bad_input_is_one_line() -> None:
    model, data = _text_model(), _texts()
    with pytest.raises(ValueError, match=r"^Expected feature 'f' of shape \(12, 9\)") as error:
        cell_statistics(model, data, features={"f": np.zeros((12, 3))})
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=r"^Expected a member in 0..0\. Received: member=1$"):
        cell_statistics(model, data, member=1)


def test_the_backward_directions_distance_counts_from_the_first_step() -> None:
    model, data = _text_model(), _texts()
    with torch.no_grad():  # the forward direction reads nothing of its input: all the gradient goes backward
        model.layers[1].forward_layer.cell.weight_ih.zero_()
    lines = {line["direction"]: line for line in cell_statistics(model, data)["gradient_by_distance"]}
    assert max(lines["forward"]["mean_norm"]) == 0.0
    norms = _gradient_norms_alone(model, data)
    sums, counts = np.zeros(9), np.zeros(9)
    for along in norms:  # the backward direction ends at the first step
        sums[: len(along)] += along
        counts[: len(along)] += 1
    used = counts > 0
    np.testing.assert_allclose(np.array(lines["backward"]["mean_norm"]), (sums[used] / counts[used]), rtol=1e-4)
