"""Command line: parses options into settings, calls the library and prints what it returns."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .data.datasets import DataSpec
from .data.loaders import TEXT_FORMATS, lines, read_text
from .data.series import SERIES_FORMATS
from .data.text import TextSettings
from .experiments import defaults
from .experiments.compare import COMPARISONS, CompareSpec, run_comparison
from .experiments.defaults import TrainChoices
from .experiments.demo import demo
from .experiments.pipeline import RunResult, RunSpec, resume_run, train_run
from .experiments.report import write_report
from .experiments.saved import (
    evaluate_run,
    predict_example,
    predict_sequences,
    predict_series,
    predict_texts,
    saved_kind,
)
from .experiments.sweep import ARCHETYPES, Group, SweepSpec, parse_model, run_sweep
from .experiments.tasks import TASKS, parse_task_option
from .models import PRESETS, build_model, parse_options
from .progress import progress_bar
from .training import Scores

__all__ = ["main"]

TRAINING = (
    "updates",
    "epochs",
    "batch_size",
    "learning_rate",
    "clip_norm",
    "weight_decay",
    "schedule",
    "validation_split",
    "patience",
    "ensemble",
)


def cmd_models(args: argparse.Namespace) -> None:
    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name.ljust(width)}  {preset.description}")


def cmd_summary(args: argparse.Namespace) -> None:
    build_model(args.preset, **parse_options(args.preset, args.set)).summary()


def cmd_demo(args: argparse.Namespace) -> None:
    for summary, line in demo(args.presets or list(PRESETS), batch=args.batch, seed=args.seed):
        print(summary)
        print(line + "\n")


def data_spec(args: argparse.Namespace) -> DataSpec:
    settings = TextSettings(
        level=args.text_level,
        lower=not args.keep_case,
        max_words=args.max_words,
        min_count=args.min_count,
        max_len=args.max_len,
        truncating=args.truncating,
        padding=args.padding,
    )
    return DataSpec(
        path=args.data,
        test_path=args.test_data,
        data_format=args.data_format,
        text_column=args.text_column,
        label_column=args.label_column,
        encoding=args.encoding,
        test_fraction=args.test_fraction,
        split_seed=args.split_seed,
        text=settings,
        standardise=not args.no_standardise,
    )


def run_spec(args: argparse.Namespace) -> RunSpec:
    if args.data is None and args.test_data is not None:
        raise ValueError(f"Expected --test-data with --data. Received: --test-data {args.test_data} alone")
    data = data_spec(args) if args.data is not None else None
    model_options = parse_options(args.model or defaults.preset_for(None if data is None else data.kind), args.set)
    if args.merge_mode is not None:
        model_options["merge_mode"] = args.merge_mode
    task = args.task or "cumsum"
    return RunSpec(
        task=task,
        preset=args.model,
        task_options=parse_options(task, args.task_set, parse=parse_task_option, usage="--task-set KEY=VALUE"),
        model_options=model_options,
        train=TrainChoices(**{name: getattr(args, name) for name in TRAINING}),
        seed=args.seed,
        train_size=args.train_size,
        test_size=args.test_size,
        data=data,
    )


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume is not None:
        untouched = vars(make_parser().parse_args(["train"]))
        given = [f"--{k.replace('_', '-')}" for k, v in vars(args).items() if k != "resume" and v != untouched[k]]
        if given:
            raise ValueError(f"Expected no other run options with --resume (it continues as saved). Received: {given}")
        result = resume_run(Path(args.resume), progress=progress_bar)
    else:
        out = Path(args.out) if args.out is not None else None
        result = train_run(
            run_spec(args), out, overwrite=args.overwrite, progress=progress_bar, checkpoint_every=args.checkpoint_every
        )
    return print_run(result)


def print_run(result: RunResult) -> int:
    for note in result.notes:
        print(note)
    if result.interrupted:
        done, total = result.updates
        target = str(result.directory)[: -len(".partial")]
        print(
            f"interrupted after update {done} of {total}; checkpoint saved in {result.directory}; continue with "
            f"`lstmlab train --resume {target}`"
        )
        return 130
    print(f"{result.trained}; saved to {result.directory}")
    assert result.scores is not None
    print_scores(result.scores, f"test ({result.test_set})")
    return 0


def print_scores(scores: Scores, label: str) -> None:
    print(f"{label}: loss {scores.loss:.4f}, accuracy {scores.accuracy:.4f} over {scores.count} scored items")
    width = max(5, *map(len, scores.labels))
    print(f"{'class'.rjust(width)}  precision  recall  f1")
    for name, p, r, f in zip(scores.labels, scores.precision, scores.recall, scores.f1, strict=True):
        print(f"{name.rjust(width)}  {p:9.3f}  {r:6.3f}  {f:.3f}")
    print("confusion (rows: true class, columns: predicted class):")
    cell = max(5, *map(len, scores.labels), *(len(str(v)) for row in scores.confusion for v in row))
    print(" " * width + " " + " ".join(name.rjust(cell) for name in scores.labels))
    for name, row in zip(scores.labels, scores.confusion, strict=True):
        print(f"{name.rjust(width)} " + " ".join(str(v).rjust(cell) for v in row))


def cmd_evaluate(args: argparse.Namespace) -> None:
    scores, where = evaluate_run(Path(args.run), test_size=args.test_size, seed=args.seed)
    print_scores(scores, f"{args.run}, test ({where})")


def read_texts(path: Path) -> list[str]:
    if not path.is_file():
        raise ValueError(f"Expected a file of texts, one a line. Received: {path} does not exist")
    texts = [line for line in lines(read_text(path)) if line.strip()]
    if not texts:
        raise ValueError(f"Expected at least one text in {path}. Received: an empty file")
    return texts


def cmd_predict(args: argparse.Namespace) -> None:
    run = Path(args.run)
    texts = list(args.text) + (read_texts(Path(args.text_file)) if args.text_file else [])
    kind = saved_kind(run)
    if args.series_file is not None or kind == "series":
        if args.series_file is None:
            raise ValueError("Expected --series-file FILE (.ts or .npz) for a run trained on series. Received: none")
        print("series\tpredicted\tconfidence\tlabel in file")
        for i, (found, label) in enumerate(predict_series(run, args.series_file)):
            print(f"{i + 1}\t{found.label}\t{found.confidence:.3f}\t{label}")
        return
    if texts or kind == "text":
        if not texts:
            raise ValueError("Expected --text TEXT or --text-file FILE for a run trained on text. Received: neither")
        for text, found in zip(texts, predict_texts(run, texts), strict=True):
            print(f"{found.label}\t{found.confidence:.3f}\t{text}")
        return
    shown = predict_example(run, args.seed) if args.input is None else predict_sequences(run, Path(args.input))
    print("\n".join(shown))


def cmd_compare(args: argparse.Namespace) -> None:
    out = Path(args.out or f"comparisons/{args.comparison}")
    if args.comparison in COMPARISONS:
        if args.models or args.task or args.task_set or args.batch_size or args.workers:
            raise ValueError(
                f"Expected no models, --task, --task-set, --batch-size or --workers with {args.comparison} (the "
                "tutorial's models on its problem, one stacked computation)"
            )
        spec = CompareSpec(
            args.comparison,
            **{k: v for k, v in (("seeds", args.seeds), ("updates", args.updates)) if v is not None},
            **({"learning_rate": args.learning_rate} if args.learning_rate is not None else {}),
            steps=args.steps,
            keras_go_backwards=args.keras_go_backwards,
        )
        runs = run_comparison(spec, out)
        print(f"{runs['runs']} runs trained together in {runs['training_seconds']:.1f} s")
    else:
        if args.keras_go_backwards:
            raise ValueError(f"Expected --keras-go-backwards with directions. Received: {args.comparison}")
        sweep = SweepSpec(
            args.comparison,
            compare_groups(args),
            seeds=args.seeds or 5,
            updates=args.updates,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            workers=args.workers or 0,
        )
        total = sweep.seeds * sum(len(g.models) for g in sweep.groups)
        with progress_bar(total, "runs") as advance:
            runs = run_sweep(sweep, out, advance=lambda n: advance(n, dict))
        print(f"{runs['runs']} runs in {runs['training_seconds']:.1f} s ({runs['spec']['workers']} at a time)")
    report = write_report(out, smooth=args.smooth)
    print(report.summary)
    print(f"report: {report.path}, curves: {out / 'curves.png'}, data: {out / 'results.csv'}")


def compare_groups(args: argparse.Namespace) -> tuple[Group, ...]:
    if args.comparison == "archetypes":
        if args.models or args.task or args.task_set:
            raise ValueError(
                "Expected no models, --task or --task-set with archetypes: it picks a task per model. "
                f"Received: {' '.join(args.models) or '--task'}"
            )
        return ARCHETYPES
    if len(args.models) < 2:
        raise ValueError(f"Expected at least two models to compare. Received: {args.models}")
    task = args.task or "cumsum"
    task_options = parse_options(task, args.task_set, parse=parse_task_option, usage="--task-set KEY=VALUE")
    chosen = tuple(parse_model(text) for text in args.models)
    return (Group(f"task {task}", task, chosen, task_options),)


def cmd_report(args: argparse.Namespace) -> None:
    print(f"report: {write_report(Path(args.directory), smooth=args.smooth).path}")


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default after its help where argparse holds it; options whose defaults lstmlab resolves
    per run (argparse default None) say so in their own help, from `defaults`."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "default" in text or unset or not action.option_strings:
            return text
        return f"{text} (default: {default})"


def _parser(sub: Any, name: str, text: str, description: str | None = None) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=description or text, formatter_class=HelpFormatter
    )
    return parser


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmlab",
        description="LSTM and Bi-LSTM sequence classification on PyTorch.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lstmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _parser(sub, "models", "list the model zoo's presets, one line each").set_defaults(handler=cmd_models)
    summary = _parser(
        sub, "summary", "print a preset's layers, output shapes and parameter counts (as Keras's summary)"
    )
    summary.add_argument("preset", help="a name from `lstmlab models`")
    summary.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="change a config field, e.g. units=64"
    )
    summary.set_defaults(handler=cmd_summary)
    demo_parser = _parser(
        sub, "demo", "build presets, print their summaries and run a batch through the fused and reference paths"
    )
    demo_parser.add_argument("presets", nargs="*", help="preset names (all when none are given)")
    demo_parser.add_argument("--batch", type=positive_int, default=4, help="rows in the generated batch")
    demo_parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the generated batch")
    demo_parser.set_defaults(handler=cmd_demo)
    add_train(sub)
    add_compare(sub)
    report = _parser(sub, "report", "redraw a comparison's summary, curves and report from its CSV files")
    report.add_argument("directory", help="a directory written by `lstmlab compare`")
    report.add_argument("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    report.set_defaults(handler=cmd_report)
    evaluate = _parser(
        sub,
        "evaluate",
        "score a saved run on its test set: a task's fresh examples, or the test split of the run's data",
    )
    evaluate.add_argument("run", help="a run directory written by `lstmlab train`")
    evaluate.add_argument(
        "--test-size", type=positive_int, default=None, help="task runs: this many fresh examples instead of the run's"
    )
    evaluate.add_argument("--seed", type=int, default=None, help="task runs: draw the test examples with this seed")
    evaluate.set_defaults(handler=cmd_evaluate)
    predict = _parser(
        sub,
        "predict",
        "predict with a saved run: texts (--text, --text-file), series (--series-file), sequences (--input), or "
        "a fresh example of its task step by step",
    )
    predict.add_argument("run", help="a run directory written by `lstmlab train`")
    predict.add_argument("--input", default=None, help="a file with one sequence a line (numbers or token ids)")
    predict.add_argument("--seed", type=int, default=1, help="seed of the fresh example shown without --input")
    predict.add_argument("--text", action="append", default=[], help="a raw text, for runs trained on text")
    predict.add_argument("--text-file", default=None, help="raw texts, one a line, for runs trained on text")
    predict.add_argument("--series-file", default=None, help="series (.ts or .npz), for runs trained on series")
    predict.set_defaults(handler=cmd_predict)
    return parser


def add_compare(sub: Any) -> None:
    compare = _parser(sub, "compare", "train several seeds of several models and report which is better, with plots")
    stacked = CompareSpec()
    compare.add_argument(
        "comparison",
        choices=[*COMPARISONS, "models", "archetypes"],
        help="directions / merge-modes: the tutorial's models trained together; models M1 M2 ...: any presets on "
        "one task; archetypes: the Q&A's five models, each on the data it is meant for",
    )
    compare.add_argument(
        "models", nargs="*", metavar="MODEL", help="with `models`: PRESET or PRESET:KEY=VALUE,KEY=VALUE"
    )
    sweep = SweepSpec("models", ())
    compare.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help=f"runs per model (default: {stacked.seeds}; {sweep.seeds} for models, archetypes)",
    )
    compare.add_argument(
        "--updates",
        type=positive_int,
        default=None,
        help=f"updates per run (default: {stacked.updates}; the task's for models: {defaults.describe('updates')})",
    )
    compare.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help=f"Adam step size (default: {stacked.learning_rate:g}; the task's for models)",
    )
    compare.add_argument(
        "--steps", type=positive_int, default=stacked.steps, help="sequence length of directions / merge-modes' cumsum"
    )
    compare.add_argument(
        "--task", default=None, choices=sorted(TASKS), help=f"with `models` (default: {RunSpec().task})"
    )
    compare.add_argument("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    compare.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help=f"examples per update, models and archetypes (default: {defaults.describe('batch_size')})",
    )
    compare.add_argument(
        "--workers", type=positive_int, default=None, help="processes for models / archetypes (default: one per core)"
    )
    compare.add_argument(
        "--keras-go-backwards", action="store_true", help="also the backward model with Keras's reversed outputs"
    )
    compare.add_argument("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    compare.add_argument("--out", default=None, help="output directory (default: comparisons/COMPARISON)")
    compare.set_defaults(handler=cmd_compare)


def add_train(sub: Any) -> None:
    train = _parser(
        sub,
        "train",
        "train a preset on a built-in task or on your data (--data), save the run and print its test scores",
        "Train a preset on a built-in task or on your data (--data), save the run directory and print test scores. "
        "A run is written into OUT.partial and renamed to OUT when complete; Ctrl-C stops after the current update "
        "and saves a checkpoint there (continue it with --resume OUT).",
    )
    spec, text, data_defaults = RunSpec(), TextSettings(), DataSpec("")
    train.add_argument("--task", default=None, choices=sorted(TASKS), help=f"built-in problem (default: {spec.task})")
    data_models = ", ".join(f"{preset} for {kind}" for kind, preset in defaults.DATA_PRESETS.items())
    train.add_argument(
        "--model",
        default=None,
        help=f"a preset from `lstmlab models` (default: {defaults.TASK_PRESET} on a task; with --data {data_models})",
    )
    train.add_argument(
        "--out", default=None, help="run directory to write (default: a new dated directory under runs/)"
    )
    train.add_argument("--overwrite", action="store_true", help="replace the run in --out once the new one is complete")
    train.add_argument("--resume", default=None, metavar="RUN", help="continue an interrupted run from its checkpoint")
    train.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=None,
        metavar="N",
        help="also save a checkpoint every N epochs (online: rows of updates) to resume from after a crash",
    )
    budget = train.add_mutually_exclusive_group()
    budget.add_argument(
        "--updates",
        type=positive_int,
        default=None,
        help=f"online updates, each on fresh examples (default: {defaults.describe('updates')})",
    )
    budget.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help=f"epochs over a fixed training set (default: {defaults.describe('epochs')})",
    )
    train.add_argument(
        "--train-size",
        type=positive_int,
        default=None,
        help="a task's fixed training set of N examples instead of fresh examples each update",
    )
    train.add_argument("--test-size", type=positive_int, default=spec.test_size, help="a task's fresh test examples")
    for name, text_help in (
        ("batch_size", "examples per update"),
        ("learning_rate", "Adam's step size"),
    ):
        kind = positive_int if name == "batch_size" else float
        train.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            default=None,
            help=f"{text_help} (default: {defaults.describe(name)})",
        )
    train.add_argument("--clip-norm", type=float, default=None, help="clip the gradient norm to this (default: none)")
    train.add_argument(
        "--weight-decay", type=float, default=None, help="decoupled weight decay, AdamW (default: none, plain Adam)"
    )
    train.add_argument(
        "--validation-split",
        type=float,
        default=None,
        help="hold out this last share of a fixed training set to pick the best epoch; 0: train on all of it and "
        f"keep the last epoch (default: {defaults.describe('validation_split')})",
    )
    train.add_argument(
        "--schedule",
        default=None,
        choices=["constant", "cosine"],
        help=f"learning rate: constant, or a cosine decay to 0 at the last update (default: "
        f"{defaults.describe('schedule')})",
    )
    train.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop after N epochs without a better val_loss and keep the best weights (default: train to the end)",
    )
    train.add_argument(
        "--merge-mode", default=None, choices=["concat", "sum", "mul", "ave"], help="Bi-LSTM merge mode of the preset"
    )
    train.add_argument(
        "--ensemble",
        type=positive_int,
        default=None,
        help="train K copies of the model side by side from different initial weights; the run answers with the "
        f"mean of their probabilities (default: {defaults.describe('ensemble')})",
    )
    train.add_argument("--seed", type=int, default=spec.seed, help="one seed for weights, data, dropout and split")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a model config field")
    train.add_argument("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    data = train.add_argument_group("your own labelled texts or series (instead of --task)")
    data.add_argument(
        "--data",
        default=None,
        help="texts: CSV / TSV / JSONL file, folder of class folders or class files, or uci:amazon | uci:imdb | "
        "uci:yelp (sentence sets shipped with lstmlab); series: a .ts or .npz file or aeon:NAME (a UCR/UEA set "
        "bundled with aeon, its own TRAIN/TEST split)",
    )
    data.add_argument("--test-data", default=None, help="test examples (default: a stratified split of --data)")
    data.add_argument(
        "--data-format", default=None, choices=TEXT_FORMATS + SERIES_FORMATS, help="(default: guessed from the path)"
    )
    data.add_argument(
        "--no-standardise",
        action="store_true",
        help="series: keep raw values instead of standardising each channel (series-bilstm's input noise is in "
        "standard deviations: rescale it with --set noise=...)",
    )
    data.add_argument("--text-column", default=data_defaults.text_column, help="text column of a table")
    data.add_argument("--label-column", default=data_defaults.label_column, help="label column of a table")
    data.add_argument("--encoding", default=data_defaults.encoding, help="text encoding of the files")
    data.add_argument(
        "--test-fraction", type=float, default=data_defaults.test_fraction, help="held-out share of each class"
    )
    data.add_argument("--split-seed", type=int, default=None, help="seed of the split (default: --seed)")
    data.add_argument("--text-level", default=text.level, choices=["word", "char"], help="tokens")
    data.add_argument("--keep-case", action="store_true", help="do not lower-case the texts")
    data.add_argument(
        "--max-words", type=positive_int, default=text.max_words, help="vocabulary ids incl. padding and OOV"
    )
    data.add_argument("--min-count", type=positive_int, default=text.min_count, help="rarer training tokens become OOV")
    data.add_argument(
        "--max-len", type=positive_int, default=None, help="tokens per text (default: 95th percentile of training)"
    )
    data.add_argument("--truncating", default=text.truncating, choices=["pre", "post"], help="cut long texts")
    data.add_argument("--padding", default=text.padding, choices=["pre", "post"], help="pad short texts")
    train.set_defaults(handler=cmd_train)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input, 130 when
    interrupted)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status = args.handler(args)
    except BrokenPipeError:  # output piped into a reader that stopped (`| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as error:
        print(f"lstmlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstmlab: interrupted; nothing was saved", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
