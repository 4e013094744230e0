"""Scaling of data-parallel training on this machine: one epoch of the default text model in one process (all
cores as its threads) against the same epoch in N processes of one thread each (DistributedDataParallel, gloo),
the same global batches either way.

Data: `--texts` generated texts (`tokenize_speed.generated`: Zipf words, 5-60 a text) of two classes, encoded as
`lstmlab train --data` would (vocabulary of the training texts, 20,000 ids, padded after each text to 60); model:
`text-bilstm-pool` with its defaults (Embedding 128, Bi-LSTM 64, max pooling, dropout), batch 32 (global), Adam
1e-3. Timed: `Trainer.run()` for one epoch on rank 0, from the first batch to the last update (the process group
joined and the model wrapped before). Repeats alternate the two candidates; medians.

Usage:
    python benchmarks/data_parallel.py [--texts 4000] [--processes 2] [--repeats 3]

Rows: benchmarks/results/data_parallel.csv.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import torch
from timing import RESULTS_DIR, machine_line, print_table, write_csv
from tokenize_speed import generated

from lstmlab.data.text import TextEncoder, TextSettings
from lstmlab.models import build_model
from lstmlab.training import TrainConfig, Trainer
from lstmlab.training.distributed import World


def _data(count: int) -> tuple[object, int]:
    texts = generated(count * 200 / 1e6, seed=1)[:count]
    labels = ["pos" if "w2 " in t else "neg" for t in texts]
    encoder = TextEncoder.fit(texts, TextSettings(max_len=60), labels=sorted(set(labels)))
    return encoder.dataset([encoder.tokens(t) for t in texts], labels), encoder.vocabulary.size


def _epoch(rank: int, size: int, port: int, count: int, out: str) -> None:
    if size > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        torch.distributed.init_process_group("gloo", rank=rank, world_size=size)
    torch.set_num_threads(1 if size > 1 else os.cpu_count() or 1)
    data, vocabulary = _data(count)
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=vocabulary, max_len=60)
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=1e-3, seed=0)
    trainer = Trainer(model, data, config=config, world=World(rank, size))  # type: ignore[arg-type]
    start = time.perf_counter()
    trainer.run()
    seconds = time.perf_counter() - start
    if rank == 0:
        Path(out).write_text(f"{seconds} {trainer.history.epochs[-1]['loss']}")
    if size > 1:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", default=str(RESULTS_DIR / "data_parallel.csv"))
    args = parser.parse_args()
    print(machine_line(torch.device("cpu")))
    results: dict[int, list[tuple[float, float]]] = {1: [], args.processes: []}
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(scratch) / "seconds")
        for repeat in range(args.repeats):
            for size in [1, args.processes] if repeat % 2 == 0 else [args.processes, 1]:
                if size == 1:
                    _epoch(0, 1, 0, args.texts, out)
                else:
                    torch.multiprocessing.spawn(_epoch, args=(size, _free_port(), args.texts, out), nprocs=size)
                seconds, loss = map(float, Path(out).read_text().split())
                results[size].append((seconds, loss))
    one = statistics.median(s for s, _ in results[1])
    rows, lines = [], []
    for size, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        label = f"{size} process{'es' if size > 1 else ''} x {1 if size > 1 else os.cpu_count()} thread(s)"
        rows.append({"processes": size, "epoch_seconds": seconds, "speedup": one / seconds, "loss": runs[0][1]})
        lines.append([label, f"{seconds:.1f} s", f"{one / seconds:.2f}", f"{runs[0][1]:.4f}"])
    print_table(["candidate", "epoch (median)", "speed-up", "epoch loss"], lines)
    write_csv(Path(args.csv), rows, texts=args.texts, repeats=args.repeats)
    print(f"rows: {args.csv}")


if __name__ == "__main__":
    main()
