"""Forward+backward speed of lstmlab's LSTM and Bi-LSTM layers against torch.nn.LSTM with the same weights.

Each candidate runs one training-style step: the forward pass, `loss = output.sum()`, and the gradients with
respect to the input and all parameters (`torch.autograd.grad`, so nothing accumulates in `.grad`). For every
shape the candidates are interleaved round-robin within each repeat (the starting candidate rotates from one
repeat to the next), so that machine noise hits all of them alike. Each repeat times a block of iterations
sized (after warm-up, and again after every block) to last about `--target-ms`; the reported figure is the
median over repeats of the per-iteration time, and the ratio is ours / the nn.LSTM anchor of the same group
(lower is better).

Usage:
    python benchmarks/layer_speed.py [--repeats N] [--device cpu|cuda] [--quick]

Results are printed as a table and written to benchmarks/results/layer_speed_<time>.csv.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmlab import LSTM, Bidirectional

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# (B, T, H, D): a tutorial-sized single sequence and a training-sized batch.
SHAPES = ((1, 10, 20, 1), (64, 380, 32, 32))
LARGE = SHAPES[1]
SEED = 0


@dataclass
class Candidate:
    """One thing to time: `step()` runs `forward`, sums its output and takes gradients for `inputs`."""

    group: str  # "uni", "bi" or "bi varlen"
    name: str
    forward: Callable[[], Tensor]
    inputs: list[Tensor]  # the input and all parameters
    anchor: bool = False  # the nn.LSTM the group's ratios are taken against
    max_iters: int | None = None  # cap on iterations per repeat (the slow reference loop on the large shape)
    min_warmup: int = 3
    iters: int = 1  # iterations in the next timed block
    times: list[float] = field(default_factory=list)  # seconds per iteration, one per repeat
    calls: int = 0  # iterations timed over all repeats

    def size_block(self, per_call: float, target_s: float) -> None:
        """Iterations per block so that one block lasts about `target_s`, given the fastest call seen so far."""
        iters = max(1, round(target_s / per_call))
        self.iters = min(iters, self.max_iters) if self.max_iters else iters

    def step(self) -> None:
        loss = self.forward().sum()
        torch.autograd.grad(loss, self.inputs)  # no .grad accumulation to clear between iterations


def grad_inputs(x: Tensor, module: nn.Module) -> list[Tensor]:
    return [x, *module.parameters()]


def build_candidates(batch: int, steps: int, hidden: int, size: int, device: torch.device) -> list[Candidate]:
    """The candidates for one shape, with weights copied from the nn.LSTM anchors and one shared input."""
    torch.manual_seed(SEED)
    large = (batch, steps, hidden, size) == LARGE
    x = torch.randn(batch, steps, size, device=device, requires_grad=True)
    # The reference path is a Python loop over T steps: on the large shape, one iteration per repeat.
    ref_cap = 1 if large else None
    ref_warmup = 1 if large else 3

    uni_torch = nn.LSTM(size, hidden, batch_first=True).to(device)
    uni_fused = LSTM.from_torch(uni_torch, return_sequences=True, impl="fused").to(device)
    uni_ref = LSTM.from_torch(uni_torch, return_sequences=True, impl="reference").to(device)
    bi_torch = nn.LSTM(size, hidden, batch_first=True, bidirectional=True).to(device)
    bi_fused = Bidirectional.from_torch(bi_torch, return_sequences=True, impl="fused").to(device)
    bi_ref = Bidirectional.from_torch(bi_torch, return_sequences=True, impl="reference").to(device)

    candidates = [
        Candidate("uni", "nn.LSTM", lambda: uni_torch(x)[0], grad_inputs(x, uni_torch), anchor=True),
        Candidate("uni", "fused", lambda: uni_fused(x), grad_inputs(x, uni_fused)),
        Candidate(
            "uni",
            "reference",
            lambda: uni_ref(x),
            grad_inputs(x, uni_ref),
            max_iters=ref_cap,
            min_warmup=ref_warmup,
        ),
        Candidate("bi", "nn.LSTM", lambda: bi_torch(x)[0], grad_inputs(x, bi_torch), anchor=True),
        Candidate("bi", "fused", lambda: bi_fused(x), grad_inputs(x, bi_fused)),
        Candidate(
            "bi",
            "reference",
            lambda: bi_ref(x),
            grad_inputs(x, bi_ref),
            max_iters=ref_cap,
            min_warmup=ref_warmup,
        ),
    ]
    if large:
        candidates += varlen_candidates(x, bi_torch, bi_fused)
    return candidates


def varlen_candidates(x_full: Tensor, bi_torch: nn.LSTM, bi_fused: Bidirectional) -> list[Candidate]:
    """Right-padded batch with lengths in [T/2, T]: ours with `lengths` vs nn.LSTM on a packed batch.

    The packed candidate packs and pads back inside the timed step, since a caller holding a padded batch pays
    for both; its output is then the same (B, T, 2H) tensor as ours.
    """
    batch, steps, _ = x_full.shape
    generator = torch.Generator().manual_seed(SEED)
    lengths_cpu = torch.randint(steps // 2, steps + 1, (batch,), generator=generator)
    lengths = lengths_cpu.to(x_full.device)
    valid = (torch.arange(steps, device=x_full.device) < lengths.unsqueeze(1)).unsqueeze(-1)  # (B, T, 1)
    x = (x_full.detach() * valid).requires_grad_(True)  # right-padded with zeros

    def packed_forward() -> Tensor:
        packed = pack_padded_sequence(x, lengths_cpu, batch_first=True, enforce_sorted=False)
        out, _ = bi_torch(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=steps)[0]

    return [
        Candidate("bi varlen", "nn.LSTM packed", packed_forward, grad_inputs(x, bi_torch), anchor=True, min_warmup=2),
        Candidate("bi varlen", "fused + lengths", lambda: bi_fused(x, lengths), grad_inputs(x, bi_fused)),
    ]


def check_outputs(candidates: list[Candidate]) -> None:
    """Sanity check that each group computes the same function: compare outputs with the anchor's."""
    for group in dict.fromkeys(c.group for c in candidates):
        members = [c for c in candidates if c.group == group]
        with torch.no_grad():
            outputs = {c.name: c.forward() for c in members}
        anchor = next(c.name for c in members if c.anchor)
        for name, out in outputs.items():
            diff = (out - outputs[anchor]).abs().max().item()
            if diff > 1e-4:
                print(f"WARNING: {group} {name} differs from {anchor} by {diff:.2e}", file=sys.stderr)


def timed(step: Callable[[], None], iters: int, sync: Callable[[], None]) -> float:
    """Seconds per iteration of a block of `iters` calls."""
    sync()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    return (time.perf_counter() - start) / iters


def calibrate(candidate: Candidate, target_s: float, warmup_s: float, sync: Callable[[], None]) -> None:
    """Warm up, then size the block of iterations per repeat to last about `target_s`.

    The size comes from the fastest warm-up call after the first (noise only ever slows a call down). A candidate
    whose calls already last `target_s`, or that is capped at one iteration, is not called more than
    `min_warmup` times here, so that slow paths stay cheap to measure.
    """
    calls: list[float] = []
    start = time.perf_counter()
    while len(calls) < candidate.min_warmup or (time.perf_counter() - start < warmup_s and calls[-1] < target_s):
        calls.append(timed(candidate.step, 1, sync))
    candidate.size_block(min(calls[1:]) if len(calls) > 1 else calls[0], target_s)


def measure(candidates: list[Candidate], repeats: int, target_s: float, sync: Callable[[], None]) -> None:
    """Round-robin: every repeat runs one block of each candidate, starting one candidate later each time.

    After each block the block size is re-derived from the fastest block so far, so that a calibration spoiled
    by a burst of load from another process corrects itself after one repeat.
    """
    gc.collect()
    gc.disable()
    try:
        for repeat in range(repeats):
            shift = repeat % len(candidates)
            for candidate in candidates[shift:] + candidates[:shift]:
                candidate.times.append(timed(candidate.step, candidate.iters, sync))
                candidate.calls += candidate.iters
                candidate.size_block(min(candidate.times), target_s)
    finally:
        gc.enable()


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def machine_line(device: torch.device) -> str:
    if device.type == "cuda":
        cudnn = torch.backends.cudnn.version()
        where = f"cuda ({torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, cuDNN {cudnn})"
    else:
        where = f"cpu ({cpu_model()}, {os.cpu_count()} logical cores, mkldnn {torch.backends.mkldnn.is_available()})"
    return (
        f"torch {torch.__version__}, python {platform.python_version()}, threads {torch.get_num_threads()} "
        f"(interop {torch.get_num_interop_threads()}), device {where}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per candidate (default 15; 3 quick)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer repeats, shorter blocks")
    parser.add_argument(
        "--target-ms", type=float, default=None, help="length of one timed block (default 200; 40 quick)"
    )
    parser.add_argument("--csv", type=Path, default=None, help="where to write the CSV (default benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    if args.target_ms is None:
        args.target_ms = 40.0 if args.quick else 200.0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available on this machine: skipping the benchmark (use --device cpu).")
        return 0
    device = torch.device(args.device)
    sync: Callable[[], None] = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    target_s = args.target_ms / 1000
    warmup_s = target_s / 2

    machine = machine_line(device)
    print(f"machine: {machine}")
    print(f"settings: repeats {args.repeats}, block ~{args.target_ms:g} ms, float32, fwd + bwd (loss = output.sum())")
    began = time.perf_counter()
    rows: list[dict[str, object]] = []
    for batch, steps, hidden, size in SHAPES:
        candidates = build_candidates(batch, steps, hidden, size, device)
        check_outputs(candidates)
        for candidate in candidates:
            calibrate(candidate, target_s, warmup_s, sync)
        measure(candidates, args.repeats, target_s, sync)
        anchors = {c.group: statistics.median(c.times) for c in candidates if c.anchor}
        for c in candidates:
            median = statistics.median(c.times)
            low, high = quartiles(c.times)
            rows.append(
                {
                    "B": batch,
                    "T": steps,
                    "H": hidden,
                    "D": size,
                    "direction": c.group,
                    "candidate": c.name,
                    "median_ms": median * 1e3,
                    "q1_ms": low * 1e3,
                    "q3_ms": high * 1e3,
                    "ratio": median / anchors[c.group],
                    "anchor": c.anchor,
                    "timed_calls": c.calls,
                    "repeats": len(c.times),
                }
            )
    elapsed = time.perf_counter() - began

    print_table(rows)
    print(f"ratio = median(ours) / median(nn.LSTM anchor of the same direction); lower is better. ({elapsed:.0f} s)")
    path = args.csv or RESULTS_DIR / f"layer_speed_{datetime.now():%Y%m%d-%H%M%S}_{device.type}.csv"
    write_csv(path, rows, machine)
    print(f"wrote {path}")
    return 0


def print_table(rows: list[dict[str, object]]) -> None:
    header = ("shape (B, T, H, D)", "direction", "candidate", "median ms", "IQR ms", "ratio", "calls")
    lines = []
    for row in rows:
        lines.append(
            (
                f"({row['B']}, {row['T']}, {row['H']}, {row['D']})",
                str(row["direction"]),
                str(row["candidate"]),
                f"{row['median_ms']:.3f}",
                f"{row['q1_ms']:.3f}-{row['q3_ms']:.3f}",
                "anchor" if row["anchor"] else f"{row['ratio']:.2f}",
                str(row["timed_calls"]),
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    right = {3, 4, 5, 6}

    def fmt(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded)

    print()
    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for i, line in enumerate(lines):
        if i > 0 and line[0] != lines[i - 1][0]:
            print()  # a blank line between shapes
        print(fmt(line))
    print()


def write_csv(path: Path, rows: list[dict[str, object]], machine: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = [*rows[0].keys(), "torch", "threads", "machine"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **{k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()},
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "machine": machine,
                }
            )


if __name__ == "__main__":
    sys.exit(main())
