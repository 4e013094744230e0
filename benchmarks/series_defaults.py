"""lstmlab's series defaults beside MiniRocket on seven sets that aeon bundles: accuracy and training time, five seeds.

Usage:
    pip install -c constraints.txt -e ".[timeseries,baselines]"   # aeon (the sets, MiniRocket) and scikit-learn
    python benchmarks/series_defaults.py                  # all seven sets, 5 seeds, 2 processes (about 80 min on 2 cores)
    python benchmarks/series_defaults.py --sets GunPoint,ItalyPowerDemand --seeds 2
    python benchmarks/series_defaults.py --models 'series-lstm-fcn;series-bilstm'   # another preset beside the default
    python benchmarks/series_defaults.py --quick          # 1 seed, 2 epochs: checks that everything runs

Every set keeps its archive's TRAIN/TEST split; seed s sets the model's initial weights and training order (and
MiniRocket's kernels' biases). Each lstmlab run is what `lstmlab train --data aeon:NAME --seed s [--model M]`
trains (the library call behind `lstmlab compare models ... --data aeon:NAME`: `train_model`); MiniRocket is the
baseline `compare` fits on the same split (`minirocket`: 10,000 kernels, ridge classifier with its alpha by
leave-one-out). Training time: seconds of `fit` for lstmlab (one thread), of the transform and the ridge fit for
MiniRocket (one thread). Runs are spread over `--workers` processes, the longest first.

The table: per set, each candidate's mean accuracy ± std over the seeds, MiniRocket's, the difference (with how
many seeds were ahead, level and behind), and the median training seconds; then the mean over the sets and the
issue's target (the mean at least MiniRocket's, no set more than 0.05 below it), and for every set where an
LSTM-family model falls short, the better choice. Rows go to `benchmarks/results/series_defaults.csv` (one row per
set, seed and candidate). The run and the table are `versus_baseline.py`'s, shared with `text_defaults.py`.
"""

from __future__ import annotations

import argparse

from timing import smoke, smoke_banner
from versus_baseline import Job, Table, add_options, models_of, run_all

SETS = ("ArrowHead", "ACSF1", "BasicMotions", "GunPoint", "ItalyPowerDemand", "OSULeaf", "JapaneseVowels")
# Rough cost order (training-set size x length), so the longest runs start first
COST = {"ACSF1": 6, "OSULeaf": 5, "ArrowHead": 4, "GunPoint": 3, "BasicMotions": 2, "JapaneseVowels": 1}
BASELINE = "minirocket"
MARGIN = 0.05  # no set more than this below MiniRocket
SMOKE_SETS = 2  # the cheapest sets a smoke run keeps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated aeon names")
    parser.add_argument("--seeds", type=int, default=5)
    add_options(parser, model="series-lstm-fcn", seeds="seed", csv="series_defaults.csv")
    args = parser.parse_args()
    smoke_banner()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    models = models_of(args)
    if smoke():  # the smallest run (timing.smoke): the two cheapest sets asked for, 1 seed of 1 epoch, 2 processes
        cheapest = sorted(sets, key=lambda name: COST.get(name, 0))[:SMOKE_SETS]
        sets = [name for name in sets if name in cheapest]
        args.seeds, args.workers = 1, min(args.workers, 2)
    seeds = range(1 if args.quick else args.seeds)
    jobs = [
        Job(c, name, {"path": f"aeon:{name}"}, s, c == BASELINE, args.quick, smoke())
        for name in sets
        for s in seeds
        for c in [*models, BASELINE]
    ]
    jobs.sort(key=lambda j: (j.baseline, -COST.get(j.name, 0)))
    table = Table(
        models,
        sets,
        BASELINE,
        MARGIN,
        f"seeds 0..{len(seeds) - 1}; accuracy on each archive's TEST split, mean ± std over the seeds",
    )
    run_all(jobs, table, workers=args.workers, quick=args.quick, csv=args.csv)


if __name__ == "__main__":
    main()
