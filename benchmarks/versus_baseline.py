"""What `series_defaults.py` and `text_defaults.py` share: one run (a preset as `lstmlab train` trains it, or a
baseline as `lstmlab compare` fits it) on one split, and the table of every candidate beside the baseline with the
issue's target (the default's mean over the sets at least the baseline's, no set more than a margin below it)."""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from timing import RESULTS_DIR, machine_line, results_path, set_threads, write_csv


@dataclass(frozen=True)
class Job:
    candidate: str  # a preset, PRESET:KEY=VALUE,... (as `lstmlab compare models` takes it), or the baseline's name
    name: str  # the set, as the table names it
    data: dict[str, Any]  # DataSpec fields (the split seed set for a stratified split)
    seed: int  # weights and training order (and the split where data has no test set of its own)
    baseline: bool
    quick: bool = False  # 2 epochs: a smoke run
    smoke: bool = False  # 1 epoch: a smoke run (timing.smoke)
    vectors: str | None = None  # the pretrained vectors a candidate `PRESET@file...` or `PRESET@both...` starts from
    scratch: str | None = None  # where `@own` / `@both` candidates write the vectors trained on their split


# a candidate's `@SOURCE[/MODE]`: the file, word2vec on the split, both, fastText (gensim's) on the split
VECTOR_SOURCES = ("file", "own", "both", "fasttext")


def split_candidate(candidate: str) -> tuple[str, str | None, str]:
    """`PRESET[:K=V,...][@SOURCE[/MODE]]` -> (the preset part, the vectors source or None, the vectors mode)."""
    model, _, vectors = candidate.partition("@")
    if not vectors:
        return model, None, "fine-tuned"
    source, _, mode = vectors.partition("/")
    if source not in VECTOR_SOURCES or mode not in ("", "frozen", "fine-tuned"):
        raise ValueError(
            f"Expected @SOURCE[/MODE] with SOURCE in {VECTOR_SOURCES}, MODE frozen or fine-tuned: {vectors}"
        )
    return model, source, mode or "fine-tuned"


def own_vectors(data: Any, source: str, file: str | None, folder: Path, seed: int) -> Path:
    """Vectors trained on the split's own training texts (gensim's word2vec, or its fastText for `fasttext`:
    skip-gram, 100 dimensions, 20 epochs, on the token ids the run reads, read back as words), alone (`own`,
    `fasttext`) or after the file's vectors of each word (`both`: the file's part zeros where the file lacks the
    word). Written as a GloVe file in `folder`."""
    import numpy as np
    from gensim.models import FastText, Word2Vec

    from lstmlab.data import prepare_data, read_vectors

    sets = prepare_data(data.resolved(data.split))
    words = sets.encoder.vocabulary.words
    names = ["<pad>", "<oov>", *words]
    sentences = [
        [names[i] for i in row[: int(n)].tolist()] for row, n in zip(sets.train.x, sets.train.lengths, strict=True)
    ]
    kind = FastText if source == "fasttext" else Word2Vec  # fastText: vectors of character n-grams summed
    model = kind(sentences, vector_size=100, window=5, min_count=1, sg=1, epochs=20, workers=1, seed=seed)
    matrix = np.stack([model.wv[w] if w in model.wv else np.zeros(100, np.float32) for w in words])
    if source == "both":
        assert file is not None
        found = read_vectors(Path(file), words, lower=data.text.lower)
        matrix = np.concatenate([found.matrix, matrix], axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}-{data.split}-{abs(hash(data.path)) % 10**8}.txt"
    lines = (" ".join([w, *(f"{v:.6g}" for v in row)]) for w, row in zip(words, matrix, strict=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(job: Job) -> dict[str, Any]:
    """Train and score one candidate on one split, on one thread."""
    set_threads(1)
    from lstmlab.compare.on_data import train_baseline, train_model
    from lstmlab.compare.sweep import parse_model
    from lstmlab.data.spec import DataSpec, VectorSettings
    from lstmlab.runs.defaults import TrainChoices
    from lstmlab.runs.spec import RunSpec

    data = DataSpec(**job.data)
    start = time.perf_counter()
    if job.baseline:
        result = train_baseline(job.candidate, data, data.kind, job.seed)
        epochs, members = "", ""
    else:
        train = TrainChoices(epochs=1 if job.smoke else 2 if job.quick else None)
        model, source, mode = split_candidate(job.candidate)
        if source is not None:
            path = job.vectors
            if source != "file":  # trained on the split: its time counts as the candidate's
                path = str(own_vectors(data, source, job.vectors, Path(job.scratch or "."), job.seed))
            if path is None:
                raise ValueError(f"Expected --vectors for {job.candidate}")
            data = dataclasses.replace(data, vectors=VectorSettings(path, mode=mode))  # type: ignore[arg-type]
        _, preset, options = parse_model(model)
        spec = RunSpec(preset=preset, model_options=options, data=data, seed=job.seed, train=train)
        result = train_model(spec)
        epochs, members = result["training"]["epochs"], result["training"]["ensemble"]
    return {
        "set": job.name,
        "seed": job.seed,
        "candidate": job.candidate,
        "accuracy": result["accuracy"],
        "train_seconds": result["train_seconds"],
        "epochs": epochs,
        "members": members,
        "wall_seconds": time.perf_counter() - start,
    }


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def _tally(ours: dict[int, float], base: dict[int, float]) -> str:
    """Seed by seed (the same split): ahead, level, behind."""
    diffs = [ours[s] - base[s] for s in ours if s in base]
    ahead, behind = sum(d > 1e-9 for d in diffs), sum(d < -1e-9 for d in diffs)
    return f"{ahead}/{len(diffs) - ahead - behind}/{behind}"


def report(rows: list[dict[str, Any]], models: list[str], sets: list[str], baseline: str, margin: float) -> list[str]:
    """The table and the verdict on the first model, as Markdown lines."""

    def scores(name: str, candidate: str) -> dict[int, float]:
        return {r["seed"]: r["accuracy"] for r in rows if r["set"] == name and r["candidate"] == candidate}

    def seconds(name: str, candidate: str) -> float:
        return statistics.median(r["train_seconds"] for r in rows if r["set"] == name and r["candidate"] == candidate)

    header = ["set", *models, baseline, *[f"{m} - {baseline} (ahead/level/behind)" for m in models]]
    header += [f"{m} s" for m in models] + [f"{baseline} s"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    means: dict[str, list[float]] = {c: [] for c in [*models, baseline]}
    short: list[str] = []
    for name in sets:
        base = scores(name, baseline)
        means[baseline].append(statistics.mean(base.values()))
        cells = [name]
        for m in models:
            means[m].append(statistics.mean(scores(name, m).values()))
            cells.append(_mean_sd(list(scores(name, m).values())))
        cells.append(_mean_sd(list(base.values())))
        for m in models:
            gap = statistics.mean(scores(name, m).values()) - statistics.mean(base.values())
            cells.append(f"{gap:+.3f} ({_tally(scores(name, m), base)})")
        cells += [f"{seconds(name, m):.0f}" for m in models] + [f"{seconds(name, baseline):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
        best = max(models, key=lambda m: statistics.mean(scores(name, m).values()))
        gap = statistics.mean(scores(name, best).values()) - statistics.mean(base.values())
        if gap < -margin:
            short.append(f"{name} (best model {best} {gap:+.3f}: {baseline} is the better choice there)")
    overall = ["**mean over the sets**", *[f"{statistics.mean(means[c]):.3f}" for c in [*models, baseline]]]
    overall += [f"{statistics.mean(means[m]) - statistics.mean(means[baseline]):+.3f}" for m in models]
    overall += [""] * (len(header) - len(overall))
    lines.append("| " + " | ".join(overall) + " |")
    default = models[0]
    ahead = [n for n, ours, base in zip(sets, means[default], means[baseline], strict=True) if ours > base]
    mean_met = statistics.mean(means[default]) >= statistics.mean(means[baseline])
    lines += [
        "",
        f"{default}: mean over the sets {'at least' if mean_met else 'BELOW'} {baseline}'s; ahead on "
        f"{len(ahead)} of {len(sets)} sets ({', '.join(ahead) or 'none'}); "
        + (f"no set more than {margin} below." if not short else "more than the margin below: " + "; ".join(short)),
    ]
    return lines


def add_options(parser: argparse.ArgumentParser, *, model: str, seeds: str, csv: str) -> None:
    """The options both scripts take: --models (the default `model`), --workers, --quick, --csv (default
    `benchmarks/results/<csv>`); `seeds` says what --seeds counts."""
    parser.add_argument(
        "--models",
        default=model,
        help="presets (PRESET:KEY=VALUE,... as compare takes them), separated by ';'; the first is judged",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes, one thread each")
    parser.add_argument("--quick", action="store_true", help=f"1 {seeds}, 2 epochs: a smoke run, not a result")
    parser.add_argument("--csv", default=str(RESULTS_DIR / csv))


def models_of(args: argparse.Namespace) -> list[str]:
    return [m.strip() for m in args.models.split(";") if m.strip()]


@dataclass(frozen=True)
class Table:
    """What the table compares: the models (the first judged), the sets, the baseline and the margin."""

    models: list[str]
    sets: list[str]
    baseline: str
    margin: float
    splits: str  # the splits in words, printed above the table


def run_all(jobs: Sequence[Job], table: Table, *, workers: int, quick: bool, csv: str) -> None:
    """Run the jobs over `workers` processes (one thread each), print the machine, the table and the verdict, and
    write one row per job to `csv`."""
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(run, jobs))
    wall = time.perf_counter() - start
    set_threads(1)
    print(f"{machine_line(torch.device('cpu'))}; {workers} processes x 1 thread; wall {wall:.0f} s")
    if quick:
        print("QUICK RUN (2 epochs): checks the pipeline, the accuracies are not results")
    print(table.splits)
    print("\n".join(report(rows, table.models, table.sets, table.baseline, table.margin)))
    write_csv(Path(csv), rows, digits=None)
    print(f"rows: {results_path(Path(csv))}")
