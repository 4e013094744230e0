"""Reference pages made from the code during the docs build, so that they cannot drift from it: every command's
options from lstmlab's own argparse parsers, and the presets table from the zoo.

argparse has no public API for walking a parser's options; this reads `_actions` and the sub-parser action's
`choices`, as sphinx-argparse and mkdocs-click's argparse counterparts do. The help text of each option is the one
`lstmlab COMMAND --help` prints, defaults included (the same `HelpFormatter` states them).
"""

from __future__ import annotations

import argparse
import html

from lstmlab.cli.options import HelpFormatter
from lstmlab.cli.program import make_parser


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split())).replace("|", "&#124;")


def _option_help(action: argparse.Action) -> str:
    formatter = HelpFormatter("lstmlab")
    text = formatter._get_help_string(action) if action.help else ""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        text = f"{text} (one of: {', '.join(map(str, action.choices))})".strip()
    params = {**vars(action), "prog": "lstmlab"}
    for name in list(params):
        if hasattr(params[name], "__name__"):
            params[name] = params[name].__name__
    if params.get("choices") is not None:
        params["choices"] = ", ".join(map(str, params["choices"]))
    return text % params if "%(" in text else text


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    if action.nargs == 0:
        return ", ".join(f"`{flag}`" for flag in action.option_strings)
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.nargs in ("*", "+"):
        metavar = f"{metavar} ..."
    return ", ".join(f"`{flag} {metavar}`" for flag in action.option_strings)


def _table(actions: list[argparse.Action]) -> list[str]:
    rows = ["| option | what it does |", "|---|---|"]
    for action in actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        rows.append(f"| {_flags(action)} | {_option_help(action)} |")
    return rows


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_markdown() -> str:
    """Every command of `lstmlab`: its usage line, description and options, grouped as `--help` groups them."""
    parser = make_parser()
    lines = ["## `lstmlab`", "", _cell(parser.description or ""), "", "```text", parser.format_usage().strip(), "```"]
    options = [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]
    lines += ["", *_table(options), "", "| command | what it does |", "|---|---|"]
    commands = _commands(parser)
    helps = {
        c.dest: c.help or ""
        for a in parser._actions
        if isinstance(a, argparse._SubParsersAction)
        for c in a._choices_actions
    }
    lines += [f"| [`{name}`](#lstmlab-{name}) | {_cell(helps.get(name, ''))} |" for name in commands]
    lines.append("")
    for name, sub in commands.items():
        lines += [f"## `lstmlab {name}`", "", _cell(sub.description or ""), ""]
        lines += ["```text", sub.format_usage().strip(), "```", ""]
        for group in sub._action_groups:
            actions = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
            if not actions:
                continue
            title = group.title or "options"
            lines += [f"**{title[0].upper()}{title[1:]}**", "", *_table(actions), ""]
    return "\n".join(lines)


def presets_markdown() -> str:
    """The zoo: each preset's description and its parameter count at its default sizes, built here."""
    from lstmlab.models import PRESETS, build_model

    lines = ["| preset | what it is | parameters (default sizes) |", "|---|---|---|"]
    for name, preset in PRESETS.items():
        model = build_model(name)
        count = sum(p.numel() for p in model.parameters())
        lines.append(f"| `{name}` | {_cell(preset.description)} | {count:,} |")
    return "\n".join(lines)
