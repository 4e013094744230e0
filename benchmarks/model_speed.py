"""Forward+backward time of the series-lstm-fcn preset on padded batches, with lengths and without, beside the same
model on an unpadded batch, and the host synchronisations of one forward.

The model is `build_model("series-lstm-fcn", features=12, num_classes=9)` in train mode (dropout and batch
statistics on), float32. The data are shaped like JapaneseVowels: batches of 16 and 64 series of 12 channels, lengths
drawn uniformly in 7..29 (seed 0), right-padded with zeros to 29 steps, labels in 0..8. One step is the forward, the
cross-entropy of the logits and the gradients of all parameters (`torch.autograd.grad`, so nothing accumulates in
`.grad`). Candidates for each batch size:

- unpadded (the anchor): every series 29 steps long, no lengths: the model's cost on a batch with no padding;
- padded, lengths: `model(x, lengths)` on the padded batch;
- padded, no lengths: `model(x)` on the same batch, read as if every series ran 29 steps.

They run round-robin within each repeat (the first one rotating between repeats), a block of calls per repeat sized
to last about `--target-ms`; the table gives the median over repeats of the time per step, the interquartile range
and the ratio median / median(anchor) (lower is better).

Host synchronisations, counted on one forward of each candidate: `aten::_local_scalar_dense` calls, what `.item()`,
`int(t)` and `bool(t)` dispatch to and what on a GPU waits for the device (a TorchDispatchMode sees them), and
`Tensor.tolist()` / `.numpy()` calls, which read a tensor on the host without passing the dispatcher (a
TorchFunctionMode sees them).

The script uses only what lstmlab offered at commit 92617ae as well (`build_model`, `model(x, lengths)`), so that it
also measures an older checkout:

    git worktree add /tmp/before 92617ae
    PYTHONPATH=/tmp/before python benchmarks/model_speed.py

Usage:
    python benchmarks/model_speed.py [--repeats N] [--target-ms MS] [--threads N] [--device cpu|cuda] [--quick]

Results are printed as a table and written to benchmarks/results/model_speed_<time>_<device>.csv.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from timing import (
    Blocks,
    cuda_missing,
    device_sync,
    machine_line,
    measure_blocks,
    parse_block_args,
    print_table,
    save_timings,
    set_threads,
    smoke,
)
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

import lstmlab

PRESET, FEATURES, CLASSES = "series-lstm-fcn", 12, 9  # JapaneseVowels: 12 channels, 9 speakers
MIN_LENGTH, STEPS = 7, 29  # JapaneseVowels' shortest and longest series
BATCHES = (16, 64)
SMOKE_BATCHES = (4, 8)  # a smoke run's (its repeats and block are set by parse_block_args)
SEED = 0


# ----------------------------------------------------------------------------------------- host syncs
class ScalarReads(TorchDispatchMode):
    """Counts `aten::_local_scalar_dense`: a tensor's value read into Python (`.item()`, `int(t)`, `bool(t)`)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


class HostReads(TorchFunctionMode):
    """Counts `Tensor.tolist()` and `Tensor.numpy()`, host reads that never reach the dispatcher."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func in (Tensor.tolist, Tensor.numpy):
            self.count += 1
        return func(*args, **(kwargs or {}))


def count_syncs(forward: Callable[[], Tensor]) -> tuple[int, int]:
    """`_local_scalar_dense` calls and `tolist` / `numpy` calls during one `forward()`."""
    with HostReads() as host, ScalarReads() as scalars:
        forward()
    return scalars.count, host.count


# ----------------------------------------------------------------------------------------- candidates
@dataclass
class Candidate:
    """One thing to time: `blocks.step()` runs `forward`, the loss and the gradients of every parameter."""

    name: str
    forward: Callable[[], Tensor]  # (B, CLASSES) logits
    blocks: Blocks
    anchor: bool = False


def batch_data(batch: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Unpadded series (B, T, F), the same right-padded with zeros after each length, lengths (B,), labels (B,)."""
    generator = torch.Generator().manual_seed(SEED)
    full = torch.randn(batch, STEPS, FEATURES, generator=generator)  # (B, T, F)
    lengths = torch.randint(MIN_LENGTH, STEPS + 1, (batch,), generator=generator)  # (B,)
    labels = torch.randint(0, CLASSES, (batch,), generator=generator)  # (B,)
    valid = (torch.arange(STEPS) < lengths.unsqueeze(1)).unsqueeze(-1)  # (B, T, 1)
    padded = full * valid
    return full.to(device), padded.to(device), lengths.to(device), labels.to(device)


def build_candidates(batch: int, device: torch.device) -> list[Candidate]:
    torch.manual_seed(SEED)
    model = lstmlab.build_model(PRESET, features=FEATURES, num_classes=CLASSES).to(device)
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    full, padded, lengths, labels = batch_data(batch, device)

    def candidate(name: str, forward: Callable[[], Tensor], anchor: bool = False) -> Candidate:
        def step() -> None:
            loss = nn.functional.cross_entropy(forward(), labels)
            torch.autograd.grad(loss, parameters)

        return Candidate(name, forward, Blocks(step), anchor)

    return [
        candidate("unpadded", lambda: model(full), anchor=True),
        candidate("padded, lengths", lambda: model(padded, lengths)),
        candidate("padded, no lengths", lambda: model(padded)),
    ]


# ----------------------------------------------------------------------------------------- run
def measure_batch(batch: int, args: argparse.Namespace, device: torch.device) -> list[dict[str, object]]:
    sync = device_sync(device)
    target_s = args.target_ms / 1000
    candidates = build_candidates(batch, device)
    measure_blocks([c.blocks for c in candidates], args.repeats, target_s, sync)
    anchor = next(c for c in candidates if c.anchor).blocks
    rows: list[dict[str, object]] = []
    for c in candidates:
        scalars, host_reads = count_syncs(c.forward)
        rows.append(
            {
                "preset": PRESET,
                "B": batch,
                "T": STEPS,
                "F": FEATURES,
                "candidate": c.name,
                **c.blocks.columns(anchor),
                "scalar_syncs_per_forward": scalars,
                "host_reads_per_forward": host_reads,
            }
        )
    return rows


def print_results(rows: list[dict[str, object]]) -> None:
    header = ("batch", "candidate", "median ms", "IQR ms", "ratio", "item syncs", "tolist", "calls")
    lines = [
        (
            str(row["B"]),
            str(row["candidate"]),
            f"{row['median_ms']:.3f}",
            f"{row['q1_ms']:.3f}-{row['q3_ms']:.3f}",
            "anchor" if row["anchor"] else f"{row['ratio']:.2f}",
            str(row["scalar_syncs_per_forward"]),
            str(row["host_reads_per_forward"]),
            str(row["timed_calls"]),
        )
        for row in rows
    ]
    print_table(header, lines, left=2, groups=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parse_block_args(parser, argv)
    if (args.threads or 1) < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if cuda_missing(args.device):
        return 0
    set_threads(args.threads)
    batches = SMOKE_BATCHES if smoke() else BATCHES
    device = torch.device(args.device)
    print(f"machine: {machine_line(device)}")
    print(f"lstmlab: {Path(lstmlab.__file__).parent}")
    print(
        f"settings: {PRESET}, features {FEATURES}, classes {CLASSES}, train mode, lengths {MIN_LENGTH}-{STEPS} "
        f"padded to {STEPS}, repeats {args.repeats}, block ~{args.target_ms:g} ms, float32, fwd + cross-entropy + bwd"
    )
    began = time.perf_counter()
    rows = [row for batch in batches for row in measure_batch(batch, args, device)]
    elapsed = time.perf_counter() - began

    print_results(rows)
    print(f"ratio = median / median(unpadded anchor of the same batch size); lower is better. ({elapsed:.0f} s)")
    print("item syncs: aten::_local_scalar_dense calls per forward; tolist: Tensor.tolist/numpy calls per forward.")
    save_timings(rows, args.csv, "model_speed", device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
