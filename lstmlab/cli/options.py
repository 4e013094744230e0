"""What every command's options share: argparse with one-line usage errors, help that states lstmlab's defaults,
and the options describing the user's data, read back into a `DataSpec`.

Nothing here imports PyTorch: `lstmlab --help` builds every parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from ..data import (
    SERIES_FORMATS,
    TEXT_FORMATS,
    VECTORS_MISSING,
    VECTORS_MODES,
    DataSpec,
    StreamSettings,
    TextSettings,
    VectorSettings,
)
from ..runs import defaults

__all__ = [
    "DATA_ONLY",
    "SERIES_ONLY",
    "TASK_ONLY",
    "TEXT_ONLY",
    "TRAINING",
    "TRAINING_OPTIONS",
    "HelpFormatter",
    "Parser",
    "add_data_options",
    "command",
    "data_spec",
    "given_options",
    "positive_int",
    "refuse_unused",
    "task_options",
    "with_default",
]


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

TEXT_ONLY |= {"--min-count", "--max-len", "--truncating", "--padding", "--vectors", "--vectors-mode"}

TEXT_ONLY |= {"--vectors-missing"}

SERIES_ONLY = {"--no-standardise"}


def with_default(name: str, text: str) -> str:
    return text if "default" in text else f"{text} (default: {defaults.describe(name)})"


def command(sub: Any, name: str, text: str, more: str = "") -> argparse.ArgumentParser:
    description = f"{text[0].upper()}{text[1:]}. {more}".strip()
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=description, formatter_class=HelpFormatter
    )
    return parser


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
    vectors = None
    if args.vectors is not None:
        vectors = VectorSettings(args.vectors, mode=args.vectors_mode, missing=args.vectors_missing)
    elif {"--vectors-mode", "--vectors-missing"} & set(given_options(args)):
        raise ValueError("Expected --vectors PATH with --vectors-mode / --vectors-missing. Received: no --vectors")
    standardise = not args.no_standardise
    return DataSpec(args.data, text=text, standardise=standardise, stream=stream, vectors=vectors, **given)


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
    vectors = VectorSettings("")
    data(
        "--vectors",
        metavar="PATH",
        help="start the Embedding from pretrained word vectors: a GloVe, word2vec (text or binary) or fastText .vec "
        "file, gzipped or not, or a spaCy pipeline or vectors folder (lstmlab[spacy]); read once for the vocabulary; "
        "it sets the Embedding's width unless --set embed_dim does",
    )
    data("--vectors-mode", default=vectors.mode, choices=VECTORS_MODES, help="frozen: training leaves the vectors")
    data(
        "--vectors-missing",
        default=vectors.missing,
        choices=VECTORS_MISSING,
        help="what words missing from the file start as: random, with the found vectors' spread; or zeros",
    )


def task_options(task: str, texts: list[str]) -> dict[str, Any]:
    from ..models import parse_options
    from ..runs import parse_task_option

    return parse_options(task, texts, parse=parse_task_option, usage="--task-set KEY=VALUE")
