"""Comparison speed: all runs of a comparison trained together (lstmlab) vs the same runs one after another in a
plain PyTorch loop, and Keras 3 (one run per model, scaled to the run count) where installed.

Usage:
    python benchmarks/compare.py [--repeats 3] [--keras-updates 50] [--keras-backend tensorflow]

Each repeat times lstmlab's stacked training of the directions comparison (3 models x 10 seeds x 250 updates)
and the merge-modes comparison (4 x 10 x 250), then the same runs as separate plain loops (nn.LSTM + Linear +
BCEWithLogitsLoss + Adam, one sequence per update). Medians over repeats; ratios plain / lstmlab.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from online_training import PlainModel, run_keras, skip_keras
from timing import smoke, smoke_banner, timed

from lstmlab import build_model
from lstmlab.compare.spec import COMPARISONS
from lstmlab.data import CumsumConfig, make_cumsum
from lstmlab.models.stacked import StackedTutorial
from lstmlab.training.stacked import fit_stacked

SEEDS, UPDATES, LEARNING_RATE = 10, 250, 3e-3
if smoke():  # a smoke run: 2 seeds x 4 updates a model, one repeat, Keras's updates fewer (`main`)
    SEEDS, UPDATES = 2, 4


def streams() -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for seed in range(SEEDS):
        batch = make_cumsum(CumsumConfig(), UPDATES, torch.Generator().manual_seed(seed))
        out.append((batch.x, batch.y))
    return out


def time_lstmlab(name: str, data: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    models = []
    for _, preset, options in COMPARISONS[name]:
        for seed in range(SEEDS):
            torch.manual_seed(seed)
            models.append(build_model(preset, **options))
    x = torch.stack([data[m % SEEDS][0] for m in range(len(models))], dim=1)[:, :, None]
    y = torch.stack([data[m % SEEDS][1] for m in range(len(models))], dim=1)[:, :, None]
    stack = StackedTutorial(models)
    return timed(lambda: fit_stacked(stack, zip(x, y, strict=True), learning_rate=LEARNING_RATE))


def time_plain(name: str, data: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    criterion = torch.nn.BCEWithLogitsLoss()

    def train() -> None:
        for _, preset, _options in COMPARISONS[name]:
            for seed in range(SEEDS):
                torch.manual_seed(seed)
                model = PlainModel(bidirectional=preset == "tutorial-bilstm")  # merge modes cost as concat here
                optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
                x, y = data[seed]
                for u in range(UPDATES):
                    optimizer.zero_grad()
                    loss = criterion(model(x[u : u + 1])[..., 0], y[u : u + 1].float())
                    loss.backward()
                    optimizer.step()

    return timed(train)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keras-updates", type=int, default=50, help="Keras updates timed per model (0: skip)")
    parser.add_argument("--keras-backend", default="tensorflow")
    args = parser.parse_args()
    smoke_banner()
    if smoke():
        args.repeats, args.keras_updates = 1, min(args.keras_updates, 2)
    data = streams()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {SEEDS} seeds x {UPDATES} updates per model")
    with_keras = args.keras_updates > 0 and not skip_keras(args.keras_backend)
    print(
        f"{'comparison':<13}{'runs':>5}{'lstmlab s':>11}{'plain s':>9}{'plain/lstmlab':>15}{'Keras s':>9}{'Keras/lstmlab':>15}"
    )
    for name in ("directions", "merge-modes"):
        ours, plain = [], []
        for _ in range(args.repeats):
            ours.append(time_lstmlab(name, data))
            plain.append(time_plain(name, data))
        runs = len(COMPARISONS[name]) * SEEDS
        keras = float("nan")
        if with_keras:
            per_model = [
                run_keras(preset == "tutorial-bilstm", args.keras_updates, args.keras_backend)[0]
                for _, preset, _ in COMPARISONS[name]
            ]
            keras = sum(per_model) * SEEDS * UPDATES / args.keras_updates
        o, p = statistics.median(ours), statistics.median(plain)
        print(f"{name:<13}{runs:>5}{o:>11.2f}{p:>9.2f}{p / o:>15.1f}{keras:>9.0f}{keras / o:>15.0f}")


if __name__ == "__main__":
    main()
