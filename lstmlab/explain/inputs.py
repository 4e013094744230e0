"""What a saved run inspects: raw texts, a series of a file, a sample of its task, or a file of inputs, made a batch
for its model with a label for every step of each padded row (the word, the values, the id), so that a page can
name the positions the model read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import OOV, SequenceData, TextEncoder, is_aeon, lines, load_series, read_text
from ..runs import SavedRun
from ..runs.sequence_files import is_arrays, sequences_file

__all__ = [
    "PAD_TOKEN",
    "RunInputs",
    "file_inputs",
    "sample_inputs",
    "sequence_inputs",
    "series_inputs",
    "text_inputs",
    "value_labels",
]

PAD_TOKEN = "<pad>"  # the label of a padded step that a model reads (texts padded before, without lengths)


@dataclass(frozen=True)
class RunInputs:
    """Inputs made a batch for a run's model, and a label for every step of each row.

    Attributes:
        data: the batch (x, lengths, padding side; targets unknown unless the source gives them).
        tokens: per row, a label for each of its T steps (padding `PAD_TOKEN`), indexed by the positions read.
        known: texts: per row and step, whether the word is in the vocabulary; None otherwise.
        kind: "text", "series", "ids" or "values" (what the labels are).
        source: where the inputs came from, for the page and the JSON.
    """

    data: SequenceData
    tokens: list[list[str]]
    known: list[list[bool]] | None
    kind: str
    source: str


def text_inputs(run: SavedRun, texts: list[str], source: str = "--text") -> RunInputs:
    """Raw texts through a text run's encoder (as `lstmlab predict --text` reads them), each step labelled with its
    word as written after tokenising (a word the vocabulary lacks is read as the unknown id; `known` says so)."""
    encoder = _text_encoder(run)
    if not texts:
        raise ValueError("Expected at least one text to inspect. Received: none")
    data = encoder.unlabelled(texts)  # one line naming an empty text
    settings, steps = encoder.settings, data.x.shape[1]
    tokens, known = [], []
    for row, text in enumerate(texts):
        words = encoder.tokens(text)
        kept = words[-steps:] if settings.truncating == "pre" else words[:steps]
        padding = [PAD_TOKEN] * (steps - len(kept))
        tokens.append(padding + kept if settings.padding == "pre" else kept + padding)
        ids = data.x[row].tolist()
        known.append([token != PAD_TOKEN and i != OOV for token, i in zip(tokens[-1], ids, strict=True)])
    return RunInputs(data, tokens, known, "text", source)


def series_inputs(run: SavedRun, path: str, index: int | None = None) -> RunInputs:
    """The series of a .ts or .npz file (the one at `index`, from 0, or all), standardised by the run's scaler, each
    step labelled with its values as the file gives them."""
    encoder = run.data[1]
    if isinstance(encoder, TextEncoder):
        raise ValueError(f"Expected a run trained on series for --series. Received: {run.directory} read text")
    if is_aeon(path):
        raise ValueError(f"Expected a .ts or .npz file for --series. Received: {path}")
    series = load_series(path, labelled=False)
    values = series.values
    if index is not None:
        if not 0 <= index < len(values):
            raise ValueError(
                f"Expected --index in 0..{len(values) - 1} ({len(values)} series in {path}). Received: {index}"
            )
        values = [values[index]]
    data = encoder.unlabelled(values, series.source)
    steps = data.x.shape[1]
    tokens = [value_labels(v) + [PAD_TOKEN] * (steps - len(v)) for v in values]
    where = path if index is None else f"{path}, series {index}"
    return RunInputs(data, tokens, None, "series", where)


def sample_inputs(run: SavedRun, seed: int, count: int = 1) -> RunInputs:
    """`count` fresh examples of a task run's task, drawn by `seed` (their targets are known)."""
    task, config = run.task
    data = task.sample(config, count, torch.Generator().manual_seed(seed))
    return sequence_inputs(data, task.inputs == "tokens", f"{count} example(s) of {task.name}, seed {seed}")


def file_inputs(run: SavedRun, path: Path) -> RunInputs:
    """The inputs of a file: texts one a line (text runs), the series of a .ts or .npz file (series runs), or
    sequences of numbers or ids as `lstmlab predict --input` reads them (task runs, imported models)."""
    if run.kind == "text":
        if is_arrays(path) or not path.is_file():
            raise ValueError(f"Expected a text file of texts, one a line. Received: {path}")
        texts = [line for line in lines(read_text(path)) if line.strip()]
        if not texts:
            raise ValueError(f"Expected at least one text in {path}. Received: an empty file")
        return text_inputs(run, texts, str(path))
    if run.kind == "series":
        return series_inputs(run, str(path))
    reads = run.reads
    return sequence_inputs(sequences_file(path, run.model, reads), reads.tokens, str(path))


def _text_encoder(run: SavedRun) -> TextEncoder:
    encoder = run.data[1]
    if not isinstance(encoder, TextEncoder):
        raise ValueError(f"Expected a run trained on text for --text. Received: {run.directory} was trained on series")
    return encoder


def value_labels(values: np.ndarray) -> list[str]:
    """(T, D) values as a label a step: "0.42", or "0.42, 1.3" for several channels."""
    return [", ".join(f"{float(v):.4g}" for v in step) for step in np.asarray(values).reshape(len(values), -1)]


def sequence_inputs(data: SequenceData, tokens: bool, source: str) -> RunInputs:
    """Sequences of ids or values, each step labelled by its id or values."""
    x = data.x
    if tokens:
        labels = [[str(int(i)) for i in row] for row in x.tolist()]
    else:
        labels = [value_labels(row.numpy()) for row in x.reshape(x.shape[0], x.shape[1], -1)]
    if data.lengths is not None:  # right-padded rows: the steps past each length are padding
        for row, length in enumerate(data.lengths.tolist()):
            labels[row][length:] = [PAD_TOKEN] * (x.shape[1] - length)
    return RunInputs(data, labels, None, "ids" if tokens else "values", source)
