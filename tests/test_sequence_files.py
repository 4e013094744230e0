"""Sequences from files (lstmlab/runs/sequence_files.py): text lines and .npz arrays as a model's batch,
with hand-written expected batches; bad files refused in one line naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lstmlab.layers import LSTM, Dense, Embedding, Masking, TimeDistributed
from lstmlab.models import Sequential
from lstmlab.runs.sequence_files import Reads, labelled_file, model_reads, sequences_file


def values_model(features: int = 2, steps: int | None = None) -> Sequential:
    return Sequential([LSTM(3), Dense(1)], input_shape=(steps, features))


def test_model_reads_its_inputs_and_answers() -> None:
    ids = Sequential([Embedding(9, 2), LSTM(3), Dense(4)], input_shape=(None,))
    steps = Sequential([LSTM(3, return_sequences=True), TimeDistributed(Dense(1))], input_shape=(None, 1))
    assert model_reads(ids) == Reads(tokens=True, per_step=False, labels=("0", "1", "2", "3"))
    assert model_reads(steps) == Reads(tokens=False, per_step=True, labels=("0", "1"))


def test_text_lines_hold_d_values_a_step_and_labels_first(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text("1, 1 2 3 4\n\n0, 5 6\n")
    data = labelled_file(path, values_model(), model_reads(values_model()))
    expected = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [0.0, 0.0]]])
    assert torch.equal(data.x, expected)
    assert data.y.tolist() == [1, 0] and data.lengths is not None and data.lengths.tolist() == [2, 1]
    path.write_text("1 2 3\n")
    with pytest.raises(
        ValueError,
        match=r"^Expected 2 values a step \(the model's features\), step after step\. Received: 3 values on sequence 1$",
    ):
        sequences_file(path, values_model(), model_reads(values_model()))


@pytest.mark.parametrize(
    "y",
    [np.array([1, 0, 2]), np.array([[1], [0], [2]]), np.eye(3)[[1, 0, 2]], np.array([1.0, 0.0, 2.0])],
    ids=["ids", "column", "one-hot", "whole-floats"],
)
def test_npz_targets_as_keras_users_hold_them(tmp_path: Path, y: np.ndarray) -> None:
    model = Sequential([LSTM(3), Dense(3)], input_shape=(4, 1))
    np.savez(tmp_path / "xy.npz", x=np.ones((3, 4)), y=y)
    data = labelled_file(tmp_path / "xy.npz", model, model_reads(model))
    assert data.x.shape == (3, 4, 1) and data.x.dtype == torch.float32
    assert data.y.tolist() == [1, 0, 2] and data.lengths is None


def test_npz_lengths_and_ids(tmp_path: Path) -> None:
    model = Sequential([Embedding(9, 2, mask_zero=True), LSTM(3), Dense(1)], input_shape=(None,))
    np.savez(tmp_path / "ids.npz", x=np.array([[0, 0, 3], [4, 5, 6]], dtype="int32"), lengths=np.array([3, 3]))
    data = sequences_file(tmp_path / "ids.npz", model, model_reads(model))
    assert data.x.dtype == torch.long and data.lengths is not None and data.lengths.tolist() == [3, 3]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.ones((2, 3, 2)), "lengths": np.array([0, 3])}, r"Expected lengths \(N,\) of integers in 1\.\.3"),
        ({"x": np.full((1, 3, 2), np.nan)}, r"Expected finite numbers in x"),
        ({"x": np.ones(3)}, r"Expected x of numbers \(N, T, D\)"),
        ({"y": np.ones(3)}, r"Expected an array x of inputs"),
    ],
)
def test_bad_arrays_are_one_line(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    np.savez(tmp_path / "a.npz", **arrays)
    with pytest.raises(ValueError, match=message) as error:
        sequences_file(tmp_path / "a.npz", values_model(), model_reads(values_model()))
    assert "\n" not in str(error.value) and str(tmp_path / "a.npz") in str(error.value)


def test_a_per_step_model_is_scored_from_arrays_only(tmp_path: Path) -> None:
    model = Sequential([LSTM(3, return_sequences=True), TimeDistributed(Dense(1))], input_shape=(None, 1))
    (tmp_path / "rows.txt").write_text("1, 0.5 0.2\n")
    with pytest.raises(ValueError, match=r"^Expected an \.npz file \(x, and y with a class per step\)"):
        labelled_file(tmp_path / "rows.txt", model, model_reads(model))
    np.savez(tmp_path / "xy.npz", x=np.ones((2, 3)), y=np.array([[0, 1, 1], [1, 1, 0]]))
    assert labelled_file(tmp_path / "xy.npz", model, model_reads(model)).y.shape == (2, 3)
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(ValueError, match=r"^Expected an \.npz file of arrays at .*bad\.npz\. Received: unreadable"):
        sequences_file(tmp_path / "bad.npz", model, model_reads(model))


@pytest.mark.parametrize("left", [False, True])
def test_per_step_targets_of_masked_rows_are_scored_at_their_valid_steps(tmp_path: Path, left: bool) -> None:
    model = Sequential([Masking(-1.0), LSTM(3, return_sequences=True), TimeDistributed(Dense(1))], input_shape=(4, 1))
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, -1.0, -1.0]])
    if left:
        x[1] = [-1.0, -1.0, 5.0, 6.0]
    np.savez(tmp_path / "xy.npz", x=x, y=np.array([[0, 1, 1, 0], [1, 0, 1, 1]]))
    data = labelled_file(tmp_path / "xy.npz", model, model_reads(model))
    assert (
        data.lengths is not None
        and data.lengths.tolist() == [4, 2]
        and data.padding_side == ("left" if left else "right")
    )
    scored = data.scored_lengths
    assert scored is not None
    if left:
        assert scored.tolist() == [[True] * 4, [False, False, True, True]]
    np.savez(tmp_path / "x.npz", x=x)  # predictions: the model derives its lengths itself
    assert sequences_file(tmp_path / "x.npz", model, model_reads(model)).lengths is None
