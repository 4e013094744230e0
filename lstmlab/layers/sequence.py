"""Variable-length helpers: checking lengths, step masks and reversing each row within its own length."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_lengths", "lengths_from_padding", "reverse_padded", "step_mask"]


def check_lengths(lengths: Tensor | None, batch: int, steps: int, device: torch.device) -> Tensor | None:
    """Validate `lengths` for a `(batch, steps, ...)` input and return them as int64 on `device`; None when every
    row is full (nothing is padded: the unpadded path gives the same result, without the masking work).

    Raises:
        ValueError: if lengths are not a 1-D integer tensor of size `batch` with values in 1..steps.
    """
    if lengths is None:
        return None
    if not isinstance(lengths, Tensor):
        try:
            lengths = torch.as_tensor(lengths)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"Expected lengths as a 1-D tensor or list of integers. Received: {lengths!r}") from None
    if batch == 0:
        raise ValueError("Expected at least one sequence in the batch. Received: batch size 0")
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise ValueError(
            f"Expected lengths of shape ({batch},), one per batch row. Received: shape={tuple(lengths.shape)}"
        )
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ValueError(f"Expected integer lengths. Received: dtype={lengths.dtype}")
    low, high = torch.stack(torch.aminmax(lengths)).tolist()  # one device sync for both
    if low < 1 or high > steps:
        raise ValueError(f"Expected lengths in 1..{steps} (the time axis). Received: min={low}, max={high}")
    if low == steps:
        return None
    return lengths.to(device=device, dtype=torch.long)


def step_mask(lengths: Tensor, steps: int) -> Tensor:
    """Boolean `(B, T)` mask, True at the valid steps `t < lengths[b]`."""
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(1)  # (B, T)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each row of a right-padded `(B, T, ...)` tensor within its own length; padding stays put.

    Row b becomes `x[b, L-1], ..., x[b, 0], x[b, L], ..., x[b, T-1]` with `L = lengths[b]`. The map is its own
    inverse. Without lengths the whole time axis is flipped.
    """
    if lengths is None:
        return x.flip(1)
    steps = x.shape[1]
    t = torch.arange(steps, device=x.device)  # (T,)
    last = lengths.unsqueeze(1) - 1  # (B, 1)
    index = torch.where(t <= last, last - t, t)  # (B, T)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def lengths_from_padding(ids: Tensor, padding_id: int = 0) -> Tensor:
    """Lengths of right-padded id rows: the number of ids before the padding.

    Raises:
        ValueError: if a padding id comes before a real id in some row, or a row is all padding.
    """
    if ids.dim() != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(
            f"Expected token ids of shape (batch, steps), both non-empty. Received: shape={tuple(ids.shape)}"
        )
    valid = ids != padding_id  # (B, T)
    lengths = valid.sum(dim=1)
    if not torch.equal(valid, step_mask(lengths, ids.shape[1])):
        row = int((valid != step_mask(lengths, ids.shape[1])).any(dim=1).nonzero()[0])
        raise ValueError(
            f"Expected right-padded ids (padding id {padding_id} only after the last real id). "
            f"Received: row {row} has padding before a real id"
        )
    if int(lengths.min()) < 1:
        row = int((lengths < 1).nonzero()[0])
        raise ValueError(f"Expected at least one real id per row. Received: row {row} is all padding")
    return lengths
