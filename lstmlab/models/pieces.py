"""How a stateful model reads a batch: each sequence in pieces of its input length, its state carried from piece
to piece (the Q&A's model 2). The training loop asks the model (`Sequential.answer`); this is the model's own way."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..data import SequenceData

__all__ = ["answer_in_pieces"]


def answer_in_pieces(model: nn.Module, piece: int, batch: SequenceData) -> tuple[Tensor, Tensor, None]:
    """Reset the model's states, feed `batch` piece by piece; return its logits, the targets they answer, None.

    Each call answers for its piece's last step, so per-step targets are taken at those steps, and a per-sequence
    target is answered by the last call.

    Shapes:
        batch.x: (B, P * piece, ...). Returns (B, P, C) and (B, P) per step; (B, C) and (B,) per sequence.

    Raises:
        ValueError: for padded rows (lengths) or a length that is not a multiple of `piece`.
    """
    steps = batch.x.shape[1]
    if batch.lengths is not None or steps % piece:
        raise ValueError(
            f"Expected full-length sequences of a multiple of {piece} steps for a model fed in pieces. "
            f"Received: {steps} steps, lengths {'given' if batch.lengths is not None else 'none'}"
        )
    reset = model.reset_states
    assert callable(reset)
    reset()
    answers = [model(batch.x[:, start : start + piece]) for start in range(0, steps, piece)]  # (B, C) each
    if not batch.per_step:
        return answers[-1], batch.y, None
    return torch.stack(answers, dim=1), batch.y[:, piece - 1 :: piece], None  # (B, P, C), (B, P)
