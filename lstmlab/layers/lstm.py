"""LSTM cell and layer: the gate equations as a readable reference, and PyTorch's fused kernel as the fast path.

Both paths share parameters, input dropout, direction handling and state bookkeeping; they differ only in how the
recurrence over time is computed (a loop over `LSTMCell` vs `fused_lstm`), and the tests prove them equal. The gate
equations are written once, in `lstm_step`, which the cell (and the stacked tutorial models) call.

What `Bidirectional` builds on is public: `LSTM.prepare` (check an input, pick the initial state), `run_prepared`
(run on a prepared input with checked `Lengths`), `finish` (record the call), `cell`, and `fused_lstm`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

from .base import Layer, Shape, check_feature_size, check_floating, check_positive_int, check_rank, check_steps
from .sequence import Lengths, as_lengths, roll_rows, step_mask
from .trace import HOLD, DirectionRun, gate_activations, is_recording, record

__all__ = ["FUSED_DEVICES", "IMPLS", "LSTM", "CallTrace", "Impl", "LSTMCell", "LSTMState", "fused_lstm", "lstm_step"]

# Which path an LSTM takes: "reference" (the equations, step by step), "fused" (PyTorch's kernel) or "auto".
Impl = Literal["auto", "reference", "fused"]
IMPLS = ("auto", "reference", "fused")
# Devices where torch.lstm runs a fused kernel (oneDNN or the native CPU kernel; cuDNN on CUDA).
FUSED_DEVICES = ("cpu", "cuda")


@dataclass
class CallTrace:
    """What a layer's last call did (`LSTM.last_impl`, `Bidirectional.last_one_call`); a plain object, so that
    recording it on every call skips nn.Module.__setattr__."""

    impl: Literal["reference", "fused"] | None = None
    one_call: bool | None = None


class LSTMState(NamedTuple):
    """Hidden and cell state of one LSTM direction, each `(B, H)`."""

    h: Tensor
    c: Tensor


def lstm_step(gates: Tensor, c: Tensor) -> LSTMState:
    """The LSTM equations from the gates' pre-activations: the new hidden and cell state.

    Shapes:
        gates: (..., 4H), the blocks i | f | g | o (input, forget, candidate, output) of `x W_ih^T + h W_hh^T + b`;
        c: (..., H). Returns `LSTMState(h, c)`, each (..., H); any leading axes (a model axis too).

    Example:
        >>> h, c = lstm_step(torch.zeros(2, 8), torch.ones(2, 2))
        >>> c
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    i, f, g, o = gate_activations(gates)  # (..., H) each
    c = f * c + i * g
    h = o * torch.tanh(c)
    return LSTMState(h, c)


class LSTMCell(Layer):
    """One LSTM step, as the equations: gates i, f, g (candidate), o, one bias per gate (as in Keras).

    Args:
        input_size: features per step, D.
        units: hidden size, H.

    Shapes:
        x: (B, D); state: two (B, H) tensors. Returns the new `LSTMState`.

    Initialisation follows Keras: Glorot-uniform input weights, orthogonal recurrent weights, zero biases
    with the forget-gate bias at 1.

    Example:
        >>> cell = LSTMCell(3, 5)
        >>> h, c = cell(torch.zeros(2, 3), LSTMState(torch.zeros(2, 5), torch.zeros(2, 5)))
    """

    def __init__(
        self,
        input_size: int,
        units: int,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.units = units
        self.weight_ih = nn.Parameter(torch.empty(4 * units, input_size))  # (4H, D), rows i|f|g|o
        self.weight_hh = nn.Parameter(torch.empty(4 * units, units))  # (4H, H)
        self.bias = nn.Parameter(torch.empty(4 * units))  # (4H,)
        # torch.lstm takes two biases per direction; ours is their sum, so the second is zero (not a parameter)
        self.zero_bias: Tensor
        self.register_buffer("zero_bias", torch.zeros(4 * units), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras initialisation: glorot-uniform, orthogonal, zero bias with forget bias 1."""
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[self.units : 2 * self.units] = 1.0

    def build(self, input_shape: Shape) -> Shape:
        raise ValueError(
            "Expected LSTMCell inside an LSTM layer, which runs it over time (use LSTM(units) in a Sequential). "
            f"Received: LSTMCell in a Sequential, input_shape={input_shape}"
        )

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> LSTMState:
        h, c = state  # (B, H) each
        gates = x @ self.weight_ih.T + h @ self.weight_hh.T + self.bias  # (B, 4H)
        return lstm_step(gates, c)


class LSTM(Layer):
    """Long short-term memory layer over batch-first sequences, with Keras's options and exact padding.

    Args:
        units: hidden size, H.
        input_size: features per step, D; omit it inside a `Sequential`, which infers it.
        return_sequences: return the output of every step `(B, T, H)` instead of the last one `(B, H)`.
        return_state: also return the final `LSTMState`.
        go_backwards: read each sequence from its last valid step to its first (Keras meaning); with
            `return_sequences` the outputs stay in that reversed reading order.
        stateful: the final state of a call is the initial state of the next one, per batch row; the
            batch size must stay the same until `reset_states()`. The carried state is detached.
        dropout: fraction of input features dropped in training, one mask per sequence for all steps (Keras).
        impl: "reference" (a loop over `LSTMCell`), "fused" (PyTorch's fused LSTM kernel; raises where it
            cannot run) or "auto" (fused unless `fused_unsupported_reason` names a reason). `last_impl` tells
            which path the last call took.

    Shapes:
        x: (B, T, D), right-padded when `lengths` (B,) is given as a tensor or list of values in 1..T (checked
        here), or padded on either side when given as `Lengths` (checked already, as `Sequential` passes them;
        `check_lengths(..., padding_side="left")` for left padding). Outputs keep the input's padding side.
        initial_state: two (B, H) tensors. Output: (B, T, H) or (B, H); padded steps give zeros, and the final
        state of each row is its state at its own last valid step, so a padded batch gives what each sequence
        gives alone.

    Raises:
        ValueError: on a wrong input rank, feature size, lengths, initial state, impl, or a stateful batch size
            that changed.

    Example:
        >>> lstm = LSTM(20, input_size=1, return_sequences=True)
        >>> lstm(torch.rand(4, 10, 1), lengths=torch.tensor([10, 7, 3, 1])).shape
        torch.Size([4, 10, 20])
    """

    uses_lengths = True

    def __init__(
        self,
        units: int,
        *,
        input_size: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        impl: Impl = "auto",
    ) -> None:
        super().__init__()
        check_positive_int("units", units)
        if impl not in IMPLS:
            raise ValueError(f"Expected impl in {set(IMPLS)}. Received: impl={impl!r}")
        if not isinstance(dropout, int | float) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected dropout in [0, 1). Received: dropout={dropout!r}")
        self.units = units
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.dropout = dropout
        self.impl: Impl = impl
        self._trace = CallTrace()
        self._carried: LSTMState | None = None
        self._modules["cell"] = None  # an LSTMCell once built; the `cell` property reads it
        if input_size is not None:
            self.build((None, input_size))

    # ----------------------------------------------------------------------------------------- building
    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"LSTM expected an input shape (T, D) with a known D. Received: input_shape={input_shape}")
        size = input_shape[-1]
        check_positive_int("input_size", size)
        if not self.built:
            self._modules["cell"] = LSTMCell(size, self.units)  # registered as "cell": state dict keys cell.*
        elif self.cell.input_size != size:
            raise ValueError(
                f"LSTM was built for {self.cell.input_size} input features. Received: input_shape={input_shape}"
            )
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    @property
    def built(self) -> bool:
        """Whether the layer has its weights (an input size, given or inferred by `Sequential`)."""
        return self._modules["cell"] is not None

    @property
    def cell(self) -> LSTMCell:
        """The layer's `LSTMCell`: its weights and the step equations.

        Raises:
            ValueError: if the layer was never built (no input size yet).
        """
        cell = self._modules["cell"]
        if cell is None:
            raise ValueError(
                "LSTM has no input size yet. Expected LSTM(units, input_size=D) or a Sequential with an "
                "input shape. Received: a layer that was never built"
            )
        assert isinstance(cell, LSTMCell)
        return cell

    @property
    def input_size(self) -> int | None:
        return self.cell.input_size if self.built else None

    @property
    def carried_state(self) -> LSTMState | None:
        """The state a stateful layer carries into its next call; None before its first call and after
        `reset_states()` (and always for a layer that is not stateful)."""
        return self._carried

    def clone(self, **changes: object) -> LSTM:
        """A new layer with the same options (fresh weights), some of them changed."""
        options: dict[str, object] = {
            "units": self.units,
            "input_size": self.input_size,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "dropout": self.dropout,
            "impl": self.impl,
        }
        options.update(changes)
        return LSTM(**options)  # type: ignore[arg-type]

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        return lengths if self.return_sequences else None

    def extra_repr(self) -> str:
        flags = [
            name for name in ("return_sequences", "return_state", "go_backwards", "stateful") if getattr(self, name)
        ]
        return ", ".join([f"{self.units}", f"input_size={self.input_size}", f"impl={self.impl!r}", *flags])

    @property
    def last_impl(self) -> Literal["reference", "fused"] | None:
        """The path the last call took: "reference" or "fused" (None before the first call)."""
        return self._trace.impl

    # ----------------------------------------------------------------------------------------- calling
    def forward(
        self,
        x: Tensor,
        lengths: Tensor | Lengths | None = None,
        initial_state: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor | tuple[Tensor, LSTMState]:
        outputs, state = self.run(x, lengths, initial_state)
        result = outputs if self.return_sequences else state.h
        return (result, state) if self.return_state else result

    def run(
        self,
        x: Tensor,
        lengths: Tensor | Lengths | None = None,
        initial_state: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, LSTMState]:
        """Run over time and return all outputs `(B, T, H)` in reading order, and the final state.

        This is `forward` without the choice of what to return: `prepare`, then `run_prepared` with the lengths
        checked (unless they are `Lengths` already).
        """
        from_zeros = initial_state is None and self._carried is None
        state = self.prepare(x, initial_state)
        return self.run_prepared(x, as_lengths(lengths, x), state, from_zeros=from_zeros)

    def run_prepared(
        self, x: Tensor, lengths: Lengths, state: LSTMState, *, from_zeros: bool = False
    ) -> tuple[Tensor, LSTMState]:
        """`run` on an input that `prepare` accepted, from the state it returned, with checked lengths: no check
        and no device read here (`Bidirectional` prepares both directions and checks the lengths once for both).

        Args:
            x: (B, T, D), accepted by `prepare`.
            lengths: checked for x (`as_lengths`, `check_lengths`).
            state: the initial state `prepare` returned.
            from_zeros: the state is known to be zeros (no given or carried state): on left padding the fused
                kernel then reads the padding first and holds that state exactly; otherwise the rows are moved to
                right padding for the kernel and back (two gathers).

        Returns:
            Outputs (B, T, H) in reading order, zero at padded steps (on the input's padding side), and the final
            `LSTMState` (each row's state at its own last valid step). Records the path taken (`last_impl`) and
            carries the state if stateful.
        """
        impl = self.resolve_impl(x)
        x = self.drop_inputs(x)
        if self.go_backwards:
            x = lengths.reverse(x)
        start = state
        values = lengths.values
        if impl == "fused" and values is not None and lengths.left and not from_zeros:
            # the kernel would read the left padding first and change h from a state it cannot hold exactly
            steps = lengths.steps
            outputs, (h_n, c_n) = fused_lstm(
                roll_rows(x, steps - values), values, [self.cell], [state], training=self.training
            )
            outputs, state = roll_rows(outputs, values), LSTMState(h_n[0], c_n[0])
        elif impl == "fused":
            outputs, (h_n, c_n) = fused_lstm(x, values, [self.cell], [state], training=self.training, left=lengths.left)
            state = LSTMState(h_n[0], c_n[0])
        else:
            outputs, state = self._run_reference(x, lengths.mask(), state)
        if is_recording():
            self.record(x, outputs, lengths, start, reading_order=True)
        self.finish(impl, state)
        return outputs, state

    def record(self, x: Tensor, outputs: Tensor, lengths: Lengths, start: LSTMState, *, reading_order: bool) -> None:
        """Report a run to an active `recording()`: `x` and `outputs` in this layer's reading order, or in the
        input's order where `reading_order` is False."""
        if reading_order and self.go_backwards:
            x, outputs = lengths.reverse(x), lengths.reverse(outputs)
        cell = self.cell
        weights = (cell.weight_ih, cell.weight_hh, cell.bias)
        record(DirectionRun(self, self.go_backwards, weights, x, outputs, lengths, start.h, start.c))

    def prepare(self, x: Tensor, initial_state: tuple[Tensor, Tensor] | None) -> LSTMState:
        """Check a call's input (not its lengths) and return its initial state: `initial_state` if given, else the
        carried state of a stateful layer, else zeros.

        Raises:
            ValueError: on an unbuilt layer, a wrong rank, feature size or dtype, no time steps, a bad initial
                state, or a stateful batch size that changed.
        """
        cell = self.cell
        check_rank("LSTM", x, (3,), "(batch, steps, features)")
        check_feature_size("LSTM", x, cell.input_size)
        check_floating("LSTM", x)
        check_steps("LSTM", x)
        if x.dtype != cell.weight_ih.dtype:
            raise ValueError(
                f"LSTM expected inputs of its weights' dtype {cell.weight_ih.dtype}. Received: dtype={x.dtype}"
            )
        return self._initial_state(x, initial_state)

    def drop_inputs(self, x: Tensor) -> Tensor:
        """Input dropout in training: one mask per sequence, shared by all steps (Keras)."""
        if self.dropout == 0.0 or not self.training:
            return x
        keep = 1.0 - self.dropout
        return x * torch.bernoulli(x.new_full((x.shape[0], 1, x.shape[2]), keep)) / keep  # (B, T, D)

    def finish(self, impl: Literal["reference", "fused"], state: LSTMState) -> None:
        """Record the path taken and, for a stateful layer, carry the final state (detached) to the next call."""
        self._trace.impl = impl
        if self.stateful:
            self._carried = LSTMState(state.h.detach(), state.c.detach())

    def reset_states(self) -> None:
        """Forget the state a stateful layer carries; the next call starts from zeros."""
        self._carried = None

    def fused_unsupported_reason(self, x: Tensor) -> str | None:
        """Why the fused kernel cannot serve input `x`, or None when it can."""
        if x.device.type not in FUSED_DEVICES:
            return f"device type {x.device.type!r} has no fused LSTM kernel (fused runs on {FUSED_DEVICES})"
        if x.dtype not in (torch.float32, torch.float64, torch.bfloat16, torch.float16):
            return f"dtype {x.dtype} is not supported by the fused LSTM kernel"
        return None

    def resolve_impl(self, x: Tensor) -> Literal["reference", "fused"]:
        """The path a call on `x` takes under this layer's `impl` setting."""
        if self.impl == "reference":
            return "reference"
        reason = self.fused_unsupported_reason(x)
        if reason is None:
            return "fused"
        if self.impl == "fused":
            raise ValueError(f"impl='fused' cannot run this input: {reason}. Use impl='auto' or 'reference'")
        return "reference"

    # ----------------------------------------------------------------------------------------- internals
    def _initial_state(self, x: Tensor, initial_state: tuple[Tensor, Tensor] | None) -> LSTMState:
        batch = x.shape[0]
        if initial_state is not None:
            if len(initial_state) != 2:
                raise ValueError(f"Expected initial_state as (h, c). Received: {len(initial_state)} tensors")
            for name, tensor in zip("hc", initial_state, strict=True):
                if not isinstance(tensor, Tensor) or (tensor.dtype, tensor.device) != (x.dtype, x.device):
                    received = (
                        type(tensor).__name__ if not isinstance(tensor, Tensor) else (tensor.dtype, tensor.device)
                    )
                    raise ValueError(
                        f"Expected initial_state {name} as a tensor of the input's dtype and device "
                        f"{(x.dtype, x.device)}. Received: {received}"
                    )
                if tuple(tensor.shape) != (batch, self.units):
                    raise ValueError(
                        f"Expected initial_state {name} of shape ({batch}, {self.units}). "
                        f"Received: shape={tuple(tensor.shape)}"
                    )
            return LSTMState(initial_state[0], initial_state[1])
        if self.stateful and self._carried is not None:
            carried_batch = self._carried.h.shape[0]
            if carried_batch != batch:
                raise ValueError(
                    f"Stateful LSTM expected batch size {carried_batch} (the rows of its carried state); "
                    f"call reset_states() to start new sequences. Received: batch size {batch}"
                )
            return LSTMState(self._carried.h.to(x), self._carried.c.to(x))
        zeros = x.new_zeros(batch, self.units)
        return LSTMState(zeros, zeros)

    def _run_reference(self, x: Tensor, mask: Tensor | None, state: LSTMState) -> tuple[Tensor, LSTMState]:
        """The loop over the cell; at padded steps (either side) the state is held and the output is zero (`mask`:
        (B, T), True at valid steps, None when no row is padded)."""
        cell = self.cell
        if mask is not None:  # padding never enters the arithmetic: NaN there must not reach any gradient
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        h, c = state
        outputs = []
        for t in range(x.shape[1]):
            h_new, c_new = cell(x[:, t], (h, c))  # (B, H) each
            if mask is None:
                h, c = h_new, c_new
                outputs.append(h)
            else:
                valid = mask[:, t : t + 1]  # (B, 1)
                h, c = torch.where(valid, h_new, h), torch.where(valid, c_new, c)
                outputs.append(torch.where(valid, h_new, torch.zeros_like(h_new)))
        return torch.stack(outputs, dim=1), LSTMState(h, c)  # (B, T, H)

    # ----------------------------------------------------------------------------------------- interop
    @classmethod
    def from_torch(cls, module: nn.LSTM, **options: object) -> LSTM:
        """An LSTM with the weights of a one-layer unidirectional `torch.nn.LSTM` (its two biases summed).

        `options` are passed to the constructor (return_sequences, impl, ...). Outputs equal the module's on
        batch-first input (transpose time-first input for a module built with `batch_first=False`).
        Raises ValueError for a bidirectional, multi-layer, projected or bias-free module (use
        `Bidirectional.from_torch` for a bidirectional one).
        """
        check_torch_lstm(module, bidirectional=False)
        check_torch_options(options)
        layer = cls(module.hidden_size, input_size=module.input_size, **options)  # type: ignore[arg-type]
        layer.to(next(module.parameters())).load_torch_weights(module, "")
        return layer

    def load_torch_weights(self, module: nn.LSTM, suffix: str) -> None:
        """Copy one direction's weights from `module` (suffix "" forward, "_reverse" backward)."""
        cell = self.cell
        with torch.no_grad():
            cell.weight_ih.copy_(getattr(module, f"weight_ih_l0{suffix}"))
            cell.weight_hh.copy_(getattr(module, f"weight_hh_l0{suffix}"))
            cell.bias.copy_(getattr(module, f"bias_ih_l0{suffix}") + getattr(module, f"bias_hh_l0{suffix}"))

    def to_torch(self) -> nn.LSTM:
        """A batch-first `torch.nn.LSTM` with these weights (all of the bias in `bias_ih`, `bias_hh` zero).

        It reads forwards: for a `go_backwards` layer, reverse the input within its lengths first.
        """
        cell = self.cell
        module = nn.LSTM(cell.input_size, self.units, batch_first=True).to(cell.weight_ih)
        self.store_torch_weights(module, "")
        return module

    def store_torch_weights(self, module: nn.LSTM, suffix: str) -> None:
        """Copy this layer's weights into one direction of `module`."""
        cell = self.cell
        with torch.no_grad():
            getattr(module, f"weight_ih_l0{suffix}").copy_(cell.weight_ih)
            getattr(module, f"weight_hh_l0{suffix}").copy_(cell.weight_hh)
            getattr(module, f"bias_ih_l0{suffix}").copy_(cell.bias)
            getattr(module, f"bias_hh_l0{suffix}").zero_()


def fused_lstm(
    x: Tensor,
    lengths: Tensor | None,
    cells: list[LSTMCell],
    states: list[LSTMState],
    *,
    training: bool,
    left: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """PyTorch's fused LSTM kernel (`torch.lstm`) over a padded batch, without PackedSequence.

    This is the fast path of `LSTM` and `Bidirectional` (which runs both directions in one call); it checks nothing.
    One cell reads forwards; two cells read forwards and backwards in one kernel call.

    With lengths, one extra input channel marks padded steps and drives the forget gate to exactly 1 and the input
    gate to exactly 0 there, so the cell state is held through the padding: the kernel's final c is each row's c at
    its own last valid step. h is not held (it is `o * tanh(c)`), except at zero: a direction that reads a row's
    padding first (the backward one on right padding, the forward one on left padding) must start from a zero
    state, which the held padding keeps at exactly zero; callers ensure it. A direction that reads the padding last
    has its h gathered at its last valid step, and padded outputs are zeroed. Gradients through held steps are
    exactly zero (sigmoid' is 0 at 0 and 1).

    Shapes:
        x: (B, T, D); lengths: (B,), the `values` of checked `Lengths` (None when no row is padded: no device read
        here), padded on the left when `left`; states: (B, H) pairs, one per cell.
        Returns outputs (B, T, H * len(cells)) and final (h, c), each (len(cells), B, H).
    """
    batch, steps, _ = x.shape
    units = cells[0].units
    is_pad = None
    if lengths is not None:  # checked lengths: some row is padded
        is_pad = ~step_mask(lengths, steps, left=left).unsqueeze(-1)  # (B, T, 1)
        x = torch.cat([x.masked_fill(is_pad, 0.0), is_pad.to(x.dtype)], dim=-1)  # (B, T, D+1)
    params: list[Tensor] = []
    for cell in cells:
        weight_ih: Tensor = cell.weight_ih
        if is_pad is not None:
            hold = weight_ih.new_zeros(4 * units, 1)
            hold[:units] = -HOLD  # input gate -> 0
            hold[units : 2 * units] = HOLD  # forget gate -> 1
            weight_ih = torch.cat([weight_ih, hold], dim=1)  # (4H, D+1)
        params += [weight_ih, cell.weight_hh, cell.bias, cell.zero_bias]
    h0 = torch.stack([s.h for s in states])  # (directions, B, H)
    c0 = torch.stack([s.c for s in states])
    bidirectional = len(cells) == 2
    args = (x, (h0, c0), params, True, 1, 0.0, training, bidirectional, True)
    if x.is_cuda:
        with warnings.catch_warnings():
            # cuDNN warns on every call that these weights are not one flattened buffer and are packed per call:
            # by design here (the padding column makes a new weight anyway), and cheap at this field's sizes
            warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")
            outputs, h_n, c_n = torch.lstm(*args)
    else:
        outputs, h_n, c_n = torch.lstm(*args)
    if is_pad is None:
        return outputs, (h_n, c_n)
    assert lengths is not None
    rows = torch.arange(batch, device=x.device)
    if left:  # the forward direction's final h is right; the backward one's last valid step is T-L
        if bidirectional:
            h_first = outputs[rows, steps - lengths, units:]  # (B, H)
            h_n = torch.cat([h_n[:1], h_first[None]])
    else:  # the backward direction's final h is right; the forward one's last valid step is L-1
        h_last = outputs[rows, lengths - 1, :units]  # (B, H)
        h_n = torch.cat([h_last[None], h_n[1:]])
    outputs = outputs.masked_fill(is_pad, 0.0)  # (B, T, H * directions)
    return outputs, (h_n, c_n)


def check_torch_options(options: dict[str, object]) -> None:
    """Raise a ValueError for `from_torch` options that the module itself decides."""
    for name in ("input_size", "units", "go_backwards"):
        if name in options:
            raise ValueError(
                f"Expected options other than {name} (the nn.LSTM sets it). Received: {name}={options[name]!r}"
            )


def check_torch_lstm(module: nn.LSTM, *, bidirectional: bool) -> None:
    """Raise a ValueError unless `module` is a one-layer nn.LSTM of the expected direction, with biases."""
    if not isinstance(module, nn.LSTM):
        raise ValueError(f"Expected a torch.nn.LSTM. Received: {type(module).__name__}")
    expected = {"num_layers": 1, "proj_size": 0, "bias": True, "bidirectional": bidirectional}
    for name, value in expected.items():
        received = getattr(module, name)
        if received != value:
            raise ValueError(f"Expected an nn.LSTM with {name}={value}. Received: {name}={received}")
