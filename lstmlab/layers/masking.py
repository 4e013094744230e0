"""Masking: Keras's `Masking(mask_value)` for numeric sequences, padding marked by a value instead of lengths.

A step is padding when all its features equal `mask_value`. Keras skips such steps wherever they are; lstmlab's
lengths describe padding at one end of each row, so a first `Masking` of a `Sequential` derives lengths from the
values (as a first `Embedding(mask_zero=True)` does from the ids) and refuses masked steps between unmasked ones.
"""

from __future__ import annotations

import math

from torch import Tensor

from .base import Layer, Shape, check_floating, check_rank, check_steps
from .sequence import DeviceCheck, Lengths, PaddingSide, PaddingWords, as_lengths, valid_steps_check

__all__ = ["Masking"]


class Masking(Layer):
    """Padding marked by a value: the steps whose features all equal `mask_value` are left out of later layers.

    As the first layer of a `Sequential` called without lengths, it derives them from the values (in the call's one
    device read): the masked steps must lie after each row's unmasked ones (right padding) or before them (left
    padding, as Keras's `pad_sequences(..., padding='pre', dtype='float32')` gives), the same side for the whole
    batch, read from the data. Masked steps between unmasked ones, which Keras skips, are refused. Elsewhere, or with
    lengths given, it zeroes the padded steps the lengths give. The output is the input with padded steps set to 0
    (whatever they held, NaN included), as Keras's is (it multiplies by the mask).

    Args:
        mask_value: the value that marks a padded step in every feature (Keras's default 0.0).

    Shapes:
        x: (B, T, D) floats; lengths: (B,) (a tensor, list or `Lengths`) or None. Output: (B, T, D). Called alone
        without lengths, it zeroes the steps whose features all equal `mask_value` (Keras's output, no device read).

    Raises:
        ValueError: on a mask value that is not a number (or NaN, which equals nothing), an input that is not
            (B, T, D) floats, or (deriving lengths) masked steps between unmasked ones, rows padded on different
            sides, or a row masked throughout.

    Example:
        >>> import torch
        >>> from lstmlab.layers import LSTM
        >>> from lstmlab.models import Sequential
        >>> model = Sequential([Masking(0.0), LSTM(4)], input_shape=(None, 2))
        >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0]], [[3.0, 4.0], [5.0, 6.0]]])  # row 0 right-padded
        >>> model.check_call(x).values
        tensor([1, 2])
    """

    uses_lengths = True

    def __init__(self, mask_value: float = 0.0) -> None:
        super().__init__()
        if isinstance(mask_value, bool) or not isinstance(mask_value, int | float) or math.isnan(mask_value):
            raise ValueError(f"Expected mask_value to be a number (not NaN). Received: mask_value={mask_value!r}")
        self.mask_value = float(mask_value)

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise ValueError(f"Masking expected an input shape (T, D). Received: input_shape={input_shape}")
        return input_shape

    def unmasked(self, x: Tensor) -> Tensor:
        """Boolean (B, T): True at the steps with a feature other than `mask_value` (checked: (B, T, D) floats)."""
        check_rank("Masking", x, (3,), "(batch, steps, features)")
        check_floating("Masking", x)
        check_steps("Masking", x)
        return (x != self.mask_value).any(dim=-1)  # (B, T); NaN differs from every value

    def lengths_check(self, x: Tensor, *, padding_side: PaddingSide | None = None) -> DeviceCheck[Lengths]:
        """The check that derives lengths from the masked steps of `x` (B, T, D), padded on `padding_side` (None:
        the side the values show). The input is checked at once, the padding's structure when the check concludes.

        Raises:
            ValueError: on an input that is not (B, T, D) floats (at once); masked steps between unmasked ones,
                rows padded on different sides (or not on `padding_side`), or a row masked throughout.
        """
        valid = self.unmasked(x)
        words = PaddingWords(
            "values",
            f"steps of mask_value {self.mask_value}",
            "masked steps",
            "unmasked step",
            "an unmasked step",
            " (Keras skips masked steps anywhere; lstmlab's padding lies at one end of each row)",
        )
        return valid_steps_check(valid, padding_side="auto" if padding_side is None else padding_side, words=words)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        """The given lengths; without them, those the masked steps imply (one device read)."""
        if lengths is None:
            return self.lengths_check(inputs).run()
        return lengths

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        if lengths is None:
            keep = self.unmasked(x)  # (B, T)
        else:
            check_rank("Masking", x, (3,), "(batch, steps, features)")
            check_floating("Masking", x)
            check_steps("Masking", x)
            mask = as_lengths(lengths, x).mask()  # (B, T) or None
            if mask is None:
                return x
            keep = mask
        return x.masked_fill(~keep.unsqueeze(-1), 0.0)

    def extra_repr(self) -> str:
        return f"mask_value={self.mask_value}"
