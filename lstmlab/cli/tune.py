"""`lstmlab tune`: a search on Optuna (imported when the command runs), its best settings trained as a run."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from ..runs import RunSpec, defaults
from .options import add_data_options, command, data_spec, positive_int, refuse_unused, with_default
from .train import print_run

__all__ = ["add_tune"]


def cmd_tune(args: argparse.Namespace) -> int:
    from ..progress import progress_bar
    from ..runs import TrainChoices
    from ..tune import TuneRequest, tune  # Optuna loads for this command only

    data = data_spec(args)
    refuse_unused(args, data)
    request = TuneRequest(
        args.model,
        args.trials,
        task=args.task,
        data=data,
        train=TrainChoices(updates=args.updates, epochs=args.epochs),
        space=tuple(args.space),
        seed=args.seed,
        storage=args.storage,
        study=args.study,
        out=None if args.out is None else Path(args.out),
        overwrite=args.overwrite,
        workers=args.workers,
        verbose=args.verbose,
    )
    with progress_bar(args.trials, "trials") as advance:
        result = tune(request, advance=lambda n: advance(n, dict))
    states = ", ".join(f"{count} {state.lower()}" for state, count in sorted(result.states.items()))
    print(f"study {result.study} in {result.storage}: {states}; searched {' '.join(result.space)}")
    settings = ", ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in result.best_settings.items()
    )
    print(f"best: trial {result.best_number}, val_loss {result.best_value:.4f}: {settings}")
    status = print_run(result.run)
    print(f"trials: {result.directory / 'trials.csv'}; repeat the run: {shlex.join(result.command)}")
    return status


def add_tune(sub: Any) -> None:
    tuner = command(
        sub,
        "tune",
        "search a preset's training settings and options on Optuna, then train the best as a run",
        "Each trial trains on the training data and is scored on a validation split (a task: fresh examples), never "
        "the test set; trials whose val_loss trails the median are stopped early. The study lives in OUT/study.db or "
        "--storage: commands started on several machines with the same --storage and --study share it. The best "
        "settings are trained on all of the training data into OUT/best, scored on the test set, and the `lstmlab "
        "train` command repeating that run is printed.",
    )
    add = tuner.add_argument
    add("model", metavar="MODEL", help="PRESET or PRESET:KEY=VALUE,KEY=VALUE (options fixed, not searched)")
    add("--trials", type=int, required=True, help="trials this command runs (0: write the study's best run only)")
    add("--task", default=RunSpec.task, choices=sorted(defaults.TASK_TRAINING), help="built-in problem")
    add(
        "--space",
        action="append",
        default=[],
        metavar="NAME=KIND:...",
        help="replace or add a searched setting: NAME=log:LOW:HIGH, float:LOW:HIGH, int:LOW:HIGH or cat:A,B "
        "(default: a range per preset, e.g. learning_rate=log:1e-4:1e-2, units=cat:10,20,40, batch_size=cat:1,8,32)",
    )
    budget = tuner.add_mutually_exclusive_group()
    budget.add_argument("--updates", type=positive_int, help=with_default("updates", "online updates per trial"))
    budget.add_argument("--epochs", type=positive_int, help=with_default("epochs", "epochs per trial"))
    add("--storage", help="a database URL Optuna supports, e.g. postgresql://user:pass@host/db (default: OUT/study.db)")
    add("--study", help="the study's name in the storage (default: PRESET-TASK or PRESET-DATA)")
    add("--workers", type=positive_int, default=1, help="local processes sharing the trials")
    add("--seed", type=int, default=RunSpec.seed, help="every trial's seed (weights, data, split) and the sampler's")
    add("--out", help="directory of the study's files and best run (default: tune/STUDY)")
    add("--overwrite", action="store_true", help="replace the best run in OUT/best")
    add("--verbose", action="store_true", help="Optuna's log line for every trial")
    add_data_options(tuner)
    tuner.set_defaults(handler=cmd_tune)
