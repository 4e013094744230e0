"""`lstmlab`: the parser of every command, and `main`, which runs one and turns bad input into one line and exit
status 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from .compare import add_compare, add_report
from .explain import add_inspect
from .interchange import add_interchange
from .options import HelpFormatter, Parser
from .train import add_evaluate, add_predict, add_preset_commands, add_train
from .tune import add_tune

__all__ = ["main", "make_parser"]


def make_parser() -> argparse.ArgumentParser:
    description = "LSTM and Bi-LSTM sequence classification on PyTorch."
    parser = Parser(prog="lstmlab", description=description, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"lstmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_preset_commands(sub)
    add_train(sub)
    add_compare(sub)
    add_tune(sub)
    add_report(sub)
    add_evaluate(sub)
    add_predict(sub)
    add_inspect(sub)
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
