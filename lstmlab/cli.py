"""Command line: `lstmlab models`, `lstmlab summary PRESET`, `lstmlab demo`. Parses options and calls the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import torch

from .layers import Embedding
from .models import PRESETS, Sequential, build_model, parse_option

__all__ = ["main"]


def _overrides(preset: str, pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` texts to typed config overrides of `preset`."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"Expected --set KEY=VALUE. Received: {pair!r}")
        out[key] = parse_option(preset, key, value)
    return out


def cmd_models(args: argparse.Namespace) -> None:
    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name.ljust(width)}  {preset.description}")


def cmd_summary(args: argparse.Namespace) -> None:
    build_model(args.preset, **_overrides(args.preset, args.set)).summary()


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
    models.set_defaults(run=cmd_models)
    summary = sub.add_parser(
        "summary",
        help="print a preset's layers, output shapes and parameter counts (as Keras's model.summary())",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    summary.add_argument("preset", help="a name from `lstmlab models`")
    summary.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="change a config field, e.g. units=64"
    )
    summary.set_defaults(run=cmd_summary)
    demo = sub.add_parser(
        "demo",
        help="build presets, print their summaries and run a forward pass through the fused and reference paths",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("presets", nargs="*", help="preset names (default: all)")
    demo.add_argument("--batch", type=positive_int, default=4, help="rows in the generated batch")
    demo.add_argument("--seed", type=int, default=0, help="seed for the weights and the generated batch")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 with a one-line message on bad input)."""
    args = make_parser().parse_args(argv)
    try:
        if getattr(args, "seed", None) is not None:
            torch.manual_seed(args.seed)
        args.run(args)
    except ValueError as error:
        print(f"lstmlab: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
