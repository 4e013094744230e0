"""The commands of one run: `models`, `summary`, `demo`, `train`, `evaluate` and `predict`.

Each handler imports the library function it calls (PyTorch comes with it); the parsers read only settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data import StreamSettings
from ..runs import RunSpec, defaults
from .options import (
    TRAINING,
    TRAINING_OPTIONS,
    add_data_options,
    command,
    data_spec,
    given_options,
    positive_int,
    refuse_unused,
    task_options,
    with_default,
)

if TYPE_CHECKING:
    from ..runs import RunResult
    from ..training import Scores

__all__ = ["add_evaluate", "add_predict", "add_preset_commands", "add_train", "print_run", "run_spec"]


def cmd_models(args: argparse.Namespace) -> None:
    from ..models import PRESETS

    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name.ljust(width)}  {preset.description}")


def cmd_summary(args: argparse.Namespace) -> None:
    from ..models import build_model, parse_options

    build_model(args.preset, **parse_options(args.preset, args.set)).summary()


def cmd_demo(args: argparse.Namespace) -> None:
    from ..models import PRESETS, demo

    for summary, line in demo(args.presets or list(PRESETS), batch=args.batch, seed=args.seed):
        print(summary)
        print(line + "\n")


def run_spec(args: argparse.Namespace) -> RunSpec:
    from ..models import parse_options
    from ..runs import TrainChoices

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
    from ..progress import progress_bar
    from ..runs import resume_run, train_run

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
    from ..runs import target_of

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
    from ..runs import evaluate_run

    scores, where = evaluate_run(Path(args.run), test_size=args.test_size, seed=args.seed, data=args.data)
    print_scores(scores, f"{args.run}, test ({where})")


def cmd_predict(args: argparse.Namespace) -> None:
    from ..data import read_texts
    from ..runs import predict_example, predict_sequences, predict_series, predict_texts, saved_kind

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


def add_train(sub: Any) -> None:
    train = command(
        sub,
        "train",
        "train a preset on a built-in task or on your data (--data), save the run and print its test scores",
        "A run is written into OUT.partial and renamed to OUT when complete; Ctrl-C stops after the current update "
        "and saves a checkpoint there (continue it with --resume OUT).",
    )
    add = train.add_argument
    data_models = ", ".join(f"{preset} for {kind}" for kind, preset in defaults.DATA_PRESETS.items())
    add("--task", default=RunSpec.task, choices=sorted(defaults.TASK_TRAINING), help="built-in problem")
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
    budget.add_argument("--updates", type=positive_int, help=with_default("updates", "online updates, fresh data"))
    budget.add_argument("--epochs", type=positive_int, help=with_default("epochs", "epochs over a fixed set"))
    add("--train-size", type=positive_int, help="a task's fixed training set of N examples instead of fresh ones")
    add("--test-size", type=positive_int, default=RunSpec.test_size, help="a task's fresh test examples")
    for flag, kind, explained in TRAINING_OPTIONS:
        add(flag, type=kind, help=with_default(flag[2:].replace("-", "_"), explained))
    add("--schedule", choices=["constant", "cosine"], help=with_default("schedule", "learning rate over training"))
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


def add_preset_commands(sub: Any) -> None:
    """`models`, `summary` and `demo`: the zoo's presets listed, summarised and run."""
    command(sub, "models", "list the model zoo's presets, one line each").set_defaults(handler=cmd_models)
    summary = command(sub, "summary", "print a preset's layers, output shapes and parameter counts, as Keras does")
    summary.add_argument("preset", help="a name from `lstmlab models`")
    summary.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a config field")
    summary.set_defaults(handler=cmd_summary)
    shown = command(sub, "demo", "build presets and run a batch through their fused and reference paths")
    shown.add_argument("presets", nargs="*", help="preset names (all when none are given)")
    shown.add_argument("--batch", type=positive_int, default=4, help="rows in the generated batch")
    shown.add_argument("--seed", type=int, default=0, help="seed for the weights and the generated batch")
    shown.set_defaults(handler=cmd_demo)


def add_evaluate(sub: Any) -> None:
    evaluate = command(
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


def add_predict(sub: Any) -> None:
    predict = command(
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
