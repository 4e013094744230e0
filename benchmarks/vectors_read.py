"""Does reading word vectors keep pace with the disk? The seconds and peak memory of lstmlab's
`read_vectors(path, words, lower=False)` on a large word2vec text file (`--size-gb`, default 1), keeping a vocabulary
of `--vocabulary` words (default 20,000), beside gensim's `KeyedVectors.load_word2vec_format(path, binary=False)` on
the same file, and beside a plain chunked read of its bytes.

The issue's goal: faster than gensim, and a peak memory within twice the kept matrix (vocabulary x dimension x 4
bytes) above the interpreter (the same imports and vocabulary, nothing read). The script prints whether it is met;
it asserts nothing.

The file (written once under `--workdir`, default `lstmlab-vectors-read/` in the system's temporary folder, and
reused while its settings are the same; a JSON file beside it records them and the file's words): word2vec text, a
header `count dimension`, then `word v1 ... v300` per line, values with 4 decimals as fastText's `.vec` files print
them. First the real words: with `--spacy DIR` (the `vocab` folder of spaCy's `en_core_web_md`, MIT licence, read
with `spacy.vectors.Vectors().from_disk(DIR)`; its `strings.json` in DIR or its parent), one word for each of the
model's 20,000 vector rows (of the strings that map to the row, the first lower-case one in `strings.json`, else the
first; none with white space or unprintable characters) with that row's vector. Without `--spacy` the real words are
made up too and their vectors Gaussian (the output says so). Then made-up words (3-12 random lower-case letters, each
once) with Gaussian vectors (the spread of the real ones; clipped at +-5), until the file holds `--size-gb` GiB
(2**30 bytes; the last row may overshoot it by one line). The vocabulary (seed `--seed`): 80 % real words of the file,
10 % made-up words of the file (spread over all of it), 10 % words the file does not hold, shuffled.

Method: every figure comes from its own fresh process (`python -c`), so that its peak memory is its own: lstmlab's
read, gensim's read, the plain read (`open(path, "rb").read(1 MiB)` until the end) and one interpreter per reader
(numpy, the reader's module and the vocabulary, nothing read). The peak is `VmHWM` of `/proc/self/status` (the peak
resident set of the process's memory since its exec) where Linux gives it, else `resource.getrusage(RUSAGE_SELF)
.ru_maxrss`: on Linux `ru_maxrss` keeps the high-water mark of the parent across fork and exec, so every child of this
script (which holds PyTorch through `timing`, about 300 MiB) would read at least that. The seconds are those of the
call itself, timed inside the process (not its start-up or imports).
The file is read once before timing, so every timed pass is served from the page cache rather than the disk (a cold
read is not controlled here): "the disk" is the plain read's pace from the page cache, the fastest a disk can feed a
reader. `--repeats` rounds, the candidates round-robin (`timing.round_robin`), medians. Before the table, the vectors
both readers give for the vocabulary's words are compared (`np.allclose` on every word found, and the same words
found). Without gensim installed (it is in the `dev` extra) its rows are skipped, with the reason.

Usage:
    python benchmarks/vectors_read.py [--spacy DIR] [--size-gb 1.0] [--vocabulary 20000] [--repeats 3]
                                      [--workdir DIR] [--seed 0] [--csv PATH]

Rows: benchmarks/results/vectors_read.csv (one a candidate, with the commit and the command). A smoke run
(`LSTMLAB_BENCH_SMOKE=1`) writes a 2 MiB file under `smoke_dir()` and keeps 200 words, one repeat.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from timing import (
    RESULTS_DIR,
    machine_line,
    print_table,
    results_path,
    round_robin,
    smoke,
    smoke_banner,
    smoke_dir,
    write_csv,
)

DIMENSION = 300  # en_core_web_md's
DECIMALS = 4  # as fastText's .vec files print them
TICKS = 10**DECIMALS
CLIP = 5.0  # |value| at most: en_core_web_md's lie in [-4.21, 3.43]
SCALE = 0.44  # the Gaussian's spread without spaCy's vectors (en_core_web_md's standard deviation)
REAL_SHARE, MADE_UP_SHARE = 0.8, 0.1  # of the vocabulary; the rest is absent from the file
CHUNK_ROWS = 10_000  # rows formatted at a time
READ_CHUNK = 1 << 20  # the plain read's chunk (read_vectors reads 1 MiB at a time too)
FILE_VERSION = 1  # bump when the file's recipe changes, so that a cached file is written again
SMOKE_BYTES, SMOKE_VOCABULARY = 2 * 2**20, 200
MiB = 2**20

# One measurement, in a fresh process: argv = kind, path, check (an .npz to write the vocabulary's vectors to, or
# "-"); the vocabulary (JSON) on stdin; prints one JSON line. The interpreters import what their reader imports and
# read the vocabulary, nothing else.
WORKER = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
kind, path, check = sys.argv[1:4]
if kind.startswith("lstmlab"):
    from lstmlab.data.vectors import read_vectors
elif kind.startswith("gensim"):
    from gensim.models import KeyedVectors
words = json.loads(sys.stdin.read())
found = None
start = time.perf_counter()
if kind == "lstmlab":
    vectors = read_vectors(Path(path), words, lower=False)
elif kind == "gensim":
    kv = KeyedVectors.load_word2vec_format(path, binary=False)
elif kind == "plain":
    with open(path, "rb") as handle:
        while handle.read(1 << 20):
            pass
seconds = time.perf_counter() - start
try:  # this process's own peak (Linux): ru_maxrss carries the parent's over fork and exec
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 2**10
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
figures = {"seconds": seconds, "peak_mib": peak}
if kind == "lstmlab":
    figures |= {"rows": vectors.rows_read, "found": int(vectors.found.sum())}
    kept, matrix = [w for w, hit in zip(words, vectors.found) if hit], vectors.matrix[vectors.found]
elif kind == "gensim":
    kept = [w for w in words if w in kv.key_to_index]
    figures |= {"rows": len(kv), "found": len(kept)}
    matrix = kv.vectors[[kv.key_to_index[w] for w in kept]]
if check != "-":
    np.savez(check, words=np.array(kept, dtype=str), matrix=matrix)
print(json.dumps(figures))
"""

CANDIDATES = {  # kind -> the row's label
    "lstmlab": "lstmlab read_vectors (keeps the vocabulary)",
    "gensim": "gensim load_word2vec_format (keeps every row)",
    "plain": "plain read, 1 MiB chunks",
    "lstmlab-interpreter": "interpreter: numpy, lstmlab.data.vectors, the vocabulary",
    "gensim-interpreter": "interpreter: numpy, gensim, the vocabulary",
}


def gensim_missing() -> str | None:
    """Why the gensim rows cannot run here, or None where they can."""
    if importlib.util.find_spec("gensim") is None:
        return 'gensim not installed (pip install -c constraints.txt -e ".[dev]")'
    return None


# ------------------------------------------------------------------------------------------------ the words
def usable(word: str) -> bool:
    """Whether `word` can be a row's word in a text file (no white space, nothing unprintable)."""
    return bool(word) and word.isprintable() and " " not in word


def spacy_vectors(directory: Path) -> tuple[list[str], npt.NDArray[np.float32]]:
    """One word for each row of spaCy's vectors in `directory` (its `vocab` folder), and the rows (N, D)."""
    from spacy.strings import get_string_id
    from spacy.vectors import Vectors

    vectors = Vectors().from_disk(directory)
    strings_path = next(p for p in (directory / "strings.json", directory.parent / "strings.json") if p.is_file())
    best: dict[int, str] = {}  # row -> its word
    for word in json.loads(strings_path.read_text(encoding="utf-8")):
        row = vectors.key2row.get(get_string_id(word))
        if row is None or not usable(word):
            continue
        if row not in best or (best[row] != best[row].lower() and word == word.lower()):
            best[row] = word
    rows = sorted(best)
    return [best[row] for row in rows], np.asarray(vectors.data, dtype=np.float32)[rows]


def made_up_words(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    """`count` words of 3-12 random lower-case letters, none in `taken` (each added to it)."""
    words: list[str] = []
    while len(words) < count:
        lengths = rng.integers(3, 13, count - len(words))
        letters = rng.integers(ord("a"), ord("z") + 1, int(lengths.sum()), dtype=np.uint8).tobytes().decode("ascii")
        start = 0
        for length in lengths.tolist():
            word = letters[start : start + length]
            start += length
            if word not in taken:
                taken.add(word)
                words.append(word)
    return words


# ------------------------------------------------------------------------------------------------ the file
def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """What the file's content depends on: a cached file is reused only where these are the same."""
    source = f"spacy {args.spacy.resolve()}" if args.spacy is not None else "random"
    return {
        "version": FILE_VERSION,
        "bytes": args.bytes,
        "dimension": DIMENSION,
        "decimals": DECIMALS,
        "source": source,
        "seed": args.seed,
    }


def rows_text(words: Sequence[str], ticks: npt.NDArray[np.int64], table: npt.NDArray[np.object_]) -> list[bytes]:
    """Each word's line, its values `ticks / TICKS` formatted from `table` (ticks in -CLIP*TICKS..CLIP*TICKS)."""
    limit = round(CLIP * TICKS)
    values = table[np.clip(ticks, -limit, limit) + limit].tolist()
    return [f"{word} {' '.join(row)}\n".encode() for word, row in zip(words, values, strict=True)]


def write_vectors(path: Path, target: int, spacy: Path | None, seed: int) -> dict[str, Any]:
    """Write the file (the real words, then made-up ones until `target` bytes); its words and figures."""
    rng = np.random.default_rng(seed)
    if spacy is not None:
        real, matrix = spacy_vectors(spacy)
        scale = float(matrix.std())
    else:
        real = made_up_words(rng, 20_000, set())
        scale = SCALE
        matrix = rng.normal(0.0, scale, (len(real), DIMENSION)).astype(np.float32)
    limit = round(CLIP * TICKS)
    table = np.array([f"{i / TICKS:.{DECIMALS}f}" for i in range(-limit, limit + 1)], dtype=object)
    taken = set(real)
    words: list[str] = []
    written = 0
    body = path.with_name(path.name + ".body")
    with body.open("wb") as handle:
        start = 0
        while written < target:
            if start < len(real):  # the real words first
                chunk = real[start : start + CHUNK_ROWS]
                ticks = np.rint(matrix[start : start + CHUNK_ROWS].astype(np.float64) * TICKS).astype(np.int64)
                start += len(chunk)
            else:
                chunk = made_up_words(rng, CHUNK_ROWS, taken)
                ticks = np.rint(rng.normal(0.0, scale * TICKS, (len(chunk), DIMENSION))).astype(np.int64)
            lines = rows_text(chunk, ticks, table)
            ends = np.cumsum([len(line) for line in lines])
            keep = min(len(lines), int(np.searchsorted(ends, target - written)) + 1)  # stop at the target
            handle.write(b"".join(lines[:keep]))
            written += int(ends[keep - 1])
            words += chunk[:keep]
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle, body.open("rb") as rows:
        handle.write(f"{len(words)} {DIMENSION}\n".encode())
        shutil.copyfileobj(rows, handle, 16 * MiB)
    body.unlink()
    partial.rename(path)
    return {"bytes": path.stat().st_size, "rows": len(words), "real": min(len(real), len(words)), "words": words}


def vectors_file(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The file for these settings under `args.workdir`, written unless a complete one is there; its figures."""
    settings = settings_of(args)
    kind = "spacy" if args.spacy is not None else "random"
    path = args.workdir / f"vectors-{kind}-{args.bytes / MiB:g}MiB-seed{args.seed}.txt"
    sidecar = path.with_suffix(".json")
    if path.is_file() and sidecar.is_file():
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("settings") == settings and meta.get("bytes") == path.stat().st_size:
            print(f"file: {path} (written before, reused: {sidecar.name} records the same settings)")
            return path, meta
    args.workdir.mkdir(parents=True, exist_ok=True)
    sidecar.unlink(missing_ok=True)
    start = time.perf_counter()
    meta = {"settings": settings, **write_vectors(path, args.bytes, args.spacy, args.seed)}
    sidecar.write_text(json.dumps(meta), encoding="utf-8")
    print(f"file: {path} (written in {time.perf_counter() - start:.0f} s)")
    return path, meta


def draw_vocabulary(meta: dict[str, Any], size: int, seed: int) -> tuple[list[str], str]:
    """`size` distinct words: real words of the file, made-up words of the file, words not in it; and what it holds."""
    rng = np.random.default_rng(seed + 1)
    words: list[str] = meta["words"]
    real, made_up = words[: meta["real"]], words[meta["real"] :]
    absent_count = size - round(size * REAL_SHARE) - round(size * MADE_UP_SHARE)
    real_count = min(len(real), size - absent_count - min(len(made_up), round(size * MADE_UP_SHARE)))
    made_up_count = min(len(made_up), size - absent_count - real_count)  # more where the real words run short
    absent_count = size - real_count - made_up_count
    picked = [real[i] for i in rng.choice(len(real), real_count, replace=False)]
    picked += [made_up[i] for i in rng.choice(len(made_up), made_up_count, replace=False)]
    picked += made_up_words(rng, absent_count, set(words))
    rng.shuffle(picked)
    told = (
        f"{size:,} words: {real_count:,} real words of the file (of its {len(real):,}), {made_up_count:,} made-up "
        f"words of the file, {absent_count:,} not in the file"
    )
    return picked, told


# ------------------------------------------------------------------------------------------------ measuring
def measure(kind: str, path: Path, words: Sequence[str], check: Path | None = None) -> dict[str, float]:
    """One candidate's figures, from a fresh process."""
    command = [sys.executable, "-c", WORKER, kind, str(path), str(check) if check is not None else "-"]
    done = subprocess.run(command, input=json.dumps(list(words)), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def compare_readers(ours: Path, theirs: Path) -> str:
    """The correctness line: the same words found, and the same vectors for each (`np.allclose`)."""
    a, b = np.load(ours), np.load(theirs)
    if a["words"].tolist() != b["words"].tolist():
        only = sorted(set(a["words"].tolist()) ^ set(b["words"].tolist()))[:5]
        return f"correctness: NOT the same words found: lstmlab {len(a['words'])}, gensim {len(b['words'])} ({only})"
    same = a["matrix"].shape == b["matrix"].shape and np.allclose(a["matrix"], b["matrix"])
    verdict = "the same vectors" if same else "DIFFERENT vectors"
    return f"correctness: both readers find the same {len(a['words']):,} words and give {verdict} (np.allclose)"


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spacy", type=Path, default=None, help="en_core_web_md's vocab folder (real vectors)")
    parser.add_argument("--size-gb", type=float, default=1.0, help="the file's size in GiB (2**30 bytes)")
    parser.add_argument("--vocabulary", type=int, default=20_000, help="words kept")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    default_workdir = Path(tempfile.gettempdir()) / "lstmlab-vectors-read"
    parser.add_argument("--workdir", type=Path, default=default_workdir, help="where the file is written and kept")
    parser.add_argument("--csv", type=Path, default=RESULTS_DIR / "vectors_read.csv")
    args = parser.parse_args(argv)
    if args.size_gb <= 0 or args.vocabulary < 1 or args.repeats < 1:
        parser.error("--size-gb must be positive, --vocabulary and --repeats at least 1")
    if args.spacy is not None and not (args.spacy / "vectors").is_file():
        parser.error(f"--spacy {args.spacy}: expected the vocab folder of a spaCy model (with a `vectors` file)")
    if args.spacy is not None and importlib.util.find_spec("spacy") is None:
        parser.error("--spacy needs spaCy installed (pip install spacy)")
    args.bytes = round(args.size_gb * 2**30)
    if smoke():  # the smallest run (timing.smoke): a 2 MiB file of its own under smoke_dir(), 200 words, one repeat
        args.bytes, args.vocabulary, args.repeats, args.workdir = SMOKE_BYTES, SMOKE_VOCABULARY, 1, smoke_dir()
    smoke_banner()
    print(machine_line(torch.device("cpu")))
    missing = gensim_missing()
    if missing is not None:
        print(f"skip the gensim rows: {missing}")
    else:
        print(f"gensim {importlib.metadata.version('gensim')}, numpy {np.__version__}")
    if args.spacy is None:
        print("no --spacy: the real words and their vectors are made up too (Gaussian), not spaCy's")
    path, meta = vectors_file(args)
    source = f"spaCy vectors from {args.spacy}" if args.spacy is not None else "made up (no --spacy)"
    print(
        f"  {meta['bytes'] / 2**30:.3f} GiB, {meta['rows']:,} rows of {DIMENSION} values; the first {meta['real']:,} "
        f"real words ({source}), then made-up words"
    )
    words, told = draw_vocabulary(meta, args.vocabulary, args.seed)
    print(f"vocabulary: {told}")
    measure("plain", path, words)  # the file into the page cache: every timed pass reads it from there
    kinds = ["lstmlab", "plain", "lstmlab-interpreter"]
    if missing is None:
        kinds[1:1] = ["gensim"]
        kinds.append("gensim-interpreter")
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    checks = {kind: path.with_name(f"check-{kind}.npz") for kind in ("lstmlab", "gensim")}

    def run(kind: str, repeat: int) -> None:
        check = checks.get(kind) if repeat == 0 else None
        runs[kind].append(measure(kind, path, words, check))
        print(f"  repeat {repeat + 1}: {kind} {runs[kind][-1]['seconds']:.2f} s", flush=True)

    round_robin(kinds, args.repeats, run)
    if missing is None:
        print(compare_readers(checks["lstmlab"], checks["gensim"]))
    for check in checks.values():
        check.unlink(missing_ok=True)
    print(f"found: lstmlab {runs['lstmlab'][0]['found']:,} of the {len(words):,} words")
    report(args, path, meta, words, runs)


def report(
    args: argparse.Namespace, path: Path, meta: dict[str, Any], words: Sequence[str], runs: dict[str, Any]
) -> None:
    """The table, the ratios, the goal lines and the CSV."""
    matrix_mib = len(words) * DIMENSION * 4 / MiB
    seconds = {kind: median_of(r, "seconds") for kind, r in runs.items()}
    peaks = {kind: median_of(r, "peak_mib") for kind, r in runs.items()}
    interpreter = {"lstmlab": "lstmlab-interpreter", "gensim": "gensim-interpreter"}
    rows: dict[str, dict[str, Any]] = {}
    for kind, measured in runs.items():
        times = [r["seconds"] for r in measured]
        reads = kind in ("lstmlab", "gensim", "plain")
        base = interpreter.get(kind)
        rows[kind] = {
            "candidate": CANDIDATES[kind],
            "file_bytes": meta["bytes"],
            "file_rows": meta["rows"],
            "real_words": meta["real"],
            "source": meta["settings"]["source"],
            "dimension": DIMENSION,
            "vocabulary": len(words),
            "found": measured[0].get("found"),
            "repeats": len(measured),
            "median_s": seconds[kind],
            "min_s": min(times),
            "max_s": max(times),
            "mib_per_s": meta["bytes"] / MiB / seconds[kind] if reads else None,
            "time_over_plain": seconds[kind] / seconds["plain"] if reads else None,
            "peak_mib": peaks[kind],
            "above_interpreter_mib": peaks[kind] - peaks[base] if base in peaks else None,
            "matrix_mib": matrix_mib,
            "time_over_gensim": seconds[kind] / seconds["gensim"] if reads and "gensim" in seconds else None,
            "peak_over_gensim": peaks[kind] / peaks["gensim"] if kind == "lstmlab" and "gensim" in peaks else None,
        }

    def cell(value: float | None, spec: str) -> str:
        return "" if value is None else format(value, spec)

    lines = [
        [
            r["candidate"],
            f"{r['median_s']:.3f}" if r["mib_per_s"] is not None else "",
            f"{r['min_s']:.3f}-{r['max_s']:.3f}" if r["mib_per_s"] is not None else "",
            cell(r["mib_per_s"], ".0f"),
            cell(r["time_over_plain"], ".2f"),
            cell(r["time_over_gensim"], ".3f"),
            f"{r['peak_mib']:.1f}",
            cell(r["above_interpreter_mib"], ".1f"),
            cell(r["peak_over_gensim"], ".3f"),
        ]
        for r in rows.values()
    ]
    header = [
        "candidate",
        "median s",
        "min-max s",
        "MiB/s",
        "/ plain",
        "/ gensim",
        "peak MiB",
        "above interp.",
        "peak / gensim",
    ]
    print_table(header, lines)
    print(f"the kept matrix: {len(words):,} x {DIMENSION} float32 = {matrix_mib:.1f} MiB; medians of {args.repeats}")
    print(
        f"disk pace: the plain read, {rows['plain']['mib_per_s']:.0f} MiB/s (from the page cache: "
        f"the file was read once before timing); lstmlab takes {seconds['lstmlab'] / seconds['plain']:.2f}x its time"
    )
    if "gensim" in seconds:
        time_ratio = seconds["lstmlab"] / seconds["gensim"]
        print(
            f"ours / gensim: time {time_ratio:.3f}, peak memory {peaks['lstmlab'] / peaks['gensim']:.3f} "
            f"(above each one's interpreter: {peaks['lstmlab'] - peaks['lstmlab-interpreter']:.1f} MiB / "
            f"{peaks['gensim'] - peaks['gensim-interpreter']:.1f} MiB)"
        )
        print(
            f"goal, faster than gensim: time ours / gensim = {time_ratio:.3f}: {'met' if time_ratio < 1 else 'NOT met'}"
        )
    else:
        print("goal, faster than gensim: not measured (gensim not installed)")
    bound = peaks["lstmlab-interpreter"] + 2 * matrix_mib
    met = "met" if peaks["lstmlab"] <= bound else "NOT met"
    print(
        f"goal, peak memory within 2x the kept matrix plus the interpreter: {peaks['lstmlab']:.1f} MiB against "
        f"{peaks['lstmlab-interpreter']:.1f} + 2 x {matrix_mib:.1f} = {bound:.1f} MiB: {met}"
    )
    gensim = importlib.metadata.version("gensim") if "gensim" in seconds else "not installed"
    write_csv(args.csv, list(rows.values()), machine=machine_line(torch.device("cpu")), gensim=gensim, file=str(path))
    print(f"rows: {results_path(args.csv)}")


if __name__ == "__main__":
    main()
