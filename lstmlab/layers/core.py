"""The other layers of the source articles' models: Embedding, Dropout, Dense, TimeDistributed, Flatten, pooling."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .base import Layer, Shape, check_feature_size, check_floating, check_positive_int, check_rank, check_steps
from .sequence import DeviceCheck, Lengths, as_lengths, padding_lengths_check

__all__ = [
    "ACTIVATIONS",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "ReverseTime",
    "SpatialDropout1D",
    "TimeDistributed",
]

ACTIVATIONS: dict[str | None, Callable[[Tensor], Tensor]] = {
    None: lambda x: x,
    "linear": lambda x: x,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softmax": lambda x: torch.softmax(x, dim=-1),
}


class Embedding(Layer):
    """Token ids to vectors; with `mask_zero`, id 0 is padding and yields each row's length.

    A call checks that the ids are in the vocabulary (one device read); `Sequential` reads that check with the
    lengths' (`ids_check`) and then calls `lookup`, which checks nothing.

    Args:
        input_dim: vocabulary size (ids 0..input_dim-1).
        output_dim: vector size, E.
        mask_zero: treat id 0 as padding, on the right or on the left of each row's real ids (the same side for a
            whole batch, read from the ids): `Sequential` passes the lengths it implies to later layers.
        input_length: number of steps T, for shape inference only (Keras's argument).
        trainable: False keeps the vectors as they are while the rest of the model trains (pretrained vectors,
            "static" in Kim's terms); they are still saved with the model.

    Shapes:
        ids: (B, T) integers. Output: (B, T, E).

    Example:
        >>> emb = Embedding(100, 8, mask_zero=True)
        >>> emb.output_lengths(torch.tensor([[5, 3, 0]]), None).values
        tensor([2])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        *,
        mask_zero: bool = False,
        input_length: int | None = None,
        trainable: bool = True,
    ):
        super().__init__()
        check_positive_int("input_dim", input_dim)
        check_positive_int("output_dim", output_dim)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.mask_zero = mask_zero
        self.input_length = input_length
        self.embedding = nn.Embedding(input_dim, output_dim)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)  # Keras's default initialiser
        self.embedding.weight.requires_grad_(trainable)

    @property
    def trainable(self) -> bool:
        """Whether training moves the vectors (settable, as Keras's `layer.trainable = False`)."""
        return bool(self.embedding.weight.requires_grad)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self.embedding.weight.requires_grad_(bool(value))

    def set_vectors(self, vectors: Tensor) -> None:
        """Start from these vectors, `(input_dim, output_dim)`, row i for id i (pretrained word vectors).

        Raises:
            ValueError: on another shape or non-finite values.
        """
        expected = (self.input_dim, self.output_dim)
        if tuple(vectors.shape) != expected:
            raise ValueError(
                f"Embedding expected vectors of shape {expected} (input_dim, output_dim). Received: "
                f"shape={tuple(vectors.shape)}"
            )
        if not bool(torch.isfinite(vectors).all()):
            raise ValueError("Embedding expected finite vectors. Received: NaN or infinity")
        with torch.no_grad():
            self.embedding.weight.copy_(vectors)

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 1:
            raise ValueError(
                f"Embedding expected an input shape (T,) of token ids. Received: input_shape={input_shape}"
            )
        if None not in (self.input_length, input_shape[0]) and input_shape[0] != self.input_length:
            raise ValueError(
                f"Embedding expected {self.input_length} steps (its input_length). Received: input_shape={input_shape}"
            )
        return (input_shape[0], self.output_dim)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        """The given lengths; without them, with `mask_zero`, those the padding implies (one device read)."""
        if lengths is None and self.mask_zero:
            return padding_lengths_check(inputs, 0).run()
        return lengths

    def forward(self, ids: Tensor) -> Tensor:
        self.ids_check(ids).run()
        return self.lookup(ids)

    def ids_check(self, ids: Tensor) -> DeviceCheck[None]:
        """The check of a call's ids: rank, dtype and size at once; the range 0..input_dim-1 when it concludes.

        Raises:
            ValueError: on ids that are not (batch, steps) integers (at once), or outside the vocabulary.
        """
        check_rank("Embedding", ids, (2,), "(batch, steps) of token ids")
        if ids.shape[0] == 0:
            raise ValueError("Embedding expected at least one sequence. Received: batch size 0")
        if ids.is_floating_point() or ids.dtype == torch.bool:
            raise ValueError(f"Embedding expected integer token ids. Received: dtype={ids.dtype}")
        check_steps("Embedding", ids)

        def conclude(read: list[int]) -> None:
            low, high = read
            if low < 0 or high >= self.input_dim:
                raise ValueError(f"Embedding expected ids in 0..{self.input_dim - 1}. Received: min={low}, max={high}")

        return DeviceCheck(tuple(torch.aminmax(ids)), conclude)

    def lookup(self, ids: Tensor) -> Tensor:
        """The vectors of ids that `ids_check` passed (no check here). Shapes: ids (B, T); returns (B, T, E)."""
        out: Tensor = self.embedding(ids)  # (B, T, E)
        return out


class Dropout(Layer):
    """Zero a fraction `rate` of the values in training (scaling the rest by 1/(1-rate)); identity in eval.

    `noise_shape` is Keras's: the shape of the mask, broadcast over the input; `None` entries take the input's size,
    `1` shares one draw along that axis. `(None, None, 1)` on `(N, T, D)` drops whole steps (word dropout on an
    Embedding's output); `(None, 1, None)` drops whole channels for every step (`SpatialDropout1D`).
    """

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...] | None = None) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Expected a dropout rate in [0, 1). Received: rate={rate!r}")
        if noise_shape is not None and not (
            isinstance(noise_shape, tuple)
            and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 1) for d in noise_shape)
        ):
            raise ValueError(
                f"Expected noise_shape to be a tuple of positive ints or None. Received: noise_shape={noise_shape!r}"
            )
        self.rate = rate
        self.noise_shape = noise_shape
        self.dropout = nn.Dropout(rate)

    def build(self, input_shape: Shape) -> Shape:
        self._check_noise_shape((None, *input_shape))
        return input_shape

    def _check_noise_shape(self, shape: tuple[int | None, ...]) -> None:
        noise = self.noise_shape
        if noise is None:
            return
        if len(noise) != len(shape) or any(
            d not in (None, 1, size) and size is not None for d, size in zip(noise, shape, strict=True)
        ):
            raise ValueError(
                f"Expected inputs that noise_shape={noise} broadcasts over (rank {len(noise)}, each size the entry's "
                f"where it is not None or 1). Received: inputs of shape {tuple(shape)}"
            )

    def forward(self, x: Tensor) -> Tensor:
        if self.rate == 0.0 or not self.training:  # identity: no mask drawn, nothing kept for backward
            return x
        if self.noise_shape is None:
            out: Tensor = self.dropout(x)
            return out
        self._check_noise_shape(tuple(x.shape))
        shape = [size if d is None else d for d, size in zip(self.noise_shape, x.shape, strict=True)]
        keep = torch.empty(shape, device=x.device, dtype=x.dtype).bernoulli_(1 - self.rate)
        return x * (keep / (1 - self.rate))


class SpatialDropout1D(Dropout):
    """Keras's SpatialDropout1D: on `(N, T, D)`, drop whole channels (the same `D` entries at every step)."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate, noise_shape=(None, 1, None))


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation `stddev` in training (Keras's GaussianNoise: a
    regulariser for small data sets); identity in eval. No weights."""

    def __init__(self, stddev: float) -> None:
        super().__init__()
        if not (stddev >= 0.0 and math.isfinite(stddev)):
            raise ValueError(f"Expected a finite noise stddev >= 0. Received: stddev={stddev!r}")
        self.stddev = stddev

    def build(self, input_shape: Shape) -> Shape:
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.stddev == 0.0:
            return x
        return x + self.stddev * torch.randn_like(x)


class Dense(Layer):
    """Affine map on the last axis, then an activation; Keras's Dense (Glorot-uniform kernel, zero bias).

    Args:
        units: output features.
        activation: None/"linear", "relu", "tanh", "sigmoid" or "softmax". Model outputs should stay linear
            (logits): the loss applies the sigmoid or softmax.
        input_size: input features; omit it inside a `Sequential`.

    Shapes:
        x: (..., D). Output: (..., units).
    """

    def __init__(self, units: int, activation: str | None = None, *, input_size: int | None = None) -> None:
        super().__init__()
        if not isinstance(activation, str | None) or activation not in ACTIVATIONS:
            names = sorted(str(k) for k in ACTIVATIONS)
            raise ValueError(f"Expected activation in {names}. Received: activation={activation!r}")
        check_positive_int("units", units)
        self.units = units
        self.activation = activation
        self.linear: nn.Linear | None = None
        if input_size is not None:
            self.build((input_size,))

    def build(self, input_shape: Shape) -> Shape:
        size = input_shape[-1] if input_shape else None
        if size is None:
            raise ValueError(f"Dense expected a known last axis. Received: input_shape={input_shape}")
        check_positive_int("input size", size)
        if self.linear is None:
            self.linear = nn.Linear(size, self.units)
            nn.init.xavier_uniform_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
        elif self.linear.in_features != size:
            raise ValueError(
                f"Dense was built for {self.linear.in_features} inputs. Received: input_shape={input_shape}"
            )
        return (*input_shape[:-1], self.units)

    def forward(self, x: Tensor) -> Tensor:
        if self.linear is None:
            raise ValueError(
                "Dense has no input size yet. Expected Dense(units, input_size=D) or a Sequential. Received: a Dense "
                "called before it was built"
            )
        check_feature_size("Dense", x, self.linear.in_features)
        check_floating("Dense", x, self.linear.weight)
        return ACTIVATIONS[self.activation](self.linear(x))

    def extra_repr(self) -> str:
        return f"{self.units}, activation={self.activation!r}"


class TimeDistributed(Layer):
    """Apply `layer` to every step independently: (B, T, ...) -> (B, T, ...)."""

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        if not isinstance(layer, Layer):
            raise ValueError(f"Expected an lstmlab layer to apply at every step. Received: {type(layer).__name__}")
        self.layer = layer

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2:
            raise ValueError(f"TimeDistributed expected an input shape (T, ...). Received: input_shape={input_shape}")
        return (input_shape[0], *self.layer.build(input_shape[1:]))

    def forward(self, x: Tensor) -> Tensor:
        check_rank("TimeDistributed", x, tuple(range(3, 8)), "(batch, steps, ...)")
        batch, steps = x.shape[:2]
        y: Tensor = self.layer(x.reshape(batch * steps, *x.shape[2:]))  # (B*T, ...)
        return y.reshape(batch, steps, *y.shape[1:])


class Flatten(Layer):
    """Flatten all axes but the batch: (B, T, D) -> (B, T*D). Padded steps of an LSTM output are zeros."""

    def build(self, input_shape: Shape) -> Shape:
        if any(size is None for size in input_shape):
            raise ValueError(f"Flatten expected a fully known input shape. Received: input_shape={input_shape}")
        size = 1
        for dim in input_shape:
            assert dim is not None
            size *= dim
        return (size,)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        return None

    def forward(self, x: Tensor) -> Tensor:
        check_rank("Flatten", x, tuple(range(2, 8)), "(batch, ...)")
        return x.flatten(1)


class _TimePooling(Layer):
    """Pooling over the time axis that sees only each row's valid steps."""

    uses_lengths = True

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expected an input shape (T, D). Received: input_shape={input_shape}"
            )
        return (input_shape[1],)

    def output_lengths(self, inputs: Tensor, lengths: Lengths | None) -> Lengths | None:
        return None

    def _valid(self, x: Tensor, lengths: Tensor | Lengths | None) -> Tensor | None:
        """Check the input; the (B, T, 1) mask of valid steps, or None when no row is padded."""
        check_rank(type(self).__name__, x, (3,), "(batch, steps, features)")
        check_floating(type(self).__name__, x)
        check_steps(type(self).__name__, x)
        mask = as_lengths(lengths, x).mask()
        return None if mask is None else mask.unsqueeze(-1)  # (B, T, 1)


class GlobalAveragePooling1D(_TimePooling):
    """Mean over the valid steps of each row: (B, T, D) -> (B, D)."""

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        mask = self._valid(x, lengths)
        if mask is None:
            return x.mean(dim=1)
        return x.masked_fill(~mask, 0.0).sum(dim=1) / mask.sum(dim=1).to(x.dtype)


class GlobalMaxPooling1D(_TimePooling):
    """Maximum over the valid steps of each row: (B, T, D) -> (B, D)."""

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        mask = self._valid(x, lengths)
        if mask is None:
            return x.amax(dim=1)
        return x.masked_fill(~mask, float("-inf")).amax(dim=1)


class ReverseTime(Layer):
    """Reverse each row within its own length (padding stays at the end).

    After an LSTM with `go_backwards=True`, this puts its outputs back in the input's time order.
    """

    uses_lengths = True

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2:
            raise ValueError(
                f"ReverseTime expected an input shape (T, D) with a time axis. Received: input_shape={input_shape}"
            )
        return input_shape

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        check_rank("ReverseTime", x, tuple(range(2, 8)), "(batch, steps, ...)")
        return as_lengths(lengths, x).reverse(x)
