"""The convolutional blocks of LSTM-FCN-style models: Conv1D, BatchNormalization and Activation, all mask-aware.

Keras's Conv1D ignores the mask (padding steps leak into the valid steps near the end of each row) and its
BatchNormalization only honours a mask when one reaches it, which a Conv1D never passes on. Here each layer takes
the lengths: a convolution reads zeros beyond each row's last step, exactly as if the row were alone with 'same'
padding, and batch statistics come from valid steps only. Padded output steps are zeros, as an LSTM's are.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import Layer, Shape, check_feature_size, check_floating, check_positive_int, check_rank, check_steps
from .core import ACTIVATIONS
from .lstm import IMPLS, CallTrace, Impl
from .sequence import Lengths, as_lengths

__all__ = ["Activation", "BatchNormalization", "Conv1D"]


def _zero_padding(x: Tensor, mask: Tensor | None) -> Tensor:
    """`x` (B, T, D) with the padded steps (False in the (B, T) `mask`) set to 0, whatever they held (NaN included)."""
    if mask is None:
        return x
    return x.masked_fill(~mask.unsqueeze(-1), 0.0)


def _keep_valid(x: Tensor, mask: Tensor | None) -> Tensor:
    """`_zero_padding` for values computed from zeroed inputs, finite at padded steps: a multiplication by the step
    mask, several times cheaper than `masked_fill` with a broadcast mask on a CPU (the same values and gradients;
    a padded value may come out as -0.0)."""
    if mask is None:
        return x
    return x * mask.unsqueeze(-1).to(x.dtype)


class Conv1D(Layer):
    """A convolution over time with Keras's 'same' padding, stride 1, Glorot-uniform kernel and zero bias.

    Each output step t sees input steps t - (k-1)//2 .. t + k//2; steps outside the row (before 0, or at and after
    its length) read as zeros, so a padded row gives what it gives alone.

    Args:
        filters: output features per step.
        kernel_size: steps each output reads.
        input_size: input features; omit it inside a `Sequential`.

    Shapes:
        x: (B, T, D); lengths: (B,) (a tensor, list or `Lengths`) or None. Output: (B, T, filters), zeros at
        padded steps.

    Example:
        >>> Conv1D(4, 3, input_size=2)(torch.rand(5, 7, 2)).shape
        torch.Size([5, 7, 4])
    """

    uses_lengths = True

    def __init__(self, filters: int, kernel_size: int, *, input_size: int | None = None) -> None:
        super().__init__()
        check_positive_int("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        self.filters = filters
        self.kernel_size = kernel_size
        self.conv: nn.Conv1d | None = None
        if input_size is not None:
            self.build((None, input_size))

    def build(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2 or input_shape[1] is None:
            raise ValueError(f"Conv1D expected an input shape (T, D) with D known. Received: input_shape={input_shape}")
        size = input_shape[1]
        check_positive_int("input size", size)
        if self.conv is None:
            conv = nn.Conv1d(size, self.filters, self.kernel_size)  # weight (filters, D, k): Keras's (k, D, f)
            nn.init.xavier_uniform_(conv.weight)  # fans D*k and filters*k, as Keras's glorot_uniform
            nn.init.zeros_(conv.bias)  # type: ignore[arg-type]  # bias=True: a tensor
            self.conv = conv
        elif self.conv.in_channels != size:
            raise ValueError(f"Conv1D was built for {self.conv.in_channels} inputs. Received: {input_shape}")
        return (input_shape[0], self.filters)

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        if self.conv is None:
            raise ValueError(
                "Expected Conv1D(filters, kernel_size, input_size=D) or a Sequential. Received: no input size"
            )
        check_rank("Conv1D", x, (3,), "(batch, steps, features)")
        check_floating("Conv1D", x, self.conv.weight)
        check_steps("Conv1D", x)
        check_feature_size("Conv1D", x, self.conv.in_channels)
        mask = as_lengths(lengths, x).mask()  # (B, T) or None
        # Keras's 'same': (k-1)//2 steps before, k//2 after. The output (B, filters, T) is contiguous, so a
        # BatchNormalization's fast path reads it without a copy
        k = self.kernel_size
        inputs = _zero_padding(x, mask).transpose(1, 2)  # (B, D, T)
        if k % 2 == 0:  # the one step more after than before, as Keras pads; odd kernels pad inside the call
            inputs = F.pad(inputs, (0, 1))
        out = F.conv1d(inputs, self.conv.weight, self.conv.bias, padding=(k - 1) // 2)  # (B, filters, T)
        return _keep_valid(out.transpose(1, 2), mask)  # (B, T, filters)

    def extra_repr(self) -> str:
        return f"{self.filters}, kernel_size={self.kernel_size}"


class BatchNormalization(Layer):
    """Keras's BatchNormalization over the last axis, with statistics from valid steps only.

    Training: each feature is standardised with the mean and (biased) variance of the batch's valid values, then
    scaled by `gamma` and shifted by `beta`; the moving statistics follow
    `moving = momentum * moving + (1 - momentum) * batch`. Evaluation: the moving statistics are used. As in Keras,
    the moving mean and variance are non-trainable weights (they count in `count_params`).

    Args:
        momentum: weight of the old moving statistics (Keras's default 0.99).
        epsilon: added to the variance (Keras's default 1e-3).
        impl: "reference" (the statistics and the normalisation written out, masked sums over valid steps),
            "fused" (PyTorch's batch-norm kernel, one pass each way; raises on a batch with padded rows, whose
            padding it would count) or "auto" (fused unless a row is padded). `last_impl` tells which ran.

    Shapes:
        x: (B, D), or (B, T, D) with lengths (B,) (a tensor, list or `Lengths`) or None. Output: the same shape;
        zeros at padded steps.
    """

    uses_lengths = True

    def __init__(self, *, momentum: float = 0.99, epsilon: float = 1e-3, impl: Impl = "auto") -> None:
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"Expected impl in {set(IMPLS)}. Received: impl={impl!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Expected momentum in [0, 1). Received: momentum={momentum!r}")
        if not (epsilon > 0.0 and math.isfinite(epsilon)):
            raise ValueError(f"Expected a finite epsilon > 0. Received: epsilon={epsilon!r}")
        self.momentum = momentum
        self.epsilon = epsilon
        self.impl: Impl = impl
        self.size: int | None = None
        self._trace = CallTrace()

    def build(self, input_shape: Shape) -> Shape:
        size = input_shape[-1] if len(input_shape) in (1, 2) else None
        if size is None:
            raise ValueError(
                f"BatchNormalization expected an input shape (D,) or (T, D) with D known. Received: {input_shape}"
            )
        check_positive_int("input size", size)
        if self.size is None:
            self.size = size
            self.gamma = nn.Parameter(torch.ones(size))
            self.beta = nn.Parameter(torch.zeros(size))
            self.moving_mean = nn.Parameter(torch.zeros(size), requires_grad=False)
            self.moving_variance = nn.Parameter(torch.ones(size), requires_grad=False)
        elif self.size != size:
            raise ValueError(f"BatchNormalization was built for {self.size} inputs. Received: {input_shape}")
        return input_shape

    def forward(self, x: Tensor, lengths: Tensor | Lengths | None = None) -> Tensor:
        if self.size is None:
            raise ValueError(
                "Expected BatchNormalization inside a Sequential (or .build((T, D)) first). Received: no input size"
            )
        check_rank("BatchNormalization", x, (2, 3), "(batch, features) or (batch, steps, features)")
        check_floating("BatchNormalization", x)
        check_feature_size("BatchNormalization", x, self.size)
        mask = None
        if x.dim() == 3:
            check_steps("BatchNormalization", x)
            mask = as_lengths(lengths, x).mask()  # (B, T) or None
        impl = self._resolve_impl(mask, x.numel() // x.shape[-1])
        self._trace.impl = impl
        if impl == "fused":
            return self._fused(x)
        if mask is not None:
            x = _zero_padding(x, mask)  # padding never enters the arithmetic: NaN there must not reach a gradient
        if self.training:
            mean, variance = self._batch_moments(x, mask)
            self._follow(mean, variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        out = (x - mean) * torch.rsqrt(variance + self.epsilon) * self.gamma + self.beta
        return _keep_valid(out, mask)

    @property
    def last_impl(self) -> Literal["reference", "fused"] | None:
        """The path the last call took (None before any call)."""
        return self._trace.impl

    def _resolve_impl(self, mask: Tensor | None, values: int) -> Literal["reference", "fused"]:
        if self.impl == "reference":
            return "reference"
        reason = None
        if mask is not None:
            reason = "a row is padded (the kernel would count its padding)"
        elif self.training and values == 1:
            reason = "one value per feature (the kernel needs more to train on)"
        if reason is None:
            return "fused"
        if self.impl == "fused":
            raise ValueError(f"impl='fused' cannot run this input: {reason}. Use impl='auto' or 'reference'")
        return "reference"

    def _fused(self, x: Tensor) -> Tensor:
        """The reference's arithmetic in PyTorch's kernel, on a batch without padding: (B, D) or (B, T, D)."""
        channels_first = x.transpose(1, 2) if x.dim() == 3 else x  # (B, D, T): contiguous after a Conv1D
        dtype = torch.promote_types(x.dtype, self.gamma.dtype)  # the reference's arithmetic promotes; the kernel
        channels_first = channels_first.to(dtype)  # wants one dtype
        gamma, beta = self.gamma.to(dtype), self.beta.to(dtype)
        if self.training:
            # the kernel's running statistics with momentum 1 are the batch's mean and unbiased variance; Keras's
            # moving variance follows the biased one
            mean = torch.zeros_like(gamma)
            variance = torch.ones_like(gamma)
            out = F.batch_norm(channels_first, mean, variance, gamma, beta, True, 1.0, self.epsilon)
            count = channels_first.numel() // channels_first.shape[1]  # values of each feature
            self._follow(mean, variance * ((count - 1) / count))
        else:
            moving = self.moving_mean.to(dtype), self.moving_variance.to(dtype)
            out = F.batch_norm(channels_first, *moving, gamma, beta, False, 0.0, self.epsilon)
        return out.transpose(1, 2) if x.dim() == 3 else out

    def _batch_moments(self, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """Mean and biased variance of each feature over the valid values of the batch: (D,), (D,).

        `x` is zero at padded steps; they are left out of the sums by masking rather than dropped by boolean
        indexing, whose output size would need a device read."""
        if mask is None:
            flat = x.reshape(-1, x.shape[-1])  # (N, D)
            mean = flat.mean(dim=0)
            return mean, (flat - mean).square().mean(dim=0)
        total = torch.promote_types(x.dtype, torch.float32)  # half-precision sums over many steps would overflow
        count = mask.sum().to(total)  # valid steps in the batch
        mean = (x.sum(dim=(0, 1), dtype=total) / count).to(x.dtype)  # (D,)
        variance = _keep_valid(x - mean, mask).square().sum(dim=(0, 1), dtype=total) / count
        return mean, variance.to(x.dtype)

    @torch.no_grad()
    def _follow(self, mean: Tensor, variance: Tensor) -> None:
        # in the weights' dtype: under autocast the batch statistics may come in half precision
        self.moving_mean.lerp_(mean.detach().to(self.moving_mean.dtype), 1.0 - self.momentum)
        self.moving_variance.lerp_(variance.detach().to(self.moving_variance.dtype), 1.0 - self.momentum)

    def extra_repr(self) -> str:
        return f"momentum={self.momentum}, epsilon={self.epsilon}, impl={self.impl!r}"


class Activation(Layer):
    """An activation on its own (Keras's Activation): 'relu', 'tanh', 'sigmoid', 'softmax' or 'linear'. It maps 0
    to 0 for 'relu', 'tanh' and 'linear', so padded steps stay zeros."""

    def __init__(self, activation: str) -> None:
        super().__init__()
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            names = sorted(str(k) for k in ACTIVATIONS if k is not None)
            raise ValueError(f"Expected activation in {names}. Received: activation={activation!r}")
        self.activation = activation

    def build(self, input_shape: Shape) -> Shape:
        return input_shape

    def forward(self, x: Tensor) -> Tensor:
        return ACTIVATIONS[self.activation](x)

    def extra_repr(self) -> str:
        return repr(self.activation)
