"""Sequences from files for `predict --input` and `evaluate --data`: text lines or NumPy arrays, made a batch for one
model (`SequenceData`).

Two formats, chosen by the file's suffix:

- `.npz` (NumPy's `np.savez`, read with `allow_pickle=False`, so loading runs no code): the arrays a Keras user
  already holds for `model.predict(x)` / `model.evaluate(x, y)`. `x`: token ids `(N, T)` (integers, padded as
  `pad_sequences` pads them), or values `(N, T, D)` (`(N, T)` when D is 1); `y` (evaluate): class ids `(N,)`, or
  `(N, T)` for a model with a class per step, also as `(N, [T,] 1)` or one-hot rows `(N, [T,] C)`; optional
  `lengths` `(N,)`: valid steps of right-padded rows (without them every step is read, as Keras reads an unmasked
  array, unless the model's first layer derives lengths: an `Embedding(mask_zero=True)` from padding id 0, a
  `Masking` from the steps of its mask value, on either side; per-step targets are then scored at the valid
  steps only, as Keras leaves masked steps out).
- any other file: text, one sequence a line, numbers (token ids) separated by commas or spaces, each row as if alone
  (right-padded here, with its length); D values per step for a model of D features, step after step. For
  evaluate, each line starts with its class label (`1, 0.5 0.2 0.9`); a per-step model is scored from `.npz` only.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import SequenceData, lines, read_text
from ..layers import Embedding
from ..models import Sequential

__all__ = ["ARRAY_KEYS", "Reads", "labelled_file", "model_reads", "pad_rows", "read_sequences", "sequences_file"]

ARRAY_KEYS = ("x", "y", "lengths")  # the arrays an .npz input may hold


@dataclass(frozen=True)
class Reads:
    """What a run's model reads and answers, for sequences given in files (task runs and imported models)."""

    tokens: bool  # token ids (an Embedding first), else numeric values
    per_step: bool  # a class for every step, else one per sequence
    labels: tuple[str, ...]  # class names by id


def model_reads(model: Sequential, labels: tuple[str, ...] | None = None) -> Reads:
    """What `model` reads and answers: token ids when an Embedding comes first, a class per step when its output
    keeps the time axis; classes named `labels`, or by their ids ("0", "1" for one logit)."""
    tokens = isinstance(model.layers[0], Embedding)
    classes = max(2, model.output_shape[-1] or 1)
    return Reads(tokens, len(model.output_shape) == 2, labels or tuple(str(k) for k in range(classes)))


# ----------------------------------------------------------------------------------------- text lines
def _numbers(path: Path, number: int, line: str, fields: list[str], tokens: bool) -> list[float]:
    """The numbers of one line (its fields), checked: finite, and non-negative integers for token ids."""
    try:
        values = [float(v) for v in fields]
    except ValueError:
        kind = "token ids" if tokens else "numbers"
        raise ValueError(
            f"Expected {kind} separated by commas or spaces in {path}:{number}. Received: {line!r}"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"Expected finite numbers in {path}:{number}. Received: {line!r}")
    if tokens and any(v != int(v) or not 0 <= v < 2**62 for v in values):
        raise ValueError(f"Expected non-negative integer token ids in {path}:{number}. Received: {line!r}")
    return values


def _lines(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, line, its fields) of each non-blank line."""
    if not path.is_file():
        raise ValueError(f"Expected an input file of sequences, one a line. Received: {path} does not exist")
    found = [
        (number, line, line.replace(",", " ").split())
        for number, line in enumerate(lines(read_text(path)), start=1)
        if line.strip()
    ]
    if not found:
        raise ValueError(f"Expected at least one sequence in {path}. Received: an empty file")
    return found


def read_sequences(path: Path, tokens: bool) -> list[list[float]]:
    """One sequence a line: numbers separated by commas or spaces (token ids for token models)."""
    return [_numbers(path, number, line, fields, tokens) for number, line, fields in _lines(path)]


def _read_labelled(path: Path, tokens: bool, labels: tuple[str, ...]) -> tuple[list[list[float]], list[int]]:
    """Lines `label, values...`: the rows and each row's class id (its label's place in `labels`)."""
    rows, targets = [], []
    for number, line, fields in _lines(path):
        if fields[0] not in labels:
            raise ValueError(
                f"Expected a class label in {list(labels)} first on each line of {path}:{number}. Received: "
                f"{fields[0]!r}"
            )
        if len(fields) < 2:
            raise ValueError(f"Expected a label and a sequence on {path}:{number}. Received: {line!r}")
        targets.append(labels.index(fields[0]))
        rows.append(_numbers(path, number, line, fields[1:], tokens))
    return rows, targets


def pad_rows(
    rows: list[list[float]], model: Sequential, tokens: bool, per_step: bool, targets: list[int] | None = None
) -> SequenceData:
    """Right-pad the rows to the model's input length (or the longest row) with their lengths; a row of a model of
    D features holds D values a step.

    A model that reads in pieces (stateful) takes rows of one length, a multiple of its piece, unpadded.
    `targets`: a class per row (unknown, zeros, when None).
    """
    features = 1 if tokens else model.input_shape[-1] or 1
    if features > 1:
        odd = next((i for i, row in enumerate(rows, start=1) if len(row) % features), None)
        if odd is not None:
            raise ValueError(
                f"Expected {features} values a step (the model's features), step after step. Received: "
                f"{len(rows[odd - 1])} values on sequence {odd}"
            )
    steps_of = [len(row) // features for row in rows]
    piece = model.input_shape[0] if model.stateful else None
    if piece is not None and (len(set(steps_of)) > 1 or steps_of[0] % piece):
        raise ValueError(
            f"Expected sequences of one length, a multiple of {piece}, for a stateful model. "
            f"Received: lengths {sorted(set(steps_of))}"
        )
    steps = max(steps_of) if piece is not None else model.input_shape[0] or max(steps_of)
    too_long = [i for i, length in enumerate(steps_of, start=1) if length > steps]
    if too_long:
        raise ValueError(
            f"Expected at most {steps} values a line (the model's input length). Received: line {too_long[0]}"
        )
    lengths = torch.tensor(steps_of)
    x = torch.zeros(len(rows), steps, features, dtype=torch.long if tokens else torch.float32)
    for i, row in enumerate(rows):
        x[i, : steps_of[i]] = torch.tensor(row, dtype=x.dtype).reshape(steps_of[i], features)
    if tokens:
        x = x[..., 0]
    if targets is None:  # unknown: placeholders
        y = torch.zeros(x.shape[:2] if per_step else x.shape[:1], dtype=torch.long)
    else:
        y = torch.tensor(targets)
    return SequenceData(x, y, None if bool((lengths == steps).all()) else lengths)


def _check_vocabulary(rows: list[list[float]], model: Sequential, path: Path) -> None:
    first = model.layers[0]
    if isinstance(first, Embedding):
        line = next((i for i, row in enumerate(rows, start=1) if max(row) >= first.input_dim), None)
        if line is not None:
            raise ValueError(
                f"Expected token ids in 0..{first.input_dim - 1} (the model's vocabulary) in {path}, sequence "
                f"{line}. Received: {int(max(rows[line - 1]))}"
            )


# ----------------------------------------------------------------------------------------- .npz arrays
def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, without unpickling anything (object arrays are refused)."""
    if not path.is_file():
        raise ValueError(f"Expected an .npz file of arrays. Received: {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"Expected an .npz file of arrays at {path}. Received: unreadable (not the zip np.savez writes)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            unknown = sorted(set(names) - set(ARRAY_KEYS))
            if unknown:
                raise ValueError(f"Expected arrays named in {list(ARRAY_KEYS)} in {path}. Received: {unknown}")
            return {name: archive[name] for name in names}
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"Expected an .npz file of arrays at {path}. Received: unreadable ({error})") from None
    except ValueError as error:
        if "pickle" in str(error):  # an object array, which only pickle could read
            raise ValueError(f"Expected numeric arrays in {path}. Received: an object array (refused)") from None
        raise


def _inputs(arrays: dict[str, np.ndarray], tokens: bool, path: Path) -> torch.Tensor:
    """`x` as the model's input: (N, T) integer ids, or (N, T, D) float32 values."""
    if "x" not in arrays:
        raise ValueError(f"Expected an array x of inputs in {path}. Received: {sorted(arrays)}")
    x = arrays["x"]
    if tokens:
        if x.ndim != 2 or x.dtype.kind not in "iu":
            raise ValueError(
                f"Expected x of integer token ids (N, T) in {path}. Received: {x.dtype} of shape {x.shape}"
            )
        return torch.from_numpy(x.astype(np.int64))
    if x.dtype.kind not in "iuf" or x.ndim not in (2, 3):
        raise ValueError(f"Expected x of numbers (N, T, D) in {path}. Received: {x.dtype} of shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"Expected finite numbers in x of {path}. Received: NaN or infinity")
    values = torch.from_numpy(x.astype(np.float32))
    return values.unsqueeze(-1) if values.dim() == 2 else values


def _lengths(arrays: dict[str, np.ndarray], x: torch.Tensor, path: Path) -> torch.Tensor | None:
    """The `lengths` array, else None (a model with a first Masking or Embedding(mask_zero=True) derives them)."""
    if "lengths" not in arrays:
        return None
    lengths = arrays["lengths"]
    steps = x.shape[1]
    if (
        lengths.shape != (x.shape[0],)
        or lengths.dtype.kind not in "iu"
        or not ((lengths >= 1) & (lengths <= steps)).all()
    ):
        raise ValueError(
            f"Expected lengths (N,) of integers in 1..{steps} in {path}. Received: {lengths.dtype} of shape "
            f"{lengths.shape}"
        )
    return torch.from_numpy(lengths.astype(np.int64))


def _targets(arrays: dict[str, np.ndarray], x: torch.Tensor, per_step: bool, classes: int, path: Path) -> torch.Tensor:
    """`y` as class ids (N,) or (N, T): from class ids (integers, or whole numbers as floats) or one-hot rows."""
    if "y" not in arrays:
        raise ValueError(f"Expected an array y of class ids in {path}. Received: {sorted(arrays)}")
    y = arrays["y"]
    shape = tuple(x.shape[:2]) if per_step else (x.shape[0],)
    if y.dtype.kind in "iufb" and y.ndim == len(shape) + 1 and y.shape[:-1] == shape:
        one_hot = y.shape[-1] == classes and ((y == 0) | (y == 1)).all() and (y.sum(axis=-1) == 1).all()
        if y.shape[-1] == 1:  # (N, 1), as Keras's binary models answer
            y = y[..., 0]
        elif one_hot:  # as categorical_crossentropy takes them
            y = y.argmax(axis=-1)
    if y.shape != shape or y.dtype.kind not in "iufb" or not np.isin(y, np.arange(classes)).all():
        raise ValueError(
            f"Expected y of class ids in 0..{classes - 1} of shape {shape} (or {(*shape, 1)}, or one-hot "
            f"{(*shape, classes)}) in {path}. Received: {y.dtype} of shape {y.shape}"
        )
    return torch.from_numpy(y.astype(np.int64))


# ----------------------------------------------------------------------------------------- either format
def is_arrays(path: Path) -> bool:
    return path.suffix.lower() == ".npz"


def sequences_file(path: Path, model: Sequential, reads: Reads) -> SequenceData:
    """The sequences of a file (text lines or `.npz`, see the module's description) as a batch for `model`, their
    targets unknown (zeros).

    Raises:
        ValueError: naming the file (and line) on anything the model cannot read.
    """
    if not is_arrays(path):
        rows = read_sequences(path, reads.tokens)
        _check_vocabulary(rows, model, path)
        return pad_rows(rows, model, reads.tokens, reads.per_step)
    arrays = _arrays(path)
    x = _inputs(arrays, reads.tokens, path)
    y = torch.zeros(x.shape[:2] if reads.per_step else x.shape[:1], dtype=torch.long)
    return SequenceData(x, y, _lengths(arrays, x, path))


def labelled_file(path: Path, model: Sequential, reads: Reads) -> SequenceData:
    """The sequences of a file and their classes (`reads.labels` name them; see the module's description).

    Raises:
        ValueError: naming the file (and line) on anything the model cannot read, or on an unknown class.
    """
    if not is_arrays(path):
        if reads.per_step:
            raise ValueError(
                f"Expected an .npz file (x, and y with a class per step) to score a model with a class per step. "
                f"Received: {path}"
            )
        rows, targets = _read_labelled(path, reads.tokens, reads.labels)
        _check_vocabulary(rows, model, path)
        return pad_rows(rows, model, reads.tokens, reads.per_step, targets)
    arrays = _arrays(path)
    x = _inputs(arrays, reads.tokens, path)
    y = _targets(arrays, x, reads.per_step, len(reads.labels), path)
    if reads.per_step and "lengths" not in arrays:
        return _scored_by_padding(model, x, y)
    return SequenceData(x, y, _lengths(arrays, x, path))


def _scored_by_padding(model: Sequential, x: torch.Tensor, y: torch.Tensor) -> SequenceData:
    """Per-step targets of rows whose padding the model's first layer marks (a `Masking` or an
    `Embedding(mask_zero=True)`): the lengths and side it derives, so that padded steps are not scored (Keras leaves
    masked steps out of its loss and metrics); every step otherwise."""
    checked = model.check_call(x)  # one device read where the first layer derives lengths, none otherwise
    if checked is None or checked.values is None:
        return SequenceData(x, y)
    return SequenceData(x, y, checked.values, checked.side)
