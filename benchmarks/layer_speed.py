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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

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
    smoke,
)
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmlab import LSTM, Bidirectional
from lstmlab.layers import check_lengths
from lstmlab.layers.sequence import roll_rows

# (B, T, H, D): a tutorial-sized single sequence and a training-sized batch.
SHAPES = ((1, 10, 20, 1), (64, 380, 32, 32))
SMOKE_SHAPES = ((1, 10, 20, 1), (4, 16, 8, 4))  # a smoke run's: the same candidates, the large one's path too
SEED = 0


@dataclass
class Candidate:
    """One thing to time: `blocks.step()` runs `forward`, sums its output and takes gradients for the input and all
    parameters (`torch.autograd.grad`, so nothing accumulates in `.grad`)."""

    group: str  # "uni", "bi" or "bi varlen"
    name: str
    forward: Callable[[], Tensor]
    blocks: Blocks
    anchor: bool = False  # the nn.LSTM the group's ratios are taken against
    aligned: Callable[[Tensor], Tensor] | None = None  # its output laid out as the anchor's (checked, not timed)


def candidate(
    group: str,
    name: str,
    forward: Callable[[], Tensor],
    x: Tensor,
    module: nn.Module,
    *,
    anchor: bool = False,
    max_iters: int | None = None,
    min_warmup: int = 3,
    aligned: Callable[[Tensor], Tensor] | None = None,
) -> Candidate:
    """A candidate whose step takes the gradients of `forward().sum()` for `x` and all of `module`'s parameters."""
    inputs = [x, *module.parameters()]

    def step() -> None:
        loss = forward().sum()
        torch.autograd.grad(loss, inputs)  # no .grad accumulation to clear between iterations

    return Candidate(group, name, forward, Blocks(step, max_iters=max_iters, min_warmup=min_warmup), anchor, aligned)


def build_candidates(
    batch: int, steps: int, hidden: int, size: int, device: torch.device, *, large: bool
) -> list[Candidate]:
    """The candidates for one shape, with weights copied from the nn.LSTM anchors and one shared input; the `large`
    (training-sized) shape also has the variable-length candidates."""
    torch.manual_seed(SEED)
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
        candidate("uni", "nn.LSTM", lambda: uni_torch(x)[0], x, uni_torch, anchor=True),
        candidate("uni", "fused", lambda: uni_fused(x), x, uni_fused),
        candidate(
            "uni",
            "reference",
            lambda: uni_ref(x),
            x,
            uni_ref,
            max_iters=ref_cap,
            min_warmup=ref_warmup,
        ),
        candidate("bi", "nn.LSTM", lambda: bi_torch(x)[0], x, bi_torch, anchor=True),
        candidate("bi", "fused", lambda: bi_fused(x), x, bi_fused),
        candidate(
            "bi",
            "reference",
            lambda: bi_ref(x),
            x,
            bi_ref,
            max_iters=ref_cap,
            min_warmup=ref_warmup,
        ),
    ]
    if large:
        candidates += varlen_candidates(x, bi_torch, bi_fused)
    return candidates


def varlen_candidates(x_full: Tensor, bi_torch: nn.LSTM, bi_fused: Bidirectional) -> list[Candidate]:
    """Right-padded batch with lengths in [T/2, T]: ours with `lengths` vs nn.LSTM on a packed batch; and ours on
    the same rows left-padded (Keras's `pad_sequences` default), its lengths checked in the timed step as the
    right-padded candidate's are.

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

    x_left = roll_rows(x.detach(), lengths).requires_grad_(True)  # each row's steps moved to its end

    def left_forward() -> Tensor:
        return bi_fused(x_left, check_lengths(lengths, batch, steps, x.device, padding_side="left"))

    return [
        candidate("bi varlen", "nn.LSTM packed", packed_forward, x, bi_torch, anchor=True, min_warmup=2),
        candidate("bi varlen", "fused + lengths", lambda: bi_fused(x, lengths), x, bi_fused),
        candidate(
            "bi varlen",
            "fused + lengths, left-padded",
            left_forward,
            x_left,
            bi_fused,
            aligned=lambda out: roll_rows(out, steps - lengths),
        ),
    ]


def check_outputs(candidates: list[Candidate]) -> None:
    """Sanity check that each group computes the same function: compare outputs with the anchor's."""
    for group in dict.fromkeys(c.group for c in candidates):
        members = [c for c in candidates if c.group == group]
        with torch.no_grad():
            outputs = {c.name: c.aligned(c.forward()) if c.aligned else c.forward() for c in members}
        anchor = next(c.name for c in members if c.anchor)
        for name, out in outputs.items():
            diff = (out - outputs[anchor]).abs().max().item()
            if diff > 1e-4:
                print(f"WARNING: {group} {name} differs from {anchor} by {diff:.2e}", file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return parse_block_args(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]), argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if cuda_missing(args.device):
        return 0
    shapes = SMOKE_SHAPES if smoke() else SHAPES  # a smoke run (repeats and block set by parse_block_args)
    device = torch.device(args.device)
    sync = device_sync(device)
    target_s = args.target_ms / 1000

    print(f"machine: {machine_line(device)}")
    print(f"settings: repeats {args.repeats}, block ~{args.target_ms:g} ms, float32, fwd + bwd (loss = output.sum())")
    began = time.perf_counter()
    rows: list[dict[str, object]] = []
    for batch, steps, hidden, size in shapes:
        large = (batch, steps, hidden, size) == shapes[-1]
        candidates = build_candidates(batch, steps, hidden, size, device, large=large)
        check_outputs(candidates)
        measure_blocks([c.blocks for c in candidates], args.repeats, target_s, sync)
        anchors = {c.group: c.blocks for c in candidates if c.anchor}
        for c in candidates:
            shape = {"B": batch, "T": steps, "H": hidden, "D": size}
            rows.append({**shape, "direction": c.group, "candidate": c.name, **c.blocks.columns(anchors[c.group])})
    elapsed = time.perf_counter() - began

    print_results(rows)
    print(f"ratio = median(ours) / median(nn.LSTM anchor of the same direction); lower is better. ({elapsed:.0f} s)")
    save_timings(rows, args.csv, "layer_speed", device)
    return 0


def print_results(rows: list[dict[str, object]]) -> None:
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
    print_table(header, lines, left=3, groups=True)


if __name__ == "__main__":
    sys.exit(main())
