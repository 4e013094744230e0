"""Bidirectional wrapper: a forward and a backward copy of an LSTM, re-aligned in time and merged."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from .base import Layer, Shape, check_rank
from .lstm import LSTM, CallTrace, LSTMState, check_torch_lstm, check_torch_options, fused_lstm
from .sequence import Lengths, as_lengths
from .trace import is_recording

__all__ = ["MERGE_MODES", "Bidirectional", "MergeMode", "merge"]

# How two directions' outputs become one; a Bidirectional also takes None (both outputs, unmerged).
MergeMode = Literal["concat", "sum", "mul", "ave"]
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def merge(a: Tensor, b: Tensor, mode: MergeMode) -> Tensor:
    """Merge two directions' outputs: "concat" on the last axis (width 2H), "sum", "mul" or "ave" (width H).

    Shapes:
        a, b: (..., H), the same shape. Returns (..., 2H) for "concat", else (..., H).

    Example:
        >>> merge(torch.ones(2, 3), torch.zeros(2, 3), "ave")
        tensor([[0.5000, 0.5000, 0.5000],
                [0.5000, 0.5000, 0.5000]])
    """
    if mode == "concat":
        return torch.cat([a, b], dim=-1)
    if mode == "sum":
        return a + b
    if mode == "mul":
        return a * b
    if mode == "ave":
        return (a + b) / 2
    raise ValueError(f"Expected mode in {{'concat', 'sum', 'mul', 'ave'}}. Received: mode={mode!r}")


class Bidirectional(Layer):
    """Run `layer` forwards and a fresh copy of it backwards over each sequence, and merge the two.

    The backward copy reads each row from its own last valid step to its first; its outputs are put back in
    the input's time order (within each row's length) before merging, so step t of both halves describes the
    same input step. Padded steps stay zero.

    Args:
        layer: the LSTM to run forwards; its `return_sequences`, `return_state` and `stateful` options apply
            to the pair. The backward copy has the same options, its own weights and the opposite direction.
        merge_mode: "concat" (default, width 2H), "sum", "mul", "ave", or None to return both outputs.

    Shapes:
        x: (B, T, D) with optional lengths (B,): a tensor or list (checked here) or `Lengths`. Output:
        (B, T, 2H | H) with `return_sequences`, else (B, 2H | H): the forward half's final state and the backward
        half's final state (after reading the whole row backwards). With `return_state`:
        `(output, (forward_state, backward_state))`.

    Raises:
        ValueError: on an unknown merge mode, or the inputs the LSTM itself rejects.

    Example:
        >>> bi = Bidirectional(LSTM(20, input_size=1, return_sequences=True), merge_mode="sum")
        >>> bi(torch.rand(2, 10, 1), lengths=torch.tensor([10, 4])).shape
        torch.Size([2, 10, 20])
    """

    uses_lengths = True

    def __init__(self, layer: LSTM, *, merge_mode: MergeMode | None = "concat") -> None:
        super().__init__()
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Expected merge_mode in {{'concat', 'sum', 'mul', 'ave', None}}. Received: merge_mode={merge_mode!r}"
            )
        if not isinstance(layer, LSTM):
            raise ValueError(f"Expected an lstmlab LSTM layer to wrap. Received: {type(layer).__name__}")
        self.merge_mode: MergeMode | None = merge_mode
        self.forward_layer = layer
        self.backward_layer = layer.clone(go_backwards=not layer.go_backwards)
        self._trace = CallTrace()

    @property
    def return_sequences(self) -> bool:
        return self.forward_layer.return_sequences

    @property
    def return_state(self) -> bool:
        return self.forward_layer.return_state

    @property
    def last_impl(self) -> str | None:
        """The path the last call took ("reference" or "fused")."""
        return self.forward_layer.last_impl

    @property
    def last_one_call(self) -> bool | None:
        """Whether the last call ran both directions in one fused kernel call."""
        return self._trace.one_call

    def build(self, input_shape: Shape) -> Shape:
        if self.merge_mode is None:
            raise ValueError(
                "Expected a merge mode inside a Sequential (each layer passes on one tensor). Received: merge_mode=None"
            )
        shape = self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)
        width = shape[-1]
        assert width is not None
        return (*shape[:-1], 2 * width if self.merge_mode == "concat" else width)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        return self.forward_layer.output_lengths(inputs, lengths)

    def reset_states(self) -> None:
        """Forget the states both directions carry (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | Lengths | None = None,
        initial_state: tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None,
    ) -> Tensor | tuple[Tensor, ...] | tuple[Tensor | tuple[Tensor, Tensor], tuple[LSTMState, LSTMState]]:
        if initial_state is not None and len(initial_state) != 2:
            raise ValueError(
                f"Expected initial_state as (forward (h, c), backward (h, c)). Received: {len(initial_state)} items"
            )
        forward_state = backward_state = None
        if initial_state is not None:
            forward_state, backward_state = initial_state
        check_rank("Bidirectional", x, (3,), "(batch, steps, features)")
        checked = as_lengths(lengths, x)  # once for both directions
        # a given or carried state is not known to be zero without a device read
        from_zeros = (
            forward_state is None and self.forward_layer.carried_state is None,
            backward_state is None and self.backward_layer.carried_state is None,
        )
        start_f = self.forward_layer.prepare(x, forward_state)
        start_b = self.backward_layer.prepare(x, backward_state)
        reader_of_padding = 0 if checked.left else 1  # the kernel's direction that reads a row's padding first
        reason = self.one_call_unsupported_reason(x, checked, from_zeros=from_zeros[reader_of_padding])
        self._trace.one_call = reason is None
        if self._trace.one_call:
            joint, state_f, state_b = self._run_one_call(x, checked, start_f, start_b)
            out_f, out_b = (joint, joint) if self.merge_mode == "concat" else joint.chunk(2, dim=-1)
        else:
            out_f, out_b, state_f, state_b = self._run_two_calls(x, checked, (start_f, start_b), from_zeros)
        if not self.return_sequences:
            merged = self._merge(state_f.h, state_b.h)
        elif self._trace.one_call and self.merge_mode == "concat":
            merged = joint  # the kernel wrote both halves side by side
        else:
            merged = self._merge(out_f, out_b)
        if self.return_state:
            return merged, (state_f, state_b)
        return merged

    def one_call_unsupported_reason(self, x: Tensor, lengths: Lengths | None, *, from_zeros: bool = True) -> str | None:
        """Why both directions cannot share one fused kernel call on `x`, or None when they can.

        One call (`torch.lstm(bidirectional=True)`, as `nn.LSTM` runs) costs less than two for short sequences.

        Args:
            x: (B, T, D), the call's input.
            lengths: checked for x (None: no lengths).
            from_zeros: the direction that reads a row's padding first in the kernel (the backward one on right
                padding, the forward one on left padding) starts from zeros (no given or carried state): the held
                padding holds only a zero state exactly.
        """
        if self.forward_layer.go_backwards:
            return "the first layer reads backwards"
        if any(layer.resolve_impl(x) != "fused" for layer in (self.forward_layer, self.backward_layer)):
            return "a direction runs the reference implementation"
        if self.training and (self.forward_layer.dropout > 0 or self.backward_layer.dropout > 0):
            return "input dropout draws a separate mask for each direction"
        if lengths is not None and lengths.padded and not from_zeros:
            reader = "forward" if lengths.left else "backward"
            return f"the {reader} direction would read the padding first from a given (or carried) state"
        return None

    def _run_one_call(
        self, x: Tensor, lengths: Lengths, start_f: LSTMState, start_b: LSTMState
    ) -> tuple[Tensor, LSTMState, LSTMState]:
        """Both directions in one fused kernel call: their outputs side by side (B, T, 2H), and final states.

        The kernel returns the backward half in input time order.
        """
        cells = [self.forward_layer.cell, self.backward_layer.cell]
        outputs, (h_n, c_n) = fused_lstm(
            x, lengths.values, cells, [start_f, start_b], training=self.training, left=lengths.left
        )
        state_f, state_b = LSTMState(h_n[0], c_n[0]), LSTMState(h_n[1], c_n[1])
        if is_recording():  # the kernel returns both directions in input time order
            units = self.forward_layer.units
            self.forward_layer.record(x, outputs[..., :units], lengths, start_f, reading_order=False)
            self.backward_layer.record(x, outputs[..., units:], lengths, start_b, reading_order=False)
        self.forward_layer.finish("fused", state_f)
        self.backward_layer.finish("fused", state_b)
        return outputs, state_f, state_b

    def _run_two_calls(
        self, x: Tensor, lengths: Lengths, starts: tuple[LSTMState, LSTMState], from_zeros: tuple[bool, bool]
    ) -> tuple[Tensor, Tensor, LSTMState, LSTMState]:
        """Each direction on its own; outputs put back in input time order (within each row's length)."""
        out_f, state_f = self.forward_layer.run_prepared(x, lengths, starts[0], from_zeros=from_zeros[0])
        out_b, state_b = self.backward_layer.run_prepared(x, lengths, starts[1], from_zeros=from_zeros[1])
        if self.return_sequences and self.forward_layer.go_backwards:
            out_f = lengths.reverse(out_f)
        if self.return_sequences and self.backward_layer.go_backwards:
            out_b = lengths.reverse(out_b)
        return out_f, out_b, state_f, state_b

    def _merge(self, a: Tensor, b: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return (a, b) if self.merge_mode is None else merge(a, b, self.merge_mode)

    @classmethod
    def from_torch(
        cls, module: nn.LSTM, *, merge_mode: MergeMode | None = "concat", **options: object
    ) -> Bidirectional:
        """A Bidirectional with the weights of a one-layer `nn.LSTM(bidirectional=True)`.

        With merge_mode "concat" the outputs equal the module's (on a packed batch for variable lengths).
        """
        check_torch_lstm(module, bidirectional=True)
        check_torch_options(options)
        layer = LSTM(module.hidden_size, input_size=module.input_size, **options)  # type: ignore[arg-type]
        wrapper = cls(layer, merge_mode=merge_mode).to(next(module.parameters()))
        wrapper.forward_layer.load_torch_weights(module, "")
        wrapper.backward_layer.load_torch_weights(module, "_reverse")
        return wrapper

    def to_torch(self) -> nn.LSTM:
        """A batch-first `nn.LSTM(bidirectional=True)` with these weights (concat of both directions)."""
        if self.forward_layer.go_backwards:
            raise ValueError("Expected a forward-reading first layer for to_torch(). Received: go_backwards=True")
        size = self.forward_layer.input_size
        if size is None:
            raise ValueError("Expected a built Bidirectional for to_torch(). Received: a layer with no input size")
        module = nn.LSTM(size, self.forward_layer.units, batch_first=True, bidirectional=True)
        module = module.to(self.forward_layer.cell.weight_ih)
        self.forward_layer.store_torch_weights(module, "")
        self.backward_layer.store_torch_weights(module, "_reverse")
        return module
