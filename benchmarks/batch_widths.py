"""Peak memory of training on batches of many widths: why a streamed corpus pads each batch to its longest text
rounded up to 16 (`StreamSettings.width_multiple`) rather than to the exact token.

`text-bilstm-pool` (embed 32, units 32, no dropout, batch 64, one thread) takes `--steps` Adam steps on random
token ids; the widths cycle through 5..373 (step i: 5 + 37 i mod 369, as a length-sorted stream yields them),
rounded up to a multiple of 1 (every width), of 16 (lstmlab's streams), or held at 373 (a fixed max_len, the
anchor). Each candidate runs in a fresh process; the figure is its peak RSS (`ru_maxrss`) every `--steps / 4`
steps, so that growth shows.

Usage:
    python benchmarks/batch_widths.py [--steps 600]

Rows: benchmarks/results/batch_widths.csv.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import torch
from timing import RESULTS_DIR, machine_line, print_table, results_path, smoke, smoke_banner, write_csv

from lstmlab import build_model
from lstmlab.data import SequenceData
from lstmlab.training import TrainConfig
from lstmlab.training.engine import _step, make_optimizer
from lstmlab.training.hooks import batch_model

MAX_LEN = 373
CANDIDATES = {"fixed 373 (anchor)": 0, "widths of 1": 1, "widths of 16": 16}
SMOKE_STEPS = 4  # a smoke run's steps a candidate (one peak per step), in its own process too


def run(multiple: int, steps: int) -> list[float]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    options = {"vocab_size": 20000, "max_len": None, "embed_dim": 32, "units": 32}
    model = build_model("text-bilstm-pool", **options, dropout=0.0, input_dropout=0.0)
    optimizer, hooks = make_optimizer(model, TrainConfig(epochs=1)), batch_model(model)
    generator = torch.Generator().manual_seed(0)
    peaks = []
    for step in range(steps):
        width = MAX_LEN if multiple == 0 else min(MAX_LEN, -(-(5 + (step * 37) % 369) // multiple) * multiple)
        lengths = torch.randint(1, width + 1, (64,), generator=generator)
        lengths[0] = width
        ids = torch.randint(2, 20000, (64, width), generator=generator) * (torch.arange(width) < lengths[:, None])
        _step(hooks, optimizer, SequenceData(ids, torch.randint(0, 2, (64,), generator=generator), lengths), None)
        if (step + 1) % (steps // 4) == 0:
            peaks.append(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    return peaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--multiple", type=int, help=argparse.SUPPRESS)  # a candidate's own process
    parser.add_argument("--csv", type=Path, default=RESULTS_DIR / "batch_widths.csv")
    args = parser.parse_args(argv)
    if smoke():
        args.steps = SMOKE_STEPS
    if args.multiple is not None:
        print(json.dumps(run(args.multiple, args.steps)))
        return 0
    smoke_banner()
    print(machine_line(torch.device("cpu")))
    rows = []
    for name, multiple in CANDIDATES.items():
        command = [sys.executable, __file__, "--multiple", str(multiple), "--steps", str(args.steps)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        peaks = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append({"candidate": name, **{f"peak_mb_{(i + 1) * args.steps // 4}": p for i, p in enumerate(peaks)}})
    header = list(rows[0])
    print_table(header, [[str(row[k]) for k in header] for row in rows])
    write_csv(args.csv, rows)
    print(f"rows: {results_path(args.csv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
