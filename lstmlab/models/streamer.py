"""Run a causal model one step at a time: the same weights, each LSTM carrying its state between calls
(`streaming`), or many live sequences stepped together, each keeping its own state (`Streamer`)."""

from __future__ import annotations

import copy
import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..layers import ACTIVATIONS, LSTM, Dense, Dropout, Embedding, GaussianNoise, TimeDistributed
from .ensemble import Ensemble
from .sequential import Sequential

__all__ = ["Streamer", "check_streamable", "streaming"]

_PER_STEP = (Dense, Dropout, Embedding, TimeDistributed)  # layers that never look at another step


def check_streamable(model: Sequential) -> None:
    """Raise unless `model` reads forwards, one step at a time (what `streaming` and `Streamer` take).

    Raises:
        ValueError: for an ensemble; naming the first layer that needs later steps (Bidirectional, go_backwards,
            Flatten, pooling over time, ReverseTime).
    """
    if isinstance(model, Ensemble):
        raise ValueError(f"Expected one model to stream. Received: an ensemble of {model.size} ({model.name})")
    for layer in model.layers:
        reads_backwards = isinstance(layer, LSTM) and layer.go_backwards
        if reads_backwards or not isinstance(layer, (LSTM, *_PER_STEP)):
            what = "LSTM(go_backwards=True)" if reads_backwards else type(layer).__name__
            raise ValueError(
                f"Expected a model that reads forwards, step by step, to stream. Received: {model.name} has {what}, "
                "which needs the steps after the current one"
            )
    if not model.input_shape:
        raise ValueError(f"Expected a model over sequences. Received: input shape {model.input_shape}")


def streaming(model: Sequential) -> Sequential:
    """A copy of `model` that reads one step per call (input `(B, 1, ...)`) with every LSTM stateful.

    A forward-reading model trained on whole sequences gives, step by step, the outputs it gives on the whole
    sequence (per-step outputs at every step; a many-to-one model's answer so far after each step): it can answer
    as values arrive. Call `reset_states()` between sequences.

    Raises:
        ValueError: for an ensemble; naming the first layer that needs later steps (Bidirectional, go_backwards,
            Flatten, pooling over time, ReverseTime).
    """
    check_streamable(model)
    copied = copy.deepcopy(model)
    copied.input_shape = (1, *model.input_shape[1:])
    for layer in copied.layers:
        if isinstance(layer, LSTM):
            layer.stateful = True
    copied.reset_states()
    return copied


def _sigmoid_by_tanh(gates: Tensor) -> np.ndarray:
    """An LSTM's (4H, K) gate rows i|f|g|o as (K, 4H) columns i|f|o|g, the sigmoid gates' halved: one `tanh` over
    all four then gives tanh(g) and, through 0.5 + 0.5 tanh(z / 2) = sigmoid(z), the three sigmoids."""
    i, f, g, o = gates.detach().double().chunk(4, dim=0)
    return torch.cat([0.5 * i, 0.5 * f, 0.5 * o, g]).T.cpu().numpy()


class _Step:
    """One layer's arithmetic on one step of N streams, in NumPy: (N, D) in, (N, D') out."""

    def __call__(self, x: np.ndarray, slots: Any) -> np.ndarray:
        raise NotImplementedError


class _Identity(_Step):
    def __call__(self, x: np.ndarray, slots: Any) -> np.ndarray:
        return x


class _Lookup(_Step):
    def __init__(self, layer: Embedding, dtype: Any) -> None:
        self.table = layer.embedding.weight.detach().cpu().numpy().astype(dtype)
        self.size = layer.input_dim

    def __call__(self, x: np.ndarray, slots: Any) -> np.ndarray:
        rows: np.ndarray = self.table[x]
        return rows


class _Affine(_Step):
    def __init__(self, layer: Dense, dtype: Any) -> None:
        assert layer.linear is not None
        self.kernel = layer.linear.weight.detach().cpu().numpy().T.astype(dtype)
        self.bias = layer.linear.bias.detach().cpu().numpy().astype(dtype)
        self.activation = layer.activation

    def __call__(self, x: np.ndarray, slots: Any) -> np.ndarray:
        out: np.ndarray = np.dot(x, self.kernel)  # np.dot: less overhead than @ on a few rows
        out += self.bias
        if self.activation in (None, "linear"):
            return out
        return np.asarray(ACTIVATIONS[self.activation](torch.from_numpy(out)).numpy())


class _Recurrent(_Step):
    """An LSTM step on each stream's own state. The states live in tables of `capacity` rows (one per slot): `joined`
    holds each row's next input, hidden state and a 1, `[x | h | 1]`, so that one product with `stacked` gives the
    gates' pre-activations (bias included) and a run of consecutive slots is read in place; `c` the cell states."""

    def __init__(self, layer: LSTM, dtype: Any, capacity: int) -> None:
        cell = layer.cell
        self.units, self.inputs = cell.units, cell.input_size
        bias = cell.bias.detach().unsqueeze(1)  # (4H, 1)
        parts = [_sigmoid_by_tanh(w) for w in (cell.weight_ih, cell.weight_hh, bias)]
        self.stacked = np.concatenate(parts).astype(dtype)  # (D + H + 1, 4H)
        self.joined = self._fresh(capacity, dtype)
        self.c = np.zeros((capacity, self.units), dtype)

    def _fresh(self, rows: int, dtype: Any) -> np.ndarray:
        table = np.zeros((rows, self.inputs + self.units + 1), dtype)
        table[:, -1] = 1.0
        return table

    def grow(self, capacity: int) -> None:
        extra = capacity - len(self.c)
        self.joined = np.concatenate([self.joined, self._fresh(extra, self.joined.dtype)])
        self.c = np.concatenate([self.c, np.zeros((extra, self.units), self.c.dtype)])

    def clear(self, slot: int) -> None:
        self.joined[slot, : self.inputs + self.units] = 0.0
        self.c[slot] = 0.0

    def __call__(self, x: np.ndarray, slots: Any) -> np.ndarray:
        d, units = self.inputs, self.units
        self.joined[slots, :d] = x
        gates = np.dot(self.joined[slots], self.stacked)  # (N, 4H): i | f | o (halved) | g
        np.tanh(gates, out=gates)
        sigmoids = gates[:, : 3 * units]
        sigmoids *= 0.5
        sigmoids += 0.5
        c = sigmoids[:, units : 2 * units] * self.c[slots]
        c += sigmoids[:, :units] * gates[:, 3 * units :]
        h: np.ndarray = sigmoids[:, 2 * units : 3 * units] * np.tanh(c)
        self.c[slots] = c
        self.joined[slots, d : d + units] = h
        return h


class Streamer:
    """Many live sequences, each stepped as its values arrive, all in one batched call.

    `step(stream_ids, values)` advances each named stream by one step and returns the model's answer for it after
    that step: what the model gives on the stream's whole sequence so far (a many-to-one model's answer so far; a
    per-step model's output at this step). Each stream keeps its own LSTM states between calls; an id not seen
    before (or ended) starts from zeros; `end(id)` frees its slot. The arithmetic is NumPy's, on the model's weights
    copied at construction (later training does not reach it), in float32 (float64 for a float64 model); the
    tests check it against the model on whole sequences.

    Args:
        model: a `Sequential` that `streaming()` accepts (forward-reading LSTMs, Dense, Dropout, Embedding,
            TimeDistributed(Dense)).
        capacity: streams to allocate state for at first; the tables double when more are live.

    Shapes:
        values: (N, D) floats, or (N,) for one feature; (N,) integer token ids for a model with an Embedding first.
        Returns (N, C) logits (`probabilities=True`: sigmoid or softmax), C the model's output width.

    Example:
        >>> from lstmlab.models import build_model
        >>> streams = Streamer(build_model("qa-lstm"))
        >>> streams.step(["sensor-1", "sensor-2"], [0.3, 0.9]).shape
        (2, 1)
        >>> streams.end("sensor-1"); streams.live
        1
    """

    def __init__(self, model: Sequential, *, capacity: int = 1024) -> None:
        check_streamable(model)
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"Expected a capacity that is a positive integer. Received: {capacity!r}")
        weight = next(model.parameters())
        self.dtype = np.float64 if weight.dtype == torch.float64 else np.float32
        self.capacity = capacity
        self.tokens = isinstance(model.layers[0], Embedding)
        self.features = None if self.tokens else model.input_shape[-1]
        self.width = model.output_shapes[-1][-1]
        self._slots: dict[Hashable, int] = {}
        self._last: tuple[list[Hashable], Any] | None = None  # the last call's ids and their state rows
        self._free = list(range(capacity - 1, -1, -1))  # popped from the end: slot 0 first
        self._steps: list[_Step] = []
        self._recurrent: list[_Recurrent] = []
        with torch.no_grad():
            for layer in model.layers:
                self._steps.append(self._step_of(layer))

    def _step_of(self, layer: Any) -> _Step:
        if isinstance(layer, TimeDistributed):
            return self._step_of(layer.layer)
        if isinstance(layer, Dropout | GaussianNoise):
            return _Identity()
        if isinstance(layer, Embedding):
            return _Lookup(layer, self.dtype)
        if isinstance(layer, Dense):
            return _Affine(layer, self.dtype)
        if isinstance(layer, LSTM):
            recurrent = _Recurrent(layer, self.dtype, self.capacity)
            self._recurrent.append(recurrent)
            return recurrent
        raise ValueError(
            f"Expected layers that act on one step (LSTM, Dense, Dropout, Embedding) to stream. Received: "
            f"{type(layer).__name__}"
        )

    @property
    def live(self) -> int:
        """Streams holding a state now."""
        return len(self._slots)

    def holds(self, stream_id: Hashable) -> bool:
        """Whether `stream_id` holds a state now."""
        return stream_id in self._slots

    def step(self, stream_ids: Sequence[Hashable], values: Any, *, probabilities: bool = False) -> np.ndarray:
        """Advance each stream in `stream_ids` (distinct) by one step of `values` (one row each); their answers.

        Raises:
            ValueError: on repeated ids, or values of the wrong shape, kind or count (ids outside the vocabulary,
                values that are not finite).
        """
        ids = stream_ids if isinstance(stream_ids, list) else list(stream_ids)
        x = self._checked(values, len(ids))
        last = self._last
        index = last[1] if last is not None and ids == last[0] else self._index_of(ids)
        for step in self._steps:
            x = step(x, index)
        if not probabilities:
            return x
        logits = torch.from_numpy(x)
        return (torch.sigmoid(logits) if self.width == 1 else torch.softmax(logits, dim=-1)).numpy()

    def end(self, stream_id: Hashable) -> None:
        """Forget a stream: its slot is free, and the id starts from zeros if it comes again.

        Raises:
            ValueError: for an id that holds no state.
        """
        slot = self._slots.pop(stream_id, None)
        if slot is None:
            raise ValueError(f"Expected the id of a live stream. Received: {stream_id!r}, which holds no state")
        for table in self._recurrent:
            table.clear(slot)
        self._free.append(slot)
        self._last = None

    def _index_of(self, ids: list[Hashable]) -> Any:
        """The state rows of `ids`: a slice where they are consecutive (views, no copies), else an index array. They
        are kept with the ids (`step` reuses them for the same ids): a service stepping the same streams call after
        call looks nothing up."""
        slots = self._slots_of(ids)
        first, count = slots[0], len(slots)
        rows = np.asarray(slots)
        index: Any = rows
        if count == 1 or (rows[-1] - first == count - 1 and bool((np.diff(rows) == 1).all())):
            index = slice(first, first + count)
        self._last = (list(ids), index)
        return index

    def _slots_of(self, ids: list[Hashable]) -> list[int]:
        try:
            distinct = set(ids)
        except TypeError:
            raise ValueError("Expected hashable stream ids (strings or integers). Received: an unhashable id") from None
        if len(distinct) != len(ids):
            repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
            raise ValueError(f"Expected each stream once per step. Received: {', '.join(repeated)} more than once")
        known = self._slots
        return [known[i] if i in known else self._new_slot(i) for i in ids]

    def _new_slot(self, stream_id: Hashable) -> int:
        if not self._free:
            old = self.capacity
            self.capacity *= 2
            for table in self._recurrent:
                table.grow(self.capacity)
            self._free = list(range(self.capacity - 1, old - 1, -1))
        slot = self._free.pop()
        self._slots[stream_id] = slot
        return slot

    def _checked(self, values: Any, count: int) -> np.ndarray:
        if count == 0:
            raise ValueError("Expected at least one stream id. Received: none")
        if self.tokens:
            x = np.asarray(values)
            table = self._steps[0]
            assert isinstance(table, _Lookup)
            if x.shape != (count,) or x.dtype.kind not in "iu":
                raise ValueError(
                    f"Expected one integer token id per stream, shape ({count},). Received: shape {x.shape}, "
                    f"dtype {x.dtype}"
                )
            if x.min() < 0 or x.max() >= table.size:
                raise ValueError(f"Expected ids in 0..{table.size - 1}. Received: min={x.min()}, max={x.max()}")
            return x
        x = np.asarray(values, dtype=self.dtype)
        if x.ndim == 1 and self.features == 1:
            x = x.reshape(-1, 1)
        if x.shape != (count, self.features):
            raise ValueError(
                f"Expected one row of {self.features} value(s) per stream, shape ({count}, {self.features}). "
                f"Received: shape {np.shape(values)}"
            )
        # NaN and infinity reach a float64 sum (float32 values cannot overflow it); a few values are checked one by one
        finite = all(map(math.isfinite, x.flat)) if x.size <= 16 else math.isfinite(x.sum(dtype=np.float64))
        if not finite:
            raise ValueError("Expected finite values. Received: NaN or infinity")
        return x
