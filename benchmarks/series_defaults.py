"""lstmlab's series defaults beside MiniRocket on seven sets that aeon bundles: accuracy and training time, five seeds.

Usage:
    pip install -c constraints.txt -e ".[timeseries,baselines]"   # aeon (the sets, MiniRocket) and scikit-learn
    python benchmarks/series_defaults.py                  # all seven sets, 5 seeds, 2 processes (about 80 min on 2 cores)
    python benchmarks/series_defaults.py --sets GunPoint,ItalyPowerDemand --seeds 2
    python benchmarks/series_defaults.py --models series-lstm-fcn,series-bilstm   # another preset beside the default
    python benchmarks/series_defaults.py --quick          # 1 seed, 2 epochs: checks that everything runs

Every set keeps its archive's TRAIN/TEST split; seed s sets the model's initial weights and training order (and
MiniRocket's kernels' biases). Each lstmlab run is what `lstmlab train --data aeon:NAME --seed s [--model M]`
trains (the library call behind `lstmlab compare models ... --data aeon:NAME`: `train_model`); MiniRocket is the
baseline `compare` fits on the same split (`minirocket`: 10,000 kernels, ridge classifier with its alpha by
leave-one-out). Training time: seconds of `fit` for lstmlab (one thread), of the transform and the ridge fit for
MiniRocket (one thread). Runs are spread over `--workers` processes, the longest first.

The table: per set, each candidate's mean accuracy ± std over the seeds, MiniRocket's, the difference, and the median
training seconds; then the mean over the sets and the issue's target (the mean at least MiniRocket's, no set more
than 0.05 below it), and for every set where an LSTM-family model falls short, the better choice. Rows go to
`benchmarks/results/series_defaults.csv` (one row per set, seed and candidate).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from timing import RESULTS_DIR, machine_line, set_threads, write_csv

SETS = ("ArrowHead", "ACSF1", "BasicMotions", "GunPoint", "ItalyPowerDemand", "OSULeaf", "JapaneseVowels")
# Rough cost order (training-set size x length), so the longest runs start first
COST = {"ACSF1": 6, "OSULeaf": 5, "ArrowHead": 4, "GunPoint": 3, "BasicMotions": 2, "JapaneseVowels": 1}
BASELINE = "minirocket"
MARGIN = 0.05  # no set more than this below MiniRocket


def run(job: tuple[str, str, int, bool]) -> dict[str, Any]:
    candidate, name, seed, quick = job
    set_threads(1)
    from lstmlab.data.datasets import DataSpec
    from lstmlab.experiments.data_compare import train_baseline, train_model
    from lstmlab.experiments.defaults import TrainChoices
    from lstmlab.experiments.pipeline import RunSpec

    data = DataSpec(f"aeon:{name}")
    start = time.perf_counter()
    if candidate == BASELINE:
        result = train_baseline(BASELINE, data, "series", seed)
        epochs = ""
    else:
        train = TrainChoices(epochs=2) if quick else TrainChoices()
        result = train_model(RunSpec(preset=candidate, data=data, seed=seed, train=train))
        epochs = result["training"]["epochs"]
    return {
        "set": name,
        "seed": seed,
        "candidate": candidate,
        "accuracy": result["accuracy"],
        "train_seconds": result["train_seconds"],
        "epochs": epochs,
        "wall_seconds": time.perf_counter() - start,
    }


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def report(rows: list[dict[str, Any]], models: list[str], sets: list[str]) -> list[str]:
    """The table and the verdict, as Markdown lines."""

    def accuracies(name: str, candidate: str) -> list[float]:
        return [r["accuracy"] for r in rows if r["set"] == name and r["candidate"] == candidate]

    def seconds(name: str, candidate: str) -> float:
        return statistics.median(r["train_seconds"] for r in rows if r["set"] == name and r["candidate"] == candidate)

    header = ["set"] + [f"{m}" for m in models] + ["MiniRocket"] + [f"{m} - MiniRocket" for m in models]
    header += [f"{m} s" for m in models] + ["MiniRocket s"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    means: dict[str, list[float]] = {c: [] for c in [*models, BASELINE]}
    short: list[str] = []
    for name in sets:
        base = accuracies(name, BASELINE)
        means[BASELINE].append(statistics.mean(base))
        cells = [name]
        for m in models:
            means[m].append(statistics.mean(accuracies(name, m)))
            cells.append(_mean_sd(accuracies(name, m)))
        cells.append(_mean_sd(base))
        best = max(models, key=lambda m: statistics.mean(accuracies(name, m)))
        for m in models:
            cells.append(f"{statistics.mean(accuracies(name, m)) - statistics.mean(base):+.3f}")
        cells += [f"{seconds(name, m):.0f}" for m in models] + [f"{seconds(name, BASELINE):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
        gap = statistics.mean(accuracies(name, best)) - statistics.mean(base)
        if gap < -MARGIN:
            short.append(f"{name} ({best} {gap:+.3f}: MiniRocket is the better choice there)")
    overall = ["**mean over the sets**"] + [f"{statistics.mean(means[m]):.3f}" for m in models]
    overall.append(f"{statistics.mean(means[BASELINE]):.3f}")
    overall += [f"{statistics.mean(means[m]) - statistics.mean(means[BASELINE]):+.3f}" for m in models]
    overall += [""] * (len(header) - len(overall))
    lines.append("| " + " | ".join(overall) + " |")
    default = models[0]
    met_mean = statistics.mean(means[default]) >= statistics.mean(means[BASELINE])
    lines.append("")
    lines.append(
        f"Target for {default} (mean at least MiniRocket's, no set more than {MARGIN} below): mean "
        f"{'met' if met_mean else 'NOT met'}; "
        + ("every set within the margin." if not short else "sets more than the margin below: " + "; ".join(short))
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated aeon names")
    parser.add_argument("--models", default="series-lstm-fcn", help="comma-separated presets; the first is judged")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processes, one thread each")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs: a smoke run, not a result")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "series_defaults.csv"))
    args = parser.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    seeds = range(1 if args.quick else args.seeds)
    jobs = [(c, name, s, args.quick) for name in sets for s in seeds for c in [*models, BASELINE]]
    jobs.sort(key=lambda j: (j[0] == BASELINE, -COST.get(j[1], 0)))
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(run, jobs))
    wall = time.perf_counter() - start
    set_threads(1)
    print(f"{machine_line(torch.device('cpu'))}; {args.workers} processes x 1 thread; wall {wall:.0f} s")
    if args.quick:
        print("QUICK RUN (2 epochs): checks the pipeline, the accuracies are not results")
    print(f"seeds 0..{len(seeds) - 1}; accuracy on each archive's TEST split, mean ± std over the seeds")
    print("\n".join(report(rows, models, sets)))
    write_csv(Path(args.csv), rows, digits=None)
    print(f"rows: {args.csv}")


if __name__ == "__main__":
    main()
