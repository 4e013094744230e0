"""Keras's `Sequential` on lstmlab: `add`, `compile`, `fit`, `evaluate`, `predict`, `predict_classes`, `summary`,
`reset_states`, `save`, and `load_model`.

Underneath is an `lstmlab.models.Sequential` of lstmlab layers (`lstmlab_model`), built when the input shape is
known (from the first layer's `input_shape`, or from the data in the first `fit` or `predict`). It returns logits:
the output layer's sigmoid or softmax is folded into the loss and applied by `predict`. The optimiser is made when
the model is compiled and built, and kept across `fit` calls (its moments persist, as in Keras), so a loop of many
small `fit` calls does not set up training again on every call.

Keras's semantics kept: `validation_split` holds out the LAST fraction of the arrays, before shuffling (Keras 2's
rule: the first `int(N * (1 - validation_split))` rows train); `shuffle=True` reshuffles the training rows every
epoch; the history logs `loss`, `accuracy` (or `acc` for `metrics=['acc']`), `val_loss`, `val_accuracy`; epoch
losses are means over batches weighted by their sizes; a stateful model carries its state across batches and calls
until `reset_states()`; padded steps (from `Embedding(mask_zero=True)`) are left out of per-step losses.

Example:
    >>> model = Sequential()
    >>> model.add(LSTM(20, input_shape=(10, 1), return_sequences=True))
    >>> model.add(TimeDistributed(Dense(1, activation="sigmoid")))
    >>> model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    >>> model.fit(X, y, epochs=1, batch_size=1, verbose=0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..layers import Embedding as LstmlabEmbedding
from ..layers import Layer, Lengths, Shape
from ..models import Sequential as LstmlabSequential
from ..progress import progress_bar
from . import losses as keras_losses
from . import optimizers as keras_optimizers
from .archive import read_keras
from .callbacks import Callback, History
from .layers import BuiltLayer, Embedding, InputLayer, KerasLayer
from .saving import is_keras_file, load_weights, read_model, save_model, save_weights

__all__ = ["Sequential", "load_model"]

ACTIVATIONS = ("sigmoid", "softmax", "linear")
# Keras's metric names for the accuracy of the compiled loss
_ACCURACY_NAMES = ("accuracy", "acc")
# fit() arguments of Keras that lstmlab refuses unless left at their defaults: name -> what to do instead
_FIT_REFUSED = {
    "class_weight": "weights in the loss of lstmlab.training, or balanced data",
    "sample_weight": "unweighted samples (repeat or drop rows instead)",
    "steps_per_epoch": "arrays (a whole pass per epoch)",
    "validation_steps": "arrays (a whole pass over the validation data)",
    "validation_batch_size": "batch_size (it is used for validation too)",
}
# fit() arguments of Keras 2 that change nothing here (data arrive as arrays)
_FIT_IGNORED = ("max_queue_size", "workers", "use_multiprocessing")


class Sequential:
    """Keras's Sequential model: a stack of layers, compiled with a loss and an optimiser, trained with `fit`.

    Args:
        layers: Keras layers (`lstmlab.keras.layers`) to `add`, in order.
        name: the model's name in `summary()`.

    Raises:
        ValueError: on layers that are not `lstmlab.keras.layers`, unsupported Keras options (one line naming the
            argument and what to use instead), or calls out of order (fit before compile).

    Example:
        >>> model = Sequential([Embedding(3800, 32, input_length=380), LSTM(32), Dense(1, activation="sigmoid")])
        >>> model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        >>> history = model.fit(x_train, y_train, validation_split=0.1, batch_size=64, epochs=3)
        >>> loss, accuracy = model.evaluate(x_test, y_test)
    """

    def __init__(self, layers: Sequence[KerasLayer] | None = None, name: str | None = None) -> None:
        self.name = name or "sequential"
        self._specs: list[KerasLayer] = []
        self._input: tuple[Shape, int | None] | None = None  # from an Input(...) added first
        self._net: LstmlabSequential | None = None
        self.activation = "linear"  # the output activation `predict` applies: sigmoid, softmax or linear
        self.loss: keras_losses.Loss | None = None
        self.metric: str | None = None  # the accuracy's name in the logs ('accuracy' or 'acc'), or None
        self.optimizer: keras_optimizers.Optimizer | None = None
        self._torch_optimizer: torch.optim.Optimizer | None = None
        self._parameters: list[nn.Parameter] = []
        self.stop_training = False
        self.history: History | None = None
        for layer in layers or ():
            self.add(layer)

    # ------------------------------------------------------------------------------------------------ building
    @classmethod
    def from_lstmlab(cls, model: LstmlabSequential, activation: str = "linear") -> Sequential:
        """A Keras-style model around an lstmlab `Sequential` that returns pre-activations (logits), with the output
        activation `predict` applies: 'sigmoid', 'softmax' or 'linear'. Compile it to train it.

        Raises:
            ValueError: for another model type or activation.
        """
        if not isinstance(model, LstmlabSequential):
            raise ValueError(f"Expected an lstmlab.models.Sequential. Received: {type(model).__name__}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"Expected activation in {ACTIVATIONS}. Received: activation={activation!r}")
        wrapper = cls(name=model.name)
        wrapper._net, wrapper.activation = model, activation
        layers = [layer for layer in model.layers if isinstance(layer, Layer)]
        names = model.layer_names  # Keras's default names; a Parallel's inner layers have rows of their own
        if len(names) != len(layers):
            names = [f"{type(layer).__name__.lower()}_{i}" for i, layer in enumerate(layers)]
        wrapper._specs = [BuiltLayer(layer, name) for layer, name in zip(layers, names, strict=True)]
        return wrapper

    def add(self, layer: KerasLayer) -> None:
        """Append a layer (or declare the input with `Input(shape=...)` first).

        Raises:
            ValueError: for an object that is not an `lstmlab.keras.layers` layer, or once the model is built.
        """
        if not isinstance(layer, KerasLayer):
            raise ValueError(
                f"Expected a layer from lstmlab.keras.layers (Keras's own layers cannot run here). "
                f"Received: {type(layer).__module__}.{type(layer).__name__}"
            )
        if self._net is not None:
            raise ValueError(
                f"Expected add() before the model is built (by summary, compile or fit). Received: {layer}"
            )
        if isinstance(layer, InputLayer):
            if self._specs or self._input is not None:
                raise ValueError("Expected Input(...) as the first thing added to a Sequential. Received: a later one")
            assert layer.input_shape is not None
            self._input = (layer.input_shape, layer.batch_size)
            return
        self._specs.append(layer)

    def pop(self) -> None:
        """Remove the last layer (before the model is built)."""
        if self._net is not None or not self._specs:
            raise ValueError("Expected an unbuilt model with layers to pop(). Received: a built or empty model")
        self._specs.pop()

    @property
    def layers(self) -> list[KerasLayer]:
        """The Keras layers added, in order; each has `.layer`, its lstmlab layer, once the model is built."""
        return list(self._specs)

    @property
    def built(self) -> bool:
        return self._net is not None

    @property
    def lstmlab_model(self) -> LstmlabSequential:
        """The lstmlab `Sequential` underneath (returning logits), built on first use where the input shape is declared.

        Raises:
            ValueError: before the model is built.
        """
        if self._net is None and self._declared_input() is not None:
            self.build()  # Keras builds a model whose input shape is declared as its layers are added
        if self._net is None:
            raise ValueError(
                "Expected a built model: give the first layer input_shape= (or add Input(shape=...)), or call fit, "
                "predict or build(input_shape) first. Received: a model whose input shape is not known yet"
            )
        return self._net

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Build the model for inputs of `input_shape` (with the batch axis first, as in Keras), or the first layer's.

        Raises:
            ValueError: without a known input shape, or for layers that do not fit together.
        """
        if self._net is not None:
            return
        if input_shape is not None:
            shape = tuple(input_shape)
            self._build(shape[1:], shape[0])
            return
        declared = self._declared_input()
        if declared is None:
            raise ValueError(
                "Expected an input shape to build the model: give the first layer input_shape= (or add "
                "Input(shape=...)), or call fit or predict first. Received: none"
            )
        self._build(*declared)

    def _declared_input(self) -> tuple[Shape, int | None] | None:
        if self._input is not None:
            return self._input
        if self._specs and self._specs[0].input_shape is not None:
            return self._specs[0].input_shape, self._specs[0].batch_size
        return None

    def _build(self, input_shape: Shape, batch_size: int | None) -> None:
        if not self._specs:
            raise ValueError("Expected at least one layer in the model. Received: an empty Sequential")
        built = [spec.to_lstmlab(output=i == len(self._specs) - 1) for i, spec in enumerate(self._specs)]
        layers = [layer for layer, _ in built]
        net = LstmlabSequential(layers, input_shape=input_shape, batch_size=batch_size, name=self.name)
        for spec, (layer, _) in zip(self._specs, built, strict=True):
            spec.layer = layer
        self._net, self.activation = net, built[-1][1]
        if self.loss is not None:
            self.loss.check_activation(self.activation)
        if self.optimizer is not None:
            self._make_optimizer()

    def _ensure_built(self, x: Tensor) -> LstmlabSequential:
        if self._net is None:
            declared = self._declared_input()
            self._build(*(declared or (tuple(x.shape[1:]), None)))
        assert self._net is not None
        return self._net

    def _output_activation(self) -> str:
        if self._net is not None:
            return self.activation
        if not self._specs:
            raise ValueError("Expected at least one layer in the model. Received: an empty Sequential")
        return self._specs[-1].to_lstmlab(output=True)[1]

    # ------------------------------------------------------------------------------------------------ compiling
    def compile(
        self,
        optimizer: str | keras_optimizers.Optimizer = "rmsprop",
        loss: str | keras_losses.Loss | None = None,
        metrics: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        """Choose the loss, optimiser and metric. A new optimiser starts from scratch (as Keras's compile does).

        Args:
            optimizer: 'adam', 'rmsprop' (Keras's default), 'sgd', or an `lstmlab.keras.optimizers` object.
            loss: 'binary_crossentropy' (sigmoid output), 'categorical_crossentropy' (softmax output, one-hot
                targets), 'sparse_categorical_crossentropy' (softmax output, class ids), 'mse' (linear output), or an
                `lstmlab.keras.losses` object (`from_logits=True` for a linear output).
            metrics: None, or ['accuracy'] (logged as 'accuracy'), ['acc'] (logged as 'acc'), or the loss's own
                accuracy name ('binary_accuracy', ...).

        Raises:
            ValueError: for a loss that does not suit the output activation, other metrics, or other options.
        """
        for name, value in options.items():
            harmless = name in ("run_eagerly", "jit_compile") or (name == "steps_per_execution" and value == 1)
            if value is not None and not harmless:
                raise ValueError(
                    f"Expected compile(optimizer, loss, metrics) without {name}. Received: {name}={value!r}"
                )
        if loss is None:
            raise ValueError("Expected a loss, e.g. loss='binary_crossentropy'. Received: loss=None")
        chosen = keras_losses.get(loss)
        chosen.check_activation(self._output_activation())
        self.metric = self._metric_name(chosen, metrics)
        self.loss, self.optimizer = chosen, keras_optimizers.get(optimizer)
        if self._net is None and self._declared_input() is not None:
            self.build()
        elif self._net is not None:
            self._make_optimizer()

    @staticmethod
    def _metric_name(loss: keras_losses.Loss, metrics: Sequence[str] | None) -> str | None:
        names = list(dict.fromkeys([metrics] if isinstance(metrics, str) else (metrics or [])))
        allowed = [*_ACCURACY_NAMES, loss.accuracy_name] if loss.accuracy_name else []
        if len(names) > 1 or any(name not in allowed for name in names):
            raise ValueError(
                f"Expected metrics=None or one of {allowed} with {loss.name} (other metrics: compute them from "
                f"predict()). Received: metrics={metrics!r}"
            )
        return names[0] if names else None

    def _make_optimizer(self) -> None:
        assert self._net is not None
        assert self.optimizer is not None
        self._parameters = [p for p in self._net.parameters() if p.requires_grad]
        self._torch_optimizer = self.optimizer.make(self._parameters)

    def _compiled(self) -> tuple[LstmlabSequential, keras_losses.Loss, torch.optim.Optimizer]:
        if self.loss is None or self.optimizer is None:
            raise ValueError("Expected a compiled model: call compile(loss=..., optimizer=...) first. Received: none")
        assert self._net is not None
        assert self._torch_optimizer is not None
        return self._net, self.loss, self._torch_optimizer

    # ------------------------------------------------------------------------------------------------ arrays
    def _inputs(self, x: Any) -> Tensor:
        """`x` as a tensor on the model's device: token ids as int64 for an Embedding first, else float32."""
        tensor = as_tensor(x, "x")
        tokens = (bool(self._specs) and isinstance(self._specs[0], Embedding)) or (
            self._net is not None and isinstance(self._net.layers[0], LstmlabEmbedding)
        )
        if tokens:
            tensor = tensor.to(torch.long)
        elif tensor.dtype != torch.float32:
            tensor = tensor.to(torch.float32)
        net = self._ensure_built(tensor)
        device = next(net.parameters()).device
        return tensor if tensor.device == device else tensor.to(device)

    def _arrays(self, x: Any, y: Any) -> tuple[Tensor, Tensor]:
        """Inputs and the compiled loss's targets, checked against each other."""
        if y is None:
            raise ValueError("Expected targets y beside x. Received: y=None")
        inputs = self._inputs(x)
        net, loss, _ = self._compiled()
        targets = loss.targets(as_tensor(y, "y").to(inputs.device), net.output_shape)
        if len(targets) != len(inputs):
            raise ValueError(
                f"Expected as many targets as inputs. Received: x with {len(inputs)} rows, y with {len(targets)}"
            )
        return inputs, targets

    def _batch_size(self, batch_size: int | None, rows: int) -> int:
        fixed = self.lstmlab_model.batch_size
        if batch_size is None:
            batch_size = fixed or 32
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"Expected batch_size to be a positive integer. Received: batch_size={batch_size!r}")
        if fixed is not None and (batch_size != fixed or rows % fixed):
            raise ValueError(
                f"Expected batch_size={fixed} and a multiple of {fixed} rows for a model built with batch size {fixed} "
                f"(batch_input_shape). Received: batch_size={batch_size}, {rows} rows"
            )
        return batch_size

    # ------------------------------------------------------------------------------------------------ training
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = 1,
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple[Any, ...] | None = None,
        shuffle: bool | str = True,
        initial_epoch: int = 0,
        validation_freq: int = 1,
        **options: Any,
    ) -> History:
        """Train for `epochs` passes over (x, y); Keras's arguments and semantics.

        Args:
            x: inputs, (N, T, D) values or (N, T) token ids: NumPy arrays, torch tensors or lists.
            y: targets, as the compiled loss reads them (e.g. (N, 1) or (N,) for one sigmoid output, (N, T, 1) per
                step).
            batch_size: rows per update (default 32; a stateful model's fixed batch size).
            epochs: the last epoch's number; training starts at `initial_epoch`.
            verbose: 0 silent, 1 a progress bar (on a terminal) and a line per epoch, 2 a line per epoch.
            callbacks: `lstmlab.keras.callbacks` objects (EarlyStopping, ModelCheckpoint, your own Callback).
            validation_split: the LAST fraction of x and y, held out before shuffling, scored after each epoch.
            validation_data: (x_val, y_val), scored after each epoch instead.
            shuffle: reshuffle the training rows every epoch.

        Returns:
            A `History`: `history.history['loss']`, `['accuracy']`, `['val_loss']`, `['val_accuracy']` by epoch.

        Raises:
            ValueError: before compile, on arrays that do not fit the model, or unsupported Keras options.
        """
        self._check_fit_options(options, validation_freq)
        inputs, targets = self._arrays(x, y)
        net, _, _ = self._compiled()
        validation = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError(
                    "Expected validation_data=(x_val, y_val) (no sample weights). "
                    f"Received: {len(validation_data)} items"
                )
            validation = self._arrays(*validation_data)
        elif validation_split:
            inputs, targets, validation = _split(inputs, targets, validation_split)
        size = self._batch_size(batch_size, len(inputs))
        history = History()
        every = [history, *(callbacks or ())]
        params = {"verbose": verbose, "epochs": epochs, "steps": math.ceil(len(inputs) / size)}
        for callback in every:
            callback.set_model(self)
            callback.set_params(params)
        self.history, self.stop_training = history, False
        for callback in every:
            callback.on_train_begin()
        per_batch = [c for c in every if type(c).on_train_batch_end is not Callback.on_train_batch_end]
        for epoch in range(initial_epoch, epochs):
            for callback in every:
                callback.on_epoch_begin(epoch)
            started = time.perf_counter()
            _set_mode(net, training=True)
            logs = self._train_epoch(inputs, targets, size, bool(shuffle), per_batch, verbose, (epoch, epochs))
            if validation is not None:
                scores = self._score(*validation, size)
                logs.update({f"val_{name}": value for name, value in scores.items()})
            if verbose:
                _print_epoch(logs, math.ceil(len(inputs) / size), time.perf_counter() - started, (epoch, epochs))
            for callback in every:
                callback.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        _set_mode(net, training=False)
        for callback in every:
            callback.on_train_end()
        return history

    @staticmethod
    def _check_fit_options(options: dict[str, Any], validation_freq: int) -> None:
        for name, value in options.items():
            if name in _FIT_IGNORED:
                continue
            if name in _FIT_REFUSED:
                if value is None:
                    continue
                raise ValueError(f"Expected fit() without {name} ({_FIT_REFUSED[name]}). Received: {name}={value!r}")
            raise ValueError(f"Expected fit() arguments of Keras. Received: {name}={value!r}")
        if validation_freq != 1:
            raise ValueError(
                f"Expected validation_freq=1 (validation after every epoch). Received: {validation_freq!r}"
            )

    def _train_epoch(
        self,
        x: Tensor,
        y: Tensor,
        size: int,
        shuffle: bool,
        per_batch: list[Callback],
        verbose: int | str,
        position: tuple[int, int],
    ) -> dict[str, float]:
        """One pass of updates over (x, y); the epoch's loss (batch means weighted by batch size) and accuracy."""
        rows = len(x)
        order = torch.randperm(rows, device=x.device) if shuffle and rows > 1 else None
        steps = math.ceil(rows / size)
        bar = progress_bar(steps, f"Epoch {position[0] + 1}/{position[1]}") if verbose == 1 else nullcontext(None)
        losses: list[Tensor] = []
        hits: list[Tensor] = []
        with bar as advance:
            for step, start in enumerate(range(0, rows, size)):
                if order is None:
                    xb, yb = (x, y) if size >= rows else (x[start : start + size], y[start : start + size])
                else:
                    index = order[start : start + size]
                    xb, yb = x[index], y[index]
                value, hit = self._step(xb, yb)
                losses.append(value * len(xb))
                if hit is not None:
                    hits.append(hit)
                if per_batch:
                    batch_logs = self._logs([value], [hit] if hit is not None else [], 1)
                    for callback in per_batch:
                        callback.on_train_batch_end(step, batch_logs)
                if advance is not None:
                    advance(1, lambda: self._logs(losses, hits, rows))
        return self._logs(losses, hits, rows)

    def _step(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor | None]:
        """One update on a batch; its mean loss and the per-item hits of the accuracy (None without a metric)."""
        net, loss, optimizer = self._compiled()
        optimizer.zero_grad(set_to_none=True)
        lengths = net.check_call(x)
        outputs, targets = _scored(net.run_checked(x, lengths), y, lengths)
        value = loss.value(outputs, targets)
        value.backward()  # type: ignore[no-untyped-call]
        assert self.optimizer is not None
        if self.optimizer.clips:
            self.optimizer.clip(self._parameters)
        optimizer.step()
        if self.metric is None:
            return value.detach(), None
        with torch.no_grad():
            return value.detach(), loss.hits(outputs.detach(), targets).reshape(-1)

    def _logs(self, weighted_losses: list[Tensor], hits: list[Tensor], rows: int) -> dict[str, float]:
        """The loss (sum of batch losses times batch sizes over `rows`) and accuracy, in one read."""
        total = torch.stack(weighted_losses).sum().double() / rows
        if self.metric is None or not hits:
            return {"loss": float(total)}
        joined = torch.cat(hits)
        loss_value, accuracy = torch.stack([total, joined.double().mean()]).tolist()
        return {"loss": loss_value, self.metric: accuracy}

    def train_on_batch(self, x: Any, y: Any, **options: Any) -> float | list[float]:
        """One update on (x, y); returns [loss, accuracy] (the loss alone without a metric), as Keras does."""
        for name, value in options.items():
            if value is not None and name not in ("reset_metrics", "return_dict"):
                raise ValueError(f"Expected train_on_batch(x, y). Received: {name}={value!r}")
        inputs, targets = self._arrays(x, y)
        net = self.lstmlab_model
        _set_mode(net, training=True)
        value, hit = self._step(inputs, targets)
        _set_mode(net, training=False)
        return self._returned(self._logs([value * len(inputs)], [] if hit is None else [hit], len(inputs)))

    # ------------------------------------------------------------------------------------------------ scoring
    @torch.no_grad()
    def _score(self, x: Tensor, y: Tensor, size: int) -> dict[str, float]:
        net, loss, _ = self._compiled()
        was_training = net.training
        _set_mode(net, training=False)
        losses, hits = [], []
        for start in range(0, len(x), size):
            xb, yb = x[start : start + size], y[start : start + size]
            lengths = net.check_call(xb)
            outputs, targets = _scored(net.run_checked(xb, lengths), yb, lengths)
            losses.append(loss.value(outputs, targets) * len(xb))
            if self.metric is not None:
                hits.append(loss.hits(outputs, targets).reshape(-1))
        _set_mode(net, training=was_training)
        return self._logs(losses, hits, len(x))

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = 1,
        return_dict: bool = False,
        **options: Any,
    ) -> float | list[float] | dict[str, float]:
        """Loss and accuracy on (x, y), dropout off: [loss, accuracy], or the loss alone without a metric.

        Raises:
            ValueError: before compile, or on arrays that do not fit the model.
        """
        for name, value in options.items():
            if value is not None and name != "callbacks":
                raise ValueError(
                    f"Expected evaluate(x, y, batch_size, verbose, return_dict). Received: {name}={value!r}"
                )
        inputs, targets = self._arrays(x, y)
        started = time.perf_counter()
        logs = self._score(inputs, targets, self._batch_size(batch_size, len(inputs)))
        if verbose:
            steps = math.ceil(len(inputs) / self._batch_size(batch_size, len(inputs)))
            _print_epoch(logs, steps, time.perf_counter() - started, None)
        return dict(logs) if return_dict else self._returned(logs)

    def _returned(self, logs: dict[str, float]) -> float | list[float]:
        return logs["loss"] if self.metric is None else [logs["loss"], logs[self.metric]]

    @torch.no_grad()
    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = 0, **options: Any) -> np.ndarray:
        """The model's outputs for `x` after its output activation (probabilities for sigmoid or softmax), as NumPy.

        Shapes:
            x: (N, T, D) or (N, T) ids. Returns (N, [T,] units), float32.
        """
        for name, value in options.items():
            if value is not None and name not in ("callbacks", "steps"):
                raise ValueError(f"Expected predict(x, batch_size, verbose). Received: {name}={value!r}")
        inputs = self._inputs(x)
        net = self.lstmlab_model
        size = self._batch_size(batch_size, len(inputs))
        net.eval()
        parts = [self._activate(net(inputs[start : start + size])) for start in range(0, len(inputs), size)]
        result: np.ndarray = torch.cat(parts).cpu().numpy()
        return result

    def _activate(self, logits: Tensor) -> Tensor:
        if self.activation == "sigmoid":
            return torch.sigmoid(logits)
        if self.activation == "softmax":
            return torch.softmax(logits, dim=-1)
        return logits

    def predict_classes(self, x: Any, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Keras 2's class predictions: for one output unit `(p > 0.5)` as int32 (the unit axis kept, (N, [T,] 1));
        for several, the most likely class (N, [T])."""
        probabilities = self.predict(x, batch_size=self._default_batch(batch_size))
        classes: np.ndarray = (
            probabilities.argmax(axis=-1) if probabilities.shape[-1] > 1 else (probabilities > 0.5).astype("int32")
        )
        return classes

    def predict_proba(self, x: Any, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """Keras 2's `predict_proba`: `predict`."""
        return self.predict(x, batch_size=self._default_batch(batch_size))

    def _default_batch(self, batch_size: int) -> int | None:
        """Keras 2's default batch size of predict_classes, or the fixed one of a stateful model."""
        return batch_size if self._net is None or self._net.batch_size is None else None

    def predict_on_batch(self, x: Any) -> np.ndarray:
        return self.predict(x, batch_size=None)

    # ------------------------------------------------------------------------------------------------ the rest
    def summary(self, print_fn: Callable[[str], None] | None = None, **options: Any) -> None:
        """Print Keras's table: each layer, its output shape and its parameter count (Keras's counts), and totals.

        Raises:
            ValueError: before the model is built (no input shape yet), as Keras does.
        """
        self.build()
        self.lstmlab_model.summary(print_fn=print_fn or print)

    def count_params(self) -> int:
        return self.lstmlab_model.count_params()

    def reset_states(self) -> None:
        """Forget the state of every stateful layer: the next call starts new sequences."""
        self.lstmlab_model.reset_states()

    def get_weights(self) -> list[np.ndarray]:
        """The weights in Keras's layout and order (kernels (in, out), LSTM kernels (D, 4H) with gates i, f, c, o;
        a Bidirectional's forward layer, then its backward layer), as NumPy arrays."""
        return [_to_keras(name, p).numpy() for name, p in self.lstmlab_model.named_parameters()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from Keras's layout and order (as `get_weights` gives and Keras's `get_weights` does).

        Raises:
            ValueError: for another number of arrays or other shapes.
        """
        named = list(self.lstmlab_model.named_parameters())
        if len(weights) != len(named):
            raise ValueError(f"Expected {len(named)} weight arrays. Received: {len(weights)}")
        with torch.no_grad():
            for (name, parameter), array in zip(named, weights, strict=True):
                value = _from_keras(name, torch.as_tensor(np.asarray(array)))
                if value.shape != parameter.shape:
                    raise ValueError(
                        f"Expected weight {name} of Keras shape {tuple(_to_keras(name, parameter).shape)}. "
                        f"Received: shape={tuple(np.shape(array))}"
                    )
                parameter.copy_(value)

    def save(self, filepath: str, **options: Any) -> None:
        """Save the model: a Keras 3 archive for a `.keras` name (Keras loads it too), else lstmlab's own format
        (layout, output activation, weights and compile settings); `load_model` reads either."""
        save_model(self, filepath)

    def save_weights(self, filepath: str, **options: Any) -> None:
        """Save the weights alone (safetensors); `load_weights` reads them into a model of the same layers."""
        save_weights(self, filepath)

    def load_weights(self, filepath: str, **options: Any) -> None:
        load_weights(self, filepath)

    def __call__(self, x: Any) -> Tensor:
        """The output after the output activation, as a torch tensor (Keras's `model(x)`), dropout off."""
        net = self.lstmlab_model
        net.eval()
        return self._activate(net(self._inputs(x)))


def load_model(filepath: str | Path, **options: Any) -> Sequential:
    """A model saved by `Sequential.save`: layout, output activation, weights (and the compiled loss and optimiser
    settings, compiled again: the optimiser starts afresh); a file Keras saved goes through `load_keras_model`.

    Raises:
        ValueError: for a file that is neither an lstmlab.keras model nor a Keras one.
    """
    if is_keras_file(Path(filepath)):
        return load_keras_model(filepath)
    saved = read_model(filepath)
    model = Sequential.from_lstmlab(saved.net, saved.activation)
    if saved.compiled is not None:
        model.compile(**saved.compile_options())
    return model


def load_keras_model(path: str | Path) -> Sequential:
    """A model saved by Keras (a Keras 3 `.keras` archive or a Keras 2 `.h5` file), read without Keras or
    TensorFlow, as an `lstmlab.keras.Sequential` whose `predict` applies the saved output activation.

    Raises:
        ValueError: for a layer or option lstmlab cannot import (named in one line), or a file that is no Keras model.
    """
    imported = read_keras(path)
    return Sequential.from_lstmlab(imported.model, imported.activation)


def as_tensor(data: Any, name: str) -> Tensor:
    """A NumPy array, torch tensor or list as a torch tensor (float64 becomes float32).

    Raises:
        ValueError: for other objects (generators, datasets, several inputs).
    """
    if isinstance(data, Tensor):
        tensor = data.detach()
    elif isinstance(data, np.ndarray | list | tuple | np.generic | int | float):
        array = np.asarray(data)
        if array.dtype == object or array.dtype.kind in "USV":
            raise ValueError(
                f"Expected {name} of numbers (pad token lists with pad_sequences). Received: dtype={array.dtype}"
            )
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    else:
        raise ValueError(f"Expected {name} as a NumPy array, torch tensor or list. Received: {type(data).__name__}")
    if tensor.dtype == torch.float64 or tensor.dtype == torch.float16:
        tensor = tensor.to(torch.float32)
    if tensor.dim() == 0:
        raise ValueError(f"Expected {name} with a batch axis. Received: a scalar")
    return tensor


def _set_mode(net: nn.Module, *, training: bool) -> None:
    """`net.train(training)` without `nn.Module.__setattr__` on every module: the tutorial's loop switches modes
    twice per one-sequence `fit` call, where `train()` costs about a tenth of the call. No lstmlab layer overrides
    `train`, so setting each module's flag is all `train` does."""
    for module in net.modules():
        object.__setattr__(module, "training", training)


def _split(x: Tensor, y: Tensor, fraction: float) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor]]:
    """Keras 2's `validation_split`: the first `int(N * (1 - fraction))` rows train, the rest validate."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"Expected validation_split in [0, 1). Received: validation_split={fraction!r}")
    split_at = int(len(x) * (1.0 - fraction))
    if split_at == 0 or split_at == len(x):
        raise ValueError(
            f"Expected a validation_split that leaves rows to train and to validate. Received: "
            f"validation_split={fraction} of {len(x)} rows"
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])


def _scored(outputs: Tensor, targets: Tensor, lengths: Lengths | None) -> tuple[Tensor, Tensor]:
    """Per-step outputs and targets at valid steps only (padded steps of a masked batch left out)."""
    if lengths is None or outputs.dim() < 3 or outputs.shape[1] != lengths.steps:
        return outputs, targets
    mask = lengths.mask()  # (B, T), True at valid steps; None when no row is padded
    if mask is None:
        return outputs, targets
    return outputs[mask], targets[mask]


def _print_epoch(logs: dict[str, float], steps: int, seconds: float, position: tuple[int, int] | None) -> None:
    if position is not None:
        print(f"Epoch {position[0] + 1}/{position[1]}")
    figures = " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
    print(f"{steps}/{steps} - {seconds:.0f}s {1e3 * seconds / max(steps, 1):.0f}ms/step - {figures}")


def _to_keras(name: str, parameter: Tensor) -> Tensor:
    """One lstmlab weight in Keras's layout: kernels transposed (Conv1D (k, D, f)); embeddings and biases as they
    are."""
    value = parameter.detach().cpu()
    if value.dim() == 2 and not name.endswith("embedding.weight"):
        return value.T.contiguous()
    if value.dim() == 3:
        return value.permute(2, 1, 0).contiguous()
    return value


def _from_keras(name: str, value: Tensor) -> Tensor:
    if value.dim() == 2 and not name.endswith("embedding.weight"):
        return value.T
    if value.dim() == 3:
        return value.permute(2, 1, 0)
    return value
