"""Loss and accuracy on model logits, per sequence or per step, with padded steps left out.

Binary problems have one logit (sigmoid + binary cross-entropy, as the Keras models' sigmoid output); several
classes have one logit per class (softmax + cross-entropy). Nothing here knows about LSTMs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "Scores",
    "accuracy",
    "classes_from_logits",
    "classes_from_probabilities",
    "loss",
    "scores_of",
    "valid_targets",
]


def valid_targets(logits: Tensor, targets: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor]:
    """Flatten logits and targets to the scored items: (N, C) and (N,), padded steps removed.

    Shapes:
        per sequence: logits (B, C), targets (B,); per step: logits (B, T, C), targets (B, T), lengths (B,) of
        right-padded rows or a boolean (B, T) mask of the valid steps (`SequenceData.scored_lengths`).

    Raises:
        ValueError: if the shapes do not pair up, or lengths are given for per-sequence targets.
    """
    if logits.dim() != targets.dim() + 1 or tuple(logits.shape[:-1]) != tuple(targets.shape):
        raise ValueError(
            f"Expected logits shaped (*targets.shape, classes). "
            f"Received: logits {tuple(logits.shape)}, targets {tuple(targets.shape)}"
        )
    if lengths is None:
        return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    if targets.dim() != 2:
        raise ValueError(f"Expected per-step targets (B, T) with lengths. Received: targets {tuple(targets.shape)}")
    if lengths.dtype == torch.bool:
        valid = lengths.to(targets.device)  # (B, T), left-padded rows' valid steps
    else:
        valid = torch.arange(targets.shape[1], device=targets.device) < lengths.to(targets.device)[:, None]  # (B, T)
    return logits[valid], targets[valid]


def loss(logits: Tensor, targets: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Mean binary cross-entropy (one logit) or cross-entropy (one logit per class) over the scored items."""
    flat_logits, flat_targets = valid_targets(logits, targets, lengths)
    if flat_logits.shape[-1] == 1:
        return F.binary_cross_entropy_with_logits(flat_logits[:, 0], flat_targets.to(flat_logits.dtype))
    return F.cross_entropy(flat_logits, flat_targets.long())


def classes_from_logits(logits: Tensor) -> Tensor:
    """Class ids from logits (..., C): logit > 0 for one logit, argmax for several."""
    if logits.shape[-1] == 1:
        return (logits[..., 0] > 0).long()
    return logits.argmax(dim=-1)


def classes_from_probabilities(probabilities: Tensor) -> Tensor:
    """Class ids from probabilities (..., C): above 0.5 for one column (sigmoid), the most likely class otherwise."""
    if probabilities.shape[-1] == 1:
        return (probabilities[..., 0] > 0.5).long()
    return probabilities.argmax(dim=-1)


def accuracy(logits: Tensor, targets: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Fraction of scored items whose predicted class equals the target."""
    flat_logits, flat_targets = valid_targets(logits, targets, lengths)
    return (classes_from_logits(flat_logits) == flat_targets.long()).double().mean()


@dataclass(frozen=True)
class Scores:
    """What `evaluate` measured: loss, accuracy and, per class (named by `labels`), precision, recall, F1 and the
    confusion matrix."""

    loss: float
    accuracy: float
    count: int  # scored items: sequences, or valid steps for per-step targets
    labels: list[str]  # class names by id
    precision: list[float]
    recall: list[float]
    f1: list[float]
    confusion: list[list[int]]  # rows: true class, columns: predicted class


def scores_of(logits: Tensor, targets: Tensor, labels: Sequence[str] | None = None) -> Scores:
    """`Scores` of flat logits `(N, C)` against targets `(N,)`; one logit means two classes.

    Raises:
        ValueError: if `labels` does not name every class.
    """
    classes = max(logits.shape[-1], 2)
    names = [str(k) for k in range(classes)] if labels is None else [str(label) for label in labels]
    if len(names) != classes:
        raise ValueError(f"Expected {classes} class labels. Received: {len(names)} ({names})")
    predicted = classes_from_logits(logits)
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    confusion.index_put_((targets.long().cpu(), predicted.cpu()), torch.ones_like(predicted.cpu()), accumulate=True)
    hits = confusion.diag().double()
    precision = hits / confusion.sum(0).clamp(min=1)
    recall = hits / confusion.sum(1).clamp(min=1)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), torch.zeros_like(hits))
    return Scores(
        float(loss(logits, targets)),
        float(accuracy(logits, targets)),
        len(targets),
        names,
        precision.tolist(),
        recall.tolist(),
        f1.tolist(),
        confusion.tolist(),
    )
