"""Many tutorial models of one shape as one module with a leading model axis: train N seeds x M variants at once.

`torch.func.vmap` has no batching rule for the fused LSTM kernel, so the stacked layer computes the gates with batched
matrix products over stacked weights `(M, 4H, D)` and steps with the layers' own equations (`lstm_step`), merging
directions with `merge`. Each model keeps its own weights; with a loss that sums the
models' own losses, each model's gradient is its own, and Adam (elementwise) over the stacked weights is each
model's own Adam: training the stack equals training each model alone (tested to float tolerance).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from ..layers import LSTM, Bidirectional, Dense, MergeMode, ReverseTime, TimeDistributed, lstm_step, merge
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


Kind = MergeMode | Literal["aligned", "reading"]


def _kind(model: Sequential) -> Kind:
    """How a model turns its directions' outputs into features: a merge mode, or one direction's outputs in input
    order ("aligned") or, for a lone go_backwards LSTM without ReverseTime, in Keras's reading order ("reading")."""
    first = model.layers[0]
    if isinstance(first, Bidirectional):
        assert first.merge_mode is not None  # a Bidirectional inside a Sequential merges (its build says so)
        return first.merge_mode
    keeps_reading_order = isinstance(first, LSTM) and first.go_backwards
    realigned = any(isinstance(layer, ReverseTime) for layer in model.layers)
    return "reading" if keeps_reading_order and not realigned else "aligned"


class StackedTutorial(nn.Module):
    """Tutorial models (`tutorial-lstm`, `tutorial-lstm-backward`, `tutorial-bilstm`, any merge mode), stacked.

    Every LSTM direction of every model joins one bank of weights `(N, 4H, D)`, run over time in one loop of
    batched matrix products (backward directions read a time-flipped copy); models of the same kind then share
    one merge and one batched head. All models need the same input size, hidden size and number of classes.

    Args:
        models: built tutorial models (full-length sequences: no lengths).

    Shapes:
        x: (M, B, T, D), each model its own batch. Returns logits (M, B, T, C).
    """

    def __init__(self, models: list[Sequential]) -> None:
        super().__init__()
        directions = [_directions(m) for m in models]
        cells = [layer.cell for layers in directions for layer in layers]
        shapes = {(c.input_size, c.units) for c in cells}
        if len(shapes) != 1:
            raise ValueError(f"Expected one (input size, units) for every model. Received: {sorted(shapes)}")
        self.weight_ih = _stack([c.weight_ih for c in cells])  # (N, 4H, D)
        self.weight_hh = _stack([c.weight_hh for c in cells])  # (N, 4H, H)
        self.bias = _stack([c.bias for c in cells])  # (N, 4H)
        backwards = [layer.go_backwards for layers in directions for layer in layers]
        owners = [m for m, layers in enumerate(directions) for _ in layers]
        self.backwards: Tensor
        self.direction_model: Tensor  # which model's batch each direction reads
        self.register_buffer("backwards", torch.tensor(backwards)[:, None, None, None], persistent=False)
        self.register_buffer("direction_model", torch.tensor(owners), persistent=False)
        first_direction = [0]
        for layers in directions:
            first_direction.append(first_direction[-1] + len(layers))
        self.first_direction = first_direction[:-1]  # model m's directions: first_direction[m], +1 for a Bi-LSTM
        self.kinds: list[Kind] = [_kind(m) for m in models]
        self.groups = {kind: [m for m, k in enumerate(self.kinds) if k == kind] for kind in dict.fromkeys(self.kinds)}
        heads = [_head(m) for m in models]
        self.head_index = [len(m.layers) - 1 for m in models]
        self.head_weight = nn.ParameterList(_stack([heads[m].weight for m in ms]) for ms in self.groups.values())
        self.head_bias = nn.ParameterList(_stack([heads[m].bias for m in ms]) for ms in self.groups.values())
        self.classes = heads[0].out_features

    def _bank(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Every direction over time: outputs (N, B, T, H) in reading order and in input time order; the gates as in
        `LSTMCell` (input part for all steps at once), the step is `lstm_step`."""
        xd = x[self.direction_model]  # (N, B, T, D): each direction reads its own model's batch
        xd = torch.where(self.backwards, xd.flip(2), xd)
        xw = torch.einsum("nbtd,ngd->nbtg", xd, self.weight_ih) + self.bias[:, None, None, :]  # (N, B, T, 4H)
        count, batch, steps, _ = xw.shape
        h = x.new_zeros(count, batch, self.weight_hh.shape[-1])
        c = torch.zeros_like(h)
        recurrent = self.weight_hh.transpose(1, 2)  # (N, H, 4H)
        outputs = []
        for t in range(steps):
            gates = torch.baddbmm(xw[:, :, t], h, recurrent)  # (N, B, 4H)
            h, c = lstm_step(gates, c)  # (N, B, H) each
            outputs.append(h)
        reading = torch.stack(outputs, dim=2)  # (N, B, T, H)
        return reading, torch.where(self.backwards, reading.flip(2), reading)

    def _features(self, kind: Kind, models: list[int], reading: Tensor, aligned: Tensor) -> Tensor:
        first = torch.tensor([self.first_direction[m] for m in models], device=reading.device)
        if kind == "aligned":
            return aligned[first]  # (G, B, T, H)
        if kind == "reading":
            return reading[first]
        return merge(aligned[first], aligned[first + 1], kind)  # (G, B, T, F)

    def forward(self, x: Tensor) -> Tensor:
        reading, aligned = self._bank(x)
        logits = x.new_empty(*x.shape[:3], self.classes)  # (M, B, T, C)
        for g, (kind, models) in enumerate(self.groups.items()):
            features = self._features(kind, models, reading, aligned)  # (G, B, T, F)
            head = torch.einsum("gbtf,gcf->gbtc", features, self.head_weight[g]) + self.head_bias[g][:, None, None, :]
            logits = logits.index_copy(0, torch.tensor(models, device=x.device), head)
        return logits

    def slot_models(self) -> list[tuple[nn.Parameter, Tensor]]:
        """Every parameter with the model each of its leading slots belongs to, for per-model settings in training
        (`training.stacked.fit_stacked` with one learning rate per model).

        Returns:
            (parameter, owners) pairs covering all parameters; owners is a (slots,) index into the models.

        Example:
            >>> stack = StackedTutorial([build_model("tutorial-bilstm"), build_model("tutorial-lstm")])
            >>> stack.slot_models()[0][1].tolist()  # directions: the Bi-LSTM's two, then the LSTM's one
            [0, 0, 1]
        """
        owners: list[tuple[nn.Parameter, Tensor]] = [
            (p, self.direction_model) for p in (self.weight_ih, self.weight_hh, self.bias)
        ]
        for g, models in enumerate(self.groups.values()):
            index = torch.tensor(models, device=self.direction_model.device)
            owners += [(self.head_weight[g], index), (self.head_bias[g], index)]
        return owners

    def unstack(self, m: int) -> dict[str, Tensor]:
        """Model m's weights, keyed as in its `Sequential` state dict."""
        names = ["forward_layer", "backward_layer"] if self.kinds[m] not in ("aligned", "reading") else [None]
        state: dict[str, Tensor] = {}
        for offset, name in enumerate(names):
            d = self.first_direction[m] + offset
            prefix = f"layers.0.{name}.cell." if name else "layers.0.cell."
            state[prefix + "weight_ih"] = self.weight_ih[d]
            state[prefix + "weight_hh"] = self.weight_hh[d]
            state[prefix + "bias"] = self.bias[d]
        g = list(self.groups).index(self.kinds[m])
        slot = self.groups[self.kinds[m]].index(m)
        state[f"layers.{self.head_index[m]}.layer.linear.weight"] = self.head_weight[g][slot]
        state[f"layers.{self.head_index[m]}.layer.linear.bias"] = self.head_bias[g][slot]
        return state
