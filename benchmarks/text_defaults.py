"""lstmlab's text defaults beside the TF-IDF baseline on sentence polarity and the three UCI sentence sets, on fresh
splits: accuracy and training time.

Usage:
    pip install -c constraints.txt -e ".[baselines]"       # scikit-learn (the baseline)
    python benchmarks/text_defaults.py                      # 4 sets, splits 40-49 (sentence polarity 40-44), 2 processes
    python benchmarks/text_defaults.py --sets amazon,yelp,imdb --seeds 20 --first-seed 40
    python benchmarks/text_defaults.py --models 'text-bilstm-pool;text-bilstm-pool:input_dropout=0.4'   # another preset beside the default
    python benchmarks/text_defaults.py --quick              # 1 split, 2 epochs: checks that everything runs
    python benchmarks/text_defaults.py --vectors DIR --models 'text-bilstm-pool;text-bilstm-pool@file/frozen;text-bilstm-pool@file;text-bilstm-pool@own;text-bilstm-pool@both'

Pretrained vectors: a candidate `PRESET@SOURCE[/MODE]` starts its Embedding from word vectors, as `lstmlab train
--vectors` does (MODE `frozen` or `fine-tuned`, the default): SOURCE `file` is the `--vectors` file or spaCy folder
(the docs use spaCy's en_core_web_md vectors, MIT licence); `own` is word2vec (gensim, skip-gram, 100 dimensions)
trained on that split's training texts, its time counted in the candidate's (`fasttext`: gensim's fastText, its
vectors summed from character n-grams, the same way); `both` is the file's vectors of each word
followed by its own (zeros where the file lacks the word). Without `--vectors` only `own` candidates run.

Splits: seed s draws a stratified split (sentence polarity: 10 % of each class held out; the UCI sets: 20 %, so 200
test sentences) and the model's initial weights and order, as `lstmlab train --data PATH --seed s` does. Splits 0-4
reported the former defaults and 10-19 chose them (`benchmarks/README.md`); 20-39 checked them once. The default
first split here is 40: splits never used to choose anything. Each lstmlab run is what `lstmlab train --data PATH
--seed s` trains (with its default ensemble where the set is small; the library call behind `lstmlab compare models
... --data`); the baseline is `compare`'s `tfidf-logreg` (TF-IDF of words and word pairs, logistic regression with
C by inner 5-fold cross-validation on the training split), on exactly the same split. Sentence polarity is
development data (`../shared/datasets/sentence_polarity`): where it is absent the set is skipped with a message.

The table: per set, each candidate's mean accuracy ± std over the splits, the baseline's, the difference (with how
many splits were ahead, level and behind), the median training seconds (one thread); the mean over the sets, and
on how many sets the default is ahead. Rows: `benchmarks/results/text_defaults.csv`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from itertools import zip_longest
from pathlib import Path

from timing import smoke, smoke_banner, smoke_dir
from versus_baseline import Job, Table, add_options, models_of, run_all, split_candidate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SETS = {  # name: (--data, held-out fraction)
    "sentence-polarity": (str(SHARED / "sentence_polarity"), 0.1),
    "amazon": ("uci:amazon", 0.2),
    "yelp": ("uci:yelp", 0.2),
    "imdb": ("uci:imdb", 0.2),
}
COST = {"sentence-polarity": 2}  # the long runs first
BASELINE = "tfidf-logreg"
LARGE_SPLITS = 5  # splits of sentence polarity at most (a run there takes minutes)
SMOKE_TEXTS = 200  # texts of each set a smoke run keeps


def smoke_slice(name: str, path: str) -> str:
    """A smoke run's set: the first `SMOKE_TEXTS` texts of `path`, the classes in turn, as JSON Lines under
    `smoke_dir()`."""
    from lstmlab.data import load_texts

    by_class: dict[str, list[dict[str, str]]] = {}
    for example in load_texts(Path(path)):
        by_class.setdefault(example.label, []).append({"text": example.text, "label": example.label})
    taken = [row for rows in zip_longest(*by_class.values()) for row in rows if row is not None][:SMOKE_TEXTS]
    out = smoke_dir() / f"{name}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row) + "\n" for row in taken), encoding="utf-8")
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {list(SETS)}")
    parser.add_argument("--seeds", type=int, default=10, help=f"splits per set (sentence polarity: {LARGE_SPLITS})")
    parser.add_argument("--first-seed", type=int, default=40)
    parser.add_argument(
        "--vectors", help="pretrained word vectors (a file or spaCy folder) for @file / @both candidates"
    )
    add_options(parser, model="text-bilstm-pool", seeds="split", csv="text_defaults.csv")
    args = parser.parse_args()
    smoke_banner()
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown sets {unknown}; choose from {list(SETS)}")
    sets = []
    for name in names:
        if not SETS[name][0].startswith("uci:") and not Path(SETS[name][0]).exists():
            print(f"skip {name}: {SETS[name][0]} not found (development data, see ../shared/datasets/README.md)")
            continue
        sets.append(name)
    if not sets:  # each said why
        return
    models = models_of(args)
    for model in models:
        if split_candidate(model)[1] in ("file", "both") and args.vectors is None:
            parser.error(f"{model} starts from the --vectors file: give --vectors PATH")
    scratch = Path(tempfile.mkdtemp(prefix="text-defaults-vectors-"))  # each split's own vectors
    paths = {name: SETS[name][0] for name in sets}
    if smoke():  # the smallest run (timing.smoke): the development set (where present) and the first UCI set asked
        # for, each cut to SMOKE_TEXTS texts; 1 split of 1 epoch, 2 processes
        uci = [n for n in sets if SETS[n][0].startswith("uci:")]
        sets = [n for n in sets if n not in uci or n == uci[0]]
        paths = {name: smoke_slice(name, paths[name]) for name in sets}
        args.seeds, args.workers = 1, min(args.workers, 2)
    jobs = []
    for name in sets:
        path, fraction = paths[name], SETS[name][1]
        count = 1 if args.quick else min(args.seeds, LARGE_SPLITS) if name in COST else args.seeds
        for s in range(args.first_seed, args.first_seed + count):
            data = {"path": path, "test_fraction": fraction, "split_seed": s}
            jobs += [
                Job(c, name, data, s, c == BASELINE, args.quick, smoke(), args.vectors, str(scratch))
                for c in [*models, BASELINE]
            ]
    jobs.sort(key=lambda j: -COST.get(j.name, 0))
    table = Table(
        models,
        sets,
        BASELINE,
        0.0,
        f"splits from {args.first_seed}; accuracy on each split's test part, mean ± std over the splits",
    )
    run_all(jobs, table, workers=args.workers, quick=args.quick, csv=args.csv)


if __name__ == "__main__":
    main()
