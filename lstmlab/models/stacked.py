"""Many tutorial models of one shape as one module with a leading model axis: train N seeds x M variants at once.

`torch.func.vmap` has no batching rule for the fused LSTM kernel, so the stacked cell is written out with batched
matrix products over stacked weights `(M, 4H, D)`. Each model keeps its own weights; with a loss that sums the
models' own losses, each model's gradient is its own, and Adam (elementwise) over the stacked weights is each
model's own Adam: training the stack equals training each model alone (tested to float tolerance).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..layers import LSTM, Bidirectional, ReverseTime, TimeDistributed
from ..layers.core import Dense
from .sequential import Sequential

__all__ = ["StackedTutorial"]


def _stack(tensors: list[Tensor]) -> nn.Parameter:
    return nn.Parameter(torch.stack([t.detach().clone() for t in tensors]))


def _directions(model: Sequential) -> list[LSTM]:
    """The LSTM layers a tutorial model reads with: one, or a Bi-LSTM's forward and backward layer."""
    first = model.layers[0]
    if isinstance(first, Bidirectional):
        return [first.forward_layer, first.backward_layer]
    if isinstance(first, LSTM):
        return [first]
    raise ValueError(f"Expected tutorial models (an LSTM or Bi-LSTM first). Received: {type(first).__name__}")


def _head(model: Sequential) -> nn.Linear:
    last = model.layers[-1]
    if not (isinstance(last, TimeDistributed) and isinstance(last.layer, Dense) and last.layer.linear is not None):
        raise ValueError(f"Expected a TimeDistributed(Dense) head. Received: {type(last).__name__}")
    return last.layer.linear


class StackedTutorial(nn.Module):
    """M tutorial models (`tutorial-lstm`, `tutorial-lstm-backward`, `tutorial-bilstm`) of one config, stacked.

    Args:
        models: built models of the same preset and config (full-length sequences: no lengths).

    Shapes:
        x: (M, B, T, D), each model its own batch. Returns logits (M, B, T, C).
    """

    def __init__(self, models: list[Sequential]) -> None:
        super().__init__()
        directions = [_directions(m) for m in models]
        first = models[0].layers[0]
        self.merge_mode = first.merge_mode if isinstance(first, Bidirectional) else None
        self.backwards = [layer.go_backwards for layer in directions[0]]
        # a lone go_backwards LSTM keeps Keras's reversed order unless a ReverseTime follows it
        self.realign = isinstance(first, Bidirectional) or any(isinstance(x, ReverseTime) for x in models[0].layers)
        cells = [[layer._built_cell() for layer in layers] for layers in directions]  # (M, directions)
        count = len(cells[0])
        self.weight_ih = nn.ParameterList(_stack([c[d].weight_ih for c in cells]) for d in range(count))  # (M, 4H, D)
        self.weight_hh = nn.ParameterList(_stack([c[d].weight_hh for c in cells]) for d in range(count))  # (M, 4H, H)
        self.bias = nn.ParameterList(_stack([c[d].bias for c in cells]) for d in range(count))  # (M, 4H)
        heads = [_head(m) for m in models]
        self.head_index = len(models[0].layers) - 1
        self.head_weight = _stack([h.weight for h in heads])  # (M, C, F)
        self.head_bias = _stack([h.bias for h in heads])  # (M, C)

    def _direction(self, x: Tensor, d: int) -> Tensor:
        """One direction over time for all models: (M, B, T, D) -> (M, B, T, H) in input time order."""
        models, batch, steps, _ = x.shape
        units = self.weight_hh[d].shape[-1]
        xw = torch.einsum("mbtd,mgd->mbtg", x, self.weight_ih[d]) + self.bias[d][:, None, None, :]  # (M, B, T, 4H)
        h = x.new_zeros(models, batch, units)
        c = x.new_zeros(models, batch, units)
        outputs: list[Tensor] = [x.new_zeros(0)] * steps
        order = range(steps - 1, -1, -1) if self.backwards[d] else range(steps)
        for k, t in enumerate(order):
            gates = xw[:, :, t] + torch.bmm(h, self.weight_hh[d].transpose(1, 2))  # (M, B, 4H)
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs[t if self.realign or not self.backwards[d] else k] = h
        return torch.stack(outputs, dim=2)  # (M, B, T, H)

    def forward(self, x: Tensor) -> Tensor:
        halves = [self._direction(x, d) for d in range(len(self.weight_ih))]
        if self.merge_mode is None:
            features = halves[0]
        elif self.merge_mode == "concat":
            features = torch.cat(halves, dim=-1)
        elif self.merge_mode == "sum":
            features = halves[0] + halves[1]
        elif self.merge_mode == "mul":
            features = halves[0] * halves[1]
        else:
            features = (halves[0] + halves[1]) / 2
        return torch.einsum("mbtf,mcf->mbtc", features, self.head_weight) + self.head_bias[:, None, None, :]

    def unstack(self, m: int) -> dict[str, Tensor]:
        """Model m's weights, keyed as in its `Sequential` state dict."""
        names = ["forward_layer", "backward_layer"] if self.merge_mode is not None else [None]
        state: dict[str, Tensor] = {}
        for d, name in enumerate(names):
            prefix = f"layers.0.{name}.cell." if name else "layers.0.cell."
            state[prefix + "weight_ih"] = self.weight_ih[d][m]
            state[prefix + "weight_hh"] = self.weight_hh[d][m]
            state[prefix + "bias"] = self.bias[d][m]
        state[f"layers.{self.head_index}.layer.linear.weight"] = self.head_weight[m]
        state[f"layers.{self.head_index}.layer.linear.bias"] = self.head_bias[m]
        return state
