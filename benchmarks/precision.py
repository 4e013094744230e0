"""Mixed precision's effect on the text default: test accuracy and seconds per epoch of what `lstmlab train --data`
trains, in fp32 and with `--precision bf16` (on CUDA also fp16), on the same splits.

Data: sentence polarity (development data, `../shared/datasets/sentence_polarity`; 10 % of each class held out,
seed s), or where that folder is absent the bundled UCI amazon sentences (`uci:amazon`, 20 % held out, its small-set
defaults: an ensemble of 5, 20 epochs); the output names the set used. Each run is what `lstmlab train --data PATH
--seed s [--precision P]` trains (`pipeline.prepare`: the default model `text-bilstm-pool`, the data's default
training settings, the best epoch by val_loss kept where they hold out a validation part), with only the precision
changed: in bf16 / fp16 the training forward pass runs under `torch.autocast`, weights, optimiser, loss and the
validation and test scoring stay fp32. Seed s fixes the split, the initial weights and the batch order, the same for
every precision.

Seeds run one after the other, the precisions of a seed round-robin (the first rotating from seed to seed), so that
load from other processes hits them alike. Timed: each epoch of `Trainer.run()` (its updates, the validation pass and
the best-epoch checkpoint), end to end; a run's figure is the median over its epochs (the first pays one-off kernel
set-up). The tables: per seed each precision's test accuracy and seconds per epoch; per precision the medians with
[min, max] over the seeds, the accuracy difference to fp32 seed by seed, and the ratio of its median seconds per
epoch to fp32's (below 1: faster).

Usage:
    python benchmarks/precision.py                       # 3 seeds from 40 on one thread (CPU: fp32, bf16)
    python benchmarks/precision.py --quick               # 1 seed, 2 epochs: checks that everything runs
    python benchmarks/precision.py --device cuda         # fp32, bf16 and fp16 on a GPU (skips without CUDA)
    python benchmarks/precision.py --seeds 5 --epochs 5  # other budgets

Rows: benchmarks/results/precision-<device>.csv (one per seed and precision), or --csv PATH.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from accuracy import smoke_slice
from text_defaults import SETS
from timing import (
    RESULTS_DIR,
    cuda_missing,
    device_sync,
    machine_line,
    print_table,
    results_path,
    round_robin,
    set_threads,
    smoke,
    smoke_banner,
    write_csv,
)
from torch import nn

from lstmlab.data import SequenceData
from lstmlab.data.spec import DataSpec
from lstmlab.models import ensemble_size
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.pipeline import prepare
from lstmlab.runs.spec import RunSpec
from lstmlab.training import Callback, Trainer, evaluate
from lstmlab.training.engine import Mixed

PRECISIONS = {"cpu": ("fp32", "bf16"), "cuda": ("fp32", "bf16", "fp16")}  # fp16 on the CPU: refused by lstmlab
DATA = ("sentence-polarity", "amazon")  # the first whose data is here (text_defaults.SETS: --data, held-out share)


class EpochClock(Callback):
    """Seconds of each epoch, from the start of training or the end of the epoch before (the device waited for)."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self.sync = sync
        self.seconds: list[float] = []
        self.last = 0.0

    def on_train_begin(self, model: nn.Module) -> None:
        self.sync()
        self.seconds, self.last = [], time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: nn.Module) -> bool:
        self.sync()
        now = time.perf_counter()
        self.seconds.append(now - self.last)
        self.last = now
        return False


def data_set() -> tuple[str, str, float]:
    """The set trained on: its name, `--data` and held-out share."""
    for name in DATA:
        path, fraction = SETS[name]
        if path.startswith("uci:") or Path(path).is_dir():
            return name, path, fraction
        print(f"{name}: {path} not found (development data, ../shared/datasets/README.md); the next set instead")
    raise AssertionError("the last set ships with lstmlab")


def trainable(precisions: Sequence[str], device: torch.device) -> list[str]:
    """The precisions lstmlab trains in on `device`; each other one skipped with lstmlab's reason (bf16 on a CPU
    without a bf16 LSTM kernel)."""
    kept = []
    for precision in precisions:
        try:
            Mixed.of(precision, device)
        except ValueError as error:
            print(f"{precision} skipped: {error}")
            continue
        kept.append(precision)
    return kept


def on(data: SequenceData, device: torch.device) -> SequenceData:
    lengths = None if data.lengths is None else data.lengths.to(device)
    return SequenceData(data.x.to(device), data.y.to(device), lengths, data.padding_side)


def train_once(spec: RunSpec, device: torch.device) -> dict[str, Any]:
    """Train `spec` as `lstmlab train` would (nothing kept), on `device`; its test scores and epoch times."""
    prepared = prepare(spec)
    model = prepared.model.to(device)
    assert isinstance(prepared.train, SequenceData)  # data runs train on a fixed set
    clock = EpochClock(device_sync(device))
    with tempfile.TemporaryDirectory() as scratch:  # the best epoch's checkpoint, where a validation part keeps one
        callbacks = [*prepared.callbacks(Path(scratch)), clock]
        trainer = Trainer(model, on(prepared.train, device), config=prepared.config, callbacks=callbacks)
        history = trainer.run()
    scores = evaluate(model, on(prepared.test, device), batch_size=model.batch_size or 256, labels=prepared.labels)
    return {
        "accuracy": scores.accuracy,
        "test_loss": scores.loss,
        "seconds_per_epoch": statistics.median(clock.seconds),
        "train_seconds": sum(clock.seconds),
        "epochs": len(history.epochs),
        "best_epoch": best_epoch(history.epochs),
        "members": ensemble_size(model),
        "epoch_seconds": " ".join(f"{s:.3f}" for s in clock.seconds),
    }


def best_epoch(epochs: Sequence[dict[str, float]]) -> int | str:
    """The epoch kept (1-based: the lowest val_loss), or "" where no validation part kept one (the last epoch)."""
    if "val_loss" not in epochs[0]:
        return ""
    return 1 + min(range(len(epochs)), key=lambda i: epochs[i]["val_loss"])


def spread(values: Sequence[float], digits: int) -> str:
    """The median and [min, max]."""
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


def report(rows: Sequence[dict[str, Any]], precisions: Sequence[str], seeds: Sequence[int]) -> None:
    """The per-seed table and the per-precision table of medians, differences and ratios to fp32."""
    at = {(r["seed"], r["precision"]): r for r in rows}
    header = ["seed", *[f"{p} accuracy" for p in precisions], *[f"{p} s/epoch" for p in precisions]]
    lines = [
        [
            str(s),
            *[f"{at[s, p]['accuracy']:.4f}" for p in precisions],
            *[f"{at[s, p]['seconds_per_epoch']:.2f}" for p in precisions],
        ]
        for s in seeds
    ]
    print_table(header, lines)
    summary = []
    for p in precisions:
        accuracy = [at[s, p]["accuracy"] for s in seeds]
        seconds = [at[s, p]["seconds_per_epoch"] for s in seeds]
        gaps = [at[s, p]["accuracy"] - at[s, "fp32"]["accuracy"] for s in seeds]
        ratio = statistics.median(seconds) / statistics.median([at[s, "fp32"]["seconds_per_epoch"] for s in seeds])
        per_seed = ", ".join(f"{g:+.4f}" for g in gaps)
        summary.append(
            [
                p,
                spread(accuracy, 4),
                "" if p == "fp32" else f"{statistics.median(gaps):+.4f} ({per_seed})",
                spread(seconds, 2),
                f"{ratio:.2f}",
            ]
        )
    header = ["precision", "accuracy median [min, max]", "- fp32: median (per seed)", "s/epoch median [min, max]"]
    print_table([*header, "time / fp32"], summary)


def bf16_flags() -> str:
    """The CPU's bfloat16 instructions (they decide what bf16 autocast gains there)."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown"
    found = [f for f in flags.split(":", 1)[1].split() if "bf16" in f]
    return ", ".join(found) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="splits (each trained in every precision)")
    parser.add_argument("--first-seed", type=int, default=40, help="seeds first..first+seeds-1")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: lstmlab train's for the data)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs: a smoke run, not a result")
    parser.add_argument("--csv", type=Path, help="where to write the rows (default benchmarks/results/)")
    args = parser.parse_args()
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--seeds and --epochs must be at least 1")
    if smoke():  # the smallest run (timing.smoke): 1 seed, 1 epoch (--quick's 2 too), sentence polarity sliced
        args.seeds, args.epochs, args.quick = 1, 1, False
    smoke_banner()
    if cuda_missing(args.device):
        return
    set_threads(args.threads)
    device = torch.device(args.device)
    seeds = list(range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds)))
    epochs = 2 if args.quick else args.epochs
    name, path, fraction = data_set()
    if smoke() and not path.startswith("uci:"):
        path = str(smoke_slice(Path(path)))
    machine = machine_line(device) + (f"; CPU bf16 instructions: {bf16_flags()}" if device.type == "cpu" else "")
    print(machine)
    print(f"data: {name} ({path}), {fraction:.0%} of each class held out, seeds {seeds[0]}..{seeds[-1]}")
    if args.quick:
        print("QUICK RUN (1 seed, 2 epochs): checks that everything runs, the figures are not results")
    precisions = trainable(PRECISIONS[device.type], device)

    rows: list[dict[str, Any]] = []

    def run(precision: str, repeat: int) -> None:
        seed = seeds[repeat]
        data = DataSpec(path, test_fraction=fraction, split_seed=seed)
        spec = RunSpec(data=data, seed=seed, train=TrainChoices(epochs=epochs, precision=precision))
        result = train_once(spec, device)
        rows.append({"data": name, "seed": seed, "precision": precision, "device": device.type, **result})
        print(
            f"seed {seed} {precision}: accuracy {result['accuracy']:.4f}, {result['seconds_per_epoch']:.2f} s/epoch "
            f"({result['epochs']} epochs, best {result['best_epoch'] or 'last'}, {result['members']} member(s))",
            flush=True,
        )

    round_robin(precisions, len(seeds), run)
    report(rows, precisions, seeds)
    csv = args.csv or RESULTS_DIR / f"precision-{device.type}.csv"
    write_csv(csv, rows, torch=torch.__version__, threads=torch.get_num_threads(), machine=machine)
    print(f"rows: {results_path(csv)}")


if __name__ == "__main__":
    main()
