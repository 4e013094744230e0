"""Training a stack of models (a leading model axis) in one computation, each on its own data stream."""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["fit_stacked"]


def fit_stacked(
    model: nn.Module, batches: Iterable[tuple[Tensor, Tensor]], *, learning_rate: float
) -> tuple[Tensor, Tensor]:
    """Adam on the sum of each model's own mean binary cross-entropy; one batch per update for every model.

    Adam is elementwise and no gradient mixes models, so each model trains exactly as it would alone.

    Shapes:
        batches: per update, x (M, B, T, D) and per-step 0/1 targets y (M, B, T); the model returns (M, B, T, 1).
        Returns each update's loss and accuracy per model: (U, M) each.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, fused=True)
    losses, accuracies = [], []
    model.train()
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)[..., 0]  # (M, B, T)
        per_model = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype), reduction="none").mean(dim=(1, 2))
        per_model.sum().backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(per_model.detach())
        accuracies.append(((logits.detach() > 0).long() == y).double().mean(dim=(1, 2)))
    model.eval()
    return torch.stack(losses), torch.stack(accuracies)
