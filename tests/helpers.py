"""Test helpers shared by the layer tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn


def twin(layer: nn.Module, **changes: object) -> nn.Module:
    """A copy of an LSTM or Bidirectional layer with the same weights and some options changed."""
    from lstmlab import LSTM, Bidirectional

    if isinstance(layer, LSTM):
        other: nn.Module = layer.clone(**changes)
    else:
        assert isinstance(layer, Bidirectional)
        other = Bidirectional(layer.forward_layer.clone(**changes), merge_mode=layer.merge_mode)
    other.to(next(layer.parameters()).dtype).load_state_dict(layer.state_dict())
    return other


def flatten_outputs(result: object) -> list[Tensor]:
    """All tensors of a (possibly nested) layer result, in order."""
    if isinstance(result, Tensor):
        return [result]
    assert isinstance(result, tuple | list)
    return [t for item in result for t in flatten_outputs(item)]


def weighted_loss(tensors: list[Tensor], seed: int = 0) -> Tensor:
    """A scalar that depends on every element of every tensor with a different random weight."""
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros((), dtype=tensors[0].dtype)
    for t in tensors:
        total = total + (t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum()
    return total


def grads(layer: nn.Module, x: Tensor, result: object) -> list[Tensor]:
    """Gradients of `weighted_loss(result)` with respect to the input and every parameter."""
    loss = weighted_loss(flatten_outputs(result))
    return list(torch.autograd.grad(loss, [x, *layer.parameters()]))


def right_pad(rows: list[Tensor], steps: int) -> Tensor:
    """Stack (L_i, D) rows into a (B, steps, D) batch, padding with a value that must never matter."""
    out = torch.full((len(rows), steps, rows[0].shape[-1]), 123.0, dtype=rows[0].dtype)
    for b, row in enumerate(rows):
        out[b, : row.shape[0]] = row
    return out


def import_keras() -> Any:
    """Keras on its torch backend, or a skip that says why (the Keras oracles need the `dev` extra)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as error:  # pragma: no cover - depends on the environment
        pytest.skip(f"keras is not importable ({error}); the Keras oracle cannot run")
    return keras


# Operations that make the host wait for the device on a GPU (and so stall it): reading a value
# (`_local_scalar_dense`: item(), int(), bool(), if tensor:), comparing whole tensors on the host (`equal`), and
# outputs whose size depends on the values (`nonzero`, `masked_select`, `unique`, boolean-mask indexing).
SYNC_OPS = {"_local_scalar_dense", "item", "is_nonzero", "equal", "nonzero", "masked_select"}
# Tensor methods that copy values to the host without an aten operation on CPU (on a GPU: a device-to-host copy).
SYNC_METHODS = {"tolist", "numpy"}


class HostSyncs:
    """Counts the host synchronisations of the code run inside it: aten operations (a `TorchDispatchMode`) and
    Tensor methods that read values to the host (a `TorchFunctionMode`, as `tolist` dispatches nothing on CPU).

    Example:
        >>> with HostSyncs() as syncs:
        ...     int(torch.ones(2).sum())
        >>> syncs.names
        ['_local_scalar_dense']
    """

    def __init__(self) -> None:
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode

        self.names: list[str] = []
        names = self.names

        class Ops(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
                name = func._schema.name.split("::")[-1]
                bool_index = name.startswith("index") and any(
                    isinstance(i, Tensor) and i.dtype in (torch.bool, torch.uint8)
                    for i in (args[1] if len(args) > 1 and isinstance(args[1], list | tuple) else [])
                )
                if name in SYNC_OPS or name.lstrip("_").startswith("unique") or bool_index:
                    names.append(name + ("[bool mask]" if bool_index else ""))
                return func(*args, **(kwargs or {}))

        class Methods(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
                if getattr(func, "__name__", "") in SYNC_METHODS:
                    names.append(func.__name__)
                return func(*args, **(kwargs or {}))

        self._modes = [Methods(), Ops()]

    @property
    def count(self) -> int:
        return len(self.names)

    def __enter__(self) -> HostSyncs:
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(*exc)


PRESET_FREE_STEPS = 7  # steps where a preset's time axis is free


def preset_batch(model: Any) -> tuple[Tensor, Tensor]:
    """A batch for `model` and its lengths (rows of several lengths where there is more than one step); token ids
    are right-padded with 0 after each row's length."""
    gen = torch.Generator().manual_seed(0)
    batch = model.batch_size or 4
    shape = tuple(PRESET_FREE_STEPS if d is None else d for d in model.input_shape)
    steps = shape[0]
    assert steps is not None
    lengths = torch.tensor([steps, max(1, steps // 2), 1, max(1, steps - 1)][:batch])
    first: Any = model.layers[0]
    if len(shape) == 2:
        return torch.rand(batch, *shape, generator=gen), lengths
    ids = torch.randint(1, first.input_dim, (batch, steps), generator=gen)
    ids[torch.arange(steps) >= lengths[:, None]] = 0
    return ids, lengths


class Server:
    """`lstmlab serve RUN --port 0 ...` in a process of its own; `url` once it listens."""

    def __init__(self, run: Path, *options: str) -> None:
        command = [sys.executable, "-m", "lstmlab", "serve", str(run), "--port", "0", *options]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # printed once the socket listens
        if not line.startswith("serving"):
            self.process.kill()
            _, err = self.process.communicate(timeout=20)
            raise AssertionError(f"no server: {line!r} {err}")
        self.url = line.split(" on ")[1].split(" ")[0]

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=20)  # waits, and closes the pipes
