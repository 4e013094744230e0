"""`lstmlab inspect RUN`: the gates, cell states and attributions of a saved run on its inputs, as PNG figures, a
JSON file and one self-contained page.

The handler imports the library function it calls (PyTorch comes with it); the parser reads only settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..explain.settings import METHODS, STATISTICS_SIZE, STEPS
from .options import command, positive_int

__all__ = ["add_inspect"]


def _count(text: str) -> int:
    """0 or a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, received {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, received {text!r}")
    return value


def cmd_inspect(args: argparse.Namespace) -> None:
    from ..data import read_texts
    from ..explain import inspect_run

    texts = list(args.text) + (read_texts(Path(args.text_file)) if args.text_file else [])
    methods = METHODS if args.methods is None else tuple(m for m in args.methods.split(",") if m)
    found, written = inspect_run(
        Path(args.run),
        Path(args.out),
        texts=texts,
        series=args.series,
        index=args.index,
        inputs=args.input,
        seed=args.seed,
        member=args.member,
        methods=methods,
        steps=args.steps,
        target=args.target,
        step=args.step,
        layer=args.layer,
        unit=args.unit,
        statistics=args.statistics,
        statistics_data=args.statistics_data,
    )
    for sequence in found["sequences"][:10]:
        gap = sequence["completeness_gap"]
        shown = "" if gap is None else f"  completeness gap {gap:.2g}"
        chance = sequence["probabilities"][sequence["prediction"]]
        print(f"{sequence['prediction']}\t{chance:.3f}\t{len(sequence['tokens'])} steps{shown}")
    if len(found["sequences"]) > 10:
        print(f"... {len(found['sequences']) - 10} more sequences in {args.out}/inspection.json")
    print(f"wrote {', '.join(str(path) for path in written)}")


def add_inspect(sub: Any) -> None:
    inspect = command(
        sub,
        "inspect",
        "look inside a saved run's cells: gates, cell and hidden states, attributions, statistics; PNG figures, "
        "inspection.json and a self-contained inspection.html",
    )
    inspect.add_argument("run", help="a run directory written by `lstmlab train` or `lstmlab import-keras`")
    inspect.add_argument("--text", action="append", default=[], help="a raw text, for runs trained on text")
    inspect.add_argument("--text-file", help="raw texts, one a line, for runs trained on text")
    inspect.add_argument("--series", help="a .ts or .npz file of series, for runs trained on series")
    inspect.add_argument("--index", type=_count, help="with --series: the series to inspect, from 0 (default: all)")
    inspect.add_argument(
        "--input",
        type=Path,
        help="a file of inputs: texts one a line, series, or sequences as `lstmlab predict --input` reads them",
    )
    inspect.add_argument("--seed", type=int, help="task runs: the seed of the fresh example inspected (default 1)")
    inspect.add_argument("--out", default="inspection", help="the folder written (default: inspection)")
    inspect.add_argument("--member", type=_count, default=0, help="an ensemble's member whose cells are shown (from 0)")
    inspect.add_argument(
        "--methods",
        help=f"attribution methods, comma-separated, of {', '.join(METHODS)}; '' for none (default: both)",
    )
    inspect.add_argument(
        "--steps", type=positive_int, default=STEPS, help=f"Integrated Gradients' steps (default: {STEPS})"
    )
    inspect.add_argument("--target", help="the class explained, by name (default: the predicted class)")
    inspect.add_argument(
        "--step", type=int, help="per-step models: the step explained, from 0 (negative: from the end; default -1)"
    )
    inspect.add_argument("--layer", help="the LSTM layer the page shows first, by its summary name")
    inspect.add_argument("--unit", type=_count, help="the unit the page shows first (from 0)")
    inspect.add_argument(
        "--statistics",
        type=_count,
        default=STATISTICS_SIZE,
        help=f"sequences of the test set the statistics read; 0 for none (default: {STATISTICS_SIZE})",
    )
    inspect.add_argument(
        "--statistics-data",
        type=Path,
        help="task runs and imported models: labelled sequences for the statistics (as `lstmlab evaluate --data`)",
    )
    inspect.set_defaults(handler=cmd_inspect)
