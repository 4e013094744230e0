"""Training a stack of models (a leading model axis) in one computation, each on its own data stream."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SlotAdam", "StackedModel", "fit_stacked"]

BETAS = (0.9, 0.999)  # Adam's defaults, as torch.optim.Adam and Keras use them
EPSILON = 1e-8


@runtime_checkable
class StackedModel(Protocol):
    """A stack that says which model each leading slot of each parameter belongs to (`StackedTutorial`)."""

    def slot_models(self) -> list[tuple[nn.Parameter, Tensor]]: ...


class SlotAdam:
    """Adam with a learning rate per model of a stack: each parameter's leading slots step at their own model's rate.

    The update is torch.optim.Adam's (no weight decay, no amsgrad), written out so that the step size can be a
    tensor broadcast over the leading axis; Adam is elementwise, so every model steps exactly as it would alone with
    its own rate (tested against `fit` of each model alone).

    Args:
        slots: (parameter, per-slot learning rates) pairs; the rates have shape (slots,).

    Example:
        >>> w = nn.Parameter(torch.zeros(2, 3))
        >>> optimiser = SlotAdam([(w, torch.tensor([1e-3, 1e-2]))])
    """

    def __init__(self, slots: Sequence[tuple[nn.Parameter, Tensor]]) -> None:
        self.slots = [(p, rates.to(p).view(-1, *[1] * (p.dim() - 1))) for p, rates in slots]
        self.moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p, _ in self.slots]
        self.steps = 0

    def zero_grad(self) -> None:
        for p, _ in self.slots:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = BETAS
        correction1 = 1 - beta1**self.steps
        correction2 = math.sqrt(1 - beta2**self.steps)
        for (p, rates), (mean, square) in zip(self.slots, self.moments, strict=True):
            if p.grad is None:
                continue
            mean.lerp_(p.grad, 1 - beta1)
            square.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denominator = (square.sqrt() / correction2).add_(EPSILON)
            p.sub_(rates / correction1 * mean / denominator)


def fit_stacked(
    model: nn.Module, batches: Iterable[tuple[Tensor, Tensor]], *, learning_rate: float | Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Adam on the sum of each model's own mean binary cross-entropy; one batch per update for every model.

    Adam is elementwise and no gradient mixes models, so each model trains exactly as it would alone.

    Args:
        model: a stack of M models returning (M, B, T, 1) logits.
        batches: per update, x (M, B, T, D) and per-step 0/1 targets y (M, B, T).
        learning_rate: one rate for every model, or one per model (the model must be a `StackedModel`).

    Returns:
        Each update's loss and accuracy per model: (U, M) each.

    Raises:
        ValueError: rates per model for a model that cannot say which slots are whose, or not one rate per model.

    Example:
        >>> losses, accuracies = fit_stacked(stack, zip(x, y), learning_rate=[1e-3, 1e-2])
    """
    optimizer: torch.optim.Optimizer | SlotAdam
    if isinstance(learning_rate, int | float):
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
    else:
        if not isinstance(model, StackedModel):
            raise ValueError(f"Expected a stack with slot_models() for rates per model. Received: {type(model)}")
        rates = torch.tensor([float(r) for r in learning_rate], dtype=torch.float64)
        slots = model.slot_models()
        owners = torch.cat([o for _, o in slots])
        if int(owners.max()) + 1 != len(rates):
            raise ValueError(f"Expected one learning rate per model ({int(owners.max()) + 1}). Received: {len(rates)}")
        if {id(p) for p, _ in slots} != {id(p) for p in model.parameters()}:
            raise ValueError("Expected slot_models() to cover every parameter of the stack. Received: fewer")
        optimizer = SlotAdam([(p, rates[o.cpu()]) for p, o in slots])
    losses, accuracies = [], []
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        logits = model(x)[..., 0]  # (M, B, T)
        per_model = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype), reduction="none").mean(dim=(1, 2))
        per_model.sum().backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(per_model.detach())
        accuracies.append(((logits.detach() > 0).long() == y).double().mean(dim=(1, 2)))
    model.eval()
    return torch.stack(losses), torch.stack(accuracies)
