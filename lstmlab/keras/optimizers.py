"""Keras's optimisers with Keras's defaults, made into PyTorch optimisers when the model is compiled.

Keras's `Adam` (learning_rate 1e-3, epsilon 1e-7), `RMSprop` (1e-3, rho 0.9, epsilon 1e-7) and `SGD` (1e-2) become
PyTorch's fused Adam with epsilon placed as Keras places it (`KerasAdam`), Keras's own RMSprop rule (`KerasRMSprop`:
epsilon inside the root) and `torch.optim.SGD`, with those settings: their steps equal Keras 3's (tested). Keras 2's
`lr=` is taken as `learning_rate=`.

Example:
    >>> model.compile(loss="binary_crossentropy", optimizer=Adam(learning_rate=3e-3))
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from ..training import fused_kernel

__all__ = ["SGD", "Adam", "KerasAdam", "KerasRMSprop", "Optimizer", "RMSprop", "get"]


class Optimizer:
    """A Keras optimiser's settings; `make(parameters)` gives the PyTorch optimiser, `clip(parameters)` clips
    gradients as Keras's `clipnorm` (each weight's norm), `global_clipnorm` and `clipvalue` do.

    Raises:
        ValueError: on a Keras option lstmlab does not support, or settings out of range.
    """

    name = "optimizer"

    def __init__(self, learning_rate: float, *, options: dict[str, Any]) -> None:
        # Keras's clipping arguments, which every optimiser takes; the other options are checked below
        clipnorm, clipvalue, global_clipnorm = (
            options.pop(name, None) for name in ("clipnorm", "clipvalue", "global_clipnorm")
        )
        if "lr" in options:  # Keras 2's name
            learning_rate = options.pop("lr")
        for name, value in options.items():
            if name == "name" or (name in ("decay", "weight_decay") and not value) or (name == "use_ema" and not value):
                continue
            raise ValueError(
                f"Expected {type(self).__name__} arguments of Keras without {name}. Received: {name}={value!r}"
            )
        if not learning_rate > 0:
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={learning_rate!r}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Expected at most one of clipnorm, clipvalue, global_clipnorm. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.learning_rate = float(learning_rate)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm

    @property
    def clips(self) -> bool:
        return any(c is not None for c in (self.clipnorm, self.clipvalue, self.global_clipnorm))

    def clip(self, parameters: list[nn.Parameter]) -> None:
        """Clip the gradients of `parameters` in place, as Keras does before its update."""
        if self.global_clipnorm is not None:
            nn.utils.clip_grad_norm_(parameters, self.global_clipnorm)
        elif self.clipnorm is not None:
            for parameter in parameters:
                nn.utils.clip_grad_norm_([parameter], self.clipnorm)
        elif self.clipvalue is not None:
            nn.utils.clip_grad_value_(parameters, self.clipvalue)

    def make(self, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        """The PyTorch optimiser over `parameters` (those that take gradients)."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The settings, as Keras's `get_config()` names them."""
        return {"name": self.name, "learning_rate": self.learning_rate}


class Adam(Optimizer):
    """Keras's Adam: learning_rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7, amsgrad False."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float | None = 1e-7,
        amsgrad: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(learning_rate, options=options)
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.epsilon = 1e-7 if epsilon is None else epsilon  # Keras 2's None: the backend's 1e-7
        self.amsgrad = amsgrad

    def make(self, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        params = [p for p in parameters if p.requires_grad]
        return KerasAdam(
            params,
            lr=self.learning_rate,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
            amsgrad=self.amsgrad,
            fused=fused_kernel(params),
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """Keras's RMSprop: learning_rate 1e-3, rho 0.9, momentum 0, epsilon 1e-7, centered False."""

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float | None = 1e-7,
        centered: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(learning_rate, options=options)
        self.rho, self.momentum, self.centered = rho, momentum, centered
        self.epsilon = 1e-7 if epsilon is None else epsilon

    def make(self, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        params = [p for p in parameters if p.requires_grad]
        return KerasRMSprop(params, self.learning_rate, self.rho, self.momentum, self.epsilon, self.centered)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}


class KerasAdam(torch.optim.Adam):
    """PyTorch's Adam (fused where it can be) taking Keras's epsilon where Keras does, on the raw root of the second
    moment: `lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`. PyTorch adds its epsilon to the
    bias-corrected root, so each step passes it `epsilon / sqrt(1 - beta_2^t)`, which gives Keras's update."""

    def __init__(self, params: list[nn.Parameter], **options: Any) -> None:
        super().__init__(params, **options)
        for group in self.param_groups:
            group["keras_epsilon"], group["keras_step"] = group["eps"], 0

    def step(self, closure: Any = None) -> Any:
        for group in self.param_groups:
            group["keras_step"] += 1
            group["eps"] = group["keras_epsilon"] / math.sqrt(1.0 - group["betas"][1] ** group["keras_step"])
        return super().step(closure)


class KerasRMSprop(torch.optim.Optimizer):
    """Keras 3's RMSprop update, which takes epsilon inside the root (`lr * g / sqrt(v + epsilon)`); PyTorch's adds it
    outside, which differs for gradients near zero (early steps of an LSTM's small weights)."""

    def __init__(
        self, params: list[nn.Parameter], lr: float, rho: float, momentum: float, epsilon: float, centered: bool
    ) -> None:
        defaults = {"lr": lr, "rho": rho, "momentum": momentum, "epsilon": epsilon, "centered": centered}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            rho, lr, momentum = group["rho"], group["lr"], group["momentum"]
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                gradient, state = parameter.grad, self.state[parameter]
                if not state:
                    state["velocity"] = torch.zeros_like(parameter)
                    state["average"] = torch.zeros_like(parameter)
                    state["momentum"] = torch.zeros_like(parameter)
                velocity = state["velocity"].mul_(rho).addcmul_(gradient, gradient, value=1 - rho)
                denominator = velocity
                if group["centered"]:
                    average = state["average"].mul_(rho).add_(gradient, alpha=1 - rho)
                    denominator = velocity - average * average
                increment = gradient * lr / (denominator + group["epsilon"]).sqrt()
                if momentum > 0:
                    increment = state["momentum"].mul_(momentum).add_(increment)
                parameter.sub_(increment)


class SGD(Optimizer):
    """Keras's SGD: learning_rate 1e-2, momentum 0, nesterov False."""

    name = "sgd"

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **options: Any
    ) -> None:
        super().__init__(learning_rate, options=options)
        self.momentum, self.nesterov = momentum, nesterov

    def make(self, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        params = [p for p in parameters if p.requires_grad]
        return torch.optim.SGD(params, lr=self.learning_rate, momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


_BY_NAME: dict[str, type[Adam] | type[RMSprop] | type[SGD]] = {"adam": Adam, "rmsprop": RMSprop, "sgd": SGD}


def get(optimizer: str | Optimizer) -> Optimizer:
    """The optimiser named as in Keras ('adam', 'rmsprop', 'sgd'; any case) with Keras's defaults, or the one given.

    Raises:
        ValueError: for another name or object.
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise ValueError(
        f"Expected optimizer in {sorted(_BY_NAME)} or an lstmlab.keras.optimizers object. "
        f"Received: optimizer={optimizer!r}"
    )
