"""The classical baselines of comparisons on data (lstmlab/compare/baselines.py): accuracy, fit time and
inference time per example on public sets, each beside an anchor measured in the same run on the same split.

Usage:
    pip install -c constraints.txt -e ".[baselines]"
    python benchmarks/baselines.py                          # every set, 3 seeds (about 10 min on 2 busy cores)
    python benchmarks/baselines.py --sets gunpoint,yelp --seeds 1

Sets:
    Series, the archive's TRAIN/TEST split (seeds vary MiniRocket's biases and the inner folds): ArrowHead, ACSF1,
    BasicMotions, GunPoint, ItalyPowerDemand, OSULeaf, JapaneseVowels (bundled with aeon; skipped, saying so, where
    aeon is missing). Texts, a stratified split by seed as `lstmlab train --data` makes it: sentence polarity
    (../shared/datasets/sentence_polarity, 90/10; skipped where the folder is absent) and the UCI sentences
    amazon, yelp, imdb (shipped with lstmlab, 80/20).

Anchors, same split and seed: aeon's own MiniRocketClassifier (series of equal length; our `minirocket` builds the
same pipeline and should answer the same); for texts the bag-of-words logistic regression of benchmarks/accuracy.py
(binary counts of words and word pairs, C = 1); for series its logistic regression on six summary features.
Results: a table on stdout and benchmarks/results/baselines.csv (one row per set, seed and candidate).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import timing

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SERIES = ("ArrowHead", "ACSF1", "BasicMotions", "GunPoint", "ItalyPowerDemand", "OSULeaf", "JapaneseVowels")
TEXTS = {"mr": (str(SHARED / "sentence_polarity"), 0.1), **{n: (f"uci:{n}", 0.2) for n in ("amazon", "yelp", "imdb")}}
SMOKE_EXAMPLES = (200, 100)  # training and test examples a smoke run keeps of each set, the classes in turn


def load(name: str, seed: int) -> tuple[str, list, list[str], list, list[str]] | str:
    """(kind, training inputs and labels, test inputs and labels) as lstmlab's pipeline reads them, or why not."""
    from lstmlab.data.datasets import load_series_split, load_split
    from lstmlab.data.spec import DataSpec

    if name in TEXTS:
        path, fraction = TEXTS[name]
        if not path.startswith("uci:") and not Path(path).is_dir():
            return f"skipped: {path} is absent"
        train, test = load_split(DataSpec(path, test_fraction=fraction, split_seed=seed))
        return (
            "text",
            [e.text for e in train],
            [e.label for e in train],
            [e.text for e in test],
            [e.label for e in test],
        )
    try:
        series_train, series_test = load_series_split(DataSpec(f"aeon:{name}", split_seed=seed))
    except ValueError as error:  # aeon missing, or the set not bundled
        return f"skipped: {error}"
    return "series", series_train.values, series_train.labels, series_test.values, series_test.labels


def anchors(kind: str, inputs: list) -> dict[str, Callable[[int], Any]]:
    """The anchor estimators by name (fitted on raw inputs and labels), given the seed."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if kind == "text":
        return {
            "anchor: bag-of-words LR, C=1": lambda seed: make_pipeline(
                CountVectorizer(ngram_range=(1, 2), binary=True), LogisticRegression(max_iter=5000)
            )
        }

    def six(values: list) -> np.ndarray:
        return np.stack([np.concatenate([v.mean(0), v.std(0), v.min(0), v.max(0), v[0], v[-1]]) for v in values])

    found: dict[str, Callable[[int], Any]] = {
        "anchor: six summaries LR, C=1": lambda seed: make_pipeline(
            FunctionTransformer(six), StandardScaler(), LogisticRegression(max_iter=5000)
        )
    }
    if len({len(v) for v in inputs}) == 1:  # aeon's classifier takes equal lengths only
        from aeon.classification.convolution_based import MiniRocketClassifier

        def aeon_minirocket(seed: int) -> Any:
            to_aeon = FunctionTransformer(lambda values: np.stack([v.T for v in values]))
            return make_pipeline(to_aeon, MiniRocketClassifier(random_state=seed))

        found["anchor: aeon MiniRocketClassifier"] = aeon_minirocket
    return found


def first(inputs: list[Any], labels: list[str], count: int) -> tuple[list[Any], list[str]]:
    """The first `count` examples, the classes taken in turn (every class kept), in their order."""
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    taken = sorted([i for group in zip_longest(*by_class.values()) for i in group if i is not None][:count])
    return [inputs[i] for i in taken], [labels[i] for i in taken]


def measure(name: str, seed: int, limit: tuple[int, int] | None = None) -> list[dict[str, Any]] | str:
    """Every baseline and anchor on the set's split; with `limit`, on that many training and test examples."""
    from lstmlab.compare.baselines import baselines_for, fit_baseline

    loaded = load(name, seed)
    if isinstance(loaded, str):
        return loaded
    kind, x, y, x_test, y_test = loaded
    if limit is not None:
        (x, y), (x_test, y_test) = first(x, y, limit[0]), first(x_test, y_test, limit[1])
    rows = []
    for baseline in baselines_for(kind):
        fitted = fit_baseline(baseline.name, x, y, seed=seed)
        predicted, seconds = fitted.timed_predict(x_test)
        accuracy = float(np.mean(np.array(fitted.classes)[predicted] == np.array(y_test)))
        chosen = ", ".join(f"{k}={v:g}" for k, v in fitted.chosen.items() if k != "length")
        rows.append(row(name, seed, baseline.name, accuracy, fitted.fit_seconds, seconds, chosen))
    for anchor, make in anchors(kind, x).items():
        start = time.perf_counter()
        model = make(seed).fit(x, np.array(y))
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = model.predict(x_test)
        seconds = (time.perf_counter() - start) / len(x_test)
        accuracy = float(np.mean(np.asarray(predicted) == np.array(y_test)))
        rows.append(row(name, seed, anchor, accuracy, fit_seconds, seconds, ""))
    return rows


def row(name: str, seed: int, candidate: str, accuracy: float, fit: float, latency: float, chosen: str) -> dict:
    return {
        "set": name,
        "seed": seed,
        "candidate": candidate,
        "accuracy": accuracy,
        "fit_s": fit,
        "latency_ms": 1000 * latency,
        "chosen": chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join([*SERIES, *TEXTS]), help="comma-separated (default: all)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=timing.RESULTS_DIR / "baselines.csv")
    args = parser.parse_args()
    known = {n.lower(): n for n in (*SERIES, *TEXTS)}
    names = [known.get(n.strip().lower()) or parser.error(f"unknown set {n!r}") for n in args.sets.split(",")]
    timing.smoke_banner()
    limit = None
    if timing.smoke():  # the smallest run (timing.smoke): of the sets asked for, the first series set, the first UCI
        # texts and sentence polarity (where present), each cut to SMOKE_EXAMPLES; 1 seed
        by_source: dict[str, str] = {}
        for name in names:
            source = "series" if name in SERIES else "uci" if TEXTS[name][0].startswith("uci:") else "development"
            by_source.setdefault(source, name)
        names = list(by_source.values())
        args.seeds, limit = 1, SMOKE_EXAMPLES
    rows: list[dict[str, Any]] = []
    for name in names:
        for seed in range(args.seeds):
            measured = measure(name, seed, limit)
            if isinstance(measured, str):
                print(f"{name}: {measured}")
                break
            rows += measured
            print(f"{name} seed {seed}: " + ", ".join(f"{r['candidate']} {r['accuracy']:.3f}" for r in measured))
    if not rows:
        return
    lines = []
    for name in dict.fromkeys(r["set"] for r in rows):
        for candidate in dict.fromkeys(r["candidate"] for r in rows if r["set"] == name):
            mine = [r for r in rows if r["set"] == name and r["candidate"] == candidate]
            accuracy = [r["accuracy"] for r in mine]
            spread = statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0
            lines.append(
                [
                    name,
                    candidate,
                    f"{statistics.mean(accuracy):.3f} ± {spread:.3f}",
                    f"{statistics.median(r['fit_s'] for r in mine):.2f}",
                    f"{statistics.median(r['latency_ms'] for r in mine):.3f}",
                    " / ".join(dict.fromkeys(r["chosen"] for r in mine if r["chosen"])),
                ]
            )
    header = ["set", "candidate", f"accuracy ({args.seeds} seeds)", "fit s (median)", "ms/example", "chosen"]
    timing.print_table(header, lines, left=2, groups=True)
    timing.write_csv(args.csv, rows)
    print(f"wrote {timing.results_path(args.csv)}")


if __name__ == "__main__":
    main()
