"""Training throughput of the first article's text Bi-LSTM: lstmlab's `fit` vs a plain PyTorch loop vs Keras 3.

The model is the `text-bilstm` preset without its dropout: Embedding(3800, 32) -> Bi-LSTM(32, concat, all 380
steps) -> Flatten -> Dense(1), trained with binary cross-entropy and Adam (lr 1e-3) in batches of 64 on N random
token-id sequences (default 1024, 16 batches per epoch). Candidates:

- lstmlab: `lstmlab.training.fit(model, SequenceData(...), config=TrainConfig(epochs=1, ...))`, one call per
  timed epoch (so each epoch pays for what a `fit` call does: seeding, a new optimiser, accuracy, epoch logs);
- plain PyTorch, the anchor: the same model written by hand (nn.Embedding -> nn.LSTM(bidirectional=True) ->
  flatten -> nn.Linear, BCEWithLogitsLoss, Adam), with lstmlab's initial weights and the same batch order;
- Keras 3 on TensorFlow (as the article ran it), where installed: `model.fit(x, y, batch_size=64, epochs=1)` in a
  separate process, so that TensorFlow's threads never run beside torch's.

Two scenarios by default: every sequence 380 tokens long, and lengths drawn uniformly in [190, 380] (seed 0),
right-padded with id 0: lstmlab gets the lengths, the plain loop packs the batch
(`pack_padded_sequence(enforce_sorted=False)`, so that padding does not reach the backward direction) and pads it
back to 380 steps, Keras masks id 0.

`--imdb` runs one scenario instead, sized like the IMDB review set: 25,000 texts (`--examples`), token ids uniform in
1..3799, lengths `clip(rint(lognormal(mu, sigma)), 10, 380)` with sigma 0.75 and mu = ln 230 - sigma^2 / 2 (a long
right tail whose mean is 230 tokens; `numpy.random.default_rng(0).lognormal`), right-padded with id 0 and handled as
in the variable-length scenario. For 25,000 texts the lengths before clipping have mean 230.2 and median 173; the
model reads 380 steps, so 14.9 % of the texts are cut there and the lengths it trains on have mean 198.7 (the script
prints these for the run's texts).

Each candidate first trains one untimed warm-up epoch; then, within each repeat, the candidates each time one whole
epoch, round-robin (the first one rotates between repeats), so that load from other processes hits all of them
alike. The table gives, per candidate, the median throughput (sequences per second, higher is better) over repeats,
its interquartile range, the median seconds per epoch, and the ratio median(lstmlab) / median(candidate) in
sequences per second (>= 1 means lstmlab is at least as fast). Before timing, the script checks that lstmlab and
the plain model give the same loss on the first batch.

Usage:
    python benchmarks/text_speed.py [--imdb] [--repeats 5] [--examples 1024] [--keras-epochs 5] [--device cpu|cuda]
                                    [--threads N] [--quick] [--profile] [--csv PATH]

On a machine that other processes load, `--threads` below the free cores keeps torch's and TensorFlow's worker
threads from waiting on descheduled siblings at every step (which makes epochs erratic, seconds apart).

Results are printed as a table and written to benchmarks/results/text_speed_<time>_<device>.csv
(text_speed-imdb_<time>_<device>.csv with `--imdb`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from timing import (
    cuda_missing,
    device_sync,
    keras_missing,
    machine_line,
    print_table,
    quartiles,
    round_robin,
    save_timings,
    set_threads,
    smoke,
    smoke_banner,
    timed,
)
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmlab import Bidirectional, Dense, Embedding, Sequential, build_model
from lstmlab.data import SequenceData
from lstmlab.training import TrainConfig, fit, loss

VOCAB, STEPS, EMBED, UNITS = 3800, 380, 32, 32  # the first article's model
BATCH = 64
LEARNING_RATE = 1e-3  # Adam's default in Keras and lstmlab
SEED = 0
FIXED, VARLEN, IMDB = "fixed 380", "varlen 190-380", "imdb lognormal 10-380"
MIN_LENGTH = 190  # VARLEN's shortest text
IMDB_EXAMPLES = 25_000  # the IMDB review set's training half
IMDB_MEAN, IMDB_SIGMA = 230.0, 0.75  # lognormal lengths: mean 230 tokens, median 230 exp(-sigma^2 / 2) = 174
IMDB_SHORTEST = 10  # IMDB's lengths are clipped to [IMDB_SHORTEST, STEPS]
# Measured on this machine before the project existed (fixed-length case), in sequences per second.
REFERENCE = {"plain PyTorch": 375.0, "Keras": 247.0}


# ----------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class TextData:
    """N random texts as numpy arrays, shared by every candidate (Keras's process makes the same ones)."""

    ids: np.ndarray  # (N, T) int64 token ids in 1..VOCAB-1, 0 after each row's length
    labels: np.ndarray  # (N,) int64 in {0, 1}
    lengths: np.ndarray | None  # (N,) int64 in [1, STEPS], or None when every row is full


def make_data(examples: int, scenario: str) -> TextData:
    rng = np.random.default_rng(SEED)
    ids = rng.integers(1, VOCAB, size=(examples, STEPS), dtype=np.int64)
    labels = rng.integers(0, 2, size=examples, dtype=np.int64)
    if scenario == FIXED:
        return TextData(ids, labels, None)
    lengths = make_lengths(examples, scenario)
    ids[np.arange(STEPS) >= lengths[:, None]] = 0  # right-padding
    return TextData(ids, labels, lengths)


def make_lengths(examples: int, scenario: str) -> np.ndarray:
    """(N,) int64 lengths of a variable-length scenario, from a generator of their own (seed 0)."""
    rng = np.random.default_rng(SEED)
    if scenario == VARLEN:
        return rng.integers(MIN_LENGTH, STEPS + 1, size=examples, dtype=np.int64)
    mu = math.log(IMDB_MEAN) - IMDB_SIGMA**2 / 2  # a lognormal's mean is exp(mu + sigma^2 / 2)
    return np.clip(np.rint(rng.lognormal(mu, IMDB_SIGMA, size=examples)), IMDB_SHORTEST, STEPS).astype(np.int64)


def lengths_line(lengths: np.ndarray) -> str:
    """The lengths a scenario trains on, as the docstring describes them."""
    cut = float(np.mean(lengths == STEPS))
    spread = f"lengths {lengths.min()}-{lengths.max()}, mean {lengths.mean():.1f}, median {np.median(lengths):.0f}"
    return f"{spread}, {cut:.1%} at {STEPS}"


# ----------------------------------------------------------------------------------------- candidates
@dataclass
class Candidate:
    """One way to train an epoch: `warm_up()` once, then `epoch(seed)` returns one timed epoch's seconds."""

    name: str
    warm_up: Callable[[], None]
    epoch: Callable[[int], float]
    epochs: int  # timed epochs over all repeats
    anchor: bool = False
    times: list[float] = field(default_factory=list)  # seconds per epoch

    def epochs_in_repeat(self, repeat: int, repeats: int) -> int:
        """This candidate's timed epochs spread evenly over the repeats (one each when epochs == repeats)."""
        return len(range(repeat, self.epochs, repeats))


def lstmlab_model(device: torch.device) -> Sequential:
    """The `text-bilstm` preset, dropout off (the model of the plain loop and of Keras has none)."""
    torch.manual_seed(SEED)
    return build_model("text-bilstm", dropout=0.0).to(device)


def sequence_data(data: TextData, device: torch.device) -> SequenceData:
    lengths = None if data.lengths is None else torch.from_numpy(data.lengths).to(device)
    return SequenceData(torch.from_numpy(data.ids).to(device), torch.from_numpy(data.labels).to(device), lengths)


def lstmlab_candidate(model: Sequential, train: SequenceData, repeats: int, sync: Callable[[], None]) -> Candidate:
    def run(seed: int) -> None:
        config = TrainConfig(epochs=1, batch_size=BATCH, learning_rate=LEARNING_RATE, seed=seed)
        fit(model, train, config=config)

    return Candidate("lstmlab", lambda: run(SEED), lambda seed: timed(lambda: run(seed), sync=sync), repeats)


class PlainTextBiLSTM(nn.Module):
    """What a user writes by hand; with lengths, a packed batch keeps padding out of both directions."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, UNITS, batch_first=True, bidirectional=True)
        self.head = nn.Linear(STEPS * 2 * UNITS, 1)

    def forward(self, ids: Tensor, lengths: Tensor | None = None) -> Tensor:
        x = self.embedding(ids)  # (B, T, E)
        if lengths is None:
            out = self.lstm(x)[0]  # (B, T, 2H)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=STEPS)[0]  # (B, T, 2H)
        return self.head(out.flatten(1))  # (B, 1)


def plain_copy(model: Sequential) -> PlainTextBiLSTM:
    """A plain model with the lstmlab model's weights (its LSTM through `Bidirectional.to_torch`)."""
    layers = list(model.layers)
    embedding = next(layer for layer in layers if isinstance(layer, Embedding))
    bidirectional = next(layer for layer in layers if isinstance(layer, Bidirectional))
    dense = next(layer for layer in layers if isinstance(layer, Dense))
    assert dense.linear is not None
    plain = PlainTextBiLSTM().to(embedding.embedding.weight.device)
    plain.embedding.load_state_dict(embedding.embedding.state_dict())
    plain.lstm.load_state_dict(bidirectional.to_torch().state_dict())
    plain.head.load_state_dict(dense.linear.state_dict())
    return plain


def plain_candidate(plain: PlainTextBiLSTM, train: SequenceData, repeats: int, sync: Callable[[], None]) -> Candidate:
    """The user's loop: Adam made once, batches in the order `fit` draws them for the same seed."""
    optimizer = torch.optim.Adam(plain.parameters(), lr=LEARNING_RATE)
    criterion = nn.BCEWithLogitsLoss()
    targets = train.y.float()

    def run(seed: int) -> None:
        plain.train()
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
        for start in range(0, len(train), BATCH):
            index = order[start : start + BATCH]
            lengths = None if train.lengths is None else train.lengths[index]
            optimizer.zero_grad()
            logits = plain(train.x[index], lengths)
            criterion(logits[:, 0], targets[index]).backward()
            optimizer.step()

    return Candidate(
        "plain PyTorch", lambda: run(SEED), lambda seed: timed(lambda: run(seed), sync=sync), repeats, True
    )


@torch.no_grad()
def first_batch_losses(model: Sequential, plain: PlainTextBiLSTM, train: SequenceData) -> tuple[float, float]:
    """Both models' loss on the first batch of the warm-up epoch, before any training."""
    batch = train.take(torch.randperm(len(train), generator=torch.Generator().manual_seed(SEED))[:BATCH])
    ours = loss(model(batch.x, batch.lengths), batch.y)
    theirs = nn.functional.binary_cross_entropy_with_logits(plain(batch.x, batch.lengths)[:, 0], batch.y.float())
    return float(ours), float(theirs)


def lstmlab_path(model: Sequential) -> str:
    """Which LSTM path lstmlab's last call took: observable, so a silent fallback shows in the output."""
    bidirectional = next(layer for layer in model.layers if isinstance(layer, Bidirectional))
    return f"{bidirectional.last_impl}, {'one kernel call' if bidirectional.last_one_call else 'two kernel calls'}"


# ----------------------------------------------------------------------------------------- Keras
class KerasWorker:
    """Keras 3 on TensorFlow in its own process, one line per request: `warmup SCENARIO` or `epoch SCENARIO`.

    The worker answers each request with one JSON line; while it trains, this process waits on the pipe, idle.
    TensorFlow's log lines go to `log`, shown only if the worker fails.
    """

    def __init__(self, examples: int, threads: int | None, log: IO[str]) -> None:
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.log = log
        command = [sys.executable, str(Path(__file__).resolve()), "--keras-worker", "--examples", str(examples)]
        if threads is not None:
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )
        self.info: dict[str, Any] = self._read()

    def request(self, kind: str, scenario: str) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{kind} {scenario}\n")
        self.process.stdin.flush()
        return float(self._read()["seconds"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=60)
            self.log.seek(0)
            tail = "".join(self.log.readlines()[-15:])
            raise RuntimeError(f"the Keras worker exited ({self.process.returncode}):\n{tail}")
        reply: dict[str, Any] = json.loads(line)
        return reply


def keras_candidate(worker: KerasWorker, scenario: str, epochs: int) -> Candidate:
    """Keras shuffles each epoch itself: the seed is unused."""

    def warm_up() -> None:
        worker.request("warmup", scenario)  # builds the model; the first fit also traces it

    return Candidate(str(worker.info["name"]), warm_up, lambda _seed: worker.request("epoch", scenario), epochs)


def keras_model(keras: Any, masked: bool) -> Any:
    """The article's model in Keras, with a sigmoid output; `mask_zero` for right-padded texts."""
    model = keras.Sequential(
        [
            keras.Input((STEPS,), dtype="int32"),
            keras.layers.Embedding(VOCAB, EMBED, mask_zero=masked),
            keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(LEARNING_RATE), metrics=["accuracy"])
    return model


def keras_worker(examples: int, threads: int | None) -> None:
    """The Keras process: a model per scenario, built at its warm-up; each epoch `model.fit(..., epochs=1)`."""
    replies, sys.stdout = sys.stdout, sys.stderr  # anything else printed goes to the log, not the pipe
    import keras  # the optional extra: pip install -c constraints.txt -e ".[bench]"
    import tensorflow as tf

    if threads is not None:  # before TensorFlow runs anything
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    # Flatten drops the mask: fine here, since masked steps of the Bi-LSTM's output are zeros.
    warnings.filterwarnings("ignore", message=".*does not support masking.*")
    gpu = bool(tf.config.list_physical_devices("GPU"))
    where = "GPU" if gpu else f"CPU, threads {threads or 'default'}"
    name = f"Keras {keras.__version__} ({keras.backend.backend()} {tf.__version__}, {where})"
    print(json.dumps({"name": name, "gpu": gpu}), file=replies, flush=True)
    models: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}
    for line in sys.stdin:
        kind, scenario = line.strip().split(" ", 1)
        if scenario not in models:
            data = make_data(examples, scenario)
            x, y = data.ids.astype(np.int32), data.labels.astype(np.float32)
            models[scenario] = (keras_model(keras, masked=data.lengths is not None), x, y)
        model, x, y = models[scenario]
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        print(json.dumps({"kind": kind, "seconds": time.perf_counter() - start}), file=replies, flush=True)


def start_keras(args: argparse.Namespace, log: IO[str]) -> KerasWorker | None:
    """The Keras worker, or None (with the reason printed) where it cannot or should not run."""
    if args.keras_epochs == 0:
        return None
    reason = keras_missing("tensorflow")
    if reason is not None:
        print(f"Keras column skipped: {reason}")
        return None
    try:
        worker = KerasWorker(args.examples, args.threads, log)
    except RuntimeError as error:
        print(f"Keras column skipped: {error}")
        return None
    if args.device == "cuda" and not worker.info["gpu"]:
        print(f"Keras column skipped: {worker.info['name']} sees no GPU, and lstmlab runs on cuda")
        worker.close()
        return None
    return worker


# ----------------------------------------------------------------------------------------- measuring
def measure(candidates: list[Candidate], repeats: int) -> None:
    """Round-robin: every repeat times each candidate's epochs, starting one candidate later each time."""

    def run(candidate: Candidate, repeat: int) -> None:
        for _ in range(candidate.epochs_in_repeat(repeat, repeats)):
            candidate.times.append(candidate.epoch(SEED + 1 + repeat))

    round_robin(candidates, repeats, run)


def run_scenario(
    scenario: str, args: argparse.Namespace, worker: KerasWorker | None, sync: Callable[[], None]
) -> list[dict[str, object]]:
    device = torch.device(args.device)
    data = make_data(args.examples, scenario)
    if data.lengths is not None:
        print(f"{scenario}: {lengths_line(data.lengths)}")
    train = sequence_data(data, device)
    model = lstmlab_model(device)
    plain = plain_copy(model)
    ours, theirs = first_batch_losses(model, plain, train)
    matched = abs(ours - theirs) <= 1e-5 * max(1.0, abs(theirs))
    print(f"{scenario}: first-batch loss lstmlab {ours:.7f}, plain PyTorch {theirs:.7f} ({abs(ours - theirs):.1e})")
    if not matched:
        print(f"WARNING: {scenario}: lstmlab and plain PyTorch compute different losses", file=sys.stderr)
    candidates = [
        lstmlab_candidate(model, train, args.repeats, sync),
        plain_candidate(plain, train, args.repeats, sync),
    ]
    if worker is not None:
        candidates.append(keras_candidate(worker, scenario, args.keras_epochs))
    for candidate in candidates:
        candidate.warm_up()
    print(f"{scenario}: lstmlab ran {lstmlab_path(model)}")
    measure(candidates, args.repeats)
    if args.profile:
        profile_epoch(scenario, model, train)
    return rows_of(scenario, candidates, args.examples, matched)


def rows_of(scenario: str, candidates: list[Candidate], examples: int, matched: bool) -> list[dict[str, object]]:
    throughput = {c.name: [examples / t for t in c.times] for c in candidates}
    ours = statistics.median(throughput["lstmlab"])
    rows: list[dict[str, object]] = []
    for c in candidates:
        median = statistics.median(throughput[c.name])
        low, high = quartiles(throughput[c.name])
        rows.append(
            {
                "scenario": scenario,
                "candidate": c.name,
                "examples": examples,
                "batch": BATCH,
                "median_seq_per_s": median,
                "q1_seq_per_s": low,
                "q3_seq_per_s": high,
                "median_epoch_s": statistics.median(c.times),
                "lstmlab_over_this": ours / median,
                "anchor": c.anchor,
                "timed_epochs": len(c.times),
                "lstmlab_plain_same_loss": matched,  # the first-batch check (not about Keras)
            }
        )
    return rows


def profile_epoch(scenario: str, model: Sequential, train: SequenceData) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    fit(model, train, config=TrainConfig(epochs=1, batch_size=BATCH, learning_rate=LEARNING_RATE, seed=SEED))
    profiler.disable()
    print(f"\nprofile of one lstmlab epoch, {scenario} (top 20 by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


# ----------------------------------------------------------------------------------------- output
def print_results(rows: list[dict[str, object]]) -> None:
    """One line per scenario and candidate; a candidate that did not run (Keras skipped) has none."""
    header = ("scenario", "candidate", "seq/s", "IQR", "s/epoch", "lstmlab/this")
    lines = [
        (
            str(row["scenario"]),
            str(row["candidate"]),
            f"{row['median_seq_per_s']:.0f}",
            f"{row['q1_seq_per_s']:.0f}-{row['q3_seq_per_s']:.0f}",
            f"{row['median_epoch_s']:.2f}",
            "-" if row["candidate"] == "lstmlab" else f"{row['lstmlab_over_this']:.2f}",
        )
        for row in rows
    ]
    print_table(header, lines, left=2, groups=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--imdb", action="store_true", help="only the IMDB-sized scenario: lognormal lengths, 25,000 texts by default"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per candidate (default 5; 2 quick)")
    parser.add_argument(
        "--examples", type=int, default=None, help="sequences per epoch (default 1024, --imdb 25000; 256 quick)"
    )
    parser.add_argument(
        "--keras-epochs", type=int, default=None, help="timed Keras epochs per scenario (default: --repeats; 0 skips)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch and TensorFlow (default: their own defaults)"
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer repeats, a smaller data set")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one lstmlab epoch")
    parser.add_argument("--csv", type=Path, default=None, help="where to write the CSV (default benchmarks/results/)")
    parser.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)  # the Keras process
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.examples is None:
        args.examples = 256 if args.quick else IMDB_EXAMPLES if args.imdb else 1024
    if args.keras_epochs is None:
        args.keras_epochs = args.repeats
    if args.repeats < 1 or args.examples < 1 or args.keras_epochs < 0 or (args.threads or 1) < 1:
        parser.error("--repeats, --examples and --threads must be at least 1, --keras-epochs at least 0")
    if smoke():  # the smallest run (timing.smoke): one repeat of one batch, one Keras epoch at most
        args.repeats, args.examples, args.keras_epochs = 1, BATCH, min(args.keras_epochs, 1)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keras_worker:
        keras_worker(args.examples, args.threads)
        return 0
    smoke_banner()  # not in the Keras worker, whose stdout is the pipe
    if cuda_missing(args.device):
        return 0
    set_threads(args.threads)
    device = torch.device(args.device)
    sync = device_sync(device)
    print(f"machine: {machine_line(device)}, load average {os.getloadavg()[0]:.1f}")
    print(
        f"settings: text-bilstm without dropout, {args.examples} sequences x {STEPS} tokens per epoch, batch {BATCH}, "
        f"Adam lr {LEARNING_RATE:g}, {args.repeats} repeats, Keras epochs {args.keras_epochs}"
    )
    scenarios = (IMDB,) if args.imdb else (FIXED, VARLEN)
    began = time.perf_counter()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryFile("w+") as keras_log:
        worker = start_keras(args, keras_log)
        if worker is not None:
            print(f"Keras: {worker.info['name']}, in a separate process")
        try:
            for scenario in scenarios:
                rows += run_scenario(scenario, args, worker, sync)
        finally:
            if worker is not None:
                worker.close()
    elapsed = time.perf_counter() - began

    print_results(rows)
    print("seq/s: median over repeats of sequences trained per second (higher is better), one epoch per sample;")
    print("s/epoch: median seconds per epoch; lstmlab/this: median seq/s of lstmlab / of this (>= 1: lstmlab as fast).")
    if FIXED in scenarios:
        print(
            f"reference ({FIXED}, measured on this machine before the project): "
            + ", ".join(f"{name} {value:.0f} seq/s" for name, value in REFERENCE.items())
        )
    print(f"({elapsed:.0f} s in all)")
    save_timings(rows, args.csv, "text_speed-imdb" if args.imdb else "text_speed", device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
