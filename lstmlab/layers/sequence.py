"""Variable-length helpers: checked lengths, step masks, reversing each row within its own length, and checks that
read numbers from the device together (one host sync on a GPU for all the checks of a call).

Checking lengths needs their values (are they in 1..T?), and reading a value from a GPU stalls the host until the
device has caught up. So the checks of one call are written as `DeviceCheck`s: each names the scalars it needs, and
`run_checks` reads all of them in one transfer before any check concludes. Lengths that passed are a `Lengths`,
which layers take as they are: a model checks once per call, not once per layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import torch
from torch import Tensor

__all__ = [
    "DeviceCheck",
    "Lengths",
    "as_lengths",
    "check_lengths",
    "lengths_check",
    "lengths_from_padding",
    "padding_lengths_check",
    "reverse_padded",
    "run_checks",
    "step_mask",
]

T = TypeVar("T")


class Lengths(NamedTuple):
    """Lengths checked for a `(batch, steps, ...)` input: layers take them as they are, without a device read.

    Made by `check_lengths` (a layer's own call) or by `Sequential` (once per model call); a layer given a plain
    tensor or list checks it itself. Build one by hand only for values known to be valid.

    Attributes:
        values: (B,) int64 on the input's device, each in 1..steps; None when no row is padded (every row has
            `steps` steps: the unpadded path gives the same result, without the masking work).
        batch: B, the batch size they were checked for.
        steps: T, the time axis they were checked for.

    Example:
        >>> check_lengths(torch.tensor([3, 1]), 2, 3, torch.device("cpu")).values
        tensor([3, 1])
    """

    values: Tensor | None
    batch: int
    steps: int

    @property
    def padded(self) -> bool:
        """Whether some row is shorter than `steps`."""
        return self.values is not None


@dataclass(frozen=True)
class DeviceCheck(Generic[T]):
    """A check that needs numbers from the device: `run_checks` reads its `scalars` (0-d integer or boolean
    tensors) to the host together with those of other checks, then `conclude` gets their values in order and
    raises a ValueError or returns the check's result."""

    scalars: tuple[Tensor, ...]
    conclude: Callable[[list[int]], T]

    def run(self) -> T:
        """This check on its own: one device read."""
        result: T = run_checks(self)[0]
        return result


def run_checks(*checks: DeviceCheck[Any]) -> list[Any]:
    """Read the scalars of all `checks` in one transfer (one host sync on a GPU), then conclude each in order.

    Returns:
        Each check's result, in order.
    """
    scalars = [s.reshape(()).to(torch.long) for check in checks for s in check.scalars]
    if not scalars:
        return [check.conclude([]) for check in checks]
    device = scalars[0].device
    values: list[int] = torch.stack([s.to(device) for s in scalars]).tolist()  # the one read from the device
    results, start = [], 0
    for check in checks:
        count = len(check.scalars)
        results.append(check.conclude(values[start : start + count]))
        start += count
    return results


def lengths_check(
    lengths: Tensor | Sequence[int], batch: int, steps: int, device: torch.device
) -> DeviceCheck[Lengths]:
    """The check of `lengths` for a `(batch, steps, ...)` input on `device`; what needs no device read (type,
    shape, dtype) is checked at once.

    Raises:
        ValueError: if lengths are not a 1-D integer tensor (or list) of size `batch` (at once), or have values
            outside 1..steps (when the check concludes).
    """
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
    values = lengths.to(device=device, dtype=torch.long)

    def conclude(read: list[int]) -> Lengths:
        low, high = read
        if low < 1 or high > steps:
            raise ValueError(f"Expected lengths in 1..{steps} (the time axis). Received: min={low}, max={high}")
        return Lengths(None if low == steps else values, batch, steps)

    return DeviceCheck(tuple(torch.aminmax(values)), conclude)


def check_lengths(lengths: Tensor | Sequence[int] | None, batch: int, steps: int, device: torch.device) -> Lengths:
    """Check `lengths` for a `(batch, steps, ...)` input on `device` (one device read): checked `Lengths`, whose
    values are None when no row is padded (or no lengths are given).

    Raises:
        ValueError: if lengths are not a 1-D integer tensor of size `batch` with values in 1..steps.
    """
    if lengths is None:
        return Lengths(None, batch, steps)
    return lengths_check(lengths, batch, steps, device).run()


def as_lengths(lengths: Tensor | Sequence[int] | Lengths | None, x: Tensor) -> Lengths:
    """`lengths` for input `x` `(B, T, ...)` as checked `Lengths`: checked ones are only compared with x's shape
    and device (no device read); anything else goes through `check_lengths`.

    Raises:
        ValueError: for lengths `check_lengths` rejects, or `Lengths` checked for another shape or device.
    """
    batch, steps = x.shape[0], x.shape[1]
    if not isinstance(lengths, Lengths):
        return check_lengths(lengths, batch, steps, x.device)
    values = lengths.values
    if (lengths.batch, lengths.steps) != (batch, steps) or (values is not None and values.device != x.device):
        where = "" if values is None else f" on {values.device}"
        raise ValueError(
            f"Expected lengths checked for {batch} rows of {steps} steps on {x.device}. "
            f"Received: Lengths for {lengths.batch} rows of {lengths.steps} steps{where}"
        )
    return lengths


def padding_lengths_check(ids: Tensor, padding_id: int = 0) -> DeviceCheck[Lengths]:
    """The check that derives the lengths of right-padded id rows (the ids before the padding) and proves the
    padding comes only after the last real id; the shape is checked at once.

    Raises:
        ValueError: on a shape other than (batch, steps) (at once); if a padding id comes before a real id in some
            row, or a row is all padding (when the check concludes).
    """
    if ids.dim() != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(
            f"Expected token ids of shape (batch, steps), both non-empty. Received: shape={tuple(ids.shape)}"
        )
    batch, steps = ids.shape
    valid = ids != padding_id  # (B, T)
    lengths = valid.sum(dim=1)  # (B,) int64
    misplaced = (valid != step_mask(lengths, steps)).any(dim=1)  # (B,): a padding id before a real id

    def conclude(read: list[int]) -> Lengths:
        any_misplaced, low = read
        if any_misplaced:  # the row number costs a second read, on the way to an error only
            row = int(misplaced.nonzero()[0])
            raise ValueError(
                f"Expected right-padded ids (padding id {padding_id} only after the last real id). "
                f"Received: row {row} has padding before a real id"
            )
        if low < 1:
            row = int((lengths < 1).nonzero()[0])
            raise ValueError(f"Expected at least one real id per row. Received: row {row} is all padding")
        return Lengths(None if low == steps else lengths, batch, steps)

    return DeviceCheck((misplaced.any(), lengths.min()), conclude)


def lengths_from_padding(ids: Tensor, padding_id: int = 0) -> Tensor:
    """Lengths of right-padded id rows: the number of ids before the padding (one device read).

    Raises:
        ValueError: if a padding id comes before a real id in some row, or a row is all padding.
    """
    checked = padding_lengths_check(ids, padding_id).run()
    if checked.values is None:
        return torch.full((checked.batch,), checked.steps, dtype=torch.long, device=ids.device)
    return checked.values


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
