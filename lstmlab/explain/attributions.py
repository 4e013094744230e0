"""How much each input position moved a model's score: Integrated Gradients and occlusion, batched.

Both take a `Score`: a function from inputs (R, T, D) (one tensor per part the model reads, e.g. each ensemble
member's embedding) and the batch row each input row belongs to, to one score per row. The row says which lengths,
target class and step the score reads, so padding is handled where the model handles it, by the lengths.

Why not Captum: its `IntegratedGradients` expands the inputs by the steps and can pass lengths along, but it knows
nothing of several inputs that share one path (an ensemble's member embeddings), it gives no access to f(x) and
f(baseline) from the same batch (it runs two more forward passes for the completeness check), and its occlusion
slides a window over every step, the padded ones included. The maths here is Captum's default (Gauss-Legendre
nodes, the same weights), and tests/test_attributions.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["ROW_STEPS", "Attributed", "Score", "gauss_legendre", "integrated_gradients", "occlusion"]

# A score: inputs (R, T, D) per part and the batch row (R,) of each, to (R,) scores.
Score = Callable[[Sequence[Tensor], Tensor], Tensor]

# Rows times steps run in one pass at most (bounds the memory of the interpolated batch): 50 steps of a 380-token
# text (52 x 380 = 19,760) go in one pass; longer or more texts go in several.
ROW_STEPS = 1 << 17


@dataclass(frozen=True)
class Attributed:
    """Attributions of a batch and the scores they explain.

    Attributes:
        scores: (B, T), each position's share (zero at positions a row does not read).
        at_input: (B,), f(x), the score of each input; at_baseline: (B,), f(baseline), Integrated Gradients only
            (None for occlusion).
    """

    scores: Tensor
    at_input: Tensor
    at_baseline: Tensor | None = None

    @property
    def gap(self) -> Tensor:
        """(B,): the completeness gap, `sum_t scores - (f(x) - f(baseline))` (Integrated Gradients)."""
        if self.at_baseline is None:
            raise ValueError("Expected Integrated Gradients for a completeness gap. Received: occlusion")
        return self.scores.sum(dim=1) - (self.at_input - self.at_baseline)


def gauss_legendre(steps: int) -> tuple[Tensor, Tensor]:
    """`steps` nodes in (0, 1) and their weights (summing to 1): the rule Captum's IntegratedGradients uses by
    default, exact for polynomials of degree up to 2 steps - 1."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"Expected a positive number of integration steps. Received: {steps!r}")
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    return torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)


def integrated_gradients(
    score: Score, inputs: Sequence[Tensor], baselines: Sequence[Tensor], *, steps: int = 50
) -> Attributed:
    """Integrated Gradients of `score` along the straight path from `baselines` to `inputs`, every part moved by
    the same fraction: `(x - x') . integral_0^1 grad f(x' + a (x - x')) da`, per position summed over features and
    parts.

    Each row's `steps` interpolations and two more, at the baseline and the input (for the completeness check),
    run as one batch with their backward pass (several where `ROW_STEPS` says so).

    Shapes:
        inputs, baselines: one (B, T, D) tensor per part. Returns scores (B, T).
    """
    nodes, weights = gauss_legendre(steps)
    first = inputs[0]
    alphas = torch.cat([nodes, torch.tensor([0.0, 1.0], dtype=nodes.dtype)]).to(first.device, first.dtype)
    weights = weights.to(first.device, first.dtype)
    count, width = first.shape[0], alphas.shape[0]
    per_pass = max(1, ROW_STEPS // (width * max(1, first.shape[1])))
    scores, at_input, at_baseline = [], [], []
    for begin in range(0, count, per_pass):
        rows = torch.arange(begin, min(count, begin + per_pass), device=first.device)
        repeated = rows.repeat_interleave(width)  # (b * width,)
        alpha = alphas.repeat(rows.shape[0])[:, None, None]
        with torch.enable_grad():
            moved = [
                (base[repeated] + alpha * (x[repeated] - base[repeated])).detach().requires_grad_()
                for x, base in zip(inputs, baselines, strict=True)
            ]
            values = score(moved, repeated)  # (b * width,)
            grads = torch.autograd.grad(values.sum(), moved)
        total = first.new_zeros(rows.shape[0], first.shape[1])
        for x, base, grad in zip(inputs, baselines, grads, strict=True):
            mean_grad = torch.einsum(
                "katd,a->ktd", grad.view(rows.shape[0], width, *grad.shape[1:])[:, :steps], weights
            )
            total += ((x[rows] - base[rows]) * mean_grad).sum(dim=-1)
        values = values.detach().view(rows.shape[0], width)
        scores.append(total)
        at_baseline.append(values[:, steps])
        at_input.append(values[:, steps + 1])
    return Attributed(torch.cat(scores), torch.cat(at_input), torch.cat(at_baseline))


@torch.no_grad()
def occlusion(score: Score, inputs: Sequence[Tensor], baselines: Sequence[Tensor], mask: Tensor | None) -> Attributed:
    """How much each position's removal lowers the score: `f(x) - f(x with position t set to the baseline)`, every
    part at once, for each position a row reads (`mask`, (B, T); every position where None). One batch of all the
    occluded rows (several where `ROW_STEPS` says so); no gradients.

    Shapes:
        inputs, baselines: one (B, T, D) tensor per part. Returns scores (B, T), zero where the row does not read.
    """
    first = inputs[0]
    count, steps = first.shape[:2]
    every = torch.arange(count, device=first.device)
    per_pass = max(1, ROW_STEPS // max(1, steps))
    at_input = torch.cat(
        [score(_rows_of(inputs, every[b : b + per_pass]), every[b : b + per_pass]) for b in range(0, count, per_pass)]
    )
    read = torch.ones(count, steps, dtype=torch.bool, device=first.device) if mask is None else mask
    rows, positions = read.nonzero(as_tuple=True)  # one occluded row for each position read
    per_pass = max(1, ROW_STEPS // max(1, steps))
    occluded = []
    for begin in range(0, rows.shape[0], per_pass):
        part_rows, part_positions = rows[begin : begin + per_pass], positions[begin : begin + per_pass]
        moved = []
        for x, base in zip(inputs, baselines, strict=True):
            copy = x[part_rows].clone()
            picked = torch.arange(part_rows.shape[0], device=first.device)
            copy[picked, part_positions] = base[part_rows, part_positions]
            moved.append(copy)
        occluded.append(score(moved, part_rows))
    scores = first.new_zeros(count, steps)
    if rows.numel():
        scores[rows, positions] = at_input[rows] - torch.cat(occluded)
    return Attributed(scores, at_input)


def _rows_of(inputs: Sequence[Tensor], rows: Tensor) -> list[Tensor]:
    """The rows `rows` of every part."""
    return [x[rows] for x in inputs]
