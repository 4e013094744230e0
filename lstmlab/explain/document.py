"""An inspection as plain JSON: what `lstmlab inspect` writes (`inspection.json`), its page reads and the server's
`POST /explain` answers.

The shape, version 1:

    {"format": "lstmlab-inspection", "version": 1, "model": "text-bilstm-pool", "classes": ["neg", "pos"],
     "inputs": "text" | "series" | "ids" | "values", "member": 0, "integration_steps": 50,
     "quantities": ["input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden"],
     "methods": ["integrated_gradients", "occlusion"],
     "directions": [{"layer": "bidirectional", "direction": "forward", "units": 64}, ...],
     "sequences": [
        {"tokens": ["the", "film", ...], "positions": [0, 1, ...], "known": [true, true, ...] (texts),
         "prediction": "pos", "probabilities": {"neg": 0.1, "pos": 0.9},
         "target": "pos", "score": 2.1, "baseline_score": 0.3, "completeness_gap": 1e-6,
         "steps": null | {"predictions": ["0", "1", ...], "probabilities": [[0.9, 0.1], ...], "target_step": 9},
         "attributions": {"integrated_gradients": [...], "occlusion": [...]},
         "layers": {"bidirectional": {"forward": {"input_gate": [[unit values] per position], ...}, ...}}},
        ...],
     "statistics": null | {...}}   (see statistics.py)

Every value list follows `positions`, the steps of the padded input the model read. Recorded values are rounded to
6 decimals (their error below 1e-6); attributions and scores are kept as computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..layers import GATES
from .inspection import Inspection, SequenceInspection
from .settings import METHODS

__all__ = ["FORMAT", "VERSION", "document", "sequence_document"]

FORMAT, VERSION = "lstmlab-inspection", 1


def document(
    inspection: Inspection,
    *,
    model: str,
    classes: Sequence[str],
    inputs: str,
    tokens: Sequence[Sequence[str]],
    known: Sequence[Sequence[bool]] | None = None,
    statistics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of `inspection`: `tokens` (and for texts `known`, whether each token is in the vocabulary) name
    each sequence's positions; `classes` name the classes by id."""
    if len(tokens) != len(inspection.sequences):
        raise ValueError(
            f"Expected the tokens of {len(inspection.sequences)} sequences. Received: tokens of {len(tokens)}"
        )
    methods = [m for m in METHODS if inspection.sequences and m in inspection.sequences[0].attributions]
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "classes": list(classes),
        "inputs": inputs,
        "member": inspection.member,
        "integration_steps": inspection.steps,
        "quantities": list(GATES),
        "methods": methods,
        "directions": [
            {"layer": layer, "direction": direction, "units": units}
            for layer, direction, units in inspection.directions()
        ],
        "sequences": [
            sequence_document(sequence, classes, list(tokens[row]), None if known is None else list(known[row]))
            for row, sequence in enumerate(inspection.sequences)
        ],
        "statistics": statistics,
    }


def sequence_document(
    sequence: SequenceInspection, classes: Sequence[str], tokens: list[str], known: list[bool] | None = None
) -> dict[str, Any]:
    """One sequence's part of `document`."""
    if len(tokens) != len(sequence.positions):
        raise ValueError(
            f"Expected a token for each of the {len(sequence.positions)} positions read. Received: {len(tokens)}"
        )
    names = _class_names(classes, sequence.probabilities.shape[-1])
    per_step = sequence.target_step is not None
    shown = sequence.probabilities[sequence.target_step] if per_step else sequence.probabilities
    layers: dict[str, dict[str, dict[str, list[list[float]]]]] = {}
    for direction in sequence.directions:
        layers.setdefault(direction.layer, {})[direction.direction] = {
            name: _rounded(values) for name, values in direction.values.items()
        }
    found: dict[str, Any] = {
        "tokens": tokens,
        "positions": sequence.positions.tolist(),
        "prediction": names[sequence.predicted],
        "probabilities": {name: float(p) for name, p in zip(names, shown, strict=True)},
        "target": names[sequence.target],
        "score": _number(sequence.score),
        "baseline_score": None if sequence.baseline_score is None else _number(sequence.baseline_score),
        "completeness_gap": None if sequence.completeness_gap is None else _number(sequence.completeness_gap),
        "steps": None,
        "attributions": {name: [float(v) for v in values] for name, values in sequence.attributions.items()},
        "layers": layers,
    }
    if known is not None:
        found["known"] = known
    if per_step:
        found["steps"] = {
            "predictions": [names[int(c)] for c in sequence.probabilities.argmax(axis=-1)],
            "probabilities": _rounded(sequence.probabilities),
            "target_step": sequence.target_step,
        }
    return found


def _class_names(classes: Sequence[str], count: int) -> list[str]:
    """The names of `count` classes: `classes` where it names them all, else their ids."""
    return list(classes) if len(classes) == count else [str(c) for c in range(count)]


def _rounded(values: np.ndarray) -> list[Any]:
    rounded: list[Any] = np.round(values.astype(np.float64), 6).tolist()
    return rounded


def _number(value: float) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    return float(value) if np.isfinite(value) else None
