"""Command line: parses options into settings, calls the library and prints what it returns."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .data.datasets import DataSpec
from .data.loaders import TEXT_FORMATS, read_texts
from .data.series import SERIES_FORMATS
from .data.stream import StreamSettings
from .data.text import TextSettings
from .experiments import defaults
from .experiments.compare import CompareSpec
from .experiments.comparisons import KINDS, CompareRequest, compare, runs_of
from .experiments.defaults import TrainChoices
from .experiments.demo import demo
from .experiments.pipeline import RunResult, RunSpec, resume_run, train_run
from .experiments.report import write_report
from .experiments.runs import target_of
from .experiments.saved import (
    evaluate_run,
    predict_example,
    predict_sequences,
    predict_series,
    predict_texts,
    saved_kind,
)
from .experiments.sweep import SweepSpec
from .experiments.tasks import TASKS, parse_task_option
from .models import PRESETS, build_model, parse_options
from .progress import progress_bar
from .training import Scores

__all__ = ["main"]


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


def task_options(task: str, texts: list[str]) -> dict[str, Any]:
    return parse_options(task, texts, parse=parse_task_option, usage="--task-set KEY=VALUE")


def given_options(args: argparse.Namespace) -> list[str]:
    """The options written on the command line (not those left at their defaults), e.g. ['--seed', '--out']."""
    return [token.split("=")[0] for token in args.argv if token.startswith("--")]


def refuse_unused(args: argparse.Namespace, data: DataSpec | None) -> None:
    """Options that would change nothing for this run are refused, not ignored."""
    given = set(given_options(args))
    if data is None:
        unused = given & (DATA_ONLY | TEXT_ONLY | SERIES_ONLY)
        reason = "they describe --data"
    elif data.kind == "series":
        unused = given & (TASK_ONLY | TEXT_ONLY)
        reason = "series from --data take neither task nor text options"
    else:
        unused = given & (TASK_ONLY | SERIES_ONLY)
        reason = "texts from --data take neither task nor series options"
    if unused:
        raise ValueError(f"Expected only options that apply to this run ({reason}). Received: {sorted(unused)}")


def data_spec(args: argparse.Namespace) -> DataSpec | None:
    """The user's data from the options of `add_data_options`, or None without --data."""
    if args.data is None:
        return None
    text = TextSettings(**{name: getattr(args, name) for name in TEXT_OPTIONS}, lower=not args.keep_case)
    given = {name: getattr(args, name) for name in DATA_OPTIONS}
    stream = None
    if (
        getattr(args, "stream", False)
        or getattr(args, "buffer", None)
        or getattr(args, "loader_workers", None) is not None
    ):
        chosen = {"buffer": args.buffer, "workers": args.loader_workers}
        stream = StreamSettings(**{k: v for k, v in chosen.items() if v is not None})
    return DataSpec(args.data, text=text, standardise=not args.no_standardise, stream=stream, **given)


def run_spec(args: argparse.Namespace) -> RunSpec:
    data = data_spec(args)
    refuse_unused(args, data)
    model_options = parse_options(args.model or defaults.preset_for(None if data is None else data.kind), args.set)
    if args.merge_mode is not None:
        model_options["merge_mode"] = args.merge_mode
    return RunSpec(
        task=args.task,
        preset=args.model,
        task_options=task_options(args.task, args.task_set),
        model_options=model_options,
        train=TrainChoices(**{name: getattr(args, name) for name in TRAINING}),
        seed=args.seed,
        train_size=args.train_size,
        test_size=args.test_size,
        data=data,
    )


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume is None:
        out = None if args.out is None else Path(args.out)
        every = args.checkpoint_every
        result = train_run(run_spec(args), out, overwrite=args.overwrite, progress=progress_bar, checkpoint_every=every)
        return 0 if result is None else print_run(result)  # None: a rank other than 0 under torchrun
    given = [option for option in given_options(args) if option != "--resume"]
    if given:
        raise ValueError(f"Expected no other run options with --resume (it continues as saved). Received: {given}")
    return print_run(resume_run(Path(args.resume), progress=progress_bar))


def print_run(result: RunResult) -> int:
    for note in result.notes:
        print(note)
    if result.interrupted:
        done, total = result.updates
        target = target_of(result.directory)
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
    scores, where = evaluate_run(Path(args.run), test_size=args.test_size, seed=args.seed, data=args.data)
    print_scores(scores, f"{args.run}, test ({where})")


def cmd_import_keras(args: argparse.Namespace) -> None:
    from .experiments.interchange import import_keras  # h5py and the Keras mapping load for this command only

    out = None if args.out is None else Path(args.out)
    imported = import_keras(Path(args.model), out, overwrite=args.overwrite)
    answers = "a class per step" if imported.targets == "per-step" else "a class per sequence"
    reads = "token ids" if imported.inputs == "ids" else "values"
    print(
        f"imported {args.model} ({imported.name}: reads {reads}, answers {answers} of "
        f"{' '.join(imported.labels)}, {imported.parameters:,} parameters); saved to {imported.directory}"
    )
    for note in imported.notes:
        print(f"note: {note}")
    run = imported.directory
    print(f"use it: lstmlab predict {run} --input FILE; lstmlab evaluate {run} --data FILE")


def cmd_export(args: argparse.Namespace) -> None:
    out = None if args.out is None else Path(args.out)
    if args.format == "onnx":
        from .experiments.onnx_run import export_onnx_run  # onnx loads for this format only

        written = export_onnx_run(Path(args.run), out, overwrite=args.overwrite)
        print(f"exported {args.run} to {written.path} (ONNX, inputs {', '.join(written.inputs)}; right-padded)")
        beside = [str(written.settings), *([str(written.reader)] if written.reader else [])]
        print(
            f"beside it: {' and '.join(beside)} (what it reads and answers: README, 'Using a trained model elsewhere')"
        )
        return
    from .experiments.interchange import export_keras

    exported = export_keras(Path(args.run), out, overwrite=args.overwrite)
    print(f"exported {args.run} to {exported.path} (Keras 3, a final {exported.activation})")
    for note in exported.notes:
        print(f"note: {note}")


def cmd_serve(args: argparse.Namespace) -> None:
    from .serve import ServeSettings, serve  # fastapi and uvicorn load for this command only

    settings = ServeSettings(
        device=args.device,
        threads=args.threads,
        batching=not args.no_batching,
        max_wait_ms=args.batch_wait_ms,
        max_rows=args.max_batch,
        max_queue=args.max_queue,
        max_body=args.max_body,
    )

    def ready(host: str, port: int) -> None:
        batching = "off" if args.no_batching else f"up to {args.max_batch} inputs within {args.batch_wait_ms} ms"
        print(f"serving {args.run} on http://{host}:{port} (batching {batching}; OpenAPI docs at /docs); Ctrl-C stops")
        sys.stdout.flush()

    serve(Path(args.run), args.host, args.port, settings, ready=ready)


def cmd_predict(args: argparse.Namespace) -> None:
    run = Path(args.run)
    texts = list(args.text) + (read_texts(Path(args.text_file)) if args.text_file else [])
    kind = saved_kind(run)
    others = [option for option in given_options(args) if option in ("--text", "--text-file", "--input")]
    if args.series_file is not None or kind == "series":
        if args.series_file is None:
            received = " and ".join(others) or "none"
            raise ValueError(
                f"Expected --series-file FILE (.ts or .npz) for a run trained on series. Received: {received}"
            )
        series = predict_series(run, args.series_file)
        print("series\tpredicted\tconfidence\tlabel in file")
        for i, (prediction, label) in enumerate(series):
            print(f"{i + 1}\t{prediction.label}\t{prediction.confidence:.3f}\t{label}")
    elif texts or kind == "text":
        if not texts:
            received = " and ".join(others) or "neither"
            raise ValueError(
                f"Expected --text TEXT or --text-file FILE for a run trained on text. Received: {received}"
            )
        for text, answer in zip(texts, predict_texts(run, texts), strict=True):
            print(f"{answer.label}\t{answer.confidence:.3f}\t{text}")
    else:
        print("\n".join(predict_example(run, args.seed) if args.input is None else predict_sequences(run, args.input)))


def cmd_compare(args: argparse.Namespace) -> None:
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


def cmd_tune(args: argparse.Namespace) -> int:
    from .experiments.tune import TuneRequest, tune  # Optuna loads for this command only

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


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line like every other error of lstmlab's (the usage is in --help)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("lstmlab").strip()
        self.exit(2, f"lstmlab: error: {command + ': ' if command else ''}{message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default after its help where argparse holds it; options whose defaults lstmlab resolves
    per run (argparse default None) state them in their own help, from `defaults`."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text, default = action.help or "", action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if "default" in text or unset or not action.option_strings:
            return text
        return f"{text} (default: {default})"


# (flag, type, help) of the options that fill a TrainChoices; None defaults are resolved per run and
# stated from `defaults.describe`
TRAINING_OPTIONS: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    ("--batch-size", positive_int, "examples per update"),
    ("--learning-rate", float, "Adam's step size"),
    ("--clip-norm", float, "clip the gradient norm to this (default: no clipping)"),
    ("--weight-decay", float, "decoupled weight decay, AdamW (default: none, plain Adam)"),
    ("--validation-split", float, "hold out this last share of a fixed training set to keep its best epoch; 0: all"),
    ("--patience", int, "stop after N epochs without a better val_loss (default: train to the end)"),
    ("--ensemble", positive_int, "train K copies from different initial weights; answer with their mean"),
)
TRAINING = (
    "updates",
    "epochs",
    "schedule",
    "precision",
    *(flag[2:].replace("-", "_") for flag, _, _ in TRAINING_OPTIONS),
)
DATA_OPTIONS = ("test_path", "data_format", "text_column", "label_column", "encoding", "test_fraction", "split_seed")
TEXT_OPTIONS = ("level", "max_words", "min_count", "max_len", "truncating", "padding")
TASK_ONLY = {"--task", "--task-set", "--train-size", "--test-size"}
DATA_ONLY = {
    "--test-data",
    "--data-format",
    "--test-fraction",
    "--split-seed",
    "--stream",
    "--buffer",
    "--loader-workers",
}
TEXT_ONLY = {"--text-column", "--label-column", "--encoding", "--text-level", "--keep-case", "--max-words"}
TEXT_ONLY |= {"--min-count", "--max-len", "--truncating", "--padding"}
SERIES_ONLY = {"--no-standardise"}
COMPARE_OPTIONS: tuple[str, ...] = ("seeds", "updates", "learning_rate", "batch_size", "workers", "steps")
COMPARE_OPTIONS += ("keras_go_backwards", "folds", "epochs", "ensemble")


def _with_default(name: str, text: str) -> str:
    return text if "default" in text else f"{text} (default: {defaults.describe(name)})"


def add_train(sub: Any) -> None:
    train = _command(
        sub,
        "train",
        "train a preset on a built-in task or on your data (--data), save the run and print its test scores",
        "A run is written into OUT.partial and renamed to OUT when complete; Ctrl-C stops after the current update "
        "and saves a checkpoint there (continue it with --resume OUT).",
    )
    add = train.add_argument
    data_models = ", ".join(f"{preset} for {kind}" for kind, preset in defaults.DATA_PRESETS.items())
    add("--task", default=RunSpec.task, choices=sorted(TASKS), help="built-in problem")
    add("--model", help=f"a preset of `lstmlab models` (default: {defaults.TASK_PRESET} on a task; {data_models})")
    add("--out", help="run directory to write (default: a new dated directory under runs/)")
    add("--overwrite", action="store_true", help="replace the run in --out once the new one is complete")
    add("--resume", metavar="RUN", help="continue an interrupted run from its checkpoint")
    add(
        "--checkpoint-every",
        type=positive_int,
        metavar="N",
        help="also save a checkpoint every N epochs (online: 100s)",
    )
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--updates", type=positive_int, help=_with_default("updates", "online updates, fresh data"))
    budget.add_argument("--epochs", type=positive_int, help=_with_default("epochs", "epochs over a fixed set"))
    add("--train-size", type=positive_int, help="a task's fixed training set of N examples instead of fresh ones")
    add("--test-size", type=positive_int, default=RunSpec.test_size, help="a task's fresh test examples")
    for flag, kind, explained in TRAINING_OPTIONS:
        add(flag, type=kind, help=_with_default(flag[2:].replace("-", "_"), explained))
    add("--schedule", choices=["constant", "cosine"], help=_with_default("schedule", "learning rate over training"))
    add(
        "--precision",
        choices=list(defaults.PRECISIONS),
        help="mixed precision: the training forward pass under autocast in bf16 or fp16 (weights stay fp32; "
        "default: fp32)",
    )
    add("--merge-mode", choices=["concat", "sum", "mul", "ave"], help="Bi-LSTM merge mode of the preset")
    add("--seed", type=int, default=RunSpec.seed, help="one seed for weights, data, dropout and split")
    add("--set", action="append", default=[], metavar="KEY=VALUE", help="change a model config field")
    add("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    add_data_options(train)
    streaming = train.add_argument_group("texts larger than memory").add_argument
    defaults_ = StreamSettings()
    streaming(
        "--stream",
        action="store_true",
        help="stream a CSV / TSV / JSONL / tab-lines file: one pass builds the vocabulary, then each epoch reads it "
        "in shards, in length-sorted batches (default: on above 1 GiB of text)",
    )
    streaming(
        "--buffer", type=positive_int, help=f"records a loader holds and sorts by length (default: {defaults_.buffer})"
    )
    streaming(
        "--loader-workers",
        type=int,
        help=f"processes preparing the batches; 0: the training process (default: {defaults_.workers})",
    )
    train.set_defaults(handler=cmd_train)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """--data and the options describing it, as `train` takes them (read back by `data_spec`)."""
    data = parser.add_argument_group("your own labelled texts or series (instead of --task)").add_argument
    spec, text = DataSpec(""), TextSettings()
    data(
        "--data",
        help="texts: CSV / TSV / JSONL file, folder of class folders or class files, or uci:amazon | uci:imdb | "
        "uci:yelp (sentence sets shipped with lstmlab); series: a .ts or .npz file or aeon:NAME (a UCR/UEA set "
        "bundled with aeon, its own TRAIN/TEST split)",
    )
    data("--test-data", dest="test_path", metavar="TEST_DATA", help="test examples (default: a stratified split)")
    data("--data-format", choices=TEXT_FORMATS + SERIES_FORMATS, help="(default: guessed from the path)")
    data("--no-standardise", action="store_true", help="series: keep raw values, not standardised per channel")
    data("--text-column", default=spec.text_column, help="text column of a table")
    data("--label-column", default=spec.label_column, help="label column of a table")
    data("--encoding", default=spec.encoding, help="text encoding of the files")
    data("--test-fraction", type=float, default=spec.test_fraction, help="held-out share of each class")
    data("--split-seed", type=int, help="seed of the split (default: --seed)")
    data("--text-level", dest="level", default=text.level, choices=["word", "char"], help="tokens")
    data("--keep-case", action="store_true", help="do not lower-case the texts")
    data("--max-words", type=positive_int, default=text.max_words, help="vocabulary ids incl. padding and OOV")
    data("--min-count", type=positive_int, default=text.min_count, help="rarer training tokens become OOV")
    data("--max-len", type=positive_int, help="tokens per text (default: 95th percentile of training)")
    data("--truncating", default=text.truncating, choices=["pre", "post"], help="cut long texts")
    data("--padding", default=text.padding, choices=["pre", "post"], help="pad short texts")


def add_compare(sub: Any) -> None:
    compare_parser = _command(sub, "compare", "train several seeds of several models and report which is better")
    add = compare_parser.add_argument
    stacked = CompareSpec()
    add(
        "comparison",
        choices=KINDS,
        help="directions / merge-modes: the tutorial's models trained together; models M1 M2 ...: any presets on "
        "one task; archetypes: the Q&A's five models, each on the data it is meant for",
    )
    add("models", nargs="*", metavar="MODEL", help="with `models`: PRESET or PRESET:KEY=VALUE,KEY=VALUE")
    sweep = f"{SweepSpec.seeds} for models, archetypes"
    add("--seeds", type=positive_int, help=f"runs per model (default: {stacked.seeds}; {sweep})")
    updates = f"updates per run (default: {stacked.updates}; for models the task's: {defaults.describe('updates')})"
    add("--updates", type=positive_int, help=updates)
    add("--learning-rate", type=float, help=f"Adam's step size (default: {stacked.learning_rate:g}; the task's)")
    add("--steps", type=positive_int, default=stacked.steps, help="sequence length of directions / merge-modes")
    add("--task", choices=sorted(TASKS), help=f"with `models` (default: {RunSpec.task})")
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
    add("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    add("--out", help="output directory (default: a new dated directory under comparisons/)")
    add("--overwrite", action="store_true", help="replace the comparison in --out once the new one is complete")
    on_data = compare_parser.add_argument_group(
        "models on your data (--data): the same splits for every model and baseline; --seeds N repeated stratified "
        "splits (default 5; aeon: and --test-data: their own split, seeds varying the initial weights)"
    ).add_argument
    on_data("--folds", type=int, help="stratified k-fold instead: each example in one test set")
    on_data("--no-baselines", action="store_true", help="leave out the classical baselines of the data's kind")
    on_data("--epochs", type=positive_int, help=_with_default("epochs", "epochs over each training split"))
    on_data("--ensemble", type=positive_int, help="train K copies of each model (default: as `train` would)")
    add_data_options(compare_parser)
    compare_parser.set_defaults(handler=cmd_compare)


def add_tune(sub: Any) -> None:
    tuner = _command(
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
    add("--task", default=RunSpec.task, choices=sorted(TASKS), help="built-in problem")
    add(
        "--space",
        action="append",
        default=[],
        metavar="NAME=KIND:...",
        help="replace or add a searched setting: NAME=log:LOW:HIGH, float:LOW:HIGH, int:LOW:HIGH or cat:A,B "
        "(default: a range per preset, e.g. learning_rate=log:1e-4:1e-2, units=cat:10,20,40, batch_size=cat:1,8,32)",
    )
    budget = tuner.add_mutually_exclusive_group()
    budget.add_argument("--updates", type=positive_int, help=_with_default("updates", "online updates per trial"))
    budget.add_argument("--epochs", type=positive_int, help=_with_default("epochs", "epochs per trial"))
    add("--storage", help="a database URL Optuna supports, e.g. postgresql://user:pass@host/db (default: OUT/study.db)")
    add("--study", help="the study's name in the storage (default: PRESET-TASK or PRESET-DATA)")
    add("--workers", type=positive_int, default=1, help="local processes sharing the trials")
    add("--seed", type=int, default=RunSpec.seed, help="every trial's seed (weights, data, split) and the sampler's")
    add("--out", help="directory of the study's files and best run (default: tune/STUDY)")
    add("--overwrite", action="store_true", help="replace the best run in OUT/best")
    add("--verbose", action="store_true", help="Optuna's log line for every trial")
    add_data_options(tuner)
    tuner.set_defaults(handler=cmd_tune)


def add_interchange(sub: Any) -> None:
    imports = _command(
        sub,
        "import-keras",
        "make a run directory from a saved Keras classifier (.keras or .h5), for predict and evaluate",
        "The file is read with h5py and its JSON config; nothing in it is run. A layer or option lstmlab cannot "
        "import is named in one line.",
    )
    imports.add_argument("model", metavar="MODEL", help="a Keras 3 .keras archive or a Keras 2 .h5 file")
    imports.add_argument("--out", help="run directory to write (default: a new dated directory under runs/)")
    imports.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    imports.set_defaults(handler=cmd_import_keras)
    export = _command(
        sub, "export", "write a run's model in another format: a .keras file Keras 3 loads, or an exact ONNX graph"
    )
    export.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    export.add_argument("--format", required=True, choices=["keras", "onnx"], help="the format to write")
    export.add_argument("--out", help="the file to write (default: RUN/model.keras or RUN/model.onnx)")
    export.add_argument("--overwrite", action="store_true", help="replace the file at --out")
    export.set_defaults(handler=cmd_export)
    served = _command(sub, "serve", "answer predictions over HTTP (JSON): POST /predict, POST /stream, GET /docs")
    served.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    served.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    served.add_argument("--port", type=int, default=8000, help="the port (0: any free one, printed)")
    served.add_argument("--device", default="cpu", help="where the model runs: cpu, cuda, cuda:1, ...")
    served.add_argument(
        "--threads", type=positive_int, default=1, help="the model's CPU threads (1: the other cores serve requests)"
    )
    served.add_argument("--no-batching", action="store_true", help="answer each request alone")
    served.add_argument("--batch-wait-ms", type=float, default=2.0, help="how long a batch waits for more requests")
    served.add_argument("--max-batch", type=positive_int, default=256, help="inputs in one batch at most")
    served.add_argument("--max-queue", type=positive_int, default=256, help="waiting requests at most (then 503)")
    served.add_argument("--max-body", type=positive_int, default=1_000_000, help="bytes in a request body at most")
    served.set_defaults(handler=cmd_serve)


def _command(sub: Any, name: str, text: str, more: str = "") -> argparse.ArgumentParser:
    description = f"{text[0].upper()}{text[1:]}. {more}".strip()
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=description, formatter_class=HelpFormatter
    )
    return parser


def make_parser() -> argparse.ArgumentParser:
    description = "LSTM and Bi-LSTM sequence classification on PyTorch."
    parser = Parser(prog="lstmlab", description=description, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"lstmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _command(sub, "models", "list the model zoo's presets, one line each").set_defaults(handler=cmd_models)
    summary = _command(sub, "summary", "print a preset's layers, output shapes and parameter counts, as Keras does")
    summary.add_argument("preset", help="a name from `lstmlab models`")
    summary.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a config field")
    summary.set_defaults(handler=cmd_summary)
    shown = _command(sub, "demo", "build presets and run a batch through their fused and reference paths")
    shown.add_argument("presets", nargs="*", help="preset names (all when none are given)")
    shown.add_argument("--batch", type=positive_int, default=4, help="rows in the generated batch")
    shown.add_argument("--seed", type=int, default=0, help="seed for the weights and the generated batch")
    shown.set_defaults(handler=cmd_demo)
    add_train(sub)
    add_compare(sub)
    add_tune(sub)
    report = _command(sub, "report", "redraw a comparison's summary, curves and report from its CSV files")
    report.add_argument("directory", help="a directory written by `lstmlab compare`")
    report.add_argument("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    report.set_defaults(handler=cmd_report)
    evaluate = _command(
        sub, "evaluate", "score a saved run on its test set: a task's fresh examples, or its data's test split"
    )
    evaluate.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    evaluate.add_argument("--test-size", type=positive_int, help="task runs: score this many fresh examples instead")
    evaluate.add_argument("--seed", type=int, help="task runs: draw the test examples with this seed")
    evaluate.add_argument(
        "--data",
        type=Path,
        help="task runs and imported models: score labelled sequences instead, an .npz of arrays x and y (class ids) "
        "or lines 'LABEL, values...'",
    )
    evaluate.set_defaults(handler=cmd_evaluate)
    predict = _command(
        sub,
        "predict",
        "predict with a saved run: texts (--text, --text-file), series (--series-file), sequences (--input), or a "
        "fresh example of its task step by step",
    )
    predict.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    predict.add_argument(
        "--input", type=Path, help="sequences: one a line (numbers or token ids), or an .npz of arrays x [, lengths]"
    )
    predict.add_argument("--seed", type=int, default=1, help="seed of the fresh example shown without --input")
    predict.add_argument("--text", action="append", default=[], help="a raw text, for runs trained on text")
    predict.add_argument("--text-file", help="raw texts, one a line, for runs trained on text")
    predict.add_argument("--series-file", help="series (.ts or .npz), for runs trained on series")
    predict.set_defaults(handler=cmd_predict)
    add_interchange(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input, 130 when
    interrupted)."""
    parser = make_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(tokens)
    args.argv = tokens
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
        print("lstmlab: interrupted (a checkpoint is kept only where one was saved before)", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
