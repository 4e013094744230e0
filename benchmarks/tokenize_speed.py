"""Tokens per second of lstmlab's text path: `tokenize` (words and punctuation marks, lower-cased) and
`TextEncoder.encode` (tokens to vocabulary ids, cut and padded into one tensor), beside a whitespace split
(`text.lower().split()`, the least any tokeniser does) and Hugging Face `tokenizers` (a word-level model with
lstmlab's vocabulary and rules, where installed) in the same run; then, for scale, the tokens per second that one
training epoch of the default text model consumes.

Texts: sentence polarity (development data, `../shared/datasets/sentence_polarity`; skipped where absent) and a
generated corpus of `--megabytes` of review-like sentences (Zipf-distributed words from a fixed vocabulary of
20,000, punctuation, 5-60 words a text; seed 0). The encoder is fitted on each set's texts first (not timed).
Each figure is the median of `--repeats` passes over the whole set (the candidates' passes interleaved, so that load
from other processes hits them alike), one thread but where a row says otherwise.

The `tokenizers` anchor: `WordLevel` with the fitted encoder's vocabulary (PAD 0, OOV 1), lstmlab's rules as a
normaliser (`Lowercase`, after a final-sigma `Replace`) and a regex `Split` pre-tokenizer, truncation and padding to
the encoder's length. Before timing, the script checks that it gives lstmlab's ids on every text of each set (the
whole text, uncut; it prints the share that agree and the texts that differ) and lstmlab's padded tensors (on the
first `CHECKED` texts), and runs a few texts chosen where the two rules part (`EDGE_TEXTS`). Its rows, each ending
with the (ids, lengths) tensors of lstmlab's encode: `encode`, a call per text; `encode_batch` with its parallelism
off (one thread); `encode_batch_fast` (no character offsets), parallelism off; `encode_batch` with its own threads
(Rayon, one per core: the `threads` column); and, to show where its time goes, `encode_batch_fast` with nothing but
a split at white space (not lstmlab's rules, so other ids). Without `tokenizers` installed, its rows are skipped
with a message.

Training, for scale: one epoch of `text-bilstm-pool` (sized for the data as `lstmlab train --data` sizes it; the
text training defaults, all texts trained, one thread) through `lstmlab.training.fit` on the first `--train-texts`
texts of each sentence polarity file (half of each class), beside `encode` of the same texts. Both rates count the
texts' tokens (before the cut to the model's length), so their ratio is also the ratio of texts per second.

Before and after a change: run it at both commits (`PYTHONPATH=<worktree of the old commit> python
benchmarks/tokenize_speed.py`).

Usage:
    python benchmarks/tokenize_speed.py [--megabytes 50] [--repeats 5] [--train-texts 2000]

Rows: benchmarks/results/tokenize_speed.csv (`q1_s`, `q3_s`: quartiles of the passes' wall seconds; `cpu_s`:
process CPU seconds of the median pass, which shows the threads a row kept busy).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import (
    RESULTS_DIR,
    machine_line,
    print_table,
    quartiles,
    results_path,
    round_robin,
    smoke,
    smoke_banner,
    write_csv,
)

from lstmlab import build_model
from lstmlab.data.spec import TextSettings
from lstmlab.data.text import PAD, TextEncoder, tokenize
from lstmlab.runs.defaults import TrainChoices, training_config
from lstmlab.training import fit

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sentence_polarity"
TOKENIZERS_MISSING = importlib.util.find_spec("tokenizers") is None
# lstmlab's `tokenize` rules in Oniguruma (the regex engine of `tokenizers`): Python's `[^\W_]` (str.isalnum) is
# letters and numbers; its `\s` (str.isspace) also holds the separators U+001C-U+001F
ALNUM = r"[\p{L}\p{N}]"
WORD = ALNUM + "+(?:'" + ALNUM + r"+)*|[^\p{L}\p{N}_\s\x{1c}-\x{1f}]"
# Python's lower() writes a final sigma, `Lowercase` does not: written before it, where a letter precedes and none
# follows (Python skips case-ignorable characters between them, which a fixed-width look-behind cannot)
FINAL_SIGMA = r"(?<=\p{L})Σ(?!\p{L})"
CHECKED = 20_000  # texts of a set whose padded tensors are compared (every text's ids are)
# Texts where the rules may part: Greek capitals (final sigma), apostrophes, combining accents, superscripts,
# separators, underscores, a code point Python 3.11 (Unicode 14) leaves unassigned and newer tables make a letter
EDGE_TEXTS = [
    "\u039f\u0394\u039f\u03a3. \u039f\u0394\u039f\u03a3'\u0391",  # ODOS. ODOS'A in Greek capitals
    "\u0391\u0301\u03a3",  # capital alpha, a combining acute accent, capital sigma
    "Don't 'quote' rock'n'roll_x",
    "cafe\u0301 İstanbul x² ½",
    "a\x1cb\x1fc\u0085d",
    "\u1c89x",
]


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


def polarity_files(first: int | None = None) -> dict[str, list[str]] | None:
    """Sentence polarity's texts by file (`rt-polarity.neg`, `rt-polarity.pos`; the `first` of each where given), or
    None where absent."""
    if not SHARED.is_dir():
        print(f"skip sentence polarity: {SHARED} not found (development data)")
        return None
    paths = sorted(SHARED.glob("rt-polarity.*"))
    return {path.name: path.read_text(encoding="latin-1").splitlines()[:first] for path in paths}


def one_pass(function: Callable[[], object]) -> tuple[float, float]:
    """Wall and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def median_pass(passes: list[tuple[float, float]]) -> tuple[float, float]:
    """The pass of median wall time (the lower middle one of an even count), with its CPU time."""
    return sorted(passes)[(len(passes) - 1) // 2]


# ------------------------------------------------------------------------------------------ the tokenizers anchor
def hf_tokenizer(encoder: TextEncoder, *, padded: bool, rules: bool = True) -> Any:
    """A `tokenizers.Tokenizer` with `encoder`'s vocabulary and rules (word level, lower-cased; with `rules` False
    only a split at white space, nothing lower-cased), cut and padded at the end to its length where `padded`."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    settings = encoder.settings
    if (settings.level, settings.lower, settings.truncating, settings.padding) != ("word", True, "post", "post"):
        raise ValueError(f"Expected the default text settings for the anchor. Received: {settings}")
    vocabulary = {"[PAD]": PAD, "[UNK]": 1} | {word: i + 2 for i, word in enumerate(encoder.vocabulary.words)}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="[UNK]"))
    if rules:
        sigma = normalizers.Replace(Regex(FINAL_SIGMA), "ς")
        tokenizer.normalizer = normalizers.Sequence([sigma, normalizers.Lowercase()])
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(WORD), behavior="removed", invert=True)
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    if padded:
        tokenizer.enable_truncation(encoder.max_len, direction="right")
        tokenizer.enable_padding(direction="right", pad_id=PAD, pad_token="[PAD]", length=encoder.max_len)
    return tokenizer


def as_tensors(encodings: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded encodings as lstmlab's encode returns them: ids (N, max_len) and lengths (N,)."""
    ids = torch.from_numpy(np.array([e.ids for e in encodings], dtype=np.int64))
    return ids, (ids != PAD).sum(dim=1)  # PAD is never a token's id


def with_parallelism(on: bool, function: Callable[[], Any]) -> Callable[[], Any]:
    """`function` run with the batch calls of `tokenizers` on Rayon's threads or on the calling one."""

    def run() -> Any:
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if on else "false"  # read at every batch call
        return function()

    return run


def hf_candidates(encoder: TextEncoder, texts: list[str]) -> dict[str, tuple[int, Callable[[], object]]]:
    """The anchor's rows: label -> (threads, a call that encodes `texts` to padded tensors)."""
    tokenizer = hf_tokenizer(encoder, padded=True)
    cores = os.cpu_count() or 1
    rows = {
        "tokenizers encode, a call per text": (1, lambda: as_tensors([tokenizer.encode(t) for t in texts])),
        "tokenizers encode_batch": (1, with_parallelism(False, lambda: as_tensors(tokenizer.encode_batch(texts)))),
    }
    if hasattr(tokenizer, "encode_batch_fast"):  # tokenizers >= 0.21: no character offsets
        fast = with_parallelism(False, lambda: as_tensors(tokenizer.encode_batch_fast(texts)))
        rows["tokenizers encode_batch_fast"] = (1, fast)
    threaded = with_parallelism(True, lambda: as_tensors(tokenizer.encode_batch(texts)))
    rows[f"tokenizers encode_batch, {cores} threads"] = (cores, threaded)
    return rows


def hf_least(encoder: TextEncoder, texts: list[str]) -> Callable[[], object]:
    """The least `tokenizers` does (a split at white space, not lstmlab's rules: other ids), one thread: does its
    time go to the rules' regular expressions or to the rest of its pipeline?"""
    plain = hf_tokenizer(encoder, padded=True, rules=False)
    least = getattr(plain, "encode_batch_fast", plain.encode_batch)
    return with_parallelism(False, lambda: as_tensors(least(texts)))


def disagreements(encoder: TextEncoder, texts: Sequence[str]) -> list[str]:
    """The texts whose whole-text ids from `tokenizers` differ from lstmlab's."""
    tokenizer = hf_tokenizer(encoder, padded=False)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    found = tokenizer.encode_batch(list(texts))
    return [text for text, e in zip(texts, found, strict=True) if e.ids != encoder.vocabulary.ids(tokenize(text))]


def check_anchor(name: str, encoder: TextEncoder, texts: list[str]) -> None:
    """Print the share of `texts` on which the anchor gives lstmlab's ids, the texts that differ, and whether the
    padded tensors of every anchor row equal lstmlab's encode (on the first `CHECKED` texts)."""
    differ = disagreements(encoder, texts)
    print(f"{name}: tokenizers gives lstmlab's ids for {len(texts) - len(differ)} of {len(texts)} texts")
    for text in differ[:5]:
        print(f"  differs: {text!r}: lstmlab {tokenize(text)}")
    ids, lengths = encoder.encode(texts[:CHECKED])
    for label, (_, function) in hf_candidates(encoder, texts[:CHECKED]).items():
        theirs = function()
        assert isinstance(theirs, tuple)
        if not (torch.equal(theirs[0], ids) and lengths is not None and torch.equal(theirs[1], lengths)):
            print(f"  WARNING: {label} gives other padded ids or lengths than lstmlab's encode")


def check_edge_texts() -> None:
    """The texts of `EDGE_TEXTS` through both, each token list printed where they part."""
    encoder = TextEncoder.fit(EDGE_TEXTS, TextSettings(max_len=64))
    differ = disagreements(encoder, EDGE_TEXTS)
    print(f"edge texts: tokenizers gives lstmlab's ids for {len(EDGE_TEXTS) - len(differ)} of {len(EDGE_TEXTS)}")
    tokenizer = hf_tokenizer(encoder, padded=False)
    for text in differ:
        theirs = [
            piece for piece, _ in tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text))
        ]
        print(f"  {text!r}: lstmlab {tokenize(text)}, tokenizers {theirs}")


# ------------------------------------------------------------------------------------------------------- the rows
def candidates(encoder: TextEncoder, texts: list[str]) -> dict[str, tuple[int, Callable[[], object]]]:
    """Label -> (threads, call), the anchor (a whitespace split) first."""
    rows: dict[str, tuple[int, Callable[[], object]]] = {
        "whitespace split (anchor)": (1, lambda: [t.lower().split() for t in texts]),
        "lstmlab tokenize": (1, lambda: [tokenize(t) for t in texts]),
        "lstmlab encode (ids, padded)": (1, lambda: encoder.encode(texts)),
    }
    if not TOKENIZERS_MISSING:
        rows |= hf_candidates(encoder, texts)
        rows["tokenizers, whitespace split only (other ids)"] = (1, hf_least(encoder, texts))
    return rows


def measure(name: str, texts: list[str], repeats: int) -> list[dict[str, Any]]:
    """Every candidate's row on one set of texts; the candidates' passes interleaved (`round_robin`)."""
    tokens = sum(len(tokenize(t)) for t in texts)
    encoder = TextEncoder.fit(texts, TextSettings(max_len=64))
    if not TOKENIZERS_MISSING:
        check_anchor(name, encoder, texts)
    timed = candidates(encoder, texts)
    passes: dict[str, list[tuple[float, float]]] = {label: [] for label in timed}
    round_robin(list(timed), repeats, lambda label, _: passes[label].append(one_pass(timed[label][1])))
    anchor, _ = median_pass(passes["whitespace split (anchor)"])
    rows = []
    for label, (threads, _) in timed.items():
        seconds, cpu = median_pass(passes[label])
        q1, q3 = quartiles([wall for wall, _ in passes[label]])
        rows.append(row(name, texts, tokens, label, threads, (seconds, q1, q3, cpu), anchor))
    return rows


def row(
    name: str, texts: Sequence[str], tokens: int, label: str, threads: int, times: tuple[float, ...], anchor: float
) -> dict[str, Any]:
    """A results row; `times`: the median pass's wall seconds, the quartiles of the passes, its CPU seconds."""
    seconds, q1, q3, cpu = times
    return {
        "set": name,
        "texts": len(texts),
        "tokens": tokens,
        "candidate": label,
        "threads": threads,
        "seconds": seconds,
        "q1_s": q1,
        "q3_s": q3,
        "cpu_s": cpu,
        "tokens_per_s": tokens / seconds,
        "time_over_anchor": seconds / anchor,
    }


def training_rows(files: dict[str, list[str]], count: int) -> list[dict[str, Any]]:
    """One training epoch of the default text model beside encode, on `count` texts (half of each class)."""
    texts, labels = [], []
    for file, lines in files.items():
        label = file.rsplit(".", 1)[-1]  # rt-polarity.neg, rt-polarity.pos
        texts += lines[: count // 2]
        labels += [label] * (count // 2)
    name = f"sentence polarity, {len(texts)} texts"
    tokens = sum(len(tokenize(t)) for t in texts)
    encoder = TextEncoder.fit(texts, TextSettings(), ("neg", "pos"))  # the length: lstmlab train's (95th percentile)
    data = encoder.dataset([encoder.tokens(t) for t in texts], labels)
    choices = TrainChoices(epochs=1, validation_split=0.0)  # every text trains
    config = training_config(choices, seed=0, preset="text-bilstm-pool", kind="text", train_size=len(texts))
    model = build_model("text-bilstm-pool", vocab_size=encoder.vocabulary.size, max_len=encoder.max_len)
    encoding = [one_pass(lambda: encoder.encode(texts)) for _ in range(5)]
    encode_s, encode_cpu = median_pass(encoding)
    train_s, train_cpu = one_pass(lambda: fit(model, data, config=config))  # one epoch, once: it is the slow one
    label = f"training: one epoch of text-bilstm-pool (max_len {encoder.max_len}, batch {config.batch_size})"
    q1, q3 = quartiles([wall for wall, _ in encoding])
    return [
        row(name, texts, tokens, "lstmlab encode (ids, padded)", 1, (encode_s, q1, q3, encode_cpu), encode_s),
        row(name, texts, tokens, label, torch.get_num_threads(), (train_s, train_s, train_s, train_cpu), encode_s),
    ]


def table_line(r: dict[str, Any]) -> list[str]:
    per_s = r["tokens_per_s"]
    rate = f"{per_s / 1e6:.3f} M tokens/s" if per_s >= 1e5 else f"{per_s / 1e3:.2f} k tokens/s"
    seconds, cpu = f"{r['seconds']:.3f} s", f"{r['cpu_s']:.3f} s"
    spread = f"{r['q1_s']:.3f}-{r['q3_s']:.3f} s"
    return [r["set"], r["candidate"], str(r["threads"]), rate, seconds, spread, cpu, f"{r['time_over_anchor']:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-texts", type=int, default=2000, help="sentence polarity texts trained for scale")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "tokenize_speed.csv"))
    args = parser.parse_args()
    polarity_texts = None  # of each sentence polarity file: all
    if smoke():  # the smallest run (timing.smoke): 50 kB generated, 500 texts of each file, one pass, 64 trained
        args.megabytes, args.repeats, args.train_texts, polarity_texts = 0.05, 1, 64, 500
    smoke_banner()
    torch.set_num_threads(1)
    print(machine_line(torch.device("cpu")))
    if TOKENIZERS_MISSING:
        print("skip the tokenizers anchor: Hugging Face tokenizers is not installed (pip install tokenizers)")
    else:
        import tokenizers

        print(f"tokenizers {tokenizers.__version__}")
        check_edge_texts()
    files = polarity_files(polarity_texts)
    sets = {f"generated {args.megabytes:g} MB": generated(args.megabytes)}
    if files is not None:
        sets = {"sentence polarity": [t for lines in files.values() for t in lines]} | sets
    rows = [r for name, texts in sets.items() for r in measure(name, texts, args.repeats)]
    if files is not None and args.train_texts > 0:
        rows += training_rows(files, args.train_texts)
    lines = [table_line(r) for r in rows]
    header = ["set", "candidate", "threads", "speed", "median time", "quartiles", "CPU time", "time / first row"]
    print_table(header, lines, left=2, groups=True)
    write_csv(Path(args.csv), rows, repeats=args.repeats)
    print(f"rows: {results_path(Path(args.csv))}")


if __name__ == "__main__":
    main()
