"""What recording every LSTM value costs: a model's forward traced (`lstmlab.layers.recording()`) beside the same
forward untraced, on the same input in the same run.

Model: `text-bilstm-pool` (Embedding 128, Bi-LSTM 64, random weights, evaluation mode, float32, no gradients). Inputs:
one text of 380 ids and 64 texts of 380 ids (full rows, no padding), and 64 texts right-padded to lengths drawn in
190-380 (seed 0). Blocks of calls sized to about `--target-ms`, round-robin, `--repeats` blocks each; the table
gives the median per call, the quartiles and the ratio traced / untraced (the issue's target: at most 1.5).

Usage:
    python benchmarks/trace_speed.py [--repeats 15] [--target-ms 200] [--quick] [--threads 1]

Rows: benchmarks/results/trace_speed_<time>_cpu.csv (with the commit and the command).
"""

from __future__ import annotations

import argparse

import torch
from timing import (
    Blocks,
    cuda_missing,
    machine_line,
    measure_blocks,
    parse_block_args,
    print_table,
    save_timings,
    set_threads,
)

from lstmlab.layers import recording
from lstmlab.models import build_model

STEPS, VOCAB = 380, 20000
SCENARIOS = {"1 text": (1, False), "64 texts": (64, False), "64 texts, padded": (64, True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parse_block_args(parser, None)
    if cuda_missing(args.device):
        return
    set_threads(args.threads)
    device = torch.device(args.device)
    print(machine_line(device))
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=VOCAB, max_len=STEPS).eval().to(device)
    rows, lines = [], []
    for name, (batch, padded) in SCENARIOS.items():
        gen = torch.Generator().manual_seed(0)
        lengths = torch.randint(STEPS // 2, STEPS + 1, (batch,), generator=gen) if padded else None
        x = torch.randint(2, VOCAB, (batch, STEPS), generator=gen)
        if lengths is not None:
            x = x * (torch.arange(STEPS)[None, :] < lengths[:, None])
        x = x.to(device)

        def plain(x: torch.Tensor = x) -> object:
            with torch.inference_mode():
                return model(x)

        def traced(x: torch.Tensor = x) -> object:
            with torch.inference_mode(), recording():
                return model(x)

        blocks = [Blocks(plain), Blocks(traced)]
        measure_blocks(blocks, args.repeats, args.target_ms / 1000, lambda: None)
        for label, b in zip(("untraced", "traced"), blocks, strict=True):
            columns = b.columns(blocks[0])
            rows.append({"scenario": name, "candidate": label, **columns})
            lines.append(
                [
                    name,
                    label,
                    f"{columns['median_ms']:.3f}",
                    f"{columns['q1_ms']:.3f}-{columns['q3_ms']:.3f}",
                    f"{columns['ratio']:.2f}",
                ]
            )
    print_table(["scenario", "candidate", "median ms", "IQR ms", "ratio"], lines, left=2, groups=True)
    save_timings(rows, args.csv, "trace_speed", device)


if __name__ == "__main__":
    main()
