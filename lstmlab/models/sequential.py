"""Sequential: a stack of lstmlab layers with Keras-style shape inference, lengths passing and `summary()`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from torch import Tensor, nn

from ..data import SequenceData
from ..layers import (
    LSTM,
    Embedding,
    Layer,
    Lengths,
    Masking,
    PaddingSide,
    Parallel,
    Shape,
    apply_layers,
    as_lengths,
    build_layers,
    lengths_check,
    padding_lengths_check,
    run_checks,
)
from .pieces import answer_in_pieces

__all__ = ["Sequential", "snake_case"]


def snake_case(name: str) -> str:
    """Keras's layer naming: `TimeDistributed` -> `time_distributed`, `LSTM` -> `lstm`."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Sequential(nn.Module):
    """Layers applied one after the other, each built for the previous one's output shape.

    Lengths (given, or derived from padding id 0 by a first `Embedding(mask_zero=True)` or from the masked steps
    by a first `Masking`) flow to every layer that uses them, until a layer removes the time axis. A call checks
    them once, with a first Embedding's ids, in one read from the device (`check_call`: one host sync on a GPU,
    none for numeric inputs without lengths or Masking); the layers take the checked `Lengths` as they are.

    Args:
        layers: lstmlab layers, in order.
        input_shape: one input without the batch axis: `(T, D)` for numeric sequences, `(T,)` for token ids;
            None marks a free size (e.g. `(None, 1)` for any number of steps).
        batch_size: a fixed batch size (stateful models), or None.
        name: the model's name in `summary()`.

    Shapes:
        x: (B, *input_shape); lengths: (B,), valid steps of each padded row (axis 1), a tensor, list or `Lengths`;
        rows are right-padded unless `padding_side="left"` (or left-padded `Lengths`); ids for a first
        `Embedding(mask_zero=True)`, and values for a first `Masking`, may be padded on either side (read from the
        input). Returns the last layer's
        output (logits for the model zoo), on the input's padding side where it keeps the time axis.

    Raises:
        ValueError: on an input of another shape, bad lengths, ids the first Embedding rejects, values whose masked
            steps a first Masking rejects, or a Masking after the first layer called without lengths.

    Example:
        >>> import torch
        >>> from lstmlab.layers import LSTM, Dense
        >>> model = Sequential([LSTM(10), Dense(1)], input_shape=(10, 1))
        >>> model(torch.rand(3, 10, 1)).shape
        torch.Size([3, 1])
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        *,
        input_shape: Shape,
        batch_size: int | None = None,
        name: str = "sequential",
    ) -> None:
        super().__init__()
        if not layers:
            raise ValueError("Expected at least one layer. Received: an empty list")
        if any(d is not None and (not isinstance(d, int) or d < 1) for d in input_shape) or (
            batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1)
        ):
            raise ValueError(
                f"Expected positive sizes (or None) in the input shape and batch size. "
                f"Received: input_shape={tuple(input_shape)}, batch_size={batch_size}"
            )
        self.input_shape: Shape = tuple(input_shape)
        self.batch_size = batch_size
        self.name = name
        self.layers = nn.ModuleList(layers)
        self.output_shapes: list[Shape] = build_layers(layers, self.input_shape)
        # a Masking that is not the first layer marks nothing itself: it needs lengths given or derived
        self._later_masking = any(isinstance(m, Masking) and m is not layers[0] for m in self.layers.modules())

    @property
    def layer_names(self) -> list[str]:
        """Keras's names of the layers, counted over every summary row (a Parallel's layers included)."""
        return [name for name, _, _ in self._rows() if not name.startswith(" ")]

    def named_layers(self) -> list[tuple[str, Layer]]:
        """(Keras name, layer) of every summary row, in order: each layer, and after a `Parallel` the layers of its
        branches, by the names `summary()` shows."""
        return [(name.rpartition(": ")[2], layer) for name, layer, _ in self._rows()]

    @property
    def output_shape(self) -> Shape:
        return self.output_shapes[-1]

    def forward(self, x: Tensor, lengths: Tensor | None = None, *, padding_side: PaddingSide | None = None) -> Tensor:
        # lengths may also be `Lengths` (checked already); the annotation stays the one subclasses override
        return self.run_checked(x, self.check_call(x, lengths, padding_side=padding_side))

    def check_call(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | Lengths | None = None,
        *,
        padding_side: PaddingSide | None = None,
    ) -> Lengths | None:
        """Check a call's input and lengths, all that needs the device's numbers in one read: the lengths' range
        (given; or derived from the padding ids by a first `Embedding(mask_zero=True)`, or from the masked steps by
        a first `Masking`, with the padding's structure) and a first Embedding's ids. None: no lengths given or
        derived (nothing to read).

        `padding_side` says where given lengths' padding is ("right" when None). Lengths derived from the input
        take the side it shows (right padding, or left padding as Keras's `pad_sequences` gives by default) unless
        `padding_side` demands one.

        `forward` is `run_checked(x, check_call(x, lengths))`; a caller running several models on the same input
        (an ensemble) can check once and run each.

        Raises:
            ValueError: on an input of another shape, bad lengths, badly padded ids or values, ids outside the
                vocabulary, or a Masking after the first layer without lengths to go by.
        """
        self._check_input(x)
        first = self.layers[0]
        ids_checks = [first.ids_check(x)] if isinstance(first, Embedding) else []
        if lengths is None and ((isinstance(first, Embedding) and first.mask_zero) or isinstance(first, Masking)):
            # the padding's message first, as when the first layer derived the lengths before its own check
            if isinstance(first, Masking):
                derive = first.lengths_check(x, padding_side=padding_side)
            else:
                derive = padding_lengths_check(x, 0, padding_side="auto" if padding_side is None else padding_side)
            derived: Lengths = run_checks(derive, *ids_checks)[0]  # one read
            return derived
        if lengths is None:
            if self._later_masking:
                raise ValueError(
                    f'Model "{self.name}" expected lengths, or Masking as its first layer only (lstmlab derives '
                    "lengths from the model's input; Keras's later Masking masks computed values). Received: a "
                    "Masking after the first layer and no lengths"
                )
            run_checks(*ids_checks)
            return None
        if x.dim() < 2:
            raise ValueError(
                f'Model "{self.name}" expected lengths only for inputs with a time axis (axis 1). '
                f"Received: lengths for shape={tuple(x.shape)}"
            )
        if isinstance(lengths, Lengths):
            if padding_side is not None and padding_side != lengths.side:
                raise ValueError(
                    f"Expected lengths checked for padding_side={padding_side!r}. "
                    f"Received: {lengths.side}-padded Lengths"
                )
            run_checks(*ids_checks)
            return as_lengths(lengths, x)  # checked already: compared with x's shape and device only
        side = "right" if padding_side is None else padding_side
        check = lengths_check(lengths, x.shape[0], x.shape[1], x.device, padding_side=side)
        given: Lengths = run_checks(*ids_checks, check)[-1]
        return given

    def run_checked(self, x: Tensor, lengths: Lengths | None) -> Tensor:
        """`forward` on an input that `check_call` passed, with the lengths it returned: no check, no device read.

        A first Embedding only looks its ids up (`Embedding.lookup`): `check_call` checked them.
        """
        layers = list(self._layers())
        first = layers[0]
        if isinstance(first, Embedding):
            x, layers = first.lookup(x), layers[1:]
        return apply_layers(layers, x, lengths)

    def run_embedded(self, vectors: Tensor, lengths: Lengths | None) -> Tensor:
        """`run_checked` from a first Embedding's output: the layers after it on `vectors` (B, T, E), e.g. scaled
        embeddings for Integrated Gradients. The lengths are the checked ones of the ids they came from."""
        layers = list(self._layers())
        if not isinstance(layers[0], Embedding):
            raise ValueError(
                f'Model "{self.name}" expected an Embedding as its first layer to run from its vectors. Received: '
                f"{type(layers[0]).__name__}"
            )
        return apply_layers(layers[1:], vectors, lengths)

    def reset_states(self) -> None:
        """Forget the state every stateful layer carries."""
        for module in self.modules():
            reset = getattr(module, "reset_states", None)
            if module is not self and callable(reset):
                reset()

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def summary(self, print_fn: Callable[[str], None] | None = print) -> str:
        """Print (and return) a Keras-like table: layer (type), output shape, parameter count, totals. The layers of
        a `Parallel` follow its row, indented and marked with their branch."""
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for name, layer, shape in self._rows():
            count = sum(p.numel() for p in layer.parameters())
            rows.append((f"{name} ({type(layer).__name__})", self._shape_text(shape), f"{count:,}"))
        widths = [max(len(row[i]) for row in rows) + 4 for i in range(3)]
        line = "=" * sum(widths)

        def fmt(row: tuple[str, str, str]) -> str:
            return row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2])

        text = "\n".join(
            [f'Model: "{self.name}"', fmt(rows[0]), line, *(fmt(row) for row in rows[1:]), line, *self._totals()]
        )
        if print_fn is not None:
            print_fn(text)
        return text

    def _totals(self, prefix: str = "") -> list[str]:
        """The summary's closing lines: total, trainable and non-trainable parameter counts."""
        total = self.count_params()
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        names = ("Total", "Trainable", "Non-trainable") if not prefix else ("total", "trainable", "non-trainable")
        counts = (total, trainable, total - trainable)
        return [f"{prefix}{name} params: {count:,}" for name, count in zip(names, counts, strict=True)]

    def _rows(self) -> Iterator[tuple[str, Layer, Shape]]:
        """(name, layer, output shape) of each summary row; names count up over every row, as Keras's do."""
        entries: list[tuple[str, Layer, Shape]] = []
        for layer, shape in zip(self._layers(), self.output_shapes, strict=True):
            entries.append(("", layer, shape))
            if isinstance(layer, Parallel):
                entries += [
                    (f"  {branch}: ", inner, inner_shape) for branch, inner, inner_shape in layer.inner_layers()
                ]
        names = self._keras_names([layer for _, layer, _ in entries])
        for (prefix, layer, shape), name in zip(entries, names, strict=True):
            yield prefix + name, layer, shape

    def _shape_text(self, shape: Shape) -> str:
        batch = "None" if self.batch_size is None else str(self.batch_size)
        dims = ", ".join([batch, *("None" if d is None else str(d) for d in shape)])
        return f"({dims},)" if not shape else f"({dims})"

    def _layers(self) -> Iterator[Layer]:
        for layer in self.layers:
            assert isinstance(layer, Layer)
            yield layer

    def _check_input(self, x: Tensor) -> None:
        expected = ("B" if self.batch_size is None else self.batch_size, *self.input_shape)
        received = tuple(x.shape)
        fits = len(received) == len(expected) and all(
            e in ("B", None) or e == r for e, r in zip(expected, received, strict=True)
        )
        if not fits:
            text = ", ".join("B" if e == "B" else "any" if e is None else str(e) for e in expected)
            raise ValueError(f'Model "{self.name}" expected an input of shape ({text}). Received: shape={received}')

    # ------------------------------------------------------------------------- training hooks (BatchModel)
    @property
    def stateful(self) -> bool:
        """Whether an LSTM of the model carries its state from call to call: it reads sequences in pieces of its
        input length (`answer`)."""
        return any(isinstance(m, LSTM) and m.stateful for m in self.modules())

    def answer(self, batch: SequenceData) -> tuple[Tensor, Tensor, Tensor | None]:
        """Logits for `batch`, the targets they answer and the lengths that mask them (per-step targets only);
        a stateful model reads each sequence in pieces (`answer_in_pieces`)."""
        if self.stateful and self.input_shape and self.input_shape[0] is not None:
            return answer_in_pieces(self, self.input_shape[0], batch)
        return self(batch.x, batch.lengths, padding_side=batch.padding_side), batch.y, batch.scored_lengths

    def training_answers(self, batch: SequenceData) -> tuple[Tensor, Tensor, Tensor | None]:
        """`answer` with a leading learner axis of size 1: the model learns from one loss."""
        logits, targets, lengths = self.answer(batch)
        return logits.unsqueeze(0), targets, lengths

    def clip_groups(self) -> list[list[nn.Parameter]]:
        """One group: the gradient norm of all the weights is clipped together."""
        return [list(self.parameters())]

    @staticmethod
    def _keras_names(layers: Sequence[Layer]) -> list[str]:
        seen: dict[str, int] = {}
        names = []
        for layer in layers:
            base = snake_case(type(layer).__name__)
            count = seen.get(base, 0)
            seen[base] = count + 1
            names.append(base if count == 0 else f"{base}_{count}")
        return names
