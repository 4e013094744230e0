"""Keras's losses, computed from logits: the output activation (sigmoid, softmax) is part of the loss here.

lstmlab models return logits, so a Keras model's final `Dense(activation='sigmoid')` is a linear Dense and
`binary_crossentropy` is computed as `binary_cross_entropy_with_logits` (the same value, without Keras's clipping of
probabilities to [1e-7, 1 - 1e-7]). Each loss states the output activation it needs and converts Keras's targets.

Example:
    >>> model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    >>> model.compile(loss=BinaryCrossentropy(from_logits=True), optimizer="adam")  # a linear output layer
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import Shape
from ..training import metrics

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
]


class Loss:
    """A Keras loss on logits: its name, the output activation it needs, how it reads targets, its accuracy.

    Args:
        from_logits: the model's outputs are logits (a linear last layer); False (Keras's default) means the last
            layer's sigmoid or softmax, which lstmlab folds into the loss.
    """

    name = "loss"
    probabilities = "linear"  # the output activation for from_logits=False
    accuracy_name = "accuracy"  # Keras's metric for metrics=['accuracy'] with this loss

    def __init__(self, *, from_logits: bool = False, label_smoothing: float = 0.0, name: str | None = None) -> None:
        if label_smoothing != 0.0:
            raise ValueError(
                "Expected label_smoothing=0.0 (smooth the targets yourself). "
                f"Received: label_smoothing={label_smoothing}"
            )
        self.from_logits = from_logits
        if name is not None:
            self.name = name

    @property
    def activation(self) -> str:
        """The output activation the model's last layer must have."""
        return "linear" if self.from_logits else self.probabilities

    def check_activation(self, activation: str) -> None:
        """Raise a ValueError unless the model's output activation suits this loss."""
        if activation != self.activation:
            wanted = "a linear last layer" if self.activation == "linear" else f"activation='{self.activation}'"
            also = " or from_logits=True with a linear last layer" if self.activation != "linear" else ""
            raise ValueError(
                f"Expected a last layer with {wanted} for {self.name}{also} (lstmlab computes the loss from logits). "
                f"Received: activation '{activation}'"
            )

    def targets(self, y: Tensor, output_shape: Shape) -> Tensor:
        """Keras's targets as this loss reads them, beside outputs of `output_shape` (no batch axis).

        Raises:
            ValueError: for targets of another shape.
        """
        raise NotImplementedError

    def value(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Mean loss over the scored items: outputs (K, C) or (K, ..., C), targets from `targets`."""
        raise NotImplementedError

    def hits(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Per-item correctness (1.0 or 0.0) of the outputs, for the accuracy."""
        raise NotImplementedError

    def _shape_error(self, y: Tensor, expected: str) -> ValueError:
        return ValueError(f"Expected targets of shape {expected} for {self.name}. Received: shape={tuple(y.shape)}")


def _squeezed(y: Tensor, output_shape: Shape) -> Tensor | None:
    """`y` shaped as the outputs without their last axis of size 1: (N, [T,]) for outputs (N, [T,] 1); None if not."""
    received, out = tuple(y.shape[1:]), tuple(output_shape)
    if out and out[-1] == 1 and _fits(received, out):
        return y.reshape(y.shape[0], *y.shape[1:-1])
    if _fits(received, out[:-1]):
        return y
    return None


def _fits(received: tuple[int, ...], expected: Shape) -> bool:
    return len(received) == len(expected) and all(e is None or e == r for r, e in zip(received, expected, strict=True))


def _text(shape: Shape) -> str:
    return "(N, " + ", ".join("T" if d is None else str(d) for d in shape) + ")"


class BinaryCrossentropy(Loss):
    """Keras's binary cross-entropy: a sigmoid output per unit, targets 0 or 1 (or in between).

    Shapes: targets (N, [T,] 1) or (N, [T]) for one output unit; (N, [T,] C) for C independent units.
    """

    name = "binary_crossentropy"
    probabilities = "sigmoid"
    accuracy_name = "binary_accuracy"

    def targets(self, y: Tensor, output_shape: Shape) -> Tensor:
        squeezed = _squeezed(y, output_shape) if output_shape[-1] == 1 else None
        if squeezed is not None:
            return squeezed.to(torch.float32)
        if _fits(tuple(y.shape[1:]), output_shape):
            return y.to(torch.float32)
        raise self._shape_error(y, _text(output_shape))

    def value(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if outputs.dim() == targets.dim() + 1:  # one unit: lstmlab's loss on (K, 1) logits
            return metrics.loss(outputs, targets)
        return F.binary_cross_entropy_with_logits(outputs, targets)

    def hits(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if outputs.dim() == targets.dim() + 1:
            outputs = outputs[..., 0]
        return ((outputs > 0) == (targets > 0.5)).to(torch.float32)  # p > 0.5 <=> logit > 0


class CategoricalCrossentropy(Loss):
    """Keras's categorical cross-entropy: a softmax output, one-hot (or soft) targets.

    Shapes: targets (N, [T,] C), as the outputs.
    """

    name = "categorical_crossentropy"
    probabilities = "softmax"
    accuracy_name = "categorical_accuracy"

    def targets(self, y: Tensor, output_shape: Shape) -> Tensor:
        if not _fits(tuple(y.shape[1:]), output_shape):
            raise self._shape_error(
                y, _text(output_shape) + " (one-hot rows; use sparse_categorical_crossentropy for class ids)"
            )
        return y.to(torch.float32)

    def value(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return -(targets * F.log_softmax(outputs, dim=-1)).sum(dim=-1).mean()

    def hits(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return (outputs.argmax(dim=-1) == targets.argmax(dim=-1)).to(torch.float32)


class SparseCategoricalCrossentropy(Loss):
    """Keras's sparse categorical cross-entropy: a softmax output, class ids as targets.

    Shapes: targets (N, [T]) or (N, [T,] 1) of ids in 0..C-1.
    """

    name = "sparse_categorical_crossentropy"
    probabilities = "softmax"
    accuracy_name = "sparse_categorical_accuracy"

    def targets(self, y: Tensor, output_shape: Shape) -> Tensor:
        received = tuple(y.shape[1:])
        if _fits(received, (*output_shape[:-1], 1)):
            y = y.reshape(y.shape[0], *y.shape[1:-1])
        elif not _fits(received, output_shape[:-1]):
            raise self._shape_error(y, _text(output_shape[:-1]) + " of class ids")
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise ValueError(f"Expected integer class ids for {self.name}. Received: fractional values")
        return y.to(torch.long)

    def value(self, outputs: Tensor, targets: Tensor) -> Tensor:
        if outputs.shape[-1] == 1:
            raise ValueError(
                f"Expected at least two output units for {self.name} (use binary_crossentropy for one). "
                f"Received: outputs of shape {tuple(outputs.shape)}"
            )
        return metrics.loss(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1))

    def hits(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return (outputs.argmax(dim=-1) == targets).to(torch.float32)


class MeanSquaredError(Loss):
    """Keras's mean squared error on a linear output. Shapes: targets as the outputs (a last axis of 1 may be
    left out)."""

    name = "mean_squared_error"
    probabilities = "linear"
    accuracy_name = ""  # no accuracy for a regression

    def targets(self, y: Tensor, output_shape: Shape) -> Tensor:
        if _fits(tuple(y.shape[1:]), output_shape):
            return y.to(torch.float32)
        squeezed = _squeezed(y, output_shape) if output_shape[-1] == 1 else None
        if squeezed is None:
            raise self._shape_error(y, _text(output_shape))
        return squeezed.to(torch.float32).unsqueeze(-1)

    def value(self, outputs: Tensor, targets: Tensor) -> Tensor:
        return F.mse_loss(outputs, targets)

    def hits(self, outputs: Tensor, targets: Tensor) -> Tensor:
        raise ValueError("Expected no accuracy metric for mean_squared_error. Received: metrics=['accuracy']")


_BY_NAME: dict[str, type[Loss]] = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}


def get(loss: str | Loss) -> Loss:
    """The loss named as in Keras ('binary_crossentropy', ...) or the `Loss` given.

    Raises:
        ValueError: for another name or object.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in _BY_NAME:
        return _BY_NAME[loss]()
    raise ValueError(f"Expected loss in {sorted(_BY_NAME)} or an lstmlab.keras.losses.Loss. Received: loss={loss!r}")
