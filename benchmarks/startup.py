"""Start-up time of every `lstmlab` command beside its anchor, `python -c "import torch"`, measured in the same run.

Targets:
    `lstmlab --version` and `lstmlab --help` (and a command's `--help`) answer in under 0.3 s, without importing
    PyTorch; every other command's start-up is at most PyTorch's import plus 0.3 s (its median minus the median of
    `python -c "import torch"`, at most 0.3 s).

Rows, each a fresh whole process:
    - the commands themselves: `lstmlab --version`, `lstmlab --help`, `lstmlab train --help`, `lstmlab compare
      --help`, `lstmlab models`, `lstmlab summary tutorial-bilstm`;
    - the start-up of each command that does real work (train, evaluate, predict, compare, report, tune, export in
      both formats, import-keras, serve): `python -c "import lstmlab.cli; <imports>"`, where <imports> is exactly
      what the command's handler imports before it starts working. The handler is the one the parser gives the
      command line (`make_parser().parse_args(argv).handler`); its imports are read from its source with `ast`
      (every `import` / `from ... import` in the function's body, relative modules resolved against its package,
      `lstmlab.cli`; an `if` whose test reads only `args` is decided by the parsed arguments, so that `export
      --format onnx` and `--format keras` each get their own branch), so the rows follow the handlers when they
      change. The statement used is printed for every row;
    - with `--baseline DIR` (a checkout of an older commit, e.g. `git worktree add /tmp/old 23b5aee`): `python -m
      lstmlab --version`, `--help` and `import lstmlab.cli` (timed after torch) of this checkout and of DIR's,
      DIR's run from a neutral working directory with PYTHONPATH=DIR, interleaved with the rest;
    - the anchors: `python -c "import torch"` and `python -c "pass"` (the interpreter alone).

Bytecode: lstmlab's modules are compiled first (`compileall`, as `pip install` of a wheel does), since a process
that finds no `.pyc` compiles every module it imports (about 5-15 ms each here; PYTHONDONTWRITEBYTECODE=1, set on
the development machines, keeps an editable install from ever writing them): that put `compare` at 0.38 s after
torch from source against 0.12 s from bytecode. `--source` measures without compiling (and removes nothing).

Method: each row first runs once untimed with `PYTHONPROFILEIMPORTTIME=1` (the same process otherwise), which
warms the file cache and tells which heavy modules it imported (from the `import time:` lines on its stderr); a
row whose process fails there is reported and left out. Then `--repeats` rounds (default 5; 2 with `--quick`), the
rows round-robin (the first rotating between rounds, `timing.round_robin`), so that load from other processes hits
them alike; each sample is the wall clock (`time.perf_counter`) around `subprocess.run` of the whole process. The
table: median seconds, [min, max], the figure the target compares with (the seconds themselves for the `--version`
and `--help` rows; for a start-up row the median of its imports timed inside a process that imported torch first,
`time.perf_counter` around them, beside the whole process's median minus the median of `import torch`; for
`models` and `summary` that difference), whether it is met, and the heavy modules the row imported. The in-process
figure is the one the target reads: on a shared machine torch's own import varies by more than the 0.3 s target.

Usage:
    python benchmarks/startup.py                # 5 rounds (about 2-3 minutes on 2 cores)
    python benchmarks/startup.py --quick        # 2 rounds: a smoke run
    python benchmarks/startup.py --repeats 15   # on a loaded machine
    python benchmarks/startup.py --baseline /tmp/old   # beside a worktree of an older commit

Rows: benchmarks/results/startup.csv, or --csv PATH.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import importlib.util
import inspect
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from timing import RESULTS_DIR, machine_line, print_table, results_path, round_robin, smoke, smoke_banner, write_csv

TARGET_S = 0.3
HEAVY = (
    "torch",
    "numpy",
    "scipy",
    "onnx",
    "onnxruntime",
    "fastapi",
    "uvicorn",
    "optuna",
    "sklearn",
    "aeon",
    "h5py",
    "matplotlib",
)
COMMANDS = (  # whole `lstmlab` processes
    ["--version"],
    ["--help"],
    ["train", "--help"],
    ["compare", "--help"],
    ["models"],
    ["summary", "tutorial-bilstm"],
)
STARTUPS = {  # a command that does real work: the command line its handler and branches are found from
    "train": ["train"],
    "evaluate": ["evaluate", "RUN"],
    "predict": ["predict", "RUN"],
    "compare": ["compare", "models", "tutorial-lstm", "tutorial-bilstm"],
    "report": ["report", "DIRECTORY"],
    "tune": ["tune", "tutorial-lstm", "--trials", "1"],
    "export --format keras": ["export", "RUN", "--format", "keras"],
    "export --format onnx": ["export", "RUN", "--format", "onnx"],
    "import-keras": ["import-keras", "MODEL.keras"],
    "serve": ["serve", "RUN"],
}
ANCHOR = 'python -c "import torch"'
AFTER_TORCH = "import time, torch; start = time.perf_counter(); {statement}; print(time.perf_counter() - start)"


@dataclass
class Row:
    label: str
    argv: list[str]
    shown: str  # the command as it can be typed
    # "help": seconds against the target; "command": lstmlab's imports after torch against it; "baseline": this
    # checkout beside an older one (--baseline), no target; "anchor": none
    kind: str
    imported: list[str] = field(default_factory=list)
    failed: str | None = None
    times: list[float] = field(default_factory=list)  # seconds of each timed run that succeeded
    # a start-up row's imports timed inside a process that imported torch first: lstmlab's own share, free of the
    # noise of torch's import (which varies by more than the target on a shared machine)
    after_torch: list[str] | None = None
    after_torch_times: list[float] = field(default_factory=list)
    baseline: str | None = None  # PYTHONPATH of an older checkout this row runs (from a neutral working directory)
    failures: list[str] = field(default_factory=list)  # timed runs that failed


# ----------------------------------------------------------------------------------------- the rows
def lstmlab_command() -> list[str]:
    """The `lstmlab` console script beside this interpreter (else on PATH, else `python -m lstmlab`)."""
    beside = Path(sys.executable).parent / "lstmlab"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("lstmlab")
    return [found] if found else [sys.executable, "-m", "lstmlab"]


def handler_imports(argv: Sequence[str]) -> list[str]:
    """The import statements the handler of `lstmlab ARGV` runs before its work, absolute, in source order."""
    from lstmlab.cli import make_parser

    args = make_parser().parse_args(list(argv))
    handler: Callable[..., Any] = args.handler
    function = ast.parse(textwrap.dedent(inspect.getsource(handler))).body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    package = handler.__module__.rpartition(".")[0]  # lstmlab.cli
    found: list[str] = []
    walk_imports(function.body, args, package, found)
    return list(dict.fromkeys(found))


def walk_imports(body: Sequence[ast.stmt], args: argparse.Namespace, package: str, found: list[str]) -> bool:
    """Append the imports of `body` to `found`; an `if` whose test reads only `args` takes the branch the parsed
    arguments take (other tests: both branches). True where the path taken ends the function (return, raise)."""
    for node in body:
        if isinstance(node, ast.ImportFrom):
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            found.append(f"from {module} import {aliases(node.names)}")
        elif isinstance(node, ast.Import):
            found.append(f"import {aliases(node.names)}")
        elif isinstance(node, ast.Return | ast.Raise):
            return True
        elif isinstance(node, ast.If):
            taken = decide(node.test, args)
            if taken is None:
                walk_imports(node.body, args, package, found)
                walk_imports(node.orelse, args, package, found)
            elif walk_imports(node.body if taken else node.orelse, args, package, found):
                return True
        elif isinstance(node, ast.With | ast.Try | ast.For | ast.While):
            for part in ("body", "handlers", "orelse", "finalbody"):
                for child in getattr(node, part, []):
                    walk_imports(child.body if isinstance(child, ast.ExceptHandler) else [child], args, package, found)
    return False


def aliases(names: Sequence[ast.alias]) -> str:
    return ", ".join(a.name if a.asname is None else f"{a.name} as {a.asname}" for a in names)


def decide(test: ast.expr, args: argparse.Namespace) -> bool | None:
    """The value of an `if` test that reads nothing but `args` (attributes, constants, comparisons), else None."""
    names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
    if names != {"args"} or any(isinstance(n, ast.Call | ast.NamedExpr | ast.Lambda) for n in ast.walk(test)):
        return None
    try:
        return bool(eval(compile(ast.Expression(test), "<test>", "eval"), {"__builtins__": {}}, {"args": args}))
    except Exception:
        return None


def baseline_rows(baseline: str) -> list[Row]:
    """The same `--version` and `--help`, and `import lstmlab.cli` after torch, for this checkout and for the older
    one at `baseline` (e.g. a `git worktree` of an earlier commit), interleaved with the other rows."""
    statement = "import lstmlab.cli"
    rows = []
    for where, path in (("this checkout", None), (Path(baseline).name, baseline)):
        for flag in ("--version", "--help"):
            argv = [sys.executable, "-m", "lstmlab", flag]
            rows.append(Row(f"python -m lstmlab {flag} ({where})", argv, shlex.join(argv[1:]), "baseline"))
            rows[-1].baseline = path
        row = Row(f"{statement} ({where})", [sys.executable, "-c", statement], python_c(statement), "baseline")
        row.after_torch, row.baseline = [sys.executable, "-c", AFTER_TORCH.format(statement=statement)], path
        rows.append(row)
    return rows


def make_rows(baseline: str | None = None) -> list[Row]:
    lstmlab = lstmlab_command()
    typed = ["lstmlab"] if len(lstmlab) == 1 else ["python", "-m", "lstmlab"]
    rows = [
        Row(shlex.join(["lstmlab", *a]), [*lstmlab, *a], shlex.join([*typed, *a]), command_kind(a)) for a in COMMANDS
    ]
    for name, argv in STARTUPS.items():
        try:
            statement = "; ".join(["import lstmlab.cli", *handler_imports(argv)])
        except (Exception, SystemExit) as error:  # the parser refused argv, or the source did not read
            failed = Row(f"{name} (start-up)", [], f"lstmlab {shlex.join(argv)}", "command")
            failed.failed = f"no handler imports found ({type(error).__name__}: {error})"
            rows.append(failed)
            continue
        row = Row(f"{name} (start-up)", [sys.executable, "-c", statement], python_c(statement), "command")
        row.after_torch = [sys.executable, "-c", AFTER_TORCH.format(statement=statement)]
        rows.append(row)
    if baseline is not None:
        rows += baseline_rows(baseline)
    for statement in ("import torch", "pass"):
        rows.append(Row(python_c(statement), [sys.executable, "-c", statement], python_c(statement), "anchor"))
    return rows


def smoke_rows(rows: Sequence[Row]) -> list[Row]:
    """What a smoke run times: the first row of each sort (kind, timed after torch or not, which checkout), the
    anchors, and every row that already failed (to be reported), so that every path of the verdicts runs."""
    seen: set[tuple[str, bool, str | None]] = set()
    kept = []
    for row in rows:
        sort = (row.kind, row.after_torch is not None, row.baseline)
        if row.failed is not None or row.kind == "anchor" or sort not in seen:
            kept.append(row)
            seen.add(sort)
    return kept


def command_kind(argv: Sequence[str]) -> str:
    return "help" if argv[-1] in ("--version", "--help") else "command"


def python_c(statement: str) -> str:
    return f'python -c "{statement}"'


# ----------------------------------------------------------------------------------------- measuring
def environment(profile: bool, baseline: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP", "PYTHONPATH")}
    if profile:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    if baseline is not None:
        env["PYTHONPATH"] = baseline
    return env


def where(row: Row) -> str | None:
    """A baseline row runs outside any checkout: `python -m` and `-c` put the working directory first on sys.path."""
    return tempfile.gettempdir() if row.baseline is not None else None


def check(row: Row) -> None:
    """One untimed run with `-X importtime`'s report: the heavy modules imported, or why the process failed."""
    done = subprocess.run(row.argv, capture_output=True, text=True, env=environment(True, row.baseline), cwd=where(row))
    lines = done.stderr.splitlines()
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in lines if line.startswith("import time:")}
    row.imported = [name for name in HEAVY if name in modules]
    if done.returncode != 0:
        said = [line for line in lines if not line.startswith("import time:")]
        row.failed = f"exit status {done.returncode}: {said[-1] if said else '(no message)'}"


def sample(row: Row) -> None:
    """One timed run; a run that fails (the tree changed under it) is counted and its time left out."""
    env = environment(False, row.baseline)
    start = time.perf_counter()
    done = subprocess.run(row.argv, capture_output=True, env=env, cwd=where(row))
    seconds = time.perf_counter() - start
    if done.returncode == 0:
        row.times.append(seconds)
    else:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        row.failures.append(f"exit status {done.returncode}: {said[-1] if said else '(no message)'}")
    if row.after_torch is not None:
        inside = subprocess.run(row.after_torch, capture_output=True, text=True, env=env, cwd=where(row))
        if inside.returncode == 0:
            row.after_torch_times.append(float(inside.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------------------------------- output
def verdicts(rows: Sequence[Row]) -> tuple[list[list[str]], list[dict[str, object]], list[str]]:
    """The table's lines, the results rows and the misses."""
    anchor = next((r for r in rows if r.shown == ANCHOR and r.times), None)
    torch_s = statistics.median(anchor.times) if anchor else None
    lines, results, misses = [], [], []
    for row in rows:
        imported = ", ".join(row.imported) or "-"
        if row.failed is None and not row.times:
            row.failed = f"every timed run failed ({row.failures[-1]})"
        if row.failed:
            lines.append([row.label, "failed", "", "", "", "", imported])
            results.append({"row": row.label, "statement": row.shown, "failed": row.failed, "imported": imported})
            misses.append(f"{row.label}: failed ({row.failed})")
            continue
        median = statistics.median(row.times)
        figure, compared, met = None, "", ""
        if row.kind == "help":
            figure, compared = median, "seconds"
            ok = median < TARGET_S and "torch" not in row.imported
            met = "yes" if ok else "NO"
        elif row.kind == "command" and row.after_torch_times:
            figure, compared = statistics.median(row.after_torch_times), "imports after torch"
            met = "yes" if figure <= TARGET_S else "NO"
        elif row.kind == "baseline" and row.after_torch_times:  # beside the older checkout: no target
            figure, compared = statistics.median(row.after_torch_times), "imports after torch"
        elif row.kind == "command" and torch_s is not None:
            figure, compared = median - torch_s, "minus import torch"
            ok = figure <= TARGET_S
            met = "yes" if ok else "NO"
        if row.failures:
            met = f"{met}, {len(row.failures)} run(s) failed".lstrip(", ")
            misses.append(f"{row.label}: {len(row.failures)} timed run(s) failed ({row.failures[-1]})")
        if met.startswith("NO"):
            against = f"< {TARGET_S} s without PyTorch" if row.kind == "help" else f"<= {TARGET_S} s"
            misses.append(f"{row.label}: {compared} {figure:.3f} s, target {against}; imported {imported}")
        lines.append(
            [
                row.label,
                f"{median:.3f}",
                f"[{min(row.times):.3f}, {max(row.times):.3f}]",
                ""
                if figure is None
                else f"{figure:.3f} s"
                if row.kind == "help"
                else f"{figure:+.3f} s over torch"
                if not row.after_torch_times
                else f"{figure:.3f} s after torch (whole {median - (torch_s or 0):+.3f})",
                "" if figure is None or row.kind == "baseline" else f"{'<' if row.kind == 'help' else '<='} {TARGET_S}",
                met,
                imported,
            ]
        )
        results.append(
            {
                "row": row.label,
                "statement": row.shown,
                "median_s": median,
                "min_s": min(row.times),
                "max_s": max(row.times),
                "figure": compared,
                "figure_s": figure,
                "target_s": TARGET_S if figure is not None else None,
                "met": met,
                "imported": imported,
                "samples": len(row.times),
                "failed": "; ".join(dict.fromkeys(row.failures)),
            }
        )
    return lines, results, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of each row (default 5; 2 quick)")
    parser.add_argument("--quick", action="store_true", help="2 repeats: a smoke run")
    parser.add_argument("--csv", type=Path, default=RESULTS_DIR / "startup.csv")
    parser.add_argument("--source", action="store_true", help="do not compile lstmlab's bytecode first")
    parser.add_argument(
        "--baseline", help="also time --version, --help and `import lstmlab.cli` of the checkout at this path"
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    smoke_banner()
    if not args.source:
        package = Path(importlib.util.find_spec("lstmlab").origin).parent  # type: ignore[arg-type, union-attr]
        compileall.compile_dir(package, quiet=1)
        if args.baseline:
            compileall.compile_dir(Path(args.baseline) / "lstmlab", quiet=1)
    machine = f"{machine_line(torch.device('cpu'))}, load average {os.getloadavg()[0]:.1f}"
    machine += ", from source" if args.source else ", from bytecode"
    print(machine)
    rows = make_rows(args.baseline)
    if smoke():  # every row built (its handler's imports found), one of each sort run once, smoke variable passed on
        args.repeats, rows = 1, smoke_rows(rows)
    print(f"rows ({sys.executable} as python):")
    for row in rows:
        print(f"  {row.label}: {row.shown}")
    began = time.perf_counter()
    for row in rows:
        if row.failed is None:
            check(row)
    timed = [r for r in rows if r.failed is None]
    round_robin(timed, args.repeats, lambda row, _repeat: sample(row))
    header = ["command", "median s", "[min, max]", "figure (vs target)", "target s", "met", "heavy modules imported"]
    lines, results, misses = verdicts(rows)
    print_table(header, lines)
    print(
        f"{args.repeats} timed runs a row, {time.perf_counter() - began:.0f} s in all; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print("missed:" + "".join(f"\n  {miss}" for miss in misses) if misses else "missed: none")
    keys = list(dict.fromkeys(k for r in results for k in r))
    write_csv(args.csv, [{k: r.get(k, "") for k in keys} for r in results], repeats=args.repeats, machine=machine)
    print(f"rows: {results_path(args.csv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
