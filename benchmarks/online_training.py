"""The tutorial's online training, timed and scored: lstmlab vs a plain PyTorch loop (vs Keras 3 where installed).

For each of tutorial-bilstm and tutorial-lstm, and each seed: 1000 updates, each on one freshly generated
cumulative-sum sequence of 10 steps (batch 1), then the mean per-step accuracy on 200 fresh sequences. lstmlab runs
`lstmlab.training.fit` on the preset; the anchor is the loop a user writes by hand (nn.LSTM + nn.Linear +
BCEWithLogitsLoss + Adam), on the same sequences and learning rate. Candidates alternate seed by seed, so machine
noise hits both alike; the table gives medians over seeds and the time ratio lstmlab / PyTorch.

Usage:
    python benchmarks/online_training.py [--seeds 5] [--updates 1000] [--keras-updates 100] [--profile]

`--keras-updates N` (0 to skip) also times Keras 3 `model.fit` on N single-sequence updates, one seed, scaled to
the full count, on `--keras-backend` (tensorflow by default, as in the articles; the backend is printed).
Install the optional extra first: `pip install -c constraints.txt -e ".[bench]"`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics

import torch
from timing import keras_missing, smoke, smoke_banner, timed
from torch import nn

from lstmlab import build_model
from lstmlab.data import CumsumConfig, SequenceData, make_cumsum
from lstmlab.training import TrainConfig, evaluate, fit

TASK = CumsumConfig()  # 10 steps, threshold 1/4 of the length
LEARNING_RATE = 3e-3  # lstmlab's default for this task, used by every candidate
SMOKE_UPDATES = 4  # a smoke run's updates a run (one seed)


def source(count: int, generator: torch.Generator) -> SequenceData:
    batch = make_cumsum(TASK, count, generator)
    return SequenceData(batch.x, batch.y, batch.lengths)


def make_test_set(seed: int) -> SequenceData:
    return source(200, torch.Generator().manual_seed(10_000 + seed))


def run_lstmlab(preset: str, seed: int, updates: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    model = build_model(preset)
    config = TrainConfig(updates=updates, batch_size=1, learning_rate=LEARNING_RATE, seed=seed)
    seconds = timed(lambda: fit(model, source, config=config))
    return seconds, evaluate(model, make_test_set(seed)).accuracy


class PlainModel(nn.Module):
    """What a user writes by hand: nn.LSTM and a per-step linear head."""

    def __init__(self, bidirectional: bool) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, 20, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(40 if bidirectional else 20, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0])  # (B, T, 1)


def run_plain(bidirectional: bool, seed: int, updates: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    model = PlainModel(bidirectional)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    criterion = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)

    def train() -> None:
        for _ in range(updates):
            batch = source(1, generator)
            optimizer.zero_grad()
            loss = criterion(model(batch.x)[..., 0], batch.y.float())
            loss.backward()
            optimizer.step()

    seconds = timed(train)
    test = make_test_set(seed)
    with torch.no_grad():
        accuracy = ((model(test.x)[..., 0] > 0).long() == test.y).double().mean().item()
    return seconds, accuracy


def run_keras(bidirectional: bool, updates: int, backend: str) -> tuple[float, str]:
    os.environ["KERAS_BACKEND"] = backend  # read once, when keras is first imported
    import keras  # an optional extra for benchmarks only: pip install -e ".[bench]"

    layer = keras.layers.LSTM(20, return_sequences=True)
    model = keras.Sequential(
        [
            keras.Input((10, 1)),
            keras.layers.Bidirectional(layer) if bidirectional else layer,
            keras.layers.TimeDistributed(keras.layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(LEARNING_RATE), metrics=["accuracy"])
    generator = torch.Generator().manual_seed(0)
    batches = [source(1, generator) for _ in range(updates)]

    def train() -> None:
        for batch in batches:  # the tutorial's loop: fit(X, y, epochs=1, batch_size=1) on each fresh sequence
            model.fit(batch.x.numpy(), batch.y[..., None].float().numpy(), epochs=1, batch_size=1, verbose=0)

    return timed(train), f"Keras {keras.__version__} ({keras.backend.backend()} backend)"


def skip_keras(backend: str) -> bool:
    """True, after saying why, where Keras or its backend is not installed."""
    reason = keras_missing(backend)
    if reason is not None:
        print(f"Keras column skipped: {reason}")
    return reason is not None


def profile_lstmlab(updates: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run_lstmlab("tutorial-bilstm", 0, updates)
    profiler.disable()
    print(f"\nprofile of lstmlab tutorial-bilstm, {updates} updates (top 25 by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per model and candidate")
    parser.add_argument("--updates", type=int, default=1000, help="single-sequence updates per run")
    parser.add_argument("--keras-updates", type=int, default=100, help="Keras updates to time (0: skip)")
    parser.add_argument(
        "--keras-backend", default="tensorflow", help="Keras backend: tensorflow (the articles'), torch"
    )
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one lstmlab run")
    args = parser.parse_args()
    smoke_banner()
    if smoke():  # one seed of a few updates (the profiled run too); Keras's fewer, scaled, where asked
        args.seeds, args.updates = 1, SMOKE_UPDATES
        args.keras_updates = min(args.keras_updates, SMOKE_UPDATES // 2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.updates} updates, lr {LEARNING_RATE}")
    keras = args.keras_updates > 0 and not skip_keras(args.keras_backend)
    header = f"{'model':<16}{'candidate':<34}{'median s':>9}{'ratio':>8}{'median acc':>12}  accuracies"
    print(header)
    print("-" * len(header))
    for preset, bidirectional in (("tutorial-bilstm", True), ("tutorial-lstm", False)):
        ours, plain = [], []
        for seed in range(args.seeds):
            ours.append(run_lstmlab(preset, seed, args.updates))
            plain.append(run_plain(bidirectional, seed, args.updates))
        anchor = statistics.median(t for t, _ in plain)
        rows = [("plain PyTorch loop (anchor)", plain), ("lstmlab", ours)]
        if keras:
            seconds, name = run_keras(bidirectional, args.keras_updates, args.keras_backend)
            rows.append((f"{name}, scaled", [(seconds * args.updates / args.keras_updates, float("nan"))]))
        for name, runs in rows:
            median_time = statistics.median(t for t, _ in runs)
            accuracies = [a for _, a in runs]
            median_acc = statistics.median(accuracies)
            shown = " ".join(f"{a:.3f}" for a in accuracies if a == a) or "(not scored)"
            print(f"{preset:<16}{name:<34}{median_time:>9.2f}{median_time / anchor:>8.2f}{median_acc:>12.3f}  {shown}")
    if args.profile:
        profile_lstmlab(args.updates)


if __name__ == "__main__":
    main()
