"""A text corpus larger than memory, streamed: peak memory and throughput of `lstmlab train --data FILE --stream`
on a generated corpus of `--gigabytes` (default 2), beside the in-memory path on the same records.

The corpus (generated once, kept at `--corpus`, default /tmp/lstmlab-corpus-<N>GB.jsonl; seed 0): JSON Lines of
review-like texts, `{"text": ..., "label": "pos" | "neg"}`; words drawn from a Zipf law over 100,000 words, lengths
from a lognormal with a median of 100 words (5 to 1,000), each text holding 1-3 cue words of its label among them,
so that a model has something to learn.

Phases, each in a fresh process so that its peak RSS (the maximum resident set size of the process and, separately,
of its DataLoader workers) is its own:

1. `scan`: the pass over the whole corpus (vocabulary in bounded counts, lengths, labels, shards): seconds, MB/s.
2. `read`: one training epoch's batches over the whole corpus, read, tokenised, bucketed and padded by the
   DataLoader workers (`--loader-workers`), without a model: texts per second. The buffer (`--buffer`) bounds
   what a worker holds.
3. `train`: one epoch of `text-bilstm-pool` (embed 32, units 32, batch 64) trained on the first `--train-shards`
   shards of the stream, then the same records read into memory as `train --data` would (padded to max_len), one
   epoch each, alternating, `--repeats` times: texts per second of both and their ratio (streamed / in memory).
4. `memory`: the in-memory loader (`load_texts` + `TextEncoder.fit` + `encode`) on the first `--memory-megabytes`
   of the corpus: its peak RSS per MB of text, the anchor for what the whole corpus would need in memory.

Usage:
    python benchmarks/stream_corpus.py [--gigabytes 2] [--corpus PATH] [--buffer 16384] [--loader-workers 1]
                                       [--train-shards 4] [--repeats 3] [--memory-megabytes 200] [--quick]
                                       [--phases scan,read,train,memory]

Rows: benchmarks/results/stream_corpus.csv.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import RESULTS_DIR, machine_line, print_table, results_path, smoke, smoke_banner, smoke_dir, write_csv

from lstmlab import build_model
from lstmlab.data import SequenceData
from lstmlab.data.datasets import scan_corpus, streamed_sets
from lstmlab.data.loaders import load_texts
from lstmlab.data.spec import DataSpec, StreamSettings, TextSettings
from lstmlab.data.stream import TextStream
from lstmlab.data.text import TextEncoder
from lstmlab.training import TrainConfig, Trainer

WORDS, MEDIAN_WORDS, CUES = 100_000, 100, 20
CHUNK = 20_000  # texts generated at a time


def generate(path: Path, gigabytes: float, seed: int = 0, chunk: int = CHUNK) -> None:
    """The corpus, written in chunks of `chunk` texts."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i}" for i in range(WORDS)], dtype=object)
    good = np.array([f"good{i}" for i in range(CUES)], dtype=object)
    bad = np.array([f"bad{i}" for i in range(CUES)], dtype=object)
    target = int(gigabytes * 2**30)
    partial = path.with_suffix(".partial")
    written = 0
    with partial.open("w", encoding="utf-8") as handle:
        while written < target:
            count = chunk
            lengths = np.clip(np.rint(rng.lognormal(math.log(MEDIAN_WORDS), 0.8, count)), 5, 1000).astype(int)
            ids = (rng.zipf(1.2, int(lengths.sum())) - 1) % WORDS
            words = vocabulary[ids]
            labels = rng.integers(0, 2, count)
            lines = []
            start = 0
            for length, label in zip(lengths.tolist(), labels.tolist(), strict=True):
                text = words[start : start + length].copy()
                start += length
                cues = good if label else bad
                places = rng.integers(0, length, rng.integers(1, 4))
                text[places] = cues[rng.integers(0, CUES, len(places))]
                lines.append(json.dumps({"text": " ".join(text), "label": "pos" if label else "neg"}) + "\n")
            chunk = "".join(lines)
            handle.write(chunk)
            written += len(chunk.encode())
    partial.rename(path)


def peak_rss_mb() -> dict[str, float]:
    """Peak RSS of this process and of its finished children (the DataLoader workers), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "worker_peak_rss_mb": round(children, 1)}


def spec_of(args: argparse.Namespace, corpus: Path) -> DataSpec:
    stream = StreamSettings(buffer=args.buffer, workers=args.loader_workers)
    return DataSpec(str(corpus), data_format="jsonl", stream=stream, split_seed=0).resolved(0)


def phase_scan(args: argparse.Namespace, corpus: Path) -> dict[str, Any]:
    start = time.perf_counter()
    found = scan_corpus(spec_of(args, corpus))
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 1),
        "mb_per_s": round(found.bytes / 2**20 / seconds, 1),
        "records": found.records,
        "shards": len(found.shards),
        "vocabulary": found.encoder.vocabulary.size,
        "max_len": found.encoder.max_len,
        "pruned_below": found.pruned_below,
        **peak_rss_mb(),
    }


def _sets(args: argparse.Namespace, corpus: Path) -> Any:
    spec = spec_of(args, corpus)
    found = scan_corpus(spec)
    return streamed_sets(spec, found, validation=0.0, batch_size=64, seed=0, fixed_width=False)


def phase_read(args: argparse.Namespace, corpus: Path) -> dict[str, Any]:
    train = _sets(args, corpus).train
    start = time.perf_counter()
    texts = tokens = batches = 0
    for batch in train.epoch(0):
        texts += len(batch)
        tokens += int(batch.lengths.sum())
        batches += 1
    seconds = time.perf_counter() - start
    assert batches == train.epoch_length(0)
    assert texts == len(train)
    return {
        "seconds": round(seconds, 1),
        "texts_per_s": round(texts / seconds),
        "tokens_per_s": round(tokens / seconds),
        "texts": texts,
        **peak_rss_mb(),
    }


def _model(encoder: TextEncoder, max_len: int | None) -> torch.nn.Module:
    torch.manual_seed(0)
    options = {"vocab_size": encoder.vocabulary.size, "max_len": max_len, "embed_dim": 32, "units": 32}
    return build_model("text-bilstm-pool", **options, dropout=0.0, input_dropout=0.0)


def phase_train(args: argparse.Namespace, corpus: Path) -> dict[str, Any]:
    import dataclasses

    torch.set_num_threads(args.threads)
    sets = _sets(args, corpus)
    found = dataclasses.replace(sets.scan, shards=sets.scan.shards[: args.train_shards])
    stream = TextStream(found, "train", 64, sets.train.settings, sets.train.parts, seed=0)
    # the same records in memory, padded to max_len, as `train --data` holds them
    rows = [
        b for b in TextStream(found, "train", 4096, StreamSettings(workers=0), sets.train.parts, shuffle=False).epoch(0)
    ]
    width = found.encoder.max_len
    ids = torch.cat([torch.nn.functional.pad(b.x, (0, width - b.x.shape[1])) for b in rows])
    memory = SequenceData(ids, torch.cat([b.y for b in rows]), torch.cat([b.lengths for b in rows]))
    config = TrainConfig(epochs=1, batch_size=64, learning_rate=1e-3, seed=0)
    times: dict[str, list[float]] = {"streamed": [], "in memory": []}
    for repeat in range(args.repeats):
        for name in ["streamed", "in memory"] if repeat % 2 == 0 else ["in memory", "streamed"]:
            model = _model(found.encoder, None if name == "streamed" else width)
            data = stream if name == "streamed" else memory
            start = time.perf_counter()
            Trainer(model, data, config=config).run()
            times[name].append(time.perf_counter() - start)
    texts = len(stream)
    streamed, held = statistics.median(times["streamed"]), statistics.median(times["in memory"])
    return {
        "texts": texts,
        "streamed_texts_per_s": round(texts / streamed),
        "in_memory_texts_per_s": round(texts / held),
        "streamed_over_in_memory": round(held / streamed, 2),
        "mean_tokens": round(float(memory.lengths.float().mean()), 1),
        "max_len": width,
        **peak_rss_mb(),
    }


def phase_memory(args: argparse.Namespace, corpus: Path) -> dict[str, Any]:
    part = corpus.with_name(f"{corpus.stem}-first{args.memory_megabytes}MB.jsonl")
    if not part.exists():
        with corpus.open("rb") as source, part.open("wb") as out:
            out.write(source.read(args.memory_megabytes * 2**20).rsplit(b"\n", 1)[0] + b"\n")
    before = peak_rss_mb()["peak_rss_mb"]
    start = time.perf_counter()
    examples = load_texts(part)
    encoder = TextEncoder.fit([e.text for e in examples], TextSettings(), sorted({e.label for e in examples}))
    data = encoder.dataset([encoder.tokens(e.text) for e in examples], [e.label for e in examples])
    seconds = time.perf_counter() - start
    after = peak_rss_mb()["peak_rss_mb"]
    megabytes = part.stat().st_size / 2**20
    return {
        "megabytes": round(megabytes, 1),
        "texts": len(data),
        "seconds": round(seconds, 1),
        "peak_rss_mb": after,
        "rss_mb_per_text_mb": round((after - before) / megabytes, 2),
    }


PHASES = {"scan": phase_scan, "read": phase_read, "train": phase_train, "memory": phase_memory}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--buffer", type=int, default=StreamSettings().buffer)
    parser.add_argument("--loader-workers", type=int, default=1)
    parser.add_argument("--train-shards", type=int, default=4, help="shards of 8,192 records trained on in `train`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-megabytes", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training process")
    parser.add_argument("--quick", action="store_true", help="a 0.05 GB corpus, one repeat")
    parser.add_argument("--phases", default=",".join(PHASES), help="the phases to run, in order (default: all)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)  # a phase's own process
    parser.add_argument("--csv", type=Path, default=RESULTS_DIR / "stream_corpus.csv")
    args = parser.parse_args(argv)
    if args.quick:
        args.gigabytes, args.repeats, args.train_shards, args.memory_megabytes = 0.05, 1, 1, 10
    corpus = args.corpus or Path(f"/tmp/lstmlab-corpus-{args.gigabytes:g}GB.jsonl")
    chunk = CHUNK
    if smoke():  # the smallest run (timing.smoke), in each phase's process too: a corpus of its own of 300 texts
        # (0.2 MB) under smoke_dir(), never a real run's; one shard, one repeat, the in-memory part 1 MB (all of it)
        args.gigabytes, args.repeats, args.train_shards, args.memory_megabytes, chunk = 0.0001, 1, 1, 1, 300
        corpus = smoke_dir() / "lstmlab-corpus-smoke.jsonl"
        corpus.parent.mkdir(parents=True, exist_ok=True)
    if args.phase is not None:
        print(json.dumps(PHASES[args.phase](args, corpus)))
        return 0
    smoke_banner()
    if not corpus.exists():
        start = time.perf_counter()
        generate(corpus, args.gigabytes, chunk=chunk)
        print(f"generated {corpus} ({corpus.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - start:.0f} s")
    print(machine_line(torch.device("cpu")))
    print(
        f"corpus {corpus}: {corpus.stat().st_size / 2**30:.2f} GiB; buffer {args.buffer}, {args.loader_workers} workers"
    )
    rows = []
    for phase in args.phases.split(","):
        if phase not in PHASES:
            parser.error(f"--phases takes {', '.join(PHASES)}; received {phase!r}")
        command = [sys.executable, __file__, "--phase", phase, "--corpus", str(corpus), "--buffer", str(args.buffer)]
        command += ["--loader-workers", str(args.loader_workers), "--train-shards", str(args.train_shards)]
        command += ["--repeats", str(args.repeats), "--memory-megabytes", str(args.memory_megabytes)]
        command += ["--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-3000:])
            return 1
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{phase}: {figures}", flush=True)
        rows.append({"phase": phase, **figures})
    lines = [[row["phase"], json.dumps({k: v for k, v in row.items() if k != "phase"})] for row in rows]
    print_table(["phase", "figures"], lines)
    write_csv(args.csv, [{"phase": r["phase"], "figures": json.dumps(r)} for r in rows])
    print(f"rows: {results_path(args.csv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
