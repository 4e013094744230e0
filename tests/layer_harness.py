"""The one test every layer goes through (in the spirit of Keras's `run_layer_test`, keras/src/testing/test_case.py):
build and output shape inside and outside a `Sequential`, bad input, padding invariance, a save/load round trip, and
the reference path equal to the fused path where a layer has both.

    run_layer_test(lambda: LSTM(4, return_sequences=True), input_shape=(None, 3), expected_output_shape=(None, 4),
                   lengths=True, padded_outputs="zero", reference_and_fused=True)

Every check compares against something that would differ if the layer were wrong: a row alone, a fresh layer that
had other weights before loading, the other implementation; none compares a layer with itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pytest
import safetensors.torch
import torch
from helpers import HostSyncs, flatten_outputs, grads, right_pad, twin
from torch import Tensor, nn
from torch.testing import assert_close

from lstmlab.layers import Layer, Lengths, Shape, check_lengths
from lstmlab.layers.sequence import roll_rows
from lstmlab.models import Sequential

__all__ = ["BATCH", "LENGTHS", "STEPS", "run_layer_test"]

STEPS = 5  # the size given to a free time axis (None in input_shape); unequal to every unit count in the table
LENGTHS = (5, 2, 1, 4)  # one row per batch row: a full row, a row of one step, and two padded ones
BATCH = len(LENGTHS)
# The tolerance between two computations of the same function (a batch and its rows, the two implementations)
TOL = {torch.float32: {"atol": 2e-5, "rtol": 1e-4}, torch.float64: {"atol": 1e-10, "rtol": 1e-9}}

MakeInput = Callable[[torch.Generator, tuple[int, ...], torch.dtype], Tensor]
CallArgs = Callable[[Tensor], tuple[object, ...]]


def random_input(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """The default input: standard normal values."""
    return torch.randn(shape, generator=gen, dtype=dtype)


def no_args(x: Tensor) -> tuple[object, ...]:
    return ()


def run_layer_test(
    make_layer: Callable[[], Layer],
    *,
    input_shape: Shape,
    expected_output_shape: Shape,
    lengths: bool = False,
    padded_outputs: Literal["zero", "input"] | None = None,
    invariance: Literal["row", "batch"] = "row",
    training: bool = False,
    random_in_training: bool = False,
    bad_inputs: Sequence[tuple[Tensor, str]] = (),
    reference_and_fused: bool = False,
    in_sequential: bool | str = True,
    dtype: torch.dtype = torch.float64,
    make_input: MakeInput = random_input,
    call_args: CallArgs = no_args,
) -> None:
    """Run every check that applies to the layer `make_layer()` builds (each call must give a new layer).

    Args:
        make_layer: makes the layer, unbuilt (the harness builds it for `input_shape`) or built with its input size.
        input_shape: one input without the batch axis; None is a free time axis (given `STEPS` steps).
        expected_output_shape: the output without the batch axis, as `build` must infer it (None where the input's
            time axis is free); for a layer that returns several tensors, the shape of the first.
        lengths: the layer reads lengths (it must say `uses_lengths`): check bad lengths, host reads, and padding
            invariance: a right-padded batch with `LENGTHS` gives, at each row's valid steps and for pooled
            outputs (and in every gradient), what each row gives alone; and a left-padded batch gives what the
            right-padded one gives, at the other end of each row.
        padded_outputs: what the layer promises at padded output steps: "zero", "input" (left as the input had
            them), or None (no promise).
        invariance: "row": a (padded) row gives what it gives alone, for every layer; "batch": the layer's output
            depends on the whole batch (batch normalisation in training): the valid steps of a padded batch give
            what they give as one unpadded row (no rows check for a layer that reads no lengths).
        training: run the checks in training mode (the round trip runs in eval mode too).
        random_in_training: the layer draws random numbers in training (dropout, noise): checked to be true (and
            false in eval mode, always), calls are compared under one seed, and padding invariance is checked in
            eval mode.
        bad_inputs: (input, message regex) pairs: each input must raise a one-line ValueError matching it.
        reference_and_fused: the layer has `impl` "reference" | "fused" (LSTM, Bidirectional): both give equal
            outputs and gradients, on a padded batch and an unpadded one, and each says it ran.
        in_sequential: True: build and run inside a `Sequential` too; a string: building a `Sequential` of it
            must raise a ValueError matching it; False: the layer does not go into one (say why in the table).
        dtype: the dtype of the layer's weights and of floating inputs.
        make_input: makes an input of a given shape (default: standard normal values of `dtype`).
        call_args: further positional arguments of a call, made from its input (an LSTMCell's state).
    """
    if lengths:
        assert make_layer().uses_lengths, "a layer that reads lengths must say uses_lengths, or Sequential skips it"
    case = _Case(make_layer, input_shape, dtype, training, make_input, call_args, in_sequential is True)
    check_build_and_shape(case, expected_output_shape, in_sequential, lengths=lengths)
    check_bad_inputs(case, bad_inputs, lengths=lengths)
    check_randomness(case, training and random_in_training, lengths=lengths)
    if lengths:
        check_host_reads(case)
        check_padding(case, padded_outputs, invariance, random=training and random_in_training)
        check_left_padding(case, padded_outputs, random=training and random_in_training)
    elif invariance == "row":
        check_rows_alone(case, random=training and random_in_training)
    check_round_trip(case, lengths=lengths)
    if reference_and_fused:
        check_reference_equals_fused(case)


@dataclass(frozen=True)
class _Case:
    """One layer under test: how to make it, its input, and how to call it."""

    make_layer: Callable[[], Layer]
    input_shape: Shape
    dtype: torch.dtype
    training: bool
    make_input: MakeInput
    call_args: CallArgs
    build: bool  # build the layer for input_shape (a layer that goes into a Sequential)

    @property
    def concrete(self) -> tuple[int, ...]:
        """The input shape with STEPS for a free time axis."""
        return tuple(STEPS if d is None else d for d in self.input_shape)

    def new(self, seed: int = 0) -> Layer:
        """A layer built for the input shape, in the case's dtype and mode; other seeds give other weights."""
        torch.manual_seed(seed)
        layer = self.make_layer()
        if self.build:
            layer.build(self.input_shape)
        with torch.no_grad():  # random biases and batch-norm statistics, so that no term hides behind 0 or 1
            for value in layer.state_dict().values():
                if value.is_floating_point():
                    value.add_(0.2 * torch.rand_like(value))
        return layer.to(self.dtype).train(self.training)

    def batch(self, seed: int = 1) -> Tensor:
        """(BATCH, *input_shape): a batch without padding."""
        return self.make_input(torch.Generator().manual_seed(seed), (BATCH, *self.concrete), self.dtype)

    def rows(self, seed: int = 2) -> list[Tensor]:
        """One (L_i, ...) row of each length in LENGTHS."""
        gen = torch.Generator().manual_seed(seed)
        return [self.make_input(gen, (n, *self.concrete[1:]), self.dtype) for n in LENGTHS]

    def call(self, layer: nn.Module, x: Tensor, lengths: object = None, *, seed: int = 0) -> list[Tensor]:
        """The tensors `layer` returns for `x` (lengths only when given), random draws seeded."""
        torch.manual_seed(seed)
        options = {} if lengths is None else {"lengths": lengths}
        return flatten_outputs(layer(x, *self.call_args(x), **options))


def padded(rows: list[Tensor], steps: int) -> Tensor:
    """Rows (L_i, ...) right-padded to (B, steps, ...) with `helpers.right_pad`'s value, which must never matter."""
    features = rows[0].shape[1:]
    flat = right_pad([row.reshape(row.shape[0], -1) for row in rows], steps)  # (B, steps, prod(features))
    return flat.reshape(len(rows), steps, *features)


def lengths_tensor() -> Tensor:
    return torch.tensor(LENGTHS)


def assert_same(got: list[Tensor], want: list[Tensor], **tol: float) -> None:
    """Equal lists of tensors: exactly unless a tolerance is given."""
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert_close(a, b, **({"rtol": 0.0, "atol": 0.0} | tol))


# ------------------------------------------------------------------------------------------ build and shape
def check_build_and_shape(case: _Case, expected: Shape, in_sequential: bool | str, *, lengths: bool) -> None:
    """`build` infers `expected`; a call gives that shape; inside a `Sequential` the same, with the same answer."""
    layer = case.new()
    if case.build:
        assert case.make_layer().build(case.input_shape) == expected, "build inferred another output shape"
    x = case.batch()
    given = lengths_tensor() if lengths else None
    out = case.call(layer, x, given)
    concrete = tuple(STEPS if d is None else d for d in expected)
    assert tuple(out[0].shape) == (BATCH, *concrete), f"a call gave {tuple(out[0].shape)}, build said {expected}"
    for t in out:
        assert t.dtype == case.dtype, f"an output of dtype {t.dtype} from weights of {case.dtype}"
    if isinstance(in_sequential, str):
        with pytest.raises(ValueError, match=in_sequential):
            Sequential([case.make_layer()], input_shape=case.input_shape)
    elif in_sequential:
        torch.manual_seed(1)  # other weights than `layer`'s until they are loaded
        model = Sequential([case.make_layer()], input_shape=case.input_shape).to(case.dtype).train(case.training)
        assert model.output_shape == expected
        model.layers[0].load_state_dict(layer.state_dict())
        with HostSyncs() as reads:
            in_model = case.call(model, x, given)
        # the model checks the lengths once and passes them on: the answer is the layer's own
        assert_same(in_model, out)
        assert reads.count <= 1, f"a Sequential call read the device {reads.count} times: {reads.names}"


# ------------------------------------------------------------------------------------------ bad input
def bad_lengths() -> list[tuple[object, str]]:
    """Lengths every length-reading layer refuses for a (BATCH, STEPS, ...) input, with their messages."""
    full = list(LENGTHS)
    return [
        ([0, *full[1:]], rf"Expected lengths in 1\.\.{STEPS} \(the time axis\)\. Received: min=0, max={max(full[1:])}"),
        ([STEPS + 1, *full[1:]], rf"Expected lengths in 1\.\.{STEPS} .*Received: min={min(full[1:])}, max={STEPS + 1}"),
        (full[:-1], rf"Expected lengths of shape \({BATCH},\), one per batch row\. Received: shape=\({BATCH - 1},\)"),
        (torch.tensor(full, dtype=torch.float32), r"Expected integer lengths\. Received: dtype=torch\.float32"),
        (
            check_lengths(full, BATCH, STEPS + 1, torch.device("cpu")),
            rf"Expected lengths checked for {BATCH} rows of {STEPS} steps on cpu\. "
            rf"Received: Lengths for {BATCH} rows of {STEPS + 1} steps",
        ),
    ]


def check_bad_inputs(case: _Case, bad_inputs: Sequence[tuple[Tensor, str]], *, lengths: bool) -> None:
    """Each bad input (and, for a layer that reads them, each bad lengths) is a one-line ValueError that says what
    was expected and what was received."""
    layer = case.new()
    for bad, message in bad_inputs:
        with pytest.raises(ValueError, match=message) as info:
            layer(bad, *case.call_args(bad))
        _assert_one_line(info.value)
    x = case.batch()
    for given, message in bad_lengths() if lengths else []:
        with pytest.raises(ValueError, match=message) as info:
            layer(x, lengths=given)
        _assert_one_line(info.value)


def _assert_one_line(error: ValueError) -> None:
    text = str(error)
    assert "\n" not in text and "xpected" in text and "Received" in text, f"not a one-line message: {text!r}"


# ------------------------------------------------------------------------------------------ randomness
def check_randomness(case: _Case, random: bool, *, lengths: bool) -> None:
    """One seed gives one answer; other seeds give other answers exactly when the layer draws (`random`: only in
    training, where the layer declares it)."""
    layer = case.new()
    x, given = case.batch(), (lengths_tensor() if lengths else None)
    first = case.call(copy.deepcopy(layer), x, given, seed=1)
    assert_same(case.call(copy.deepcopy(layer), x, given, seed=1), first)
    other = case.call(copy.deepcopy(layer), x, given, seed=2)
    differs = any(not torch.equal(a, b) for a, b in zip(first, other, strict=True))
    assert differs == random, f"the layer {'does not draw' if random else 'draws'} random numbers in this mode"


# ------------------------------------------------------------------------------------------ lengths
def check_host_reads(case: _Case) -> None:
    """Plain lengths cost one device read (their check); checked `Lengths` none."""
    layer, x = case.new(), case.batch()
    with HostSyncs() as plain:
        case.call(layer, x, lengths_tensor())
    given = check_lengths(lengths_tensor(), BATCH, STEPS, x.device)
    with HostSyncs() as checked:
        case.call(layer, x, given)
    assert (plain.count, checked.count) == (1, 0), (plain.names, checked.names)


def check_padding(
    case: _Case, padded_outputs: Literal["zero", "input"] | None, invariance: Literal["row", "batch"], *, random: bool
) -> None:
    """Full lengths give exactly the unpadded answer; padded outputs keep the layer's promise; a padded batch gives
    what its rows give alone (or, with invariance "batch", what its valid steps give as one row), in the outputs
    and in the gradients of the input and of every weight, and no gradient reaches a padded input step."""
    layer = case.new()
    x = case.batch()
    assert_same(case.call(copy.deepcopy(layer), x, [STEPS] * BATCH), case.call(copy.deepcopy(layer), x))
    rows = case.rows()
    batch = padded(rows, STEPS)
    out = case.call(copy.deepcopy(layer), batch, lengths_tensor())
    keeps_time = layer.output_lengths(batch, check_lengths(lengths_tensor(), BATCH, STEPS, batch.device)) is not None
    per_step = [keeps_time and t.dim() == batch.dim() and t.shape[:2] == (BATCH, STEPS) for t in out]
    for t, steps in zip(out, per_step, strict=True):
        for b, n in enumerate(LENGTHS):
            if steps and padded_outputs == "zero":
                assert torch.count_nonzero(t[b, n:]) == 0, "padded output steps are not zero"
            if steps and padded_outputs == "input":
                assert torch.equal(t[b, n:], batch[b, n:]), "padded output steps are not the input's"
    if random:  # rows alone draw other numbers than the batch: compare them without the draws
        layer.eval()
    if invariance == "row":
        _check_rows_alone(case, layer, rows, batch, LENGTHS, per_step)
    else:
        assert all(per_step), "invariance 'batch' compares steps: every output must keep the time axis"
        _check_batch_as_one_row(case, layer, rows, batch, per_step)


def left_padded(rows: list[Tensor], steps: int) -> Tensor:
    """Rows (L_i, ...) left-padded to (B, steps, ...): `padded` with each row rotated to the end."""
    return roll_rows(padded(rows, steps), lengths_tensor())


def check_left_padding(case: _Case, padded_outputs: Literal["zero", "input"] | None, *, random: bool) -> None:
    """A left-padded batch (lengths checked with `padding_side="left"`) gives what the right-padded batch of the same
    rows gives: per-step outputs at the other end of each row, with the same promise at padded steps; outputs
    without a time axis equal; the same gradients of every weight and of the inputs' valid steps, and none at a
    padded input step."""
    layer = case.new()
    if random:  # the two batches would draw their numbers at other steps
        layer.eval()
    rows = case.rows()
    sides = {}
    for side, batch in (("right", padded(rows, STEPS)), ("left", left_padded(rows, STEPS))):
        given = check_lengths(lengths_tensor(), BATCH, STEPS, batch.device, padding_side=side)  # type: ignore[arg-type]
        sides[side] = _side_grads(case, copy.deepcopy(layer), batch, given)
    (out_r, x_grad_r, grads_r, per_step), (out_l, x_grad_l, grads_l, _) = sides["right"], sides["left"]
    tol = TOL[case.dtype]
    left_batch = left_padded(rows, STEPS)
    for t_r, t_l, steps in zip(out_r, out_l, per_step, strict=True):
        if not steps:
            assert_close(t_l, t_r, **tol)
            continue
        assert_close(_valid(_to_right(t_l)), _valid(t_r), **tol)
        for b, n in enumerate(LENGTHS):
            if padded_outputs == "zero":
                assert torch.count_nonzero(t_l[b, : STEPS - n]) == 0, "left-padded output steps are not zero"
            if padded_outputs == "input":
                assert torch.equal(t_l[b, : STEPS - n], left_batch[b, : STEPS - n]), "padded steps are not the input's"
    if x_grad_r is not None and x_grad_l is not None:
        assert_close(_valid(_to_right(x_grad_l)), x_grad_r, **tol)
        for b, n in enumerate(LENGTHS):
            assert torch.count_nonzero(x_grad_l[b, : STEPS - n]) == 0, "a gradient reaches a left-padded input step"
    assert_same(grads_l, grads_r, **tol)


def _to_right(t: Tensor) -> Tensor:
    """A left-padded (B, T, ...) tensor with each row's valid steps moved to its start (right padding)."""
    return roll_rows(t, STEPS - lengths_tensor())


def _side_grads(
    case: _Case, layer: Layer, batch: Tensor, given: Lengths
) -> tuple[list[Tensor], Tensor | None, list[Tensor], list[bool]]:
    """Outputs, and the gradients of a loss over the valid outputs (the same weights on each row's valid steps
    whichever its padding side) with respect to the input and every weight."""
    batch = batch.clone().requires_grad_(batch.is_floating_point())
    out = case.call(layer, batch, given)
    keeps_time = layer.output_lengths(batch, given) is not None
    per_step = [keeps_time and t.dim() == batch.dim() and t.shape[:2] == (BATCH, STEPS) for t in out]
    weights = _weights(out)
    loss = sum(
        ((_valid(_to_right(t) if given.left else t) if s else t) * w).sum()
        for t, w, s in zip(out, weights, per_step, strict=True)
    )
    assert isinstance(loss, Tensor)
    x_grad, param_grads = _loss_grads(loss, batch, layer)
    return out, x_grad, param_grads, per_step


def check_rows_alone(case: _Case, *, random: bool) -> None:
    """Each row of an unpadded batch gives what it gives alone (outputs, and gradients of the input and of every
    weight): the layer mixes nothing across rows or steps that it should keep apart."""
    layer = case.new()
    if random:
        layer.eval()
    x = case.batch()
    _check_rows_alone(case, layer, list(x), x, None, [False] * len(case.call(copy.deepcopy(layer), x)))


def _weights(out: list[Tensor], seed: int = 3) -> list[Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(t.shape, generator=gen, dtype=t.dtype) for t in out]


def _valid(t: Tensor) -> Tensor:
    """`t` (B, T, ...) with its padded steps replaced by zeros (no gradient reaches them)."""
    mask = torch.arange(t.shape[1]) < lengths_tensor()[:, None]  # (B, T)
    return torch.where(mask.view(*mask.shape, *[1] * (t.dim() - 2)), t, torch.zeros_like(t))


def _trainable(layer: nn.Module) -> list[Tensor]:
    return [p for p in layer.parameters() if p.requires_grad]


def _loss_grads(loss: Tensor, x: Tensor, layer: nn.Module) -> tuple[Tensor | None, list[Tensor]]:
    """Gradients of `loss` with respect to `x` (None for integer ids) and to every trainable weight of `layer`."""
    inputs = [x] if x.requires_grad else []
    found = list(torch.autograd.grad(loss, [*inputs, *_trainable(layer)]))
    return (found[0] if inputs else None), found[len(inputs) :]


def _batch_grads(
    case: _Case, layer: Layer, batch: Tensor, lengths: Sequence[int] | None, per_step: list[bool]
) -> tuple[list[Tensor], list[Tensor], Tensor | None, list[Tensor]]:
    """The batch's outputs, their loss weights, and the gradients of a loss over valid outputs only."""
    batch = batch.clone().requires_grad_(batch.is_floating_point())
    out = case.call(layer, batch, None if lengths is None else torch.tensor(lengths))
    weights = _weights(out)
    loss = sum(((_valid(t) if s else t) * w).sum() for t, w, s in zip(out, weights, per_step, strict=True))
    assert isinstance(loss, Tensor)
    x_grad, param_grads = _loss_grads(loss, batch, layer)
    return out, weights, x_grad, param_grads


def _check_rows_alone(
    case: _Case,
    layer: Layer,
    rows: list[Tensor],
    batch: Tensor,
    lengths: Sequence[int] | None,
    per_step: list[bool],
) -> None:
    out, weights, x_grad, param_grads = _batch_grads(case, copy.deepcopy(layer), batch, lengths, per_step)
    tol = TOL[case.dtype]
    summed = [torch.zeros_like(g) for g in param_grads]
    for b, row in enumerate(rows):
        n = row.shape[0]  # the row's steps (its size, for a row without a time axis)

        def part(t: Tensor, steps: bool, b: int = b, n: int = n) -> Tensor:
            return t[b : b + 1, :n] if steps else t[b : b + 1]

        alone = copy.deepcopy(layer)
        row = row[None].clone().requires_grad_(row.is_floating_point())
        got = case.call(alone, row)
        assert_same(got, [part(t, s) for t, s in zip(out, per_step, strict=True)], **tol)
        loss = sum((t * part(w, s)).sum() for t, w, s in zip(got, weights, per_step, strict=True))
        assert isinstance(loss, Tensor)
        row_grad, row_param_grads = _loss_grads(loss, row, alone)
        if x_grad is not None and row_grad is not None:
            assert_close(x_grad[b : b + 1, :n] if lengths else x_grad[b : b + 1], row_grad, **tol)
            if lengths:
                assert torch.count_nonzero(x_grad[b, n:]) == 0, "a gradient reaches a padded input step"
        summed = [s + g for s, g in zip(summed, row_param_grads, strict=True)]
    assert_same(param_grads, summed, **tol)


def _check_batch_as_one_row(case: _Case, layer: Layer, rows: list[Tensor], batch: Tensor, per_step: list[bool]) -> None:
    by_batch = copy.deepcopy(layer)
    out, weights, x_grad, param_grads = _batch_grads(case, by_batch, batch, LENGTHS, per_step)
    assert x_grad is not None
    as_row = copy.deepcopy(layer)
    joined = torch.cat(rows)[None].clone().requires_grad_()  # (1, sum L_i, ...)
    got = case.call(as_row, joined)
    tol = TOL[case.dtype]
    want = [torch.cat([t[b, :n] for b, n in enumerate(LENGTHS)])[None] for t in out]
    assert_same(got, want, **tol)
    joined_weights = [torch.cat([w[b, :n] for b, n in enumerate(LENGTHS)])[None] for w in weights]
    loss = sum((t * w).sum() for t, w in zip(got, joined_weights, strict=True))
    assert isinstance(loss, Tensor)
    row_grad, row_param_grads = _loss_grads(loss, joined, as_row)
    assert row_grad is not None
    assert_close(torch.cat([x_grad[b, :n] for b, n in enumerate(LENGTHS)]), row_grad[0], **tol)
    for b, n in enumerate(LENGTHS):
        assert torch.count_nonzero(x_grad[b, n:]) == 0, "a gradient reaches a padded input step"
    assert_same(param_grads, row_param_grads, **tol)
    assert_same(list(by_batch.state_dict().values()), list(as_row.state_dict().values()), **tol)  # moving statistics


# ------------------------------------------------------------------------------------------ save and load
def check_round_trip(case: _Case, *, lengths: bool) -> None:
    """The layer's state, after a training call (which moves what training moves: batch-norm statistics), through
    safetensors into a fresh layer (other weights until loaded): identical outputs in eval mode (and in training,
    under one seed); every tensor keeps its dtype."""
    layer = case.new()
    x, given = case.batch(), (lengths_tensor() if lengths else None)
    with torch.no_grad():
        case.call(layer.train(), x, given)
    state = {name: t.contiguous() for name, t in layer.state_dict().items()}
    loaded = safetensors.torch.load(safetensors.torch.save(state))
    assert {k: (v.dtype, v.shape) for k, v in loaded.items()} == {k: (v.dtype, v.shape) for k, v in state.items()}
    fresh = case.new(seed=1)
    modes = [False, True] if case.training else [False]
    if loaded:
        assert any(not torch.equal(fresh.state_dict()[k], v) for k, v in loaded.items()), "a fresh layer is the same"
        before = case.call(fresh.eval(), x, given)
        assert any(not torch.equal(a, b) for a, b in zip(before, case.call(layer.eval(), x, given), strict=True))
    fresh.load_state_dict(loaded, strict=True)
    for training in modes:
        want = case.call(copy.deepcopy(layer).train(training), x, given)
        assert_same(case.call(copy.deepcopy(fresh).train(training), x, given), want)


# ------------------------------------------------------------------------------------------ two implementations
def check_reference_equals_fused(case: _Case) -> None:
    """The reference and fused paths of the layer (same weights, same random draws): equal outputs and gradients
    of the input and every weight, on a padded batch and on an unpadded one; each says which path it took."""
    layer = case.new()
    reference, fused = (twin(layer, impl=impl).train(case.training) for impl in ("reference", "fused"))
    tol = TOL[case.dtype]
    for x, given in ((padded(case.rows(), STEPS), lengths_tensor()), (case.batch(), None)):
        x.requires_grad_()
        want = case.call(reference, x, given)
        got = case.call(fused, x, given)
        assert (getattr(reference, "last_impl", None), getattr(fused, "last_impl", None)) == ("reference", "fused")
        assert_same(got, want, **tol)
        assert_same(grads(fused, x, got), grads(reference, x, want), **tol)
