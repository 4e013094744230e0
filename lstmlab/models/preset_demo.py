"""The demo command's work: a preset through its fused and its reference path on a generated padded batch."""

from __future__ import annotations

import torch

from ..layers import Embedding
from ..seeds import set_seed
from . import Sequential, build_model

__all__ = ["demo", "sample_batch"]


def sample_batch(model: Sequential, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A generated input batch for `model`, right-padded with variable lengths where the model reads sequences."""
    gen = torch.Generator().manual_seed(seed)
    batch = model.batch_size or batch
    steps = model.input_shape[0] or 10
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    lengths[0] = steps
    first = model.layers[0]
    if isinstance(first, Embedding):
        if first.input_dim < 2:
            raise ValueError(f"Expected a vocabulary of at least 2 ids (0 is padding). Received: {first.input_dim}")
        ids = torch.randint(1, first.input_dim, (batch, steps), generator=gen)
        return ids.masked_fill(torch.arange(steps) >= lengths[:, None], 0), None  # lengths come from padding id 0
    features = model.input_shape[1:]
    x = torch.rand((batch, steps, *(f or 1 for f in features)), generator=gen)
    return x, lengths


def demo(names: list[str], *, batch: int, seed: int) -> list[tuple[str, str]]:
    """Build each preset twice (fused and reference paths, the same weights; `seed` seeds the weights once for
    all) and run both on a generated batch; per preset, its summary and a line with the largest difference between
    the two paths' logits."""
    set_seed(seed)
    shown = []
    for name in names:
        fused = build_model(name, impl="fused").eval()
        reference = build_model(name, impl="reference").eval()
        reference.load_state_dict(fused.state_dict())
        x, lengths = sample_batch(fused, batch, seed)
        with torch.no_grad():
            y_fused, y_reference = fused(x, lengths), reference(x, lengths)
        diff = (y_fused - y_reference).abs().max().item()
        lens = "from padding id 0" if lengths is None else lengths.tolist()
        line = (
            f"forward pass: input {tuple(x.shape)}, lengths {lens} -> logits {tuple(y_fused.shape)}, "
            f"max |fused - reference| = {diff:.1e}"
        )
        shown.append((fused.summary(print_fn=None), line))
    return shown
