"""`lstmlab compare` (several models over seeds or splits, then the report) and `lstmlab report` (redrawn from a
comparison's files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..compare import KINDS, SMOOTH, SWEEP_SEEDS, CompareSpec
from ..runs import RunSpec, defaults
from .options import add_data_options, command, data_spec, positive_int, refuse_unused, task_options, with_default

__all__ = ["add_compare", "add_report"]


COMPARE_OPTIONS: tuple[str, ...] = ("seeds", "updates", "learning_rate", "batch_size", "workers", "steps")

COMPARE_OPTIONS += ("keras_go_backwards", "folds", "epochs", "ensemble")


def cmd_compare(args: argparse.Namespace) -> None:
    from ..compare import CompareRequest, compare, runs_of
    from ..progress import progress_bar

    data = data_spec(args)
    refuse_unused(args, data)
    request = CompareRequest(
        args.comparison,
        tuple(args.models),
        args.task,
        task_options(args.task or RunSpec.task, args.task_set),
        **{name: getattr(args, name) for name in COMPARE_OPTIONS},
        grid=tuple(args.grid),
        data=data,
        baselines=not args.no_baselines,
    )
    out = None if args.out is None else Path(args.out)
    with progress_bar(runs_of(request), "runs") as advance:
        done = compare(request, out, smooth=args.smooth, overwrite=args.overwrite, advance=lambda n: advance(n, dict))
    if done is None:  # a rank other than 0 under torchrun: rank 0 reports
        return
    line, report = done
    print(line)
    print(report.summary)
    where = report.path.parent
    curves = f", scores: {where / 'scores.png'}" if data is not None else f", curves: {where / 'curves.png'}"
    print(f"report: {report.path}{curves}, data: {where / 'results.csv'}")


def cmd_report(args: argparse.Namespace) -> None:
    from ..compare import write_report

    print(f"report: {write_report(Path(args.directory), smooth=args.smooth).path}")


def add_compare(sub: Any) -> None:
    compare_parser = command(sub, "compare", "train several seeds of several models and report which is better")
    add = compare_parser.add_argument
    stacked = CompareSpec()
    add(
        "comparison",
        choices=KINDS,
        help="directions / merge-modes: the tutorial's models trained together; models M1 M2 ...: any presets on "
        "one task; archetypes: the Q&A's five models, each on the data it is meant for",
    )
    add("models", nargs="*", metavar="MODEL", help="with `models`: PRESET or PRESET:KEY=VALUE,KEY=VALUE")
    sweep = f"{SWEEP_SEEDS} for models, archetypes"
    add("--seeds", type=positive_int, help=f"runs per model (default: {stacked.seeds}; {sweep})")
    updates = f"updates per run (default: {stacked.updates}; for models the task's: {defaults.describe('updates')})"
    add("--updates", type=positive_int, help=updates)
    add("--learning-rate", type=float, help=f"Adam's step size (default: {stacked.learning_rate:g}; the task's)")
    add("--steps", type=positive_int, default=stacked.steps, help="sequence length of directions / merge-modes")
    add("--task", choices=sorted(defaults.TASK_TRAINING), help=f"with `models` (default: {RunSpec.task})")
    add("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    batch = defaults.describe("batch_size", data=False)
    add("--batch-size", type=positive_int, help=f"models: examples per update (default: the task's: {batch})")
    add("--workers", type=positive_int, help="processes for models / archetypes (default: one per core)")
    add("--keras-go-backwards", action="store_true", help="also the backward model with Keras's reversed outputs")
    add(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="train every model at every point of the product of these options (repeatable): learning_rate, "
        "updates (--data: epochs), batch_size or an option of every model (directions / merge-modes: units); each "
        "model's best point is chosen on validation data (tasks: fresh examples; --data: 20%% of each training "
        "split held out), never the test set, and its test score reported there",
    )
    add("--smooth", type=positive_int, default=SMOOTH, help="moving average over updates in the plot")
    add("--out", help="output directory (default: a new dated directory under comparisons/)")
    add("--overwrite", action="store_true", help="replace the comparison in --out once the new one is complete")
    on_data = compare_parser.add_argument_group(
        "models on your data (--data): the same splits for every model and baseline; --seeds N repeated stratified "
        "splits (default 5; aeon: and --test-data: their own split, seeds varying the initial weights)"
    ).add_argument
    on_data("--folds", type=int, help="stratified k-fold instead: each example in one test set")
    on_data("--no-baselines", action="store_true", help="leave out the classical baselines of the data's kind")
    on_data("--epochs", type=positive_int, help=with_default("epochs", "epochs over each training split"))
    on_data("--ensemble", type=positive_int, help="train K copies of each model (default: as `train` would)")
    add_data_options(compare_parser)
    compare_parser.set_defaults(handler=cmd_compare)


def add_report(sub: Any) -> None:
    report = command(sub, "report", "redraw a comparison's summary, curves and report from its CSV files")
    report.add_argument("directory", help="a directory written by `lstmlab compare`")
    report.add_argument("--smooth", type=positive_int, default=SMOOTH, help="moving average over updates in the plot")
    report.set_defaults(handler=cmd_report)
