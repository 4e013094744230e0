"""Latency of an exported model in onnxruntime beside lstmlab's own forward, on the same inputs in the same run.

Models (random weights, evaluation mode, float32): the default text model `text-bilstm-pool` (vocabulary 20,000,
Embedding 128, Bi-LSTM 64, texts of up to 60 ids) and the default series model `series-lstm-fcn` (12 channels, 9
classes, series of up to 29 steps, JapaneseVowels' shape). Batches of 1 and 64, lengths drawn uniformly from half
the width to the width (seed 0), right-padded; a batch of 1 is one full row.

Candidates per model and batch:
- lstmlab (the anchor): `model(x, lengths)` under `torch.inference_mode()`, as `lstmlab predict` runs it;
- onnxruntime: `InferenceSession.run` of `lstmlab.export.model_to_onnx(model)` (CPU provider, default graph
  optimisations), the same arrays as NumPy.

Both on `--threads` threads (torch.set_num_threads and onnxruntime's intra-op threads). Before timing, the outputs
are compared (max |difference| of the logits, printed). Blocks of calls sized to about `--target-ms`, round-robin,
`--repeats` blocks each; the table gives the median per call, the quartiles and the ratio onnxruntime / lstmlab
(below 1: onnxruntime faster).

Usage:
    pip install -c constraints.txt -e ".[onnx]"
    python benchmarks/export_speed.py [--repeats 15] [--target-ms 200] [--threads 1] [--quick]

Rows: benchmarks/results/export_speed.csv (with the commit and the command).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from timing import (
    RESULTS_DIR,
    Blocks,
    machine_line,
    measure_blocks,
    print_table,
    results_path,
    set_threads,
    smoke,
    smoke_banner,
    write_csv,
)

from lstmlab.export import model_to_onnx
from lstmlab.models import build_model

MODELS = {  # name: (build options, width)
    "text-bilstm-pool": ({"vocab_size": 20000, "max_len": 60}, 60),
    "series-lstm-fcn": ({"features": 12, "num_classes": 9}, 29),
}


def _inputs(batch: int, width: int, vocab: int | None, features: int | None) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(width // 2, width + 1, (batch,), generator=gen)
    if batch == 1:
        lengths[0] = width
    valid = torch.arange(width)[None, :] < lengths[:, None]
    if vocab is not None:
        return torch.randint(2, vocab, (batch, width), generator=gen) * valid, lengths
    assert features is not None
    return torch.randn(batch, width, features, generator=gen) * valid[..., None], lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=200.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="3 repeats of 20 ms: checks that it runs")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "export_speed.csv"))
    args = parser.parse_args()
    smoke_banner()
    import onnxruntime as ort

    repeats, target = (3, 0.02) if args.quick else (args.repeats, args.target_ms / 1000)
    if smoke():  # the smallest run (timing.smoke): one block of about 2 ms per candidate
        repeats, target = 1, 0.002
    set_threads(args.threads)
    print(machine_line(torch.device("cpu")) + f"; onnxruntime {ort.__version__}, {args.threads} intra-op thread(s)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    rows, lines = [], []
    for name, (build, width) in MODELS.items():
        torch.manual_seed(0)
        model = build_model(name, **build).eval()
        session = ort.InferenceSession(
            model_to_onnx(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        feed_name = session.get_inputs()[0].name
        for batch in (1, 64):
            x, lengths = _inputs(batch, width, build.get("vocab_size"), build.get("features"))
            feeds = {feed_name: x.numpy(), "lengths": lengths.numpy()}

            def ours(x: torch.Tensor = x, lengths: torch.Tensor = lengths, model: torch.nn.Module = model) -> object:
                with torch.inference_mode():
                    return model(x, lengths)

            def theirs(feeds: dict[str, np.ndarray] = feeds, session: object = session) -> object:
                return session.run(["logits"], feeds)  # type: ignore[attr-defined]

            difference = float(np.abs(ours().numpy() - theirs()[0]).max())  # type: ignore[attr-defined,index]
            blocks = [Blocks(ours), Blocks(theirs)]
            measure_blocks(blocks, repeats, target, lambda: None)
            anchor = blocks[0]
            for label, b in zip(("lstmlab", "onnxruntime"), blocks, strict=True):
                columns = b.columns(anchor)
                rows.append(
                    {"model": name, "batch": batch, "candidate": label, "max_abs_difference": difference, **columns}
                )
                lines.append(
                    [
                        name,
                        str(batch),
                        label,
                        f"{columns['median_ms']:.3f}",
                        f"{columns['q1_ms']:.3f}-{columns['q3_ms']:.3f}",
                        f"{columns['ratio']:.2f}",
                        f"{difference:.1e}",
                    ]
                )
    print_table(
        ["model", "batch", "candidate", "median ms", "IQR ms", "ratio", "max |diff|"], lines, left=3, groups=True
    )
    medians = {(r["model"], r["batch"], r["candidate"]): r["median_ms"] for r in rows}
    for name in MODELS:
        for batch in (1, 64):
            per_row = medians[(name, batch, "onnxruntime")] / batch
            print(f"{name}, batch {batch}: onnxruntime {per_row:.3f} ms per sequence")
    if not args.quick:
        write_csv(Path(args.csv), rows, threads=args.threads)
        print(f"rows: {results_path(Path(args.csv))}")


if __name__ == "__main__":
    main()
