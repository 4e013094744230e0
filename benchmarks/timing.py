"""What the benchmark scripts share: their common options, device and thread setup, the Keras check, timed blocks of
calls, round-robin repeats, quartiles, aligned tables, the machine line, and results files that say which commit and
which command made them.

The scripts run as `python benchmarks/<script>.py`, so this folder is on `sys.path` and they import it as `timing`.
"""

from __future__ import annotations

import argparse
import csv
import gc
import importlib.util
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import torch

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SMOKE_VARIABLE = "LSTMLAB_BENCH_SMOKE"
T = TypeVar("T")


# ----------------------------------------------------------------------------------------- smoke runs
def smoke() -> bool:
    """True where `LSTMLAB_BENCH_SMOKE` is set (to anything but empty or `0`).

    Every script then runs end to end at its smallest size, whatever its options ask (they are still parsed and
    checked), so that CI can run each command the docs show (`tests/test_benchmarks.py`). Its figures are not
    results, and its files go under `smoke_dir()` instead of `benchmarks/results/`.
    """
    return os.environ.get(SMOKE_VARIABLE, "") not in ("", "0")


def smoke_dir() -> Path:
    """Where a smoke run writes its files: `lstmlab-bench-smoke/` in the system's temporary folder."""
    return Path(tempfile.gettempdir()) / "lstmlab-bench-smoke"


def smoke_banner() -> None:
    """Say, first, that this is a smoke run (where it is)."""
    if smoke():
        print(f"smoke run ({SMOKE_VARIABLE} is set): the smallest sizes, files under {smoke_dir()}; not a result")


def results_path(path: Path) -> Path:
    """`path`, or in a smoke run the same name under `smoke_dir()`, so that a smoke run never overwrites a result."""
    return smoke_dir() / path.name if smoke() else path


# ----------------------------------------------------------------------------------------- options, device, threads
def parse_block_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Add the options of a script that times blocks of calls (`--repeats`, `--target-ms`, `--device`, `--quick`,
    `--csv`) to `parser`, parse `argv`, and fill in the defaults that depend on `--quick`."""
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per candidate (default 15; 3 quick)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer repeats, shorter blocks")
    parser.add_argument(
        "--target-ms", type=float, default=None, help="length of one timed block (default 200; 40 quick)"
    )
    parser.add_argument("--csv", type=Path, default=None, help="where to write the CSV (default benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    if args.target_ms is None:
        args.target_ms = 40.0 if args.quick else 200.0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if smoke():
        args.repeats, args.target_ms = 1, 2.0
    smoke_banner()
    return args


def no_sync() -> None:
    """Nothing to wait for: on the CPU a call's work is done when it returns."""


def device_sync(device: torch.device) -> Callable[[], None]:
    """What waits for the device's queued work, so that a timed block ends when its work does."""
    return torch.cuda.synchronize if device.type == "cuda" else no_sync


def cuda_missing(device: str) -> bool:
    """True, after saying so, where `--device cuda` was asked for on a machine without CUDA."""
    if device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available on this machine: skipping the benchmark (use --device cpu).")
        return True
    return False


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads; None keeps torch's default (as many as cores)."""
    if threads is not None:
        torch.set_num_threads(threads)


def keras_missing(backend: str = "tensorflow") -> str | None:
    """Why a Keras column cannot run here (Keras or its backend is not installed), or None where it can."""
    absent = [name for name in ("keras", backend) if importlib.util.find_spec(name) is None]
    if not absent:
        return None
    return f'{" and ".join(absent)} not installed (pip install -c constraints.txt -e ".[bench]")'


# ----------------------------------------------------------------------------------------- timing
def timed(fn: Callable[[], object], *, iters: int = 1, sync: Callable[[], None] = no_sync) -> float:
    """Seconds per call of a block of `iters` calls of `fn`."""
    sync()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync()
    return (time.perf_counter() - start) / iters


@dataclass
class Blocks:
    """Per-call times of `step`, a block of calls per sample, each block sized to last about `target_s`.

    The size comes from the fastest call seen so far (noise only ever slows a call down) and is re-derived after
    every block, so that a calibration spoiled by a burst of load from another process corrects itself.
    """

    step: Callable[[], object]
    max_iters: int | None = None  # cap on calls per block (a slow path: one call per block)
    min_warmup: int = 3  # warm-up calls at least
    iters: int = 1  # calls in the next block
    times: list[float] = field(default_factory=list)  # seconds per call, one per block
    calls: int = 0  # calls timed over all blocks

    def warm_up(self, target_s: float, warmup_s: float, sync: Callable[[], None] = no_sync) -> None:
        """Warm-up calls for about `warmup_s`, then the first block's size from the fastest call after the first.

        A step whose calls already last `target_s` is not called more than `min_warmup` times here, so that slow
        paths stay cheap to measure.
        """
        calls: list[float] = []
        start = time.perf_counter()
        while len(calls) < self.min_warmup or (time.perf_counter() - start < warmup_s and calls[-1] < target_s):
            calls.append(timed(self.step, sync=sync))
        self._size(min(calls[1:]) if len(calls) > 1 else calls[0], target_s)

    def sample(self, target_s: float, sync: Callable[[], None] = no_sync) -> None:
        """Time one block, then size the next one."""
        self.times.append(timed(self.step, iters=self.iters, sync=sync))
        self.calls += self.iters
        self._size(min(self.times), target_s)

    def columns(self, anchor: Blocks) -> dict[str, object]:
        """Median and quartiles in ms over the blocks, the ratio median / the anchor's median, and the counts."""
        median = statistics.median(self.times)
        low, high = quartiles(self.times)
        return {
            "median_ms": median * 1e3,
            "q1_ms": low * 1e3,
            "q3_ms": high * 1e3,
            "ratio": median / statistics.median(anchor.times),
            "anchor": self is anchor,
            "timed_calls": self.calls,
            "repeats": len(self.times),
        }

    def _size(self, per_call: float, target_s: float) -> None:
        iters = max(1, round(target_s / per_call))
        self.iters = min(iters, self.max_iters) if self.max_iters else iters


def measure_blocks(blocks: Sequence[Blocks], repeats: int, target_s: float, sync: Callable[[], None]) -> None:
    """Warm each up for about `target_s / 2`, then `repeats` rounds of one block of each, round-robin."""
    for b in blocks:
        b.warm_up(target_s, target_s / 2, sync)
    round_robin(blocks, repeats, lambda b, _repeat: b.sample(target_s, sync))


def round_robin(items: Sequence[T], repeats: int, run: Callable[[T, int], None]) -> None:
    """`run(item, repeat)` for every item in every repeat, starting one item later each repeat, garbage collector off.

    Interleaving the candidates lets load from other processes hit all of them alike.
    """
    gc.collect()
    gc.disable()
    try:
        for repeat in range(repeats):
            shift = repeat % len(items)
            for item in [*items[shift:], *items[:shift]]:
                run(item, repeat)
    finally:
        gc.enable()


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """First and third quartile (both the value itself for a single one)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


# ----------------------------------------------------------------------------------------- output
def print_table(header: Sequence[str], lines: Sequence[Sequence[str]], *, left: int = 1, groups: bool = False) -> None:
    """Print the header, a rule and each line between blank lines, cells padded to their column's widest: the first
    `left` columns flush left, the others flush right; with `groups`, a blank line wherever the first cell changes."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print()
    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for i, line in enumerate(lines):
        if groups and i > 0 and line[0] != lines[i - 1][0]:
            print()
        print(fmt(line))
    print()


def machine_line(device: torch.device) -> str:
    """torch and python versions, threads, and the device the benchmark ran on."""
    if device.type == "cuda":
        cudnn = torch.backends.cudnn.version()
        where = f"cuda ({torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, cuDNN {cudnn})"
    else:
        where = f"cpu ({cpu_model()}, {os.cpu_count()} logical cores, mkldnn {torch.backends.mkldnn.is_available()})"
    return (
        f"torch {torch.__version__}, python {platform.python_version()}, threads {torch.get_num_threads()} "
        f"(interop {torch.get_num_interop_threads()}), device {where}"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ----------------------------------------------------------------------------------------- provenance
def provenance() -> dict[str, str]:
    """The `commit` and `command` columns every results file carries."""
    return {"commit": source_commit(), "command": command_line()}


def source_commit() -> str:
    """`git rev-parse HEAD` of the checkout `lstmlab` is imported from, `+dirty` where `git status --porcelain`
    shows changes under lstmlab/ or benchmarks/. Where the benchmark scripts come from another checkout (a worktree
    of an older commit on PYTHONPATH), each checkout's commit, dirty by its own part: lstmlab/ for the library's,
    benchmarks/ for the scripts'."""
    spec = importlib.util.find_spec("lstmlab")
    library = Path(spec.origin).resolve().parents[1] if spec is not None and spec.origin else None
    benchmarks = Path(__file__).resolve().parents[1]
    if library is None:
        return f"lstmlab not found; benchmarks {_commit(benchmarks, 'lstmlab', 'benchmarks')}"
    if _toplevel(library) == _toplevel(benchmarks):
        return _commit(library, "lstmlab", "benchmarks")
    return f"lstmlab {_commit(library, 'lstmlab')} at {library}; benchmarks {_commit(benchmarks, 'benchmarks')}"


def command_line() -> str:
    """This process's command line as it can be typed again: `python` and `sys.argv`, PYTHONPATH before them where
    it is set (it decides which lstmlab runs)."""
    words = ["python", *sys.argv]
    path = os.environ.get("PYTHONPATH")
    return shlex.join(words) if not path else f"PYTHONPATH={shlex.quote(path)} {shlex.join(words)}"


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _toplevel(directory: Path) -> str | None:
    return _git(directory, "rev-parse", "--show-toplevel")


def _commit(directory: Path, *parts: str) -> str:
    head = _git(directory, "rev-parse", "HEAD")
    if head is None:
        return f"unknown (no git checkout at {directory})"
    changes = _git(directory, "status", "--porcelain", "--", *parts)
    return f"{head}+dirty" if changes else head


def save_timings(rows: Sequence[Mapping[str, object]], path: Path | None, script: str, device: torch.device) -> None:
    """`rows` with the machine columns and the provenance to `path`, by default
    `benchmarks/results/<script>_<time>_<device>.csv` (git-ignored); says where."""
    path = path or RESULTS_DIR / f"{script}_{datetime.now():%Y%m%d-%H%M%S}_{device.type}.csv"
    write_csv(path, rows, torch=torch.__version__, threads=torch.get_num_threads(), machine=machine_line(device))
    print(f"wrote {results_path(path)}")


def write_csv(path: Path, rows: Sequence[Mapping[str, object]], *, digits: int | None = 6, **columns: object) -> None:
    """`rows`, then `columns` and the provenance (`commit`, `command`) on every row; floats to `digits` significant
    digits (None: as Python prints them)."""
    path = results_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {**columns, **provenance()}
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].keys(), *extra])
        writer.writeheader()
        for row in rows:
            cells = {k: f"{v:.{digits}g}" if digits and isinstance(v, float) else v for k, v in row.items()}
            writer.writerow({**cells, **extra})
