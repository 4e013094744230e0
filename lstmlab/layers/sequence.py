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
from typing import Any, Generic, Literal, NamedTuple, TypeVar

import torch
from torch import Tensor

__all__ = [
    "PADDING_SIDES",
    "DeviceCheck",
    "Lengths",
    "PaddingSide",
    "PaddingWords",
    "as_lengths",
    "check_lengths",
    "check_padding_side",
    "lengths_check",
    "lengths_from_padding",
    "padding_lengths_check",
    "reverse_padded",
    "roll_rows",
    "run_checks",
    "step_mask",
    "valid_steps_check",
]

T = TypeVar("T")

# Where a row's padding is: after its valid steps ("right", lstmlab's encoders) or before them ("left", Keras's
# pad_sequences default, padding="pre").
PaddingSide = Literal["right", "left"]
PADDING_SIDES = ("right", "left")


def check_padding_side(padding_side: object) -> bool:
    """True for "left", False for "right"; a ValueError for anything else."""
    if padding_side not in PADDING_SIDES:
        raise ValueError(f"Expected padding_side in {{'right', 'left'}}. Received: padding_side={padding_side!r}")
    return padding_side == "left"


class Lengths(NamedTuple):
    """Lengths checked for a `(batch, steps, ...)` input: layers take them as they are, without a device read.

    Made by `check_lengths` (a layer's own call) or by `Sequential` (once per model call); a layer given a plain
    tensor or list checks it itself. Build one by hand only for values known to be valid.

    Attributes:
        values: (B,) int64 on the input's device, each in 1..steps; None when no row is padded (every row has
            `steps` steps: the unpadded path gives the same result, without the masking work).
        batch: B, the batch size they were checked for.
        steps: T, the time axis they were checked for.
        left: where the padding is: False for right padding (row b's valid steps are `0..L-1`), True for left
            padding (`T-L..T-1`, what Keras's `pad_sequences` gives by default).

    Example:
        >>> check_lengths(torch.tensor([3, 1]), 2, 3, torch.device("cpu")).values
        tensor([3, 1])
        >>> check_lengths([3, 1], 2, 3, torch.device("cpu"), padding_side="left").mask()
        tensor([[ True,  True,  True],
                [False, False,  True]])
    """

    values: Tensor | None
    batch: int
    steps: int
    left: bool = False

    @property
    def padded(self) -> bool:
        """Whether some row is shorter than `steps`."""
        return self.values is not None

    @property
    def side(self) -> PaddingSide:
        """ "left" or "right": where the padding of a row is."""
        return "left" if self.left else "right"

    def mask(self) -> Tensor | None:
        """Boolean (B, T) mask, True at each row's valid steps; None when no row is padded."""
        return None if self.values is None else step_mask(self.values, self.steps, left=self.left)

    def reverse(self, x: Tensor) -> Tensor:
        """`x` (B, T, ...) with each row reversed within its valid steps; padding stays put (`reverse_padded`)."""
        return reverse_padded(x, self.values, left=self.left)


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
    lengths: Tensor | Sequence[int],
    batch: int,
    steps: int,
    device: torch.device,
    *,
    padding_side: PaddingSide = "right",
) -> DeviceCheck[Lengths]:
    """The check of `lengths` for a `(batch, steps, ...)` input on `device`, padded on `padding_side`; what needs
    no device read (type, shape, dtype, side) is checked at once.

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
    left = check_padding_side(padding_side)
    values = lengths.to(device=device, dtype=torch.long)

    def conclude(read: list[int]) -> Lengths:
        low, high = read
        if low < 1 or high > steps:
            raise ValueError(f"Expected lengths in 1..{steps} (the time axis). Received: min={low}, max={high}")
        return Lengths(None if low == steps else values, batch, steps, left)

    return DeviceCheck(tuple(torch.aminmax(values)), conclude)


def check_lengths(
    lengths: Tensor | Sequence[int] | None,
    batch: int,
    steps: int,
    device: torch.device,
    *,
    padding_side: PaddingSide = "right",
) -> Lengths:
    """Check `lengths` for a `(batch, steps, ...)` input on `device`, padded on `padding_side` (one device read):
    checked `Lengths`, whose values are None when no row is padded (or no lengths are given).

    Raises:
        ValueError: if lengths are not a 1-D integer tensor of size `batch` with values in 1..steps, or on a
            padding side other than "right" or "left".
    """
    if lengths is None:
        return Lengths(None, batch, steps, check_padding_side(padding_side))
    return lengths_check(lengths, batch, steps, device, padding_side=padding_side).run()


def as_lengths(lengths: Tensor | Sequence[int] | Lengths | None, x: Tensor) -> Lengths:
    """`lengths` for input `x` `(B, T, ...)` as checked `Lengths`: checked ones are only compared with x's shape
    and device (no device read); anything else goes through `check_lengths` as right padding (pass left-padded
    lengths as `Lengths` from `check_lengths(..., padding_side="left")`).

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


@dataclass(frozen=True)
class PaddingWords:
    """How the messages of `valid_steps_check` name an input, its padding and its valid steps.

    Attributes:
        inputs: what the rows hold ("ids", "values").
        padding: what marks padding, for the expected part of a message ("padding id 0").
        padded: the padding, for the received part ("padding").
        valid: one valid step ("real id"); `a_valid` with its article ("a real id").
        between: a note added where padding lies between valid steps (what other tools do with it), or "".
    """

    inputs: str
    padding: str
    padded: str
    valid: str
    a_valid: str
    between: str = ""


def _id_words(padding_id: int) -> PaddingWords:
    return PaddingWords("ids", f"padding id {padding_id}", "padding", "real id", "a real id")


def valid_steps_check(
    valid: Tensor, *, padding_side: PaddingSide | Literal["auto"] = "auto", words: PaddingWords | None = None
) -> DeviceCheck[Lengths]:
    """The check that derives the lengths of padded rows from their valid steps (True in the boolean (B, T)
    `valid`) and proves that each row's padding lies on one side of its valid steps, the same side for the batch;
    the shape is checked at once. Token ids (`padding_lengths_check`) and values (`Masking`) both come here.

    With `padding_side="auto"` the side is read from the pattern: right padding when every row's padding comes
    after its valid steps, left padding (Keras's `pad_sequences` default) when every row's comes before them. A
    batch without padding is both (its `Lengths` have no values). "right" or "left" demand that side.

    Args:
        valid: (B, T) bool, True at the steps that are not padding.
        padding_side: "auto", "right" or "left".
        words: how messages name the input and its padding (token ids with padding id 0 by default).

    Returns:
        A `DeviceCheck` reading three scalars; it concludes with checked `Lengths` (values None when no row is
        padded).

    Raises:
        ValueError: on a shape other than (batch, steps), both non-empty (at once); if padding lies between valid
            steps, the rows are padded on different sides (or not on the side demanded), or a row is all padding
            (when the check concludes).

    Example:
        >>> valid_steps_check(torch.tensor([[False, True], [True, True]])).run()
        Lengths(values=tensor([1, 2]), batch=2, steps=2, left=True)
    """
    if padding_side != "auto":
        check_padding_side(padding_side)
    words = _id_words(0) if words is None else words
    if valid.dim() != 2 or valid.shape[0] == 0 or valid.shape[1] == 0:
        raise ValueError(
            f"Expected {words.inputs} of shape (batch, steps), both non-empty. Received: shape={tuple(valid.shape)}"
        )
    batch, steps = valid.shape
    lengths = valid.sum(dim=1)  # (B,) int64
    not_right = (valid != step_mask(lengths, steps)).any(dim=1)  # (B,): padding before a valid step
    not_left = (valid != step_mask(lengths, steps, left=True)).any(dim=1)  # (B,): padding after a valid step

    def row(flags: Tensor) -> int:  # a second read, on the way to an error only
        return int(flags.nonzero()[0])

    def conclude(read: list[int]) -> Lengths:
        any_not_right, any_not_left, low = read
        if any_not_right and any_not_left:
            both = not_right & not_left
            if bool(both.any()):
                raise ValueError(
                    f"Expected padded {words.inputs} ({words.padding} only before or only after a row's "
                    f"{words.valid}s). Received: row {row(both)} has {words.padded} between {words.valid}s"
                    f"{words.between}"
                )
            raise ValueError(
                f"Expected {words.inputs} padded on one side for the whole batch. Received: row {row(not_left)} is "
                f"right-padded and row {row(not_right)} left-padded"
            )
        left = bool(any_not_right) if padding_side == "auto" else padding_side == "left"
        if (any_not_right and not left) or (any_not_left and left):
            where, other, wrong = (
                ("before the first", not_left, "after") if left else ("after the last", not_right, "before")
            )
            raise ValueError(
                f"Expected {padding_side}-padded {words.inputs} ({words.padding} only {where} {words.valid}). "
                f"Received: row {row(other)} has {words.padded} {wrong} {words.a_valid}"
            )
        if low < 1:
            raise ValueError(
                f"Expected at least one {words.valid} per row. Received: row {row(lengths < 1)} is all {words.padded}"
            )
        return Lengths(None if low == steps else lengths, batch, steps, left)

    return DeviceCheck((not_right.any(), not_left.any(), lengths.min()), conclude)


def padding_lengths_check(
    ids: Tensor, padding_id: int = 0, *, padding_side: PaddingSide | Literal["auto"] = "auto"
) -> DeviceCheck[Lengths]:
    """The check that derives the lengths of padded id rows (the number of real ids) and proves that each row's
    padding lies on one side of its real ids (`valid_steps_check` on `ids != padding_id`); the shape is checked at
    once.

    With `padding_side="auto"` the side is read from the ids: right padding when every row's padding comes after
    its real ids, left padding (Keras's `pad_sequences` default) when every row's comes before them. A batch
    without padding is both (its `Lengths` have no values). "right" or "left" demand that side.

    Raises:
        ValueError: on a shape other than (batch, steps) (at once); if a padding id lies between real ids, the rows
            are padded on different sides (or not on the side demanded), or a row is all padding (when the check
            concludes).
    """
    if ids.dim() != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(
            f"Expected token ids of shape (batch, steps), both non-empty. Received: shape={tuple(ids.shape)}"
        )
    return valid_steps_check(ids != padding_id, padding_side=padding_side, words=_id_words(padding_id))


def lengths_from_padding(ids: Tensor, padding_id: int = 0) -> Tensor:
    """Lengths of padded id rows (right- or left-padded, the same side for all rows): the number of real ids
    (one device read).

    Raises:
        ValueError: if a padding id lies between real ids, rows are padded on different sides, or a row is all
            padding.
    """
    checked = padding_lengths_check(ids, padding_id).run()
    if checked.values is None:
        return torch.full((checked.batch,), checked.steps, dtype=torch.long, device=ids.device)
    return checked.values


def step_mask(lengths: Tensor, steps: int, *, left: bool = False) -> Tensor:
    """Boolean `(B, T)` mask, True at the valid steps: `t < lengths[b]` (right padding) or `t >= T - lengths[b]`
    (left padding)."""
    t = torch.arange(steps, device=lengths.device)  # (T,)
    if left:
        return t >= (steps - lengths).unsqueeze(1)  # (B, T)
    return t < lengths.unsqueeze(1)  # (B, T)


def reverse_padded(x: Tensor, lengths: Tensor | None, *, left: bool = False) -> Tensor:
    """Reverse each row of a padded `(B, T, ...)` tensor within its own length; padding stays put.

    Right padding: row b becomes `x[b, L-1], ..., x[b, 0], x[b, L], ..., x[b, T-1]` with `L = lengths[b]`; left
    padding: `x[b, 0], ..., x[b, T-L-1], x[b, T-1], ..., x[b, T-L]`. The map is its own inverse. Without lengths
    the whole time axis is flipped.
    """
    if lengths is None:
        return x.flip(1)
    steps = x.shape[1]
    t = torch.arange(steps, device=x.device)  # (T,)
    if left:
        first = steps - lengths.unsqueeze(1)  # (B, 1): the first valid step
        index = torch.where(t >= first, first + steps - 1 - t, t)  # (B, T)
    else:
        last = lengths.unsqueeze(1) - 1  # (B, 1)
        index = torch.where(t <= last, last - t, t)  # (B, T)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def roll_rows(x: Tensor, shifts: Tensor) -> Tensor:
    """Row b of `x` (B, T, ...) rotated `shifts[b]` steps towards the start: `x[b, (t + shifts[b]) mod T]` at step t.

    Moves left padding to the right (`shifts = T - lengths`) and back (`shifts = lengths`).
    """
    steps = x.shape[1]
    index = (torch.arange(steps, device=x.device) + shifts.unsqueeze(1)) % steps  # (B, T)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)
