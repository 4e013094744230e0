"""`inspect`: what a model computed for each of its inputs, every LSTM value at every step, and how much each input
position moved its prediction.

The gates, candidate, cell and hidden state come from `layers.recording()` (exact, whichever kernel ran); the
prediction from the model's own forward pass; the attributions from `attributions.py`, on the vectors the first
recurrent layer's stack reads: a text model's embedding (each ensemble member's own), a series model's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..data import SequenceData
from ..layers import (
    GATES,
    LSTM,
    Bidirectional,
    DirectionTrace,
    Embedding,
    Lengths,
    PaddingSide,
    recording,
)
from ..models import Ensemble, Sequential, combine_logits, first_member
from .attributions import Attributed, integrated_gradients, occlusion
from .settings import METHODS, STEPS

__all__ = [
    "DirectionValues",
    "Inspection",
    "ModelScore",
    "SequenceInspection",
    "check_inspectable",
    "direction_names",
    "inspect",
]


@dataclass(frozen=True)
class DirectionValues:
    """One LSTM direction's values over one sequence.

    Attributes:
        layer: the layer's Keras name, as `summary()` shows it ("bidirectional", "lstm_1").
        direction: "forward" or "backward" (the direction that reads from the last step to the first).
        values: each of `GATES` ("input_gate", ..., "hidden") as (n, H), at the sequence's n positions in input
            order: a backward direction's value at position t is the one it computed on reading step t.
    """

    layer: str
    direction: str
    values: dict[str, np.ndarray]

    @property
    def units(self) -> int:
        return int(self.values["hidden"].shape[1])


@dataclass(frozen=True)
class SequenceInspection:
    """One input sequence: what the model read, what it answered, and what its cells did.

    Attributes:
        positions: (n,), the steps of the (padded) input that the model read, in order.
        inputs: the ids (n,) or values (n, D) at those steps.
        probabilities: (C,) for the sequence, or (n, C) per step for per-step models; C >= 2 (a sigmoid's
            probability p is given as [1 - p, p]).
        predicted: the predicted class (for per-step models, at `target_step`).
        target: the class whose score the attributions explain.
        target_step: per-step models: the index into `positions` of the step explained; None otherwise.
        directions: every LSTM direction of the inspected model (an ensemble's chosen member), in the order they ran.
        attributions: each method's (n,) share of each position (see `METHODS`).
        score: f(x), the score explained: the target class's logit (for one sigmoid logit, the logit, negated for
            class 0); baseline_score: f(baseline), the score of all-zero vectors (Integrated Gradients only).
    """

    positions: np.ndarray
    inputs: np.ndarray
    probabilities: np.ndarray
    predicted: int
    target: int
    target_step: int | None
    directions: list[DirectionValues]
    attributions: dict[str, np.ndarray] = field(default_factory=dict)
    score: float = float("nan")
    baseline_score: float | None = None

    @property
    def completeness_gap(self) -> float | None:
        """`sum(integrated_gradients) - (score - baseline_score)`: zero for exact Integrated Gradients; its size is
        the integration error (more steps make it smaller)."""
        if "integrated_gradients" not in self.attributions or self.baseline_score is None:
            return None
        return float(self.attributions["integrated_gradients"].sum() - (self.score - self.baseline_score))


@dataclass(frozen=True)
class Inspection:
    """`inspect`'s answer: one `SequenceInspection` per input row.

    Attributes:
        sequences: in the input's order.
        member: the ensemble member whose cells were traced (0 for one model).
        steps: Integrated Gradients' integration steps (0 when it did not run).
    """

    sequences: list[SequenceInspection]
    member: int = 0
    steps: int = 0

    def directions(self) -> list[tuple[str, str, int]]:
        """(layer, direction, units) of every traced direction, in the order they ran."""
        if not self.sequences:
            return []
        return [(d.layer, d.direction, d.units) for d in self.sequences[0].directions]


def direction_names(model: Sequential) -> dict[int, tuple[str, str]]:
    """`id(lstm)` -> (its layer's Keras name, "forward" or "backward") for every LSTM direction of `model`."""
    names: dict[int, tuple[str, str]] = {}
    for name, layer in model.named_layers():
        if isinstance(layer, Bidirectional):
            names[id(layer.forward_layer)] = (name, "forward")
            names[id(layer.backward_layer)] = (name, "backward")
        elif isinstance(layer, LSTM):
            names[id(layer)] = (name, "backward" if layer.go_backwards else "forward")
    return names


class ModelScore:
    """A model's logits and target scores on the vectors its layers after the first Embedding read (a text model:
    each member's embedding of the ids; a series model: the values), for rows of a checked batch.

    Args:
        model: a `Sequential` or an `Ensemble` (its answer: the mean of its members' probabilities).
        lengths: the batch's checked lengths (None: no row padded).
        steps: the batch's time steps.
    """

    def __init__(self, model: Sequential, lengths: Lengths | None, steps: int) -> None:
        members = list(model.members) if isinstance(model, Ensemble) else [model]
        self.members: list[Sequential] = [m for m in members if isinstance(m, Sequential)]
        self.lengths, self.steps = lengths, steps
        self.reads_ids = isinstance(first_member(model).layers[0], Embedding)
        self.target: Tensor | None = None  # (B,) classes, set by `choose`
        self.step: Tensor | None = None  # (B,) steps of per-step logits, set by `choose`

    def parts(self, x: Tensor) -> list[Tensor]:
        """What the score differentiates: each member's embedding of ids, or the values once."""
        if self.reads_ids:
            return [_embedding(member).lookup(x) for member in self.members]
        return [x]

    def logits(self, parts: Sequence[Tensor], rows: Tensor) -> Tensor:
        """The model's logits (R, [T,] C) for rows of parts, each row read over its batch row's length."""
        lengths = self.lengths
        if lengths is not None:  # the rows' own lengths, checked already
            values = None if lengths.values is None else lengths.values[rows]
            lengths = Lengths(values=values, batch=rows.shape[0], steps=self.steps, left=lengths.left)
        answers = []
        for k, member in enumerate(self.members):
            if self.reads_ids:
                answers.append(member.run_embedded(parts[k], lengths))
            else:
                answers.append(member.run_checked(parts[0], lengths))
        return combine_logits(torch.stack(answers)) if len(answers) > 1 else answers[0]

    def choose(self, logits: Tensor, target: int | None, step: int | None) -> None:
        """Fix what the score reads: the class (`target`, or each row's predicted class) at the step (`step`, or
        each row's last step read; per-step logits only)."""
        rows = torch.arange(logits.shape[0], device=logits.device)
        if logits.dim() == 2 and step is not None:
            raise ValueError(
                f"Expected no step for a model with one answer per sequence (a step is explained only where the model "
                f"answers at every step). Received: step={step!r}"
            )
        if logits.dim() == 3:
            last = _last_steps(self.lengths, logits.shape[0], self.steps, logits.device)
            self.step = last if step is None else _step_of(step, self.lengths, logits.shape[0], self.steps, last)
            logits = logits[rows, self.step]
        classes = max(2, logits.shape[-1])
        if target is not None:
            if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target < classes:
                raise ValueError(f"Expected a target class in 0..{classes - 1}. Received: target={target!r}")
            self.target = torch.full((logits.shape[0],), target, dtype=torch.long, device=logits.device)
        elif logits.shape[-1] == 1:
            self.target = (logits[:, 0] > 0).long()
        else:
            self.target = logits.argmax(dim=-1)

    def __call__(self, parts: Sequence[Tensor], rows: Tensor) -> Tensor:
        """(R,): the chosen class's logit at the chosen step (for one sigmoid logit: the logit, negated for class 0)."""
        assert self.target is not None, "choose() first"
        logits = self.logits(parts, rows)
        picked = torch.arange(rows.shape[0], device=rows.device)
        if logits.dim() == 3:
            assert self.step is not None
            logits = logits[picked, self.step[rows]]
        target = self.target[rows]
        if logits.shape[-1] == 1:
            return torch.where(target == 1, logits[:, 0], -logits[:, 0])
        return logits[picked, target]


def inspect(
    model: Sequential,
    inputs: Tensor | SequenceData,
    lengths: Tensor | Sequence[int] | None = None,
    *,
    padding_side: PaddingSide | None = None,
    member: int = 0,
    target: int | None = None,
    step: int | None = None,
    methods: Sequence[str] = METHODS,
    steps: int = STEPS,
) -> Inspection:
    """Every LSTM value at every step of each input sequence, the model's prediction, and how much each position
    moved it.

    Args:
        model: a `Sequential` with at least one LSTM (a preset, a model of yours, an imported or trained one's
            `SavedRun.model`), or an `Ensemble`: its members' mean answers, and member `member`'s cells are traced.
        inputs: ids (B, T) or values (B, T, D), or a `SequenceData` (its lengths and padding side are used).
        lengths: the valid steps of each row, as for the model's call.
        padding_side: where the padding of each row is, as for the model's call.
        target: the class to explain (default: each sequence's predicted class).
        step: per-step models: the step to explain, counted over each sequence's steps read (default: its last).
        methods: the attribution methods to run, of `METHODS` (none: `()`).
        steps: Integrated Gradients' integration steps (Gauss-Legendre nodes, Captum's default rule).

    Raises:
        ValueError: on a model with no LSTM, a stateful model, a member, target or step out of range, an unknown
            method, or any input the model's call rejects.

    Example:
        >>> import torch
        >>> from lstmlab.models import build_model
        >>> found = inspect(build_model("tutorial-bilstm"), torch.rand(1, 10, 1))
        >>> for d in found.sequences[0].directions:
        ...     print(d.layer, d.direction, d.values["cell"].shape)
        bidirectional forward (10, 20)
        bidirectional backward (10, 20)
    """
    if isinstance(inputs, SequenceData):
        if lengths is not None:
            raise ValueError("Expected lengths in the SequenceData or as lengths=, not both. Received: both")
        data = inputs
        inputs, lengths, padding_side = data.x, data.lengths, padding_side or data.padding_side
    check_inspectable(model, member, methods)
    traced = model.members[member] if isinstance(model, Ensemble) else model
    assert isinstance(traced, Sequential)
    was_training = model.training
    model.eval()
    try:
        checked = first_member(model).check_call(inputs, lengths, padding_side=padding_side)
        with recording() as traces, torch.no_grad():
            answer = traced.run_checked(inputs, checked)
        score = ModelScore(model, checked, inputs.shape[1] if inputs.dim() > 1 else 1)
        with torch.no_grad():
            parts = score.parts(inputs)
            if isinstance(model, Ensemble):  # the members' mean answer; one model answered while it was traced
                answer = score.logits(parts, torch.arange(inputs.shape[0], device=inputs.device))
        logits = answer
        if logits.dim() not in (2, 3):
            raise ValueError(
                f"Expected a model answering (batch, classes) or (batch, steps, classes). Received: logits of shape "
                f"{tuple(logits.shape)}"
            )
        score.choose(logits, target, step)
        baselines = [torch.zeros_like(part) for part in parts]
        found: dict[str, Attributed] = {}
        if "integrated_gradients" in methods:
            found["integrated_gradients"] = integrated_gradients(score, parts, baselines, steps=steps)
        if "occlusion" in methods:
            found["occlusion"] = occlusion(score, parts, baselines, None if checked is None else checked.mask())
    finally:
        model.train(was_training)
    names = direction_names(traced)
    mask = None if checked is None else checked.mask()
    sequences = [_sequence(row, inputs, mask, logits, score, traces, names, found) for row in range(inputs.shape[0])]
    return Inspection(sequences, member, steps if "integrated_gradients" in methods else 0)


def _embedding(model: Sequential) -> Embedding:
    first = model.layers[0]
    assert isinstance(first, Embedding)
    return first


def check_inspectable(model: Sequential, member: int = 0, methods: Sequence[str] = METHODS) -> None:
    """Raise a one-line ValueError unless `inspect` can look inside `model`: an lstmlab model with an LSTM, not
    stateful, `member` one of its members and `methods` known."""
    if not isinstance(model, Sequential):
        raise ValueError(f"Expected an lstmlab Sequential or Ensemble. Received: {type(model).__name__}")
    size = len(model.members) if isinstance(model, Ensemble) else 1
    if not isinstance(member, int) or isinstance(member, bool) or not 0 <= member < size:
        raise ValueError(f"Expected a member in 0..{size - 1}. Received: member={member!r}")
    if not any(isinstance(m, LSTM) for m in model.modules()):
        kinds = ", ".join(type(layer).__name__ for layer in first_member(model).layers)
        raise ValueError(f'Expected a model with an LSTM layer to inspect. Received: model "{model.name}" of {kinds}')
    if any(isinstance(m, LSTM) and m.stateful for m in model.modules()):
        raise ValueError(
            f"Expected a model that is not stateful (inspecting would change the state it carries). Received: model "
            f'"{model.name}" with a stateful LSTM'
        )
    unknown = [m for m in methods if m not in METHODS]
    if unknown or isinstance(methods, str):
        raise ValueError(f"Expected attribution methods among {list(METHODS)}. Received: {methods!r}")


def _last_steps(lengths: Lengths | None, rows: int, steps: int, device: torch.device) -> Tensor:
    """(B,): each row's last step read in the padded input."""
    if lengths is None or lengths.values is None or lengths.left:
        return torch.full((rows,), steps - 1, dtype=torch.long, device=device)
    return lengths.values - 1


def _step_of(step: int, lengths: Lengths | None, rows: int, steps: int, last: Tensor) -> Tensor:
    """(B,): step `step` of each row's steps read (negative: from its last), in the padded input."""
    counts = last.new_full((rows,), steps) if lengths is None or lengths.values is None else lengths.values
    shortest = int(counts.min())
    if not isinstance(step, int) or isinstance(step, bool) or not -shortest <= step < shortest:
        raise ValueError(
            f"Expected a step in {-shortest}..{shortest - 1} (the shortest sequence has {shortest} steps). "
            f"Received: step={step!r}"
        )
    first = last - counts + 1
    return first + step if step >= 0 else last + 1 + step


def _sequence(
    row: int,
    inputs: Tensor,
    mask: Tensor | None,
    logits: Tensor,
    score: ModelScore,
    traces: list[DirectionTrace],
    names: dict[int, tuple[str, str]],
    found: dict[str, Attributed],
) -> SequenceInspection:
    """Row `row`'s values at the positions it reads."""
    steps = inputs.shape[1]
    positions = torch.arange(steps) if mask is None else mask[row].nonzero()[:, 0].cpu()
    directions = []
    for number, trace in enumerate(traces):
        layer, direction = names.get(
            id(trace.layer), (f"lstm_direction_{number}", "backward" if trace.backwards else "forward")
        )
        values = {name: getattr(trace, name)[row, positions].float().cpu().numpy() for name in GATES}
        directions.append(DirectionValues(layer, direction, values))
    answer = logits[row].float()
    probabilities = torch.sigmoid(answer) if answer.shape[-1] == 1 else torch.softmax(answer, dim=-1)
    if answer.shape[-1] == 1:
        probabilities = torch.cat([1 - probabilities, probabilities], dim=-1)
    assert score.target is not None
    target_step = None
    if answer.dim() == 2:
        assert score.step is not None
        probabilities = probabilities[positions.to(probabilities.device)]
        target_step = int((positions == int(score.step[row].cpu())).nonzero()[0, 0])
        predicted = int(probabilities[target_step].argmax())
    else:
        predicted = int(probabilities.argmax())
    attributions = {name: a.scores[row, positions].float().cpu().numpy() for name, a in found.items()}
    explained = found.get("integrated_gradients") or found.get("occlusion")
    baseline = found.get("integrated_gradients")
    return SequenceInspection(
        positions=positions.numpy(),
        inputs=inputs[row, positions].cpu().numpy(),
        probabilities=probabilities.cpu().numpy(),
        predicted=predicted,
        target=int(score.target[row]),
        target_step=target_step,
        directions=directions,
        attributions=attributions,
        score=float(explained.at_input[row]) if explained is not None else float("nan"),
        baseline_score=None if baseline is None or baseline.at_baseline is None else float(baseline.at_baseline[row]),
    )
