"""Statistics of a model's cells over a data set: how often each gate saturates (below 0.1, above 0.9: the measure
of "Visualizing and Understanding Recurrent Networks"), the mean forget gate, the units most correlated with a
feature of each step, and the gradient of the loss with respect to each input step by its distance from the end of
the direction that reads it (how far back the model can learn).

Every figure counts the steps each sequence reads only (padding is left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data import SequenceData
from ..layers import LSTM, Bidirectional, recording
from ..models import Ensemble, Sequential
from ..training import loss as loss_of
from .inspection import direction_names

__all__ = ["HIGH", "LOW", "TOP_UNITS", "cell_statistics", "step_features"]

LOW, HIGH = 0.1, 0.9  # a gate below LOW is left-saturated (closed), above HIGH right-saturated (open)
TOP_UNITS = 5  # units listed per feature, by |r|
SATURATED = ("input_gate", "forget_gate", "output_gate")


def step_features(data: SequenceData) -> dict[str, np.ndarray]:
    """The features every step has, (N, T) each: "position" (steps read before it, from 0) and "label" (the
    sequence's class, or the step's for per-step targets)."""
    x, lengths = data.x, data.lengths
    count, steps = x.shape[:2]
    index = torch.arange(steps).expand(count, steps)
    if lengths is not None and data.padding_side == "left":
        index = index - (steps - lengths)[:, None]
    label = data.y if data.y.dim() == 2 else data.y[:, None].expand(count, steps)
    return {"position": index.double().numpy(), "label": label.double().numpy()}


def cell_statistics(
    model: Sequential,
    data: SequenceData,
    *,
    member: int = 0,
    features: Mapping[str, np.ndarray] | None = None,
    batch_size: int = 64,
    source: str = "",
) -> dict[str, Any]:
    """Saturation, mean forget gate, correlations and gradient by distance of `model` over `data`, as the JSON of an
    inspection's "statistics" (document.py):

        {"sequences": N, "steps": steps read, "source": source,
         "directions": [{"layer", "direction", "units",
                         "saturation": {gate: {"low": [H], "high": [H]}}, "mean_forget": [H],
                         "correlations": {feature: [H]}, "top_units": {feature: [[unit, r], ...]}}],
         "gradient_by_distance": [{"layer", "direction", "distance": [D], "mean_norm": [D], "count": [D]}]}

    Correlations are Pearson's r between each unit's hidden state and the feature over every step read (0 where
    either is constant). The gradient is that of the loss of each sequence's answer (per-step models: its last
    step's), with respect to the vectors the first recurrent layer reads, its norm per step; for a Bi-LSTM that
    concatenates its directions, each direction's share alone (the gradient that flows back through its half of
    the output); otherwise one line, "both".

    Args:
        model: a `Sequential` or an `Ensemble` (member `member` is measured).
        data: the sequences, with their labels.
        features: (N, T) values per step to correlate with; default `step_features(data)`.
    """
    size = len(model.members) if isinstance(model, Ensemble) else 1
    if not isinstance(member, int) or isinstance(member, bool) or not 0 <= member < size:
        raise ValueError(f"Expected a member in 0..{size - 1}. Received: member={member!r}")
    measured = model.members[member] if isinstance(model, Ensemble) else model
    if not isinstance(measured, Sequential):
        raise ValueError(f"Expected a Sequential model or an ensemble's member. Received: {type(measured).__name__}")
    if len(data) < 1:
        raise ValueError("Expected at least one sequence for statistics. Received: none")
    features = step_features(data) if features is None else dict(features)
    for name, values in features.items():
        if np.shape(values) != tuple(data.x.shape[:2]):
            raise ValueError(
                f"Expected feature {name!r} of shape {tuple(data.x.shape[:2])} (sequences, steps). Received: "
                f"{np.shape(values)}"
            )
    names = direction_names(measured)
    was_training = measured.training
    measured.eval()
    totals: dict[tuple[str, str], _Totals] = {}
    gradients: dict[tuple[str, str], _Distances] = {}
    try:
        for begin in range(0, len(data), batch_size):
            batch = data.take(torch.arange(begin, min(len(data), begin + batch_size)))
            rows = slice(begin, begin + len(batch))
            checked = measured.check_call(batch.x, batch.lengths, padding_side=batch.padding_side)
            with recording() as traces, torch.no_grad():
                measured.run_checked(batch.x, checked)
            mask = None if checked is None else checked.mask()
            valid = torch.ones(batch.x.shape[:2], dtype=torch.bool) if mask is None else mask.cpu()
            for trace in traces:
                key = names.get(id(trace.layer), ("lstm", "backward" if trace.backwards else "forward"))
                totals.setdefault(key, _Totals(features))
                totals[key].add(trace.values(), valid, rows)
            for key, norms in _step_gradients(measured, batch, checked, names).items():
                gradients.setdefault(key, _Distances()).add(norms, valid, key[1])
    finally:
        measured.train(was_training)
    return {
        "sequences": len(data),
        "steps": int(sum(t.steps for t in list(totals.values())[:1])),
        "source": source,
        "directions": [{"layer": k[0], "direction": k[1], **t.result()} for k, t in totals.items()],
        "gradient_by_distance": [{"layer": k[0], "direction": k[1], **g.result()} for k, g in gradients.items()],
    }


class _Totals:
    """Running sums of one direction over the batches."""

    def __init__(self, features: Mapping[str, np.ndarray]) -> None:
        self.features = features
        self.steps = 0
        self.low: dict[str, np.ndarray] = {}
        self.high: dict[str, np.ndarray] = {}
        self.forget: np.ndarray | None = None
        self.hidden: list[np.ndarray] = []  # (steps read, H) per batch, for the correlations
        self.chosen: dict[str, list[np.ndarray]] = {name: [] for name in features}

    def add(self, values: dict[str, Tensor], valid: Tensor, rows: slice) -> None:
        picked = {name: v[valid].double().cpu().numpy() for name, v in values.items()}  # (steps read, H)
        self.steps += int(valid.sum())
        for gate in SATURATED:
            self.low[gate] = self.low.get(gate, 0) + (picked[gate] < LOW).sum(axis=0)
            self.high[gate] = self.high.get(gate, 0) + (picked[gate] > HIGH).sum(axis=0)
        forget = picked["forget_gate"].sum(axis=0)
        self.forget = forget if self.forget is None else self.forget + forget
        self.hidden.append(picked["hidden"])
        for name, feature in self.features.items():
            self.chosen[name].append(np.asarray(feature)[rows][valid.numpy()])

    def result(self) -> dict[str, Any]:
        assert self.forget is not None
        steps = max(1, self.steps)
        hidden = np.concatenate(self.hidden)
        correlations = {name: _pearson(hidden, np.concatenate(parts)) for name, parts in self.chosen.items()}
        top = {
            name: [[int(u), float(r[u])] for u in np.argsort(-np.abs(r), kind="stable")[:TOP_UNITS]]
            for name, r in correlations.items()
        }
        return {
            "units": int(hidden.shape[1]),
            "saturation": {
                gate: {"low": (self.low[gate] / steps).tolist(), "high": (self.high[gate] / steps).tolist()}
                for gate in SATURATED
            },
            "mean_forget": (self.forget / steps).tolist(),
            "correlations": {name: r.tolist() for name, r in correlations.items()},
            "top_units": top,
        }


def _pearson(units: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """(H,): Pearson's r of each column of `units` (S, H) with `feature` (S,); 0 where either is constant."""
    u = units - units.mean(axis=0)
    f = feature - feature.mean()
    scale = np.sqrt((u**2).sum(axis=0) * (f**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0, (u * f[:, None]).sum(axis=0) / np.where(scale > 0, scale, 1.0), 0.0)
    return np.asarray(r)


class _Distances:
    """Sums of gradient norms by distance from the end of a direction's reading."""

    def __init__(self) -> None:
        self.sums: np.ndarray = np.zeros(0)
        self.counts: np.ndarray = np.zeros(0, dtype=np.int64)

    def add(self, norms: Tensor, valid: Tensor, direction: str) -> None:
        """norms, valid: (B, T). The forward direction (and "both") ends at a row's last step read, the backward
        one at its first."""
        valid_np, norms_np = valid.numpy(), norms.double().cpu().numpy()
        for row in range(valid_np.shape[0]):
            steps = np.flatnonzero(valid_np[row])
            along = norms_np[row, steps]
            by_distance = along if direction == "backward" else along[::-1]
            if len(by_distance) > len(self.sums):
                grow = len(by_distance) - len(self.sums)
                self.sums = np.concatenate([self.sums, np.zeros(grow)])
                self.counts = np.concatenate([self.counts, np.zeros(grow, dtype=np.int64)])
            self.sums[: len(by_distance)] += by_distance
            self.counts[: len(by_distance)] += 1

    def result(self) -> dict[str, Any]:
        return {
            "distance": list(range(len(self.sums))),
            "mean_norm": (self.sums / np.maximum(self.counts, 1)).tolist(),
            "count": self.counts.tolist(),
        }


def _first_recurrent(model: Sequential) -> tuple[str, nn.Module] | None:
    """The first LSTM or Bidirectional layer (by its Keras name): the one that reads the input steps."""
    for name, layer in model.named_layers():
        if isinstance(layer, LSTM | Bidirectional):
            return name, layer
    return None


def _step_gradients(
    model: Sequential, batch: SequenceData, checked: Any, names: dict[int, tuple[str, str]]
) -> dict[tuple[str, str], Tensor]:
    """Per direction of the first recurrent layer, the norm (B, T) of the loss's gradient with respect to each step
    of the vectors it reads."""
    found = _first_recurrent(model)
    if found is None:
        return {}
    name, layer = found
    seen: dict[str, Tensor] = {}

    def read(_: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        seen["input"] = args[0].detach().requires_grad_()
        return (seen["input"], *args[1:])

    def wrote(_: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        seen["output"] = output

    hooks = [layer.register_forward_pre_hook(read), layer.register_forward_hook(wrote)]
    try:
        with torch.enable_grad():
            logits = model.run_checked(batch.x, checked)
            targets = batch.y
            if logits.dim() == 3:  # per-step answers: the loss of each row's last step read
                last = _last_read(checked, logits.shape[0], logits.shape[1])
                rows = torch.arange(logits.shape[0])
                logits = logits[rows, last]
                targets = targets[rows, last] if targets.dim() == 2 else targets
            # the sum of each sequence's loss: each gradient is that of its own sequence's loss, whatever the batch
            value = loss_of(logits, targets.to(logits.device)) * logits.shape[0]
            output, vectors = seen["output"], seen["input"]
            (upstream,) = torch.autograd.grad(value, output, retain_graph=True)
            shares: dict[tuple[str, str], Tensor] = {}
            if isinstance(layer, Bidirectional) and layer.merge_mode == "concat":
                units = upstream.shape[-1] // 2
                for direction, half in (("forward", slice(0, units)), ("backward", slice(units, None))):
                    part = torch.zeros_like(upstream)
                    part[..., half] = upstream[..., half]
                    (grad,) = torch.autograd.grad(output, vectors, part, retain_graph=True)
                    shares[(name, direction)] = grad.norm(dim=-1)
            else:
                (grad,) = torch.autograd.grad(output, vectors, upstream)
                direction = "both" if isinstance(layer, Bidirectional) else names.get(id(layer), (name, "forward"))[1]
                shares[(name, direction)] = grad.norm(dim=-1)
    finally:
        for hook in hooks:
            hook.remove()
    return {key: norms.detach() for key, norms in shares.items()}


def _last_read(checked: Any, rows: int, steps: int) -> Tensor:
    if checked is None or checked.values is None or checked.left:
        return torch.full((rows,), steps - 1, dtype=torch.long)
    values: Tensor = checked.values.cpu() - 1
    return values
