"""The tutorial's 1000 single-sequence `fit` calls through lstmlab.keras, beside the same loop in lstmlab's native API
and in Keras 3, in one run.

For tutorial-lstm and tutorial-bilstm: 1000 updates, each on one cumulative-sum sequence of 10 steps (batch 1),
generated beforehand so that only training is timed, with Keras's Adam (learning rate 1e-3):
- lstmlab.keras: the tutorial's code, `model.fit(X, y, epochs=1, batch_size=1, verbose=0)` per sequence, NumPy in;
- lstmlab native (the anchor): the preset (`build_model`) and one `train_step` per sequence, one optimiser;
- Keras 3: the same `fit` loop on `--keras-backend` (tensorflow by default, as the articles ran; skipped, saying why,
  where it is not installed), on the same sequences, its first call (which builds its training function) untimed;
  `--keras-updates` below `--updates` times fewer calls and scales them (no accuracy then).
Candidates alternate run by run; the table gives medians over `--runs` runs and the ratios to the anchor, and the
mean per-step accuracy on 200 fresh sequences.

Usage:
    python benchmarks/keras_front_end.py [--runs 3] [--updates 1000] [--keras-updates 1000] [--keras-backend tensorflow]
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from timing import keras_missing, print_table, save_timings, set_threads, smoke, smoke_banner, timed

from lstmlab import build_model
from lstmlab.data import CumsumConfig, SequenceData, make_cumsum
from lstmlab.keras.layers import LSTM, Bidirectional, Dense, TimeDistributed
from lstmlab.keras.models import Sequential
from lstmlab.training import evaluate, train_step

TASK = CumsumConfig()  # 10 steps, threshold 1/4 of the length
LEARNING_RATE = 1e-3  # Keras's Adam default: the tutorial's optimizer='adam'
SMOKE_UPDATES = 4  # a smoke run's updates a run (one run)


def sequences(count: int, seed: int) -> list[SequenceData]:
    generator = torch.Generator().manual_seed(seed)
    return [make_cumsum(TASK, 1, generator) for _ in range(count)]


def as_keras(batch: SequenceData) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's arrays: X (1, 10, 1) float64, y (1, 10, 1)."""
    return batch.x.double().numpy(), batch.y[..., None].numpy()


def front_end_model(bidirectional: bool) -> Sequential:
    model = Sequential()
    if bidirectional:
        model.add(Bidirectional(LSTM(20, return_sequences=True), input_shape=(10, 1)))
    else:
        model.add(LSTM(20, input_shape=(10, 1), return_sequences=True))
    model.add(TimeDistributed(Dense(1, activation="sigmoid")))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def run_front_end(bidirectional: bool, data: list[SequenceData], test: SequenceData, seed: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    model = front_end_model(bidirectional)
    arrays = [as_keras(batch) for batch in data]

    def train() -> None:
        for X, y in arrays:
            model.fit(X, y, epochs=1, batch_size=1, verbose=0)

    seconds = timed(train)
    return seconds, evaluate(model.lstmlab_model, test).accuracy


def run_native(preset: str, data: list[SequenceData], test: SequenceData, seed: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    model = build_model(preset)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=1e-7, fused=True)

    def train() -> None:
        model.train()
        for batch in data:
            train_step(model, optimizer, batch, None)

    seconds = timed(train)
    return seconds, evaluate(model, test).accuracy


def run_keras(
    bidirectional: bool, data: list[SequenceData], test: SequenceData, backend: str
) -> tuple[float, float, str]:
    """Keras's seconds for the `fit` calls (the first call, which builds the training function, untimed), its
    per-step accuracy on `test`, and its name."""
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
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    arrays = [as_keras(batch) for batch in data]
    model.fit(*arrays[0], epochs=1, batch_size=1, verbose=0)  # the first call builds the training function

    def train() -> None:
        for X, y in arrays:
            model.fit(X, y, epochs=1, batch_size=1, verbose=0)

    seconds = timed(train)
    predicted = np.asarray(model.predict(test.x.double().numpy(), verbose=0))[..., 0] > 0.5  # (N, T)
    accuracy = float(np.mean(predicted == test.y.numpy()))
    return seconds, accuracy, f"Keras {keras.__version__} ({keras.backend.backend()} backend)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per candidate (medians reported)")
    parser.add_argument("--updates", type=int, default=1000, help="single-sequence fit calls per run")
    parser.add_argument(
        "--keras-updates", type=int, default=1000, help="Keras fit calls timed a run, scaled to --updates (0: skip)"
    )
    parser.add_argument(
        "--keras-backend", default="tensorflow", help="Keras backend: tensorflow (the articles'), torch"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--csv", type=Path, default=None, help="where to write the CSV (default benchmarks/results/)")
    args = parser.parse_args()
    smoke_banner()
    if smoke():  # one run of a few updates; Keras's calls as many as ours, or fewer and scaled, as asked
        few = args.keras_updates < args.updates
        args.runs, args.updates = 1, SMOKE_UPDATES
        args.keras_updates = 0 if args.keras_updates <= 0 else SMOKE_UPDATES // 2 if few else SMOKE_UPDATES
    set_threads(args.threads)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, {args.updates} updates, Adam lr {LEARNING_RATE}"
    )
    keras_reason = keras_missing(args.keras_backend) if args.keras_updates > 0 else "--keras-updates 0"
    if keras_reason is not None:
        print(f"Keras column skipped: {keras_reason}")
    test = make_cumsum(TASK, 200, torch.Generator().manual_seed(10_000))
    rows: list[dict[str, object]] = []
    lines: list[list[str]] = []
    for preset, bidirectional in (("tutorial-lstm", False), ("tutorial-bilstm", True)):
        runs: dict[str, list[tuple[float, float]]] = {"lstmlab native (anchor)": [], "lstmlab.keras": []}
        candidates: list[tuple[str, Callable[[list[SequenceData], int], tuple[float, float]]]] = [
            ("lstmlab native (anchor)", lambda data, seed, p=preset: run_native(p, data, test, seed)),
            ("lstmlab.keras", lambda data, seed, b=bidirectional: run_front_end(b, data, test, seed)),
        ]
        for run in range(args.runs):
            data = sequences(args.updates, seed=run)
            for name, candidate in candidates if run % 2 == 0 else candidates[::-1]:
                runs[name].append(candidate(data, run))
        if keras_reason is None:  # as many runs, on the same sequences (the first keras_updates of each run's)
            scale = args.updates / args.keras_updates
            for run in range(args.runs):
                data = sequences(args.updates, seed=run)[: args.keras_updates]
                seconds, accuracy, label = run_keras(bidirectional, data, test, args.keras_backend)
                name = label if scale == 1 else f"{label}, {args.keras_updates} calls scaled"
                runs.setdefault(name, []).append((seconds * scale, accuracy if scale == 1 else float("nan")))
        anchor = statistics.median(t for t, _ in runs["lstmlab native (anchor)"])
        front_end = statistics.median(t for t, _ in runs["lstmlab.keras"])
        for name, results in runs.items():
            median = statistics.median(t for t, _ in results)
            accuracies = [a for _, a in results if a == a]
            accuracy = statistics.median(accuracies) if accuracies else float("nan")
            rows.append(
                {
                    "model": preset,
                    "candidate": name,
                    "median_s": median,
                    "per_call_ms": 1e3 * median / args.updates,
                    "ratio_to_native": median / anchor,
                    "times_lstmlab_keras": median / front_end,
                    "median_accuracy": accuracy,
                    "runs": len(results),
                    "updates": args.updates,
                }
            )
            lines.append(
                [
                    preset,
                    name,
                    f"{median:.2f}",
                    f"{1e3 * median / args.updates:.3f}",
                    f"{median / anchor:.2f}",
                    f"{median / front_end:.1f}",
                    f"{accuracy:.3f}",
                    " ".join(f"{t:.2f}" for t, _ in results),
                ]
            )
    header = ["model", "candidate", "median s", "ms/call", "/ native", "/ lstmlab.keras", "accuracy", "runs (s)"]
    print_table(header, lines, left=2, groups=True)
    save_timings(rows, args.csv, "keras_front_end", torch.device("cpu"))


if __name__ == "__main__":
    main()
