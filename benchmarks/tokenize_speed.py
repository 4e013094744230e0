"""Tokens per second of lstmlab's text path: `tokenize` (words and punctuation marks, lower-cased) and
`TextEncoder.encode` (tokens to vocabulary ids, cut and padded into one tensor), beside a whitespace split
(`text.lower().split()`, the least any tokeniser does) in the same run.

Texts: sentence polarity (development data, `../shared/datasets/sentence_polarity`; skipped where absent) and a
generated corpus of `--megabytes` of review-like sentences (Zipf-distributed words from a fixed vocabulary of
20,000, punctuation, 5-60 words a text; seed 0). The encoder is fitted on each set's texts first (not timed).
Each figure is the median of `--repeats` passes over the whole set, one thread.

Before and after a change: run it at both commits (`PYTHONPATH=<worktree of the old commit> python
benchmarks/tokenize_speed.py`).

Usage:
    python benchmarks/tokenize_speed.py [--megabytes 50] [--repeats 5]

Rows: benchmarks/results/tokenize_speed.csv.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from timing import RESULTS_DIR, machine_line, print_table, write_csv

from lstmlab.data.text import TextEncoder, TextSettings, tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sentence_polarity"


def generated(megabytes: float, seed: int = 0) -> list[str]:
    """Review-like sentences, `megabytes` of text in all."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" if i % 7 else f"word{i}" for i in range(20_000)]
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    texts, size = [], 0
    while size < megabytes * 1e6:
        count = int(rng.integers(5, 61))
        picked = rng.choice(len(words), size=count, p=weights)
        text = " ".join(words[i] for i in picked)
        text = text.capitalize() + rng.choice([".", "!", "?", ", really.", " :-)"])
        texts.append(text)
        size += len(text) + 1
    return texts


def sentence_polarity() -> list[str] | None:
    if not SHARED.is_dir():
        print(f"skip sentence polarity: {SHARED} not found (development data)")
        return None
    texts: list[str] = []
    for path in sorted(SHARED.glob("rt-polarity.*")):
        texts += path.read_text(encoding="latin-1").splitlines()
    return texts


def timed(function: Callable[[], object], repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--csv", default=str(RESULTS_DIR / "tokenize_speed.csv"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_line(torch.device("cpu")))
    sets = {"sentence polarity": sentence_polarity(), f"generated {args.megabytes:g} MB": generated(args.megabytes)}
    rows, lines = [], []
    for name, texts in sets.items():
        if texts is None:
            continue
        tokens = sum(len(tokenize(t)) for t in texts)
        encoder = TextEncoder.fit(texts, TextSettings(max_len=64))
        candidates = {
            "whitespace split (anchor)": lambda texts=texts: [t.lower().split() for t in texts],
            "lstmlab tokenize": lambda texts=texts: [tokenize(t) for t in texts],
            "lstmlab encode (ids, padded)": lambda texts=texts, encoder=encoder: encoder.encode(texts),
        }
        anchor = None
        for label, function in candidates.items():
            seconds = timed(function, args.repeats)
            anchor = anchor or seconds
            rate = tokens / seconds
            rows.append(
                {
                    "set": name,
                    "texts": len(texts),
                    "tokens": tokens,
                    "candidate": label,
                    "seconds": seconds,
                    "tokens_per_s": rate,
                    "time_over_anchor": seconds / anchor,
                }
            )
            lines.append([name, label, f"{rate / 1e6:.2f} M tokens/s", f"{seconds:.3f} s", f"{seconds / anchor:.2f}"])
    print_table(["set", "candidate", "speed", "median time", "time / anchor"], lines, left=2, groups=True)
    write_csv(Path(args.csv), rows, repeats=args.repeats)
    print(f"rows: {args.csv}")


if __name__ == "__main__":
    main()
