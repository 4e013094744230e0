"""Load on `lstmlab serve`: throughput and latency at concurrency 1, 8 and 64, micro-batching on and off, zero
errors, every answer checked against lstmlab's own prediction of the same text.

The run: the default text model trained for one epoch on the bundled UCI amazon sentences (`lstmlab train --data
uci:amazon --epochs 1`: a text-bilstm-pool ensemble of five, as `train` makes for a set this small), or `--run`.
Each request is one sentence of that set (`{"texts": [one]}`), the case micro-batching is for. For each mode a
server process is started (`lstmlab serve RUN --port 0 --max-queue 1024`, plus `--no-batching` for "off"), warmed
up, then each concurrency gets a bounded load: `--requests` requests at most and `--seconds` at most, from that many
concurrent clients (asyncio, httpx), on the same 2-core machine as the server (the clients take CPU from it: the
figures are for the pair). Repeated `--repeats` times (modes alternating); the table gives medians over the repeats
of the throughput (answered requests per second), p50 and p99 latency, the requests the server answered per batch
(from its `/health` counts), and the errors (non-200 answers, summed).

Every answer's probabilities are compared with lstmlab's for the same text (`Predictor` in this process, one text
at a time, as `lstmlab predict` computes it): the largest difference is printed and must stay below 1e-5.

Usage:
    pip install -c constraints.txt -e ".[serve]" httpx
    python benchmarks/serve_load.py [--repeats 3] [--requests 600] [--seconds 15] [--run RUN] [--quick]

Rows: benchmarks/results/serve_load.csv.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import RESULTS_DIR, machine_line, print_table, results_path, smoke, smoke_banner, write_csv

CONCURRENCY = (1, 8, 64)
MODES = {"on": [], "off": ["--no-batching"]}
WARM_UP = 50  # requests from 8 clients before each mode's first concurrency
SMOKE_REQUESTS = 16  # requests per concurrency (and texts used) in a smoke run


def _texts() -> list[str]:
    from lstmlab.data.bundled import __file__ as bundled

    path = Path(bundled).parent / "uci" / "amazon_cells_labelled.txt"
    return [line.rsplit("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _start(run: Path, options: list[str]) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "lstmlab", "serve", str(run), "--port", "0", "--max-queue", "1024", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("serving"):
        process.kill()
        raise SystemExit(f"the server did not start: {line} {process.communicate()[1]}")
    return process, line.split(" on ")[1].split(" ")[0]


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the server, killing it where it does not stop within 30 s."""
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def _health(url: str) -> dict[str, Any]:
    """The server's counts so far (requests answered, batches that answered them)."""
    import httpx

    health: dict[str, Any] = httpx.get(f"{url}/health", timeout=30).json()
    return health


async def _load(url: str, texts: list[str], concurrency: int, requests: int, seconds: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    answers: dict[int, list[float]] = {}
    errors = 0
    issued = 0
    stop_at = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued, errors
        while issued < requests and time.perf_counter() < stop_at:
            index = issued % len(texts)
            issued += 1
            start = time.perf_counter()
            response = await http.post(f"{url}/predict", json={"texts": [texts[index]]})
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors += 1
            else:
                answers[index] = response.json()["probabilities"][0]

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "answered": len(latencies) - errors,
        "errors": errors,
        "seconds": elapsed,
        "throughput": (len(latencies) - errors) / elapsed,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a run directory to serve (default: a fresh run on uci:amazon)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=600, help="requests per concurrency at most")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per concurrency at most")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 40 requests: checks that it runs")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "serve_load.csv"))
    args = parser.parse_args()
    smoke_banner()
    repeats, requests = (1, 40) if args.quick else (args.repeats, args.requests)
    warm_up, texts_used = WARM_UP, None
    if smoke():  # the smallest run (timing.smoke): 1 repeat, SMOKE_REQUESTS requests per concurrency of as many texts
        repeats, requests, warm_up, texts_used = 1, SMOKE_REQUESTS, 8, SMOKE_REQUESTS
    torch.set_num_threads(1)
    print(machine_line(torch.device("cpu")) + "; server and clients on this machine")
    scratch = tempfile.TemporaryDirectory()
    run = Path(args.run) if args.run else Path(scratch.name) / "amazon"
    if not args.run:
        train = [sys.executable, "-m", "lstmlab", "train", "--data", "uci:amazon", "--epochs", "1", "--out", str(run)]
        subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    from lstmlab.serve import Predictor

    texts = _texts()[:texts_used]
    reference = Predictor(run)
    expected = {i: reference.run([reference.encode([t])])[0]["probabilities"][0] for i, t in enumerate(texts)}
    results: list[dict[str, Any]] = []
    worst = 0.0
    for repeat in range(repeats):
        for mode in list(MODES)[repeat % 2 :] + list(MODES)[: repeat % 2]:
            process, url = _start(run, MODES[mode])
            try:
                asyncio.run(_load(url, texts, 8, warm_up, 10))  # warm-up
                for concurrency in CONCURRENCY:
                    before = _health(url)
                    cell = asyncio.run(_load(url, texts, concurrency, requests, args.seconds))
                    after = _health(url)
                    batches = max(1, after["batches"] - before["batches"])
                    cell["per_batch"] = (after["requests"] - before["requests"]) / batches
                    for index, probabilities in cell.pop("answers").items():
                        worst = max(worst, float(np.abs(np.array(probabilities) - expected[index]).max()))
                    results.append({"mode": mode, "concurrency": concurrency, "repeat": repeat, **cell})
            finally:
                _stop(process)
    lines, rows = [], []
    for mode in MODES:
        for concurrency in CONCURRENCY:
            cells = [r for r in results if r["mode"] == mode and r["concurrency"] == concurrency]
            row = {
                "batching": mode,
                "concurrency": concurrency,
                "throughput_rps": statistics.median(c["throughput"] for c in cells),
                "p50_ms": statistics.median(c["p50_ms"] for c in cells),
                "p99_ms": statistics.median(c["p99_ms"] for c in cells),
                "requests_per_batch": statistics.median(c["per_batch"] for c in cells),
                "errors": sum(c["errors"] for c in cells),
                "answered": sum(c["answered"] for c in cells),
            }
            rows.append(row)
            lines.append(
                [
                    mode,
                    str(concurrency),
                    f"{row['throughput_rps']:.0f}",
                    f"{row['p50_ms']:.1f}",
                    f"{row['p99_ms']:.1f}",
                    f"{row['requests_per_batch']:.1f}",
                    str(row["errors"]),
                    str(row["answered"]),
                ]
            )
    print_table(
        ["batching", "concurrency", "requests/s", "p50 ms", "p99 ms", "requests per batch", "errors", "answered"],
        lines,
        left=1,
        groups=True,
    )
    print(f"largest |served - lstmlab| over every answer: {worst:.1e} ({'equal' if worst < 1e-5 else 'DIFFERENT'})")
    if not args.quick:
        write_csv(Path(args.csv), rows, repeats=repeats, requests=requests, seconds=args.seconds, max_difference=worst)
        print(f"rows: {results_path(Path(args.csv))}")
    scratch.cleanup()


if __name__ == "__main__":
    main()
