"""A saved run answering requests: raw inputs (texts, series, or sequences of numbers or token ids) checked and
encoded one request at a time, several requests' rows run as one padded batch, each request's answers cut back out.

Padding changes no answer in lstmlab (each row is read over its own length), so a request answered inside a batch
gets what it gets alone, and what `lstmlab predict` prints for the same inputs.

An explain request is checked and encoded the same way, then made a `RunInputs` (each step labelled: the word, or
the values as sent) and inspected alone (`lstmlab.explain`): its answer is `lstmlab inspect`'s JSON document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data import SequenceData, SeriesScaler, TextEncoder
from ..explain import STEPS
from ..explain.command import inspect_document
from ..explain.inputs import PAD_TOKEN, RunInputs, sequence_inputs, text_inputs, value_labels
from ..layers import Embedding
from ..models import Streamer, check_streamable, first_member
from ..runs import SavedRun, load_run

__all__ = ["Encoded", "Predictor", "input_field"]


def input_field(kind: str) -> str:
    """The request field that carries the inputs of a run of `kind`."""
    return {"text": "texts", "series": "series"}.get(kind, "sequences")


@dataclass
class Encoded:
    """One request's rows, ready to batch: inputs (n, width, ...) right-padded and lengths (n,)."""

    x: Tensor
    lengths: Tensor


def _steps(item: Any, number: int, what: str, channels: int | None) -> np.ndarray:
    """One series or sequence of values from JSON (a list of steps, each a number or a list of numbers) as (T, D)."""
    try:
        values = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"Expected {what} {number} as a list of steps, each a number or a list of numbers of one length. "
            "Received: a ragged or non-numeric list"
        ) from None
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2 or len(values) == 0:
        raise ValueError(
            f"Expected {what} {number} as a non-empty list of steps (numbers, or lists of numbers). Received: shape "
            f"{values.shape}"
        )
    if channels is not None and values.shape[1] != channels:
        raise ValueError(f"Expected {channels} value(s) per step in {what} {number}. Received: {values.shape[1]}")
    if not np.isfinite(values).all():
        raise ValueError(f"Expected finite values in {what} {number}. Received: NaN or infinity")
    return values


class Predictor:
    """A saved run's model in evaluation mode on `device`, with its encoder, answering batches of requests.

    Args:
        run: a run directory (text, series, task or imported).
        device: where the model runs ("cpu", "cuda", ...).
    """

    def __init__(self, run: Path, device: str = "cpu") -> None:
        saved = load_run(run)
        self.saved: SavedRun = saved
        self.device = torch.device(device)
        self.model = saved.model.to(self.device).eval()
        self.kind = saved.kind
        self.field = input_field(saved.kind)
        self.text: TextEncoder | None = None
        self.scaler: SeriesScaler | None = None
        if saved.kind in ("text", "series"):
            _, encoder = saved.data
            if isinstance(encoder, TextEncoder):
                self.text = encoder
            else:
                self.scaler = encoder
        self.classes = saved.classes
        self.tokens = isinstance(first_member(self.model).layers[0], Embedding)
        self.per_step = len(self.model.output_shape) == 2
        shape = self.model.input_shape
        self.channels = None if self.tokens else shape[-1]
        self.steps = shape[0] if shape else None  # a fixed number of steps, or None
        self.streamer: Streamer | None = None
        self.stream_refusal: str | None = None
        try:
            check_streamable(self.model)
            self.streamer = Streamer(self.model, capacity=1024)  # its own copy of the weights, in NumPy
        except ValueError as error:
            self.stream_refusal = str(error)

    # ------------------------------------------------------------------------------------------ encoding
    def encode(self, inputs: Sequence[Any]) -> Encoded:
        """One request's inputs, checked (one line naming the first bad one) and encoded.

        Raises:
            ValueError: on no inputs, an empty text, a series with NaN or the wrong channel count, ids outside the
                vocabulary, or more steps than a fixed-length model reads.
        """
        if not isinstance(inputs, list) or not inputs:
            raise ValueError(f"Expected a non-empty list in {self.field!r}. Received: {type(inputs).__name__}")
        if self.text is not None:
            if not all(isinstance(t, str) for t in inputs):
                raise ValueError(
                    f"Expected texts (strings) in 'texts'. Received: {sorted({type(t).__name__ for t in inputs})}"
                )
            ids, lengths = self.text.encode(list(inputs))
            return Encoded(ids, lengths if lengths is not None else torch.full((len(inputs),), ids.shape[1]))
        if self.scaler is not None:
            x, lengths = self.scaler.transform(self._series(inputs), "the request")
            return self._fixed(x, lengths)
        if self.tokens:
            return self._ids(inputs)
        values = [_steps(item, n + 1, "sequence", self.channels) for n, item in enumerate(inputs)]
        lengths = torch.tensor([len(v) for v in values])
        x = torch.zeros(len(values), int(lengths.max()), values[0].shape[1])
        for row, v in enumerate(values):
            x[row, : len(v)] = torch.from_numpy(v)
        return self._fixed(x, lengths)

    def _series(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        assert self.scaler is not None
        return [_steps(item, n + 1, "series", self.scaler.channels) for n, item in enumerate(inputs)]

    def _ids(self, inputs: Sequence[Any]) -> Encoded:
        first = first_member(self.model).layers[0]
        assert isinstance(first, Embedding)
        rows = []
        for number, item in enumerate(inputs, start=1):
            if (
                not isinstance(item, list)
                or not item
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in item)
            ):
                raise ValueError(
                    f"Expected sequence {number} as a non-empty list of integer token ids. Received: {item!r:.60}"
                )
            if min(item) < 0 or max(item) >= first.input_dim:
                raise ValueError(
                    f"Expected ids in 0..{first.input_dim - 1} in sequence {number}. Received: {min(item)}..{max(item)}"
                )
            rows.append(item)
        lengths = torch.tensor([len(r) for r in rows])
        ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
        for row, item in enumerate(rows):
            ids[row, : len(item)] = torch.tensor(item)
        return self._fixed(ids, lengths)

    def _fixed(self, x: Tensor, lengths: Tensor) -> Encoded:
        """Inputs widened to a model's fixed number of steps (refused when longer)."""
        if self.steps is None:
            return Encoded(x, lengths)
        if x.shape[1] > self.steps:
            raise ValueError(f"Expected at most {self.steps} steps (the model's input length). Received: {x.shape[1]}")
        pad = torch.zeros(x.shape[0], self.steps - x.shape[1], *x.shape[2:], dtype=x.dtype)
        return Encoded(torch.cat([x, pad], dim=1), lengths)

    # ------------------------------------------------------------------------------------------- running
    def run(self, parts: Sequence[Encoded]) -> list[dict[str, Any]]:
        """Several requests' rows as one padded batch; each request's answer: labels and probabilities (over
        `classes`, per row, or per valid step for a model with a class per step)."""
        width = max(p.x.shape[1] for p in parts)
        x = torch.cat([torch.nn.functional.pad(p.x, self._pad(p.x, width)) for p in parts]).to(self.device)
        lengths = torch.cat([p.lengths for p in parts]).to(self.device)
        with torch.inference_mode():
            logits = self.model(x, lengths)
            one = logits.shape[-1] == 1
            p = torch.sigmoid(logits) if one else torch.softmax(logits, dim=-1)
            probabilities = torch.cat([1 - p, p], dim=-1) if one else p
        table = probabilities.double().cpu().numpy()
        answers, start = [], 0
        for part in parts:
            rows = table[start : start + len(part.lengths)]
            start += len(part.lengths)
            if self.per_step:
                cut = [r[: int(n)] for r, n in zip(rows, part.lengths, strict=True)]
                answers.append(
                    {
                        "labels": [[self.classes[int(c)] for c in r.argmax(-1)] for r in cut],
                        "probabilities": [r.tolist() for r in cut],
                    }
                )
            else:
                answers.append(
                    {"labels": [self.classes[int(c)] for c in rows.argmax(-1)], "probabilities": rows.tolist()}
                )
        return answers

    @staticmethod
    def _pad(x: Tensor, width: int) -> tuple[int, ...]:
        extra = width - x.shape[1]
        return (0, 0, 0, extra) if x.dim() == 3 else (0, extra)

    # ---------------------------------------------------------------------------------------- explaining
    def explain_inputs(self, inputs: Sequence[Any]) -> RunInputs:
        """One explain request's inputs, checked and encoded as `encode` does (the same one-line errors), each step
        labelled: a text's words, a series' values as sent, a sequence's values or ids.

        Raises:
            ValueError: as `encode`.
        """
        encoded = self.encode(inputs)
        source = "POST /explain"
        if self.text is not None:
            return text_inputs(self.saved, list(inputs), source)
        data = SequenceData(encoded.x, torch.zeros(len(encoded.lengths), dtype=torch.long), encoded.lengths)
        if self.scaler is not None:  # labelled by the values sent, not the standardised ones the model reads
            width = encoded.x.shape[1]
            tokens = [value_labels(v) + [PAD_TOKEN] * (width - len(v)) for v in self._series(inputs)]
            return RunInputs(data, tokens, None, "series", source)
        return sequence_inputs(data, self.tokens, source)

    def explain(
        self, inputs: RunInputs, *, methods: Sequence[str], steps: int = STEPS, trace: bool = False
    ) -> dict[str, Any]:
        """`inspect_document` of `inputs` (from `explain_inputs`) on this model: attributions by `methods` (with
        `steps` Integrated Gradients steps), the prediction, and with `trace` every LSTM value. Gradients flow: run it
        outside `torch.inference_mode`, in the thread that owns the model."""
        data = inputs.data
        lengths = None if data.lengths is None else data.lengths.to(self.device)
        moved = replace(inputs, data=replace(data, x=data.x.to(self.device), lengths=lengths))
        return inspect_document(self.saved, moved, methods=methods, steps=steps, trace=trace)

    # ----------------------------------------------------------------------------------------- streaming
    def stream(self, ids: list[Any], values: Any) -> dict[str, Any]:
        """Advance live streams by one step (`Streamer.step`), a series run's values standardised first."""
        if self.streamer is None:
            raise ValueError(str(self.stream_refusal))
        if self.scaler is not None:
            raw = np.asarray(values, dtype=np.float64)
            if raw.ndim == 1 and self.scaler.channels == 1:
                raw = raw.reshape(-1, 1)
            if raw.ndim != 2 or raw.shape[1] != self.scaler.channels:
                raise ValueError(
                    f"Expected one row of {self.scaler.channels} value(s) per stream. Received: shape {raw.shape}"
                )
            values = self.scaler.transform(list(raw[:, None, :]), "the streams")[0][:, 0].numpy()  # one step each
        elif self.tokens:
            values = np.asarray(values)
        probabilities = self.streamer.step(ids, values, probabilities=True)
        if probabilities.shape[-1] == 1:
            probabilities = np.concatenate([1 - probabilities, probabilities], axis=-1)
        return {
            "labels": [self.classes[int(c)] for c in probabilities.argmax(-1)],
            "probabilities": probabilities.astype(np.float64).tolist(),
        }

    def describe(self) -> dict[str, Any]:
        """What `GET /model` answers: the model, its classes and inputs, and the run's training figures."""
        description = self.saved.description
        metrics_path = self.saved.directory / "metrics.json"
        figures: dict[str, Any] = {}
        if metrics_path.is_file():
            test = json.loads(metrics_path.read_text()).get("test", {})
            figures = {k: test[k] for k in ("accuracy", "loss", "count") if k in test and _plain(test[k])}
        model = description.get("model", {})
        return {
            "run": str(self.saved.directory),
            "kind": self.kind,
            "preset": model.get("preset"),
            "ensemble": model.get("ensemble", 1),
            "classes": list(self.classes),
            "input": self.field,
            "channels": self.channels,
            "per_step": self.per_step,
            "streaming": self.streamer is not None,
            "parameters": self.model.count_params(),
            "training": description.get("train", {}),
            "test": figures,
            "device": str(self.device),
        }


def _plain(value: Any) -> bool:
    return isinstance(value, int | str) or (isinstance(value, float) and math.isfinite(value))
