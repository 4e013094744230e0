"""Accuracy on public data sets: lstmlab's default models for text and series, several seeds, each beside a
baseline trained in the same run on the same splits and the published figure.

Usage:
    pip install -c constraints.txt -e ".[bench]"     # scikit-learn (the baselines) and aeon (the series)
    python benchmarks/accuracy.py                     # every set, 5 seeds, 2 processes (about 20 min on 2 cores; not measured whole since the UCI ensembles)
    python benchmarks/accuracy.py --sets mr --seeds 5 --workers 2
    python benchmarks/accuracy.py --quick             # 1 seed, 2 epochs: checks that everything runs
    python benchmarks/accuracy.py --sets japanese-vowels --model series-bilstm   # another preset, same splits
    python benchmarks/accuracy.py --sets amazon,yelp,imdb --set input_dropout=0.3 # a preset option changed
    python benchmarks/accuracy.py --sets amazon,yelp,imdb --seeds 10 --first-seed 10   # other splits, for trying
    python benchmarks/accuracy.py --sets amazon,yelp,imdb --ensemble 1  # one model, not the default ensemble of 5

Sets:
    japanese-vowels  aeon:JapaneseVowels, the archive's split (train 270 / test 370); seeds vary weights and order.
                     Baseline: 1-nearest neighbour on standardised series with dynamic time warping is costly;
                     the baseline here is a logistic regression on each channel's mean, std, min, max, first and
                     last value (summary features), trained on the same split.
    mr               Sentence polarity (../shared/datasets/sentence_polarity), stratified 90/10 split by seed.
    amazon|yelp|imdb UCI sentiment sentences (uci:NAME, shipped with lstmlab), stratified 80/20 split by seed
                     (200 test sentences: a 90/10 split would leave 100, and a std of about 4 points).
    Text baselines: scikit-learn CountVectorizer (binary) + LogisticRegression (C=1), trained on exactly the
    training texts lstmlab trains on (validation part included), scored on the same test texts: words and pairs of
    words (bag-of-words LR, the one to beat), and words alone (words-only LR, the plainest bag of words).

Every lstmlab run goes through `lstmlab train --data` (the library call behind it), with the settings printed in
the table: what a user gets. Runs are spread over processes (spawn, one thread each). Results: a table on stdout
and `benchmarks/results/accuracy.csv` (one row per set, seed and candidate).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import RESULTS_DIR, results_path, set_threads, smoke, smoke_banner, smoke_dir, write_csv

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
# A smoke run's slice of a development set of class files (sentence polarity): the first lines of each file, more
# training texts than lstmlab's SMALL_TEXT (2,000), so that it trains with the full set's defaults (one model, a
# validation part, the best epoch kept)
SMOKE_LINES = 1200


@dataclass(frozen=True)
class Bench:
    name: str
    data: str  # --data
    kind: str  # text or series
    published: str
    target: float | None
    test_fraction: float = 0.1
    model: dict[str, Any] = field(default_factory=dict)  # --set
    train: dict[str, Any] = field(default_factory=dict)  # training choices beyond the defaults (TrainChoices fields)
    text: dict[str, Any] = field(default_factory=dict)  # text settings beyond the defaults
    ensemble: int | None = None  # --ensemble (None: lstmlab train's default for the data)


BENCHES = {
    "japanese-vowels": Bench(
        "japanese-vowels",
        "aeon:JapaneseVowels",
        "series",
        "FCN 0.993, ResNet 0.992, InceptionTime 0.992",
        0.99,
    ),
    "mr": Bench(
        "mr",
        str(SHARED / "sentence_polarity"),
        "text",
        "CNN, random embeddings 0.761; static word2vec 0.815 (10-fold CV)",
        0.77,
    ),
    # the UCI sets ship with lstmlab (the files of ../shared/datasets/uci_sentiment, byte for byte)
    "amazon": Bench("amazon", "uci:amazon", "text", "bag-of-words LR about 0.80", None, 0.2),
    "yelp": Bench("yelp", "uci:yelp", "text", "bag-of-words LR about 0.80", None, 0.2),
    "imdb": Bench("imdb", "uci:imdb", "text", "bag-of-words LR about 0.75", None, 0.2),
}


def smoke_slice(folder: Path, lines: int = SMOKE_LINES) -> Path:
    """The first `lines` lines of each file of `folder` (class files, one text a line), copied under smoke_dir()."""
    out = smoke_dir() / f"{folder.name}-first{lines}"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        (out / path.name).write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:lines]))
    return out


def data_spec(bench: Bench, seed: int) -> Any:
    from lstmlab.data.spec import DataSpec, TextSettings

    return DataSpec(bench.data, test_fraction=bench.test_fraction, split_seed=seed, text=TextSettings(**bench.text))


def preset_of(bench: Bench, model: str | None) -> str:
    from lstmlab.runs.defaults import preset_for

    return model or preset_for(bench.kind)


def run_lstmlab(bench: Bench, seed: int, quick: bool, model: str | None) -> dict[str, Any]:
    from lstmlab.models import ensemble_size
    from lstmlab.runs.defaults import TrainChoices
    from lstmlab.runs.pipeline import train_run
    from lstmlab.runs.spec import RunSpec

    set_threads(1)
    train = TrainChoices(**{**bench.train, **({"epochs": 2} if quick else {})}, ensemble=bench.ensemble)
    spec = RunSpec(
        preset=preset_of(bench, model), model_options=bench.model, train=train, seed=seed, data=data_spec(bench, seed)
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = train_run(spec, Path(out) / "run")
    assert result.scores is not None  # None only for a run stopped by Ctrl-C
    return {
        "set": bench.name,
        "seed": seed,
        "candidate": "lstmlab",
        "accuracy": result.scores.accuracy,
        "seconds": time.perf_counter() - start,
        "epochs": len(result.history.epochs),
        "members": ensemble_size(result.model),
    }


def _summary_features(values: list[np.ndarray]) -> np.ndarray:
    return np.stack([np.concatenate([v.mean(0), v.std(0), v.min(0), v.max(0), v[0], v[-1]]) for v in values])


def run_baseline(bench: Bench, seed: int) -> list[dict[str, Any]]:
    """The baselines of a set on seed `seed`'s split: for text two bag-of-words logistic regressions (binary counts
    of words and word pairs, the one to beat; words alone, the plainest), for series one on summary features."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from lstmlab.data.datasets import load_series_split, load_split

    spec = data_spec(bench, seed)
    scored: list[tuple[str, float, float]] = []  # name, accuracy, seconds
    if bench.kind == "series":
        start = time.perf_counter()
        train, test = load_series_split(spec)
        x_train, x_test = _summary_features(train.values), _summary_features(test.values)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        model.fit(x_train, train.labels)
        accuracy = float(np.mean(model.predict(x_test) == np.array(test.labels)))
        scored.append(("summary-features LR", accuracy, time.perf_counter() - start))
    else:
        train_examples, test_examples = load_split(spec)
        texts, labels = [e.text for e in train_examples], [e.label for e in train_examples]
        test_texts, truth = [e.text for e in test_examples], np.array([e.label for e in test_examples])
        for name, ngrams in (("bag-of-words LR", (1, 2)), ("words-only LR", (1, 1))):
            start = time.perf_counter()
            model = make_pipeline(
                CountVectorizer(ngram_range=ngrams, binary=True), LogisticRegression(max_iter=5000, C=1.0)
            )
            model.fit(texts, labels)
            accuracy = float(np.mean(model.predict(test_texts) == truth))
            scored.append((name, accuracy, time.perf_counter() - start))
    return [
        {
            "set": bench.name,
            "seed": seed,
            "candidate": name,
            "accuracy": accuracy,
            "seconds": seconds,
            "epochs": "",
            "members": "",
        }
        for name, accuracy, seconds in scored
    ]


def _job(kind: str, bench: Bench, seed: int, quick: bool, model: str | None) -> list[dict[str, Any]]:
    return [run_lstmlab(bench, seed, quick, model)] if kind == "lstmlab" else run_baseline(bench, seed)


def _tally(ours: list[dict[str, Any]], base: list[dict[str, Any]]) -> str:
    """Seed by seed (same split): how often lstmlab was ahead of, level with and behind the baseline."""
    baseline = {r["seed"]: r["accuracy"] for r in base}
    diffs = [r["accuracy"] - baseline[r["seed"]] for r in ours if r["seed"] in baseline]
    ahead, behind = sum(d > 1e-9 for d in diffs), sum(d < -1e-9 for d in diffs)
    return f"ahead {ahead}, level {len(diffs) - ahead - behind}, behind {behind}"


def settings(bench: Bench, model: str | None, members: set[int]) -> str:
    parts = [f"--model {preset_of(bench, model)}"] + [f"--set {k}={v}" for k, v in bench.model.items()]
    parts += [f"--{k.replace('_', '-')} {v}" for k, v in {**bench.train, **bench.text}.items()]
    if bench.ensemble is not None:
        parts.append(f"--ensemble {bench.ensemble}")
    elif members != {1}:
        parts.append(f"(default ensemble of {', '.join(map(str, sorted(members)))})")
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(BENCHES), help="comma-separated names")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds first..first+seeds-1 (other splits: for trying settings)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes, one thread each")
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs: a smoke run, not a result")
    parser.add_argument("--model", help="a preset for every chosen set (default: lstmlab's default for the data kind)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a model option, repeatable")
    parser.add_argument("--epochs", type=int, help="training settings beyond the defaults, as lstmlab train's")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--validation-split", type=float)
    parser.add_argument("--schedule", choices=["constant", "cosine"])
    parser.add_argument("--max-len", type=int, help="text settings beyond the defaults, as lstmlab train's")
    parser.add_argument("--min-count", type=int)
    parser.add_argument("--ensemble", type=int, help="members per run, as lstmlab train's (default: its default)")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "accuracy.csv"))
    args = parser.parse_args()
    if smoke():  # the smallest run (timing.smoke): 1 seed, 1 epoch (--quick's 2 too), development data sliced
        args.seeds, args.epochs, args.quick = 1, 1, False
    smoke_banner()
    training = {
        key: getattr(args, key)
        for key in ("epochs", "learning_rate", "validation_split", "schedule")
        if getattr(args, key) is not None
    }
    text_settings = {key: getattr(args, key) for key in ("max_len", "min_count") if getattr(args, key) is not None}
    from lstmlab.models import parse_options

    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown sets {unknown}; choose from {list(BENCHES)}")
    seeds = range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds))
    benches = []
    for name in names:
        bench = BENCHES[name]
        if bench.kind == "text" and not bench.data.startswith("uci:") and not Path(bench.data).exists():
            print(f"skip {name}: {bench.data} not found (development data, see ../shared/datasets/README.md)")
            continue
        if smoke() and bench.kind == "text" and not bench.data.startswith("uci:"):
            bench = dataclasses.replace(bench, data=str(smoke_slice(Path(bench.data))))
        try:
            options = parse_options(preset_of(bench, args.model), args.set)
        except ValueError as error:
            parser.error(str(error))
        text = {**bench.text, **(text_settings if bench.kind == "text" else {})}
        benches.append(
            dataclasses.replace(
                bench,
                model={**bench.model, **options},
                train={**bench.train, **training},
                text=text,
                ensemble=args.ensemble,
            )
        )
    if not benches:
        print("nothing to run: every set chosen was skipped")
        return
    jobs = [(kind, b, s) for b in benches for s in seeds for kind in ("lstmlab", "baseline")]
    jobs.sort(key=lambda j: j[0] != "lstmlab")  # the long runs first
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = [pool.submit(_job, kind, b, s, args.quick, args.model) for kind, b, s in jobs]
        rows = [row for f in futures for row in f.result()]
    wall = time.perf_counter() - start

    print(f"\ntorch {torch.__version__}, {args.workers} processes x 1 thread, {len(seeds)} seeds, wall {wall:.0f} s")
    if args.quick:
        print("QUICK RUN (2 epochs): checks the pipeline, the accuracies are not results")
    header = (
        "| set | lstmlab (mean ± std) | per seed | baseline, same splits | lstmlab - baseline, seed by seed "
        "| published | target | settings | s per run |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
    for bench in benches:
        ours = [r for r in rows if r["set"] == bench.name and r["candidate"] == "lstmlab"]
        a = [r["accuracy"] for r in ours]
        target = (
            ""
            if bench.target is None
            else f">= {bench.target:.2f} {'met' if statistics.mean(a) >= bench.target else 'NOT met'}"
        )
        names = list(
            dict.fromkeys(r["candidate"] for r in rows if r["set"] == bench.name and r["candidate"] != "lstmlab")
        )
        baselines, differences = [], []
        for name in names:  # the first is the one to beat
            base = [r for r in rows if r["set"] == bench.name and r["candidate"] == name]
            b = [r["accuracy"] for r in base]
            baselines.append(f"{name} {statistics.mean(b):.3f} ± {sd(b):.3f}")
            differences.append(f"{statistics.mean(a) - statistics.mean(b):+.3f} ({_tally(ours, base)})")
        print(
            f"| {bench.name} | {statistics.mean(a):.3f} ± {sd(a):.3f} | {' '.join(f'{v:.3f}' for v in a)} "
            f"| {'; '.join(baselines)} | {'; '.join(differences)} | {bench.published} | {target} "
            f"| {settings(bench, args.model, {r['members'] for r in ours})} "
            f"| {statistics.median(r['seconds'] for r in ours):.0f} |"
        )
    path = Path(args.csv)
    write_csv(path, rows, digits=None)
    print(f"rows: {results_path(path)}")


if __name__ == "__main__":
    main()
