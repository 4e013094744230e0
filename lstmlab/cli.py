"""Command line: models, summary, demo, train, evaluate, predict. Parses options and calls the library."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .data.loaders import TEXT_FORMATS, lines, read_text
from .data.series import SERIES_FORMATS, is_aeon, load_series
from .data.text import TextSettings
from .experiments.compare import COMPARISONS, CompareSpec, run_comparison
from .experiments.datasets import DataSpec
from .experiments.report import write_report
from .experiments.runs import read_config
from .experiments.sweep import ARCHETYPES, Group, SweepSpec, parse_model, run_sweep
from .experiments.tasks import TASKS, parse_task_option
from .experiments.training import (
    DEFAULT_PRESETS,
    RunSpec,
    evaluate_run,
    is_data_run,
    load_run,
    piece_steps,
    predict_run,
    predict_series,
    predict_texts,
    train_run,
)
from .layers import Embedding
from .models import PRESETS, Sequential, build_model, ensemble_size, parse_options
from .progress import progress_bar
from .training import Scores, SequenceData, classes_from_probabilities

__all__ = ["main"]


def cmd_models(args: argparse.Namespace) -> None:
    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name.ljust(width)}  {preset.description}")


def cmd_summary(args: argparse.Namespace) -> None:
    build_model(args.preset, **parse_options(args.preset, args.set)).summary()


def sample_batch(model: Sequential, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A generated input batch for `model`, right-padded with variable lengths where the model reads sequences."""
    gen = torch.Generator().manual_seed(seed)
    batch = model.batch_size or batch
    steps = model.input_shape[0] or 10
    lengths = torch.randint(1, steps + 1, (batch,), generator=gen)
    lengths[0] = steps
    first = model.layers[0]
    if isinstance(first, Embedding):
        if first.input_dim < 2:
            raise ValueError(f"Expected a vocabulary of at least 2 ids (0 is padding). Received: {first.input_dim}")
        ids = torch.randint(1, first.input_dim, (batch, steps), generator=gen)
        return ids.masked_fill(torch.arange(steps) >= lengths[:, None], 0), None  # lengths come from padding id 0
    features = model.input_shape[1:]
    x = torch.rand((batch, steps, *(f or 1 for f in features)), generator=gen)
    return x, lengths


def cmd_demo(args: argparse.Namespace) -> None:
    names = args.presets or list(PRESETS)
    for name in names:
        fused = build_model(name, impl="fused").eval()
        reference = build_model(name, impl="reference").eval()
        reference.load_state_dict(fused.state_dict())
        fused.summary()
        x, lengths = sample_batch(fused, args.batch, args.seed)
        with torch.no_grad():
            y_fused, y_reference = fused(x, lengths), reference(x, lengths)
        diff = (y_fused - y_reference).abs().max().item()
        lens = "from padding id 0" if lengths is None else lengths.tolist()
        print(
            f"forward pass: input {tuple(x.shape)}, lengths {lens} -> logits {tuple(y_fused.shape)}, "
            f"max |fused - reference| = {diff:.1e}\n"
        )


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
        split_seed=args.seed if args.split_seed is None else args.split_seed,
        text=settings,
        standardise=not args.no_standardise,
    )


def cmd_train(args: argparse.Namespace) -> None:
    data = data_spec(args) if args.data is not None else None
    if data is None and args.test_data is not None:
        raise ValueError(f"Expected --test-data with --data. Received: --test-data {args.test_data} alone")
    if args.model is None:
        args.model = DEFAULT_PRESETS[data.kind] if data is not None else "tutorial-bilstm"
        if data is not None:
            kind = "token sequences (text)" if data.kind == "text" else "numeric series"
            print(f"model: {args.model} (the default for {kind}; --model to choose another)")
    model_options = parse_options(args.model, args.set)
    if args.merge_mode is not None:
        model_options["merge_mode"] = args.merge_mode
    train: dict[str, Any] = {"seed": args.seed}
    names = (
        "updates",
        "epochs",
        "batch_size",
        "learning_rate",
        "clip_norm",
        "weight_decay",
        "schedule",
        "validation_split",
    )
    for name in names:
        if getattr(args, name) is not None:
            train[name] = getattr(args, name)
    spec = RunSpec(
        task=args.task,
        preset=args.model,
        task_options=parse_options(args.task, args.task_set, parse=parse_task_option, usage="--task-set KEY=VALUE"),
        model_options=model_options,
        train=train,
        train_size=args.train_size,
        test_size=args.test_size,
        patience=args.patience,
        data=data,
        ensemble=args.ensemble,
    )
    model, scores, history = train_run(spec, Path(args.out), progress=progress_bar)
    members = ensemble_size(model)
    what = args.model if members == 1 else f"an ensemble of {members} {args.model}"
    if data is not None:
        saved = read_config(Path(args.out))
        trained, size = saved["train"], saved["data"]["train_size"]
        kept = (
            f"the best epoch by val_loss on the last {trained['validation_split']:.0%} of {size} kept"
            if trained["validation_split"] > 0
            else f"all {size} training examples, the last epoch kept"
        )
        source = f"{data.path} ({len(history.epochs)} epochs, {trained['schedule']} learning rate, {kept})"
        if members > 1:
            what += " (--ensemble to change)"
        print(f"trained {what} on {source}; saved to {args.out}")
        where = data.test_path or f"a stratified {data.test_fraction:.0%} split, seed {data.split_seed}"
        if data.aeon:
            where = "the archive's TEST split"
        print_scores(scores, f"test ({where})")
        return
    stopped = f" ({len(history.epochs)} epochs)" if spec.train_size else ""
    print(f"trained {what} on {args.task}{stopped}; saved to {args.out}")
    print_scores(scores, f"test ({spec.test_size} fresh examples)")


def print_scores(scores: Scores, label: str) -> None:
    print(f"{label}: loss {scores.loss:.4f}, accuracy {scores.accuracy:.4f} over {scores.count} scored items")
    if scores.confusion is not None:
        assert scores.precision is not None
        assert scores.recall is not None
        assert scores.f1 is not None
        print("class  precision  recall  f1")
        for k, (p, r, f) in enumerate(zip(scores.precision, scores.recall, scores.f1, strict=True)):
            print(f"{k:>5}  {p:9.3f}  {r:6.3f}  {f:.3f}")
        print("confusion (rows: true, columns: predicted):")
        for row in scores.confusion:
            print("  " + " ".join(f"{v:5d}" for v in row))


def cmd_evaluate(args: argparse.Namespace) -> None:
    scores = evaluate_run(Path(args.run), test_size=args.test_size, seed=args.seed)
    print_scores(scores, f"{args.run}")


def read_sequences(path: Path, tokens: bool) -> list[list[float]]:
    """One sequence a line: numbers separated by commas or spaces (token ids for token models)."""
    if not path.is_file():
        raise ValueError(f"Expected an input file of sequences, one a line. Received: {path} does not exist")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.replace(",", " ").split()]
        except ValueError:
            kind = "token ids" if tokens else "numbers"
            raise ValueError(
                f"Expected {kind} separated by commas or spaces in {path}:{number}. Received: {line!r}"
            ) from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"Expected finite numbers in {path}:{number}. Received: {line!r}")
        if tokens and any(v != int(v) or not 0 <= v < 2**62 for v in values):
            raise ValueError(f"Expected non-negative integer token ids in {path}:{number}. Received: {line!r}")
        rows.append(values)
    if not rows:
        raise ValueError(f"Expected at least one sequence in {path}. Received: an empty file")
    return rows


def input_data(rows: list[list[float]], model: Sequential, tokens: bool, per_step: bool) -> SequenceData:
    """Right-pad the rows to the model's input length (or the longest row) with their lengths.

    A model that reads in pieces (stateful) takes rows of one length, a multiple of its piece, unpadded.
    """
    pieces = piece_steps(model)
    if pieces is not None and (len({len(r) for r in rows}) > 1 or len(rows[0]) % pieces):
        raise ValueError(
            f"Expected sequences of one length, a multiple of {pieces}, for a stateful model. "
            f"Received: lengths {sorted({len(r) for r in rows})}"
        )
    steps = max(map(len, rows)) if pieces is not None else model.input_shape[0] or max(map(len, rows))
    too_long = [i for i, row in enumerate(rows, start=1) if len(row) > steps]
    if too_long:
        raise ValueError(
            f"Expected at most {steps} values a line (the model's input length). Received: line {too_long[0]}"
        )
    lengths = torch.tensor([len(row) for row in rows])
    x = torch.zeros(len(rows), steps, dtype=torch.long if tokens else torch.float32)
    for i, row in enumerate(rows):
        x[i, : len(row)] = torch.tensor(row, dtype=x.dtype)
    if not tokens:
        x = x.unsqueeze(-1)
    placeholder = torch.zeros(x.shape[:2] if per_step else x.shape[:1], dtype=torch.long)  # targets are unknown
    return SequenceData(x, placeholder, None if bool((lengths == steps).all()) else lengths)


def read_texts(path: Path) -> list[str]:
    if not path.is_file():
        raise ValueError(f"Expected a file of texts, one a line. Received: {path} does not exist")
    texts = [line for line in lines(read_text(path)) if line.strip()]
    if not texts:
        raise ValueError(f"Expected at least one text in {path}. Received: an empty file")
    return texts


def _confidence(p: torch.Tensor) -> float:
    return float(p.max()) if p.shape[0] > 1 else max(float(p[0]), 1 - float(p[0]))


def cmd_predict(args: argparse.Namespace) -> None:
    run = Path(args.run)
    texts = list(args.text) + (read_texts(Path(args.text_file)) if args.text_file else [])
    kind = is_data_run(run)
    if args.series_file is not None or kind == "series":
        if args.series_file is None:
            raise ValueError("Expected --series-file FILE (.ts or .npz) for a run trained on series. Received: none")
        if is_aeon(args.series_file):
            raise ValueError(
                f"Expected a .ts or .npz file for --series-file. Received: {args.series_file} (lstmlab evaluate scores "
                "a run on its archive's TEST split)"
            )
        series = load_series(args.series_file, labelled=False)
        labels, probabilities = predict_series(run, series.values, series.source)
        print("series\tpredicted\tconfidence\tlabel in file")
        for i, (label, p) in enumerate(zip(labels, probabilities, strict=True)):
            print(f"{i + 1}\t{label}\t{_confidence(p):.3f}\t{series.labels[i]}")
        return
    if texts or kind == "text":
        if not texts:
            raise ValueError("Expected --text TEXT or --text-file FILE for a run trained on text. Received: neither")
        labels, probabilities = predict_texts(run, texts)
        for text, label, p in zip(texts, labels, probabilities, strict=True):
            print(f"{label}\t{_confidence(p):.3f}\t{text}")
        return
    model, task, task_conf, _ = load_run(run)
    tokens = task.inputs == "tokens"
    if args.input is None:  # the tutorial's check: a fresh sequence, step by step
        data = task.sample(task_conf, 1, torch.Generator().manual_seed(args.seed))
        probabilities = predict_run(model, data)[0]
        show_example(data, probabilities, tokens)
        return
    data = input_data(read_sequences(Path(args.input), tokens), model, tokens, task.targets == "per-step")
    probabilities = predict_run(model, data)
    for row, p in enumerate(probabilities):
        n = int(data.lengths[row]) if data.lengths is not None else p.shape[0]
        classes = classes_from_probabilities(p[:n] if task.targets == "per-step" else p)
        print(" ".join(map(str, classes.tolist())) if classes.dim() else f"{int(classes)} (p={float(p.max()):.3f})")


def show_example(data: SequenceData, probabilities: torch.Tensor, tokens: bool) -> None:
    if data.per_step:
        n = int(data.lengths[0]) if data.lengths is not None else data.x.shape[1]
        predicted = classes_from_probabilities(probabilities)
        for t in range(n):
            print(f"x={float(data.x[0, t, 0]):.2f}  Expected: {int(data.y[0, t])}  Predicted: {int(predicted[t])}")
        return
    n = int(data.lengths[0]) if data.lengths is not None else data.x.shape[1]
    shown = (
        " ".join(str(int(v)) for v in data.x[0, :n])
        if tokens
        else " ".join(f"{float(v):.2f}" for v in data.x[0, :n, 0])
    )
    print(shown)
    chosen = int(classes_from_probabilities(probabilities))
    print(f"Expected: {int(data.y[0])}  Predicted: {chosen} (p={float(probabilities.max()):.3f})")


def cmd_compare(args: argparse.Namespace) -> None:
    out = Path(args.out or f"comparisons/{args.comparison}")
    if args.comparison in COMPARISONS:
        unused = [name for name in ("task", "batch_size", "workers") if getattr(args, name) is not None]
        if args.models or unused or args.task_set:
            given = args.models or [f"--{n.replace('_', '-')}" for n in unused] or ["--task-set"]
            raise ValueError(
                f"Expected no models, --task, --task-set, --batch-size or --workers with {args.comparison}: it "
                f"compares fixed tutorial models on cumsum. Received: {' '.join(given)}"
            )
        spec = CompareSpec(
            comparison=args.comparison,
            seeds=args.seeds or 10,
            updates=args.updates or 250,
            learning_rate=args.learning_rate or 3e-3,
            steps=args.steps,
            keras_go_backwards=args.keras_go_backwards,
        )
        runs = run_comparison(spec, out)
        print(f"{runs['runs']} runs trained together in {runs['training_seconds']:.1f} s")
    else:
        if args.keras_go_backwards:
            raise ValueError(f"Expected --keras-go-backwards with directions. Received: {args.comparison}")
        if args.comparison == "models":
            if len(args.models) < 2:
                raise ValueError(f"Expected at least two models to compare. Received: {args.models}")
            task = args.task or "cumsum"
            task_options = parse_options(task, args.task_set, parse=parse_task_option, usage="--task-set KEY=VALUE")
            chosen = tuple(parse_model(text) for text in args.models)
            groups: tuple[Group, ...] = (Group(f"task {task}", task, chosen, task_options),)
        else:
            if args.models or args.task or args.task_set:
                raise ValueError(
                    "Expected no models, --task or --task-set with archetypes: it picks a task per model. "
                    f"Received: {' '.join(args.models) or '--task'}"
                )
            groups = ARCHETYPES
        spec_sweep = SweepSpec(
            args.comparison,
            groups,
            seeds=args.seeds or 5,
            updates=args.updates,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            workers=args.workers or 0,
        )
        total = spec_sweep.seeds * sum(len(g.models) for g in groups)
        with progress_bar(total, "runs") as advance:
            runs = run_sweep(spec_sweep, out, advance=advance)
        print(f"{runs['runs']} runs in {runs['training_seconds']:.1f} s ({runs['spec']['workers']} at a time)")
    report = write_report(out, smooth=args.smooth)
    text = report.read_text()
    section = "## Which model when" if "## Which model when" in text else "Conclusions"
    print(text.split(section, 1)[1].split("![")[0].strip())
    print(f"report: {report}, curves: {out / 'curves.png'}, data: {out / 'results.csv'}")


def cmd_report(args: argparse.Namespace) -> None:
    print(f"report: {write_report(Path(args.directory), smooth=args.smooth)}")


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmlab",
        description="LSTM and Bi-LSTM sequence classification on PyTorch.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = sub.add_parser("models", help="list the model zoo's presets, one line each")
    models.set_defaults(handler=cmd_models)
    summary = sub.add_parser(
        "summary",
        help="print a preset's layers, output shapes and parameter counts (as Keras's model.summary())",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    summary.add_argument("preset", help="a name from `lstmlab models`")
    summary.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="change a config field, e.g. units=64"
    )
    summary.set_defaults(handler=cmd_summary)
    demo = sub.add_parser(
        "demo",
        help="build presets, print their summaries and run a forward pass through the fused and reference paths",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("presets", nargs="*", help="preset names (default: all)")
    demo.add_argument("--batch", type=positive_int, default=4, help="rows in the generated batch")
    demo.add_argument("--seed", type=int, default=0, help="seed for the weights and the generated batch")
    demo.set_defaults(handler=cmd_demo)
    add_train(sub)
    compare = sub.add_parser(
        "compare",
        help="train several seeds of several models together and report which is better, with plots",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    compare.add_argument(
        "comparison",
        choices=[*COMPARISONS, "models", "archetypes"],
        help="directions / merge-modes: the tutorial's models trained together; models M1 M2 ...: any presets on "
        "one task; archetypes: the Q&A's five models, each on the data it is meant for",
    )
    compare.add_argument(
        "models", nargs="*", metavar="MODEL", help="with `models`: PRESET or PRESET:KEY=VALUE,KEY=VALUE"
    )
    compare.add_argument(
        "--seeds", type=positive_int, default=None, help="runs per model (default: 10; 5 for models, archetypes)"
    )
    compare.add_argument(
        "--updates", type=positive_int, default=None, help="updates per run (default: 250; the task's for models)"
    )
    compare.add_argument(
        "--learning-rate", type=float, default=None, help="Adam step size (default: 3e-3; the task's for models)"
    )
    compare.add_argument(
        "--steps", type=positive_int, default=10, help="sequence length of directions / merge-modes' cumsum"
    )
    compare.add_argument("--task", default=None, choices=sorted(TASKS), help="with `models` (default: cumsum)")
    compare.add_argument("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    compare.add_argument("--batch-size", type=positive_int, default=None, help="examples per update (default: task)")
    compare.add_argument(
        "--workers", type=positive_int, default=None, help="processes for models / archetypes (default: one per core)"
    )
    compare.add_argument(
        "--keras-go-backwards", action="store_true", help="also the backward model with Keras's reversed outputs"
    )
    compare.add_argument("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    compare.add_argument("--out", default=None, help="output directory (default: comparisons/COMPARISON)")
    compare.set_defaults(handler=cmd_compare)
    report = sub.add_parser(
        "report",
        help="redraw a comparison's summary, curves and report from its CSV files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    report.add_argument("directory", help="a directory written by `lstmlab compare`")
    report.add_argument("--smooth", type=positive_int, default=10, help="moving average over updates in the plot")
    report.set_defaults(handler=cmd_report)
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved run on a fresh test set of its task",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    evaluate.add_argument("run", help="a run directory written by `lstmlab train`")
    evaluate.add_argument("--test-size", type=positive_int, default=None, help="examples (default: the run's)")
    evaluate.add_argument("--seed", type=int, default=None, help="test-set seed (default: the run's own test set)")
    evaluate.set_defaults(handler=cmd_evaluate)
    predict = sub.add_parser(
        "predict",
        help="predict with a saved run: a fresh example step by step, or the sequences of a file",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    predict.add_argument("run", help="a run directory written by `lstmlab train`")
    predict.add_argument("--input", default=None, help="a file with one sequence a line (numbers or token ids)")
    predict.add_argument("--seed", type=int, default=1, help="seed of the fresh example shown without --input")
    predict.add_argument("--text", action="append", default=[], help="a raw text, for runs trained on text")
    predict.add_argument("--text-file", default=None, help="raw texts, one a line, for runs trained on text")
    predict.add_argument("--series-file", default=None, help="series (.ts or .npz), for runs trained on series")
    predict.set_defaults(handler=cmd_predict)
    return parser


def add_train(sub: Any) -> None:
    train = sub.add_parser(
        "train",
        help="train a preset on a built-in task, save the run directory and print test metrics",
        description="Defaults marked 'task' come from the task: cumsum trains as the tutorial does "
        "(1000 online updates of one sequence, learning rate 3e-3).",
    )
    train.add_argument("--task", default="cumsum", choices=sorted(TASKS), help="built-in problem (default: cumsum)")
    train.add_argument(
        "--model",
        default=None,
        help="a preset from `lstmlab models` (default: tutorial-bilstm on a task; with --data text-bilstm-pool "
        "for text, series-lstm-fcn for series)",
    )
    train.add_argument("--out", default="runs/latest", help="run directory to write (default: runs/latest)")
    budget = train.add_mutually_exclusive_group()
    budget.add_argument(
        "--updates", type=positive_int, default=None, help="online updates, each on fresh examples (default: task)"
    )
    budget.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="epochs over a fixed training set (default: 10 with --train-size; with --data 10 for texts, 20 for "
        "fewer than 2000, 100 for series-lstm-fcn, 150 for series-bilstm)",
    )
    train.add_argument(
        "--train-size",
        type=positive_int,
        default=None,
        help="a fixed set of N examples, 10%% held out for validation, best epoch kept (default: online)",
    )
    train.add_argument("--test-size", type=positive_int, default=200, help="fresh test examples (default: 200)")
    train.add_argument("--batch-size", type=positive_int, default=None, help="examples per update (default: task)")
    train.add_argument("--learning-rate", type=float, default=None, help="Adam step size (default: task)")
    train.add_argument(
        "--clip-norm", type=float, default=None, help="clip the gradient norm to this (default: no clipping)"
    )
    train.add_argument(
        "--weight-decay", type=float, default=None, help="decoupled weight decay, AdamW (default: none, plain Adam)"
    )
    train.add_argument(
        "--validation-split",
        type=float,
        default=None,
        help="hold out this last share of a fixed training set to pick the best epoch; 0: train on all, keep the "
        "last epoch (default: 0.1 for tasks and texts, 0 for series and for fewer than 2000 training texts)",
    )
    train.add_argument(
        "--schedule",
        default=None,
        choices=["constant", "cosine"],
        help="learning rate over training: constant, or cosine decay to 0 at the last update (default: cosine for "
        "series and for fewer than 2000 training texts, else constant)",
    )
    train.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop after N epochs without a better val_loss and keep the best weights (with --train-size)",
    )
    train.add_argument(
        "--merge-mode",
        default=None,
        choices=["concat", "sum", "mul", "ave"],
        help="Bi-LSTM merge mode (default: the preset's)",
    )
    train.add_argument(
        "--ensemble",
        type=positive_int,
        default=None,
        help="train K copies of the model side by side from different initial weights; the run answers with the "
        "mean of their probabilities (default: 5 for fewer than 2000 training texts, else 1)",
    )
    train.add_argument("--seed", type=int, default=0, help="one seed for weights, data and dropout (default: 0)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a model config field")
    train.add_argument("--task-set", action="append", default=[], metavar="KEY=VALUE", help="change a task field")
    data = train.add_argument_group("your own labelled texts or series (instead of --task)")
    data.add_argument(
        "--data",
        default=None,
        help="texts: CSV / TSV / JSONL file, folder of class folders or class files; series: a .ts or .npz file "
        "or aeon:NAME (a UCR/UEA set bundled with aeon, its own TRAIN/TEST split)",
    )
    data.add_argument("--test-data", default=None, help="test examples (default: a stratified split of --data)")
    data.add_argument(
        "--data-format", default=None, choices=TEXT_FORMATS + SERIES_FORMATS, help="(default: guessed from the path)"
    )
    data.add_argument(
        "--no-standardise",
        action="store_true",
        help="series: keep raw values (default: per-channel standardisation; with --model series-bilstm, its input "
        "noise=0.3 is in standard deviations, so rescale it with --set noise=...)",
    )
    data.add_argument("--text-column", default="text", help="text column of a table (default: text)")
    data.add_argument("--label-column", default="label", help="label column of a table (default: label)")
    data.add_argument("--encoding", default="utf-8", help="text encoding of the files (default: utf-8)")
    data.add_argument("--test-fraction", type=float, default=0.1, help="held-out share per class (default: 0.1)")
    data.add_argument("--split-seed", type=int, default=None, help="seed of the split (default: --seed)")
    data.add_argument("--text-level", default="word", choices=["word", "char"], help="tokens (default: word)")
    data.add_argument("--keep-case", action="store_true", help="do not lower-case the texts")
    data.add_argument(
        "--max-words", type=positive_int, default=20000, help="vocabulary ids incl. padding and OOV (default: 20000)"
    )
    data.add_argument("--min-count", type=positive_int, default=1, help="rarer training tokens become OOV (default: 1)")
    data.add_argument(
        "--max-len", type=positive_int, default=None, help="tokens per text (default: 95th percentile of training)"
    )
    data.add_argument("--truncating", default="post", choices=["pre", "post"], help="cut long texts (default: post)")
    data.add_argument("--padding", default="post", choices=["pre", "post"], help="pad short texts (default: post)")
    train.set_defaults(handler=cmd_train)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input)."""
    args = make_parser().parse_args(argv)
    try:
        if getattr(args, "seed", None) is not None:
            torch.manual_seed(args.seed)
        args.handler(args)
    except BrokenPipeError:  # output piped into a reader that stopped (`| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as error:
        print(f"lstmlab: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
