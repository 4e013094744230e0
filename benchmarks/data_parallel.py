"""Scaling of data-parallel training on this machine: one epoch in one process (all cores as its threads) against
the same epoch in N processes of one thread each, launched as a user launches them (`torchrun --nproc-per-node N`,
lstmlab's `training.distributed`: DistributedDataParallel over gloo), the same global batches either way.

Workloads:

- default: `--texts` generated texts (`tokenize_speed.generated`: Zipf words, 5-60 a text) of two classes, encoded
  as `lstmlab train --data` would (vocabulary of the training texts, 20,000 ids, padded after each text to 60);
  model `text-bilstm-pool` with its defaults (Embedding 128, Bi-LSTM 64, max pooling, dropout), batch 32 (global),
  Adam 1e-3.
- `--imdb`: the data and model of `text_speed.py --imdb`, imported from it: `--examples` (default 25,000) random
  token-id texts with lognormal lengths (mean 230 before clipping to [10, 380]), right-padded to 380, with their
  lengths; `text-bilstm` without dropout (Embedding(3800, 32) -> Bi-LSTM(32) over 380 steps -> Flatten -> Dense(1)),
  batch 64 (global), Adam 1e-3.

Every epoch runs in fresh processes: `python data_parallel.py --epoch-worker ...` for one process,
`python -m torch.distributed.run --nproc-per-node N data_parallel.py --epoch-worker ...` for N (OMP_NUM_THREADS=1).
Timed: `Trainer.run()` for one epoch on rank 0, from the first batch to the last update (the process group joined
through `training.distributed.joined` and the model wrapped before). Repeats alternate the two candidates; medians.
The speed-up is the median epoch of one process over that of N; both use all the machine's cores when N equals
them (2 here), so it is also the scaling efficiency of processes against threads: 1 breaks even.

Usage:
    python benchmarks/data_parallel.py [--texts 4000] [--processes 2] [--repeats 3] [--csv PATH]
    python benchmarks/data_parallel.py --imdb [--examples 25000] [--processes 2] [--repeats 3] [--csv PATH]

Rows: benchmarks/results/data_parallel.csv (data_parallel-imdb.csv with `--imdb`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import text_speed
import torch
from timing import RESULTS_DIR, machine_line, print_table, quartiles, results_path, smoke, smoke_banner, write_csv
from tokenize_speed import generated
from torch import nn

from lstmlab.data import SequenceData
from lstmlab.data.spec import TextSettings
from lstmlab.data.text import TextEncoder
from lstmlab.models import build_model
from lstmlab.training import TrainConfig, Trainer
from lstmlab.training.distributed import joined


# ----------------------------------------------------------------------------------------- workloads
def generated_workload(count: int) -> tuple[SequenceData, nn.Module, TrainConfig]:
    texts = generated(count * 200 / 1e6, seed=1)[:count]
    labels = ["pos" if "w2 " in t else "neg" for t in texts]
    encoder = TextEncoder.fit(texts, TextSettings(max_len=60), labels=sorted(set(labels)))
    data = encoder.dataset([encoder.tokens(t) for t in texts], labels)
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=encoder.vocabulary.size, max_len=60)
    return data, model, TrainConfig(epochs=1, batch_size=32, learning_rate=1e-3, seed=0)


def imdb_workload(examples: int) -> tuple[SequenceData, nn.Module, TrainConfig]:
    cpu = torch.device("cpu")
    data = text_speed.sequence_data(text_speed.make_data(examples, text_speed.IMDB), cpu)
    config = TrainConfig(
        epochs=1, batch_size=text_speed.BATCH, learning_rate=text_speed.LEARNING_RATE, seed=text_speed.SEED
    )
    return data, text_speed.lstmlab_model(cpu), config


def workload(args: argparse.Namespace) -> tuple[SequenceData, nn.Module, TrainConfig]:
    return imdb_workload(args.examples) if args.imdb else generated_workload(args.texts)


# ----------------------------------------------------------------------------------------- one epoch, one rank
def epoch_worker(args: argparse.Namespace) -> None:
    """One rank of one timed epoch (the only rank without torchrun); rank 0 writes its seconds and loss to `out`."""
    with joined() as at:
        torch.set_num_threads(1 if at.distributed else os.cpu_count() or 1)
        data, model, config = workload(args)
        trainer = Trainer(model, data, config=config, world=at)
        start = time.perf_counter()
        trainer.run()
        seconds = time.perf_counter() - start
        if at.main:
            loss = trainer.history.epochs[-1]["loss"]
            Path(args.epoch_worker).write_text(json.dumps({"seconds": seconds, "loss": loss}))


def launch(processes: int, args: argparse.Namespace, out: Path) -> tuple[float, float]:
    """One epoch in fresh processes: seconds on rank 0 and the epoch's loss."""
    worker = [str(Path(__file__).resolve()), "--epoch-worker", str(out)]
    worker += ["--imdb", "--examples", str(args.examples)] if args.imdb else ["--texts", str(args.texts)]
    if processes == 1:
        command, env = [sys.executable, *worker], dict(os.environ)
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes)]
        command += ["--master-port", str(_free_port()), *worker]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out.unlink(missing_ok=True)
    subprocess.run(command, check=True, env=env)
    reply = json.loads(out.read_text())
    return float(reply["seconds"]), float(reply["loss"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=4000, help="generated texts (the default workload)")
    parser.add_argument("--imdb", action="store_true", help="text_speed.py's IMDB-sized texts and model instead")
    parser.add_argument("--examples", type=int, default=text_speed.IMDB_EXAMPLES, help="texts with --imdb")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=None, help="default benchmarks/results/data_parallel[-imdb].csv")
    parser.add_argument("--epoch-worker", metavar="OUT", default=None, help=argparse.SUPPRESS)  # one timed epoch
    args = parser.parse_args(argv)
    if min(args.texts, args.examples, args.repeats) < 1 or args.processes < 2:
        parser.error("--texts, --examples and --repeats must be at least 1, --processes at least 2")
    if args.csv is None:
        args.csv = RESULTS_DIR / f"data_parallel{'-imdb' if args.imdb else ''}.csv"
    if smoke():  # the smallest run (timing.smoke): one repeat of one global batch; the workers get these sizes too
        args.texts, args.examples, args.repeats = 32, text_speed.BATCH, 1
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.epoch_worker is not None:
        epoch_worker(args)
        return
    smoke_banner()
    cores = os.cpu_count() or 1
    print(f"{machine_line(torch.device('cpu'))}, load average {os.getloadavg()[0]:.1f}")
    what = f"{args.examples} IMDB-sized texts, text-bilstm" if args.imdb else f"{args.texts} texts, text-bilstm-pool"
    print(f"workload: {what}; 1 process x {cores} threads vs {args.processes} processes x 1 thread (torchrun)")
    results: dict[int, list[tuple[float, float]]] = {1: [], args.processes: []}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "epoch.json"
        for repeat in range(args.repeats):
            for size in [1, args.processes] if repeat % 2 == 0 else [args.processes, 1]:
                results[size].append(launch(size, args, out))
                print(f"repeat {repeat + 1}: {size} process(es): {results[size][-1][0]:.1f} s", flush=True)
    one = statistics.median(s for s, _ in results[1])
    rows, lines = [], []
    for size, runs in results.items():
        times = [s for s, _ in runs]
        seconds = statistics.median(times)
        low, high = quartiles(times)
        threads = 1 if size > 1 else cores
        rows.append(
            {
                "workload": "imdb" if args.imdb else "generated",
                "texts": args.examples if args.imdb else args.texts,
                "processes": size,
                "threads_per_process": threads,
                "epoch_seconds": seconds,
                "q1_seconds": low,
                "q3_seconds": high,
                "speedup": one / seconds,
                "loss": runs[0][1],
            }
        )
        label = f"{size} process{'es' if size > 1 else ''} x {threads} thread{'s' if threads > 1 else ''}"
        lines.append([label, f"{seconds:.1f} s", f"{low:.1f}-{high:.1f}", f"{one / seconds:.2f}", f"{runs[0][1]:.4f}"])
    print_table(["candidate", "epoch (median)", "IQR", "speed-up", "epoch loss"], lines)
    print("speed-up: median epoch of 1 process / of this; on the same cores, 1.00 means processes break even.")
    print(f"({time.perf_counter() - began:.0f} s in all)")
    write_csv(args.csv, rows, repeats=args.repeats)
    print(f"rows: {results_path(args.csv)}")


if __name__ == "__main__":
    main()
