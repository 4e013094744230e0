"""One training epoch of the default series model (what `lstmlab train --data aeon:NAME` trains), timed on the
series sets that aeon bundles, beside the same epoch of a plain PyTorch LSTM-FCN.

Usage:
    pip install -c constraints.txt -e ".[timeseries]"     # aeon reads the sets
    python benchmarks/series_epoch.py                        # ACSF1, OSULeaf, GunPoint, JapaneseVowels; 5 repeats
    python benchmarks/series_epoch.py --sets GunPoint --repeats 9 --threads 1
    python benchmarks/series_epoch.py --sets ACSF1 --profile    # also: where one lstmlab epoch's time goes
    git worktree add /tmp/before 80ea222 && PYTHONPATH=/tmp/before python benchmarks/series_epoch.py   # an older library

What is timed: `lstmlab.training.fit` for one epoch (batches of the training set in a seeded order, forward,
cross-entropy, backward, Adam step), with the model and training settings `lstmlab train --data aeon:NAME` resolves
(`prepare(RunSpec(data=DataSpec("aeon:NAME"), train=TrainChoices(epochs=1)))`; that call exists since the first
series release, so an older checkout is measured the same way). The anchor (ratio 1) is the loop a user writes in
plain PyTorch: `nn.LSTM(bidirectional=True)` over the whole padded batch with a mean over its steps, beside
`nn.Conv1d` + `nn.BatchNorm1d` + ReLU blocks (128, 256, 128 filters, kernels 8, 5, 3, 'same' padding) and a global
mean, Dropout 0.5, `nn.Linear`, Adam, on the same standardised series and batch size. The anchor ignores the lengths of
variable-length series (it reads their padding as values), which lstmlab does not; on equal-length sets the two do
the same arithmetic. Epochs alternate between the two; each is timed after one warm-up epoch. The table gives the
median and interquartile range over `--repeats` epochs and the ratio of the medians (lower is better). `--profile`
then runs one more lstmlab epoch per set under `torch.profiler` and prints the share of its CPU time in the
convolutions (forward and backward) and in the LSTM kernels (forward and backward).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from timing import (
    RESULTS_DIR,
    machine_line,
    print_table,
    quartiles,
    results_path,
    set_threads,
    smoke,
    smoke_banner,
    write_csv,
)
from torch import Tensor, nn

SETS = ("ACSF1", "OSULeaf", "GunPoint", "JapaneseVowels")
SMOKE_STEPS = 16  # a smoke run's epoch: one batch of the first series, cut to their first steps


class PlainLSTMFCN(nn.Module):
    """LSTM-FCN as a plain PyTorch user writes it: the Bi-LSTM path and the convolutional path side by side."""

    def __init__(self, channels: int, classes: int, units: int = 64, filters: int = 128) -> None:
        super().__init__()
        self.lstm = nn.LSTM(channels, units, batch_first=True, bidirectional=True)
        blocks: list[nn.Module] = []
        size = channels
        for multiple, kernel in ((1, 8), (2, 5), (1, 3)):
            blocks += [nn.Conv1d(size, multiple * filters, kernel, padding="same"), nn.BatchNorm1d(multiple * filters)]
            blocks.append(nn.ReLU())
            size = multiple * filters
        self.convolutional = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(0.5)
        self.out = nn.Linear(2 * units + filters, 1 if classes == 2 else classes)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, D) -> (B, classes or 1)
        recurrent = self.lstm(x)[0].mean(dim=1)  # (B, 2H)
        convolutional = self.convolutional(x.transpose(1, 2)).mean(dim=2)  # (B, filters)
        return self.out(self.dropout(torch.cat([recurrent, convolutional], dim=1)))


def prepared(name: str) -> Any:
    from lstmlab.data.spec import DataSpec
    from lstmlab.runs.defaults import TrainChoices
    from lstmlab.runs.pipeline import prepare
    from lstmlab.runs.spec import RunSpec

    run = prepare(RunSpec(data=DataSpec(f"aeon:{name}"), train=TrainChoices(epochs=1)))
    if smoke():
        from lstmlab.data import SequenceData

        n, train = run.config.batch_size, run.train
        lengths = None if train.lengths is None else train.lengths[:n].clamp(max=SMOKE_STEPS)
        small = SequenceData(train.x[:n, :SMOKE_STEPS], train.y[:n], lengths, train.padding_side)
        run = dataclasses.replace(run, train=small)
    return run


def plain_epoch(model: PlainLSTMFCN, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, batch: int) -> None:
    model.train()
    binary = model.out.out_features == 1
    for rows in torch.randperm(len(x)).split(batch):
        logits = model(x[rows])
        if binary:
            loss = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y[rows].float())
        else:
            loss = nn.functional.cross_entropy(logits, y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def measure(name: str, repeats: int) -> list[dict[str, Any]]:
    from lstmlab.training import fit

    run = prepared(name)
    x, y = run.train.x, run.train.y
    plain = PlainLSTMFCN(x.shape[-1], len(run.labels))
    optimizer = torch.optim.Adam(plain.parameters(), lr=run.config.learning_rate)
    candidates = {
        "plain PyTorch": lambda: plain_epoch(plain, optimizer, x, y, run.config.batch_size),
        "lstmlab": lambda: fit(run.model, run.train, config=run.config),
    }
    times: dict[str, list[float]] = {label: [] for label in candidates}
    for epoch in candidates.values():
        epoch()  # warm-up
    for _ in range(repeats):
        for label, epoch in candidates.items():
            start = time.perf_counter()
            epoch()
            times[label].append(time.perf_counter() - start)
    anchor = statistics.median(times["plain PyTorch"])
    steps = x.shape[1]
    return [
        {
            "set": name,
            "series": len(x),
            "steps": steps,
            "batch_size": run.config.batch_size,
            "candidate": label,
            "median_s": statistics.median(values),
            "q1_s": quartiles(values)[0],
            "q3_s": quartiles(values)[1],
            "ratio": statistics.median(values) / anchor,
            "repeats": repeats,
            "lstmlab": str(Path(__import__("lstmlab").__file__).parent),
        }
        for label, values in times.items()
    ]


PROFILE_GROUPS = {
    "convolutions, backward": ("aten::convolution_backward",),
    "convolutions, forward": ("aten::mkldnn_convolution", "aten::_convolution"),
    "LSTM, backward": ("aten::mkldnn_rnn_layer_backward",),
    "LSTM, forward": ("aten::mkldnn_rnn_layer",),
}


def profile(name: str) -> None:
    """One lstmlab epoch under torch.profiler: the share of its self CPU time per group of kernels."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler

    from lstmlab.training import fit

    run = prepared(name)
    fit(run.model, run.train, config=run.config)  # warm-up
    with profiler(activities=[ProfilerActivity.CPU]) as traced:
        fit(run.model, run.train, config=run.config)
    events = traced.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shares = {
        group: sum(e.self_cpu_time_total for e in events if e.key in keys) / total
        for group, keys in PROFILE_GROUPS.items()
    }
    print(f"{name}, one lstmlab epoch: " + ", ".join(f"{g} {100 * v:.0f} %" for g, v in shares.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated aeon names")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "series_epoch.csv"))
    parser.add_argument("--profile", action="store_true", help="then where one lstmlab epoch's time goes")
    args = parser.parse_args()
    smoke_banner()
    if smoke():  # one repeat of a one-batch epoch (`prepared`) on each set
        args.repeats = 1
    set_threads(args.threads)
    torch.manual_seed(0)
    rows = [row for name in args.sets.split(",") if name for row in measure(name.strip(), args.repeats)]
    print(machine_line(torch.device("cpu")))
    print(f"lstmlab from {rows[0]['lstmlab']}")
    print_table(
        ["set", "series x steps", "batch", "candidate", "median", "IQR", "ratio"],
        [
            [
                r["set"],
                f"{r['series']} x {r['steps']}",
                str(r["batch_size"]),
                r["candidate"],
                f"{r['median_s'] * 1000:.0f} ms",
                f"{r['q1_s'] * 1000:.0f}-{r['q3_s'] * 1000:.0f}",
                f"{r['ratio']:.2f}",
            ]
            for r in rows
        ],
        left=4,
    )
    write_csv(Path(args.csv), rows)
    print(f"rows: {results_path(Path(args.csv))}")
    if args.profile:
        for name in args.sets.split(","):
            if name.strip():
                profile(name.strip())


if __name__ == "__main__":
    main()
