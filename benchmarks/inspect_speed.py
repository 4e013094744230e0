"""What `lstmlab.explain.inspect` costs on one text: its tracing beside a plain forward, its Integrated Gradients
beside one batched forward and backward of the interpolations and beside Captum's, its occlusion beside Captum's.

Model: `text-bilstm-pool` (Embedding 128, Bi-LSTM 64, random weights, evaluation mode, float32). Input: one text of
380 ids (no padding, seed 0). Each scenario times its anchor (ratio 1) and ours, in blocks of calls sized to about
`--target-ms`, round-robin, `--repeats` blocks each; the table gives the median per call, the quartiles, the ratio
ours / anchor and the issue's target where it set one:

- tracing: `inspect(model, x, methods=())` (every LSTM value recorded, and the prediction) beside `model(x)` under
  `torch.inference_mode()` (target: at most 1.5), with the same forward under `lstmlab.layers.recording()` between
  them (what recording alone costs, as `trace_speed.py` measures it);
- integrated gradients: `inspect(model, x, methods=("integrated_gradients",), steps=50)`, the whole call, beside one
  forward and backward (to the embedded vectors) of a batch of 50 copies of the text (target: at most 3);
- Captum IG: the same call beside Captum's `IntegratedGradients(forward).attribute(vectors, baselines=0,
  target=..., n_steps=50)` on the model after its Embedding (its defaults: Gauss-Legendre, `internal_batch_size`
  None, i.e. one batch);
- occlusion: `inspect(model, x, methods=("occlusion",))` (every one of the 380 positions) beside Captum's
  `Occlusion(forward).attribute(vectors, sliding_window_shapes=(1, 128), baselines=0, target=...)` (its default
  `perturbations_per_eval=1`: one forward per position).

The Captum rows are skipped, with the reason, where Captum is not installed (it is in the `dev` extra). A smoke run
(`LSTMLAB_BENCH_SMOKE=1`) reads 24 ids with a small model instead.

Usage:
    python benchmarks/inspect_speed.py [--repeats 15] [--target-ms 200] [--quick] [--threads 1]

Rows: benchmarks/results/inspect_speed_<time>_cpu.csv (with the commit and the command).
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable

import torch
from timing import (
    Blocks,
    cuda_missing,
    device_sync,
    machine_line,
    measure_blocks,
    parse_block_args,
    print_table,
    save_timings,
    set_threads,
    smoke,
)
from torch import Tensor

from lstmlab.explain import inspect
from lstmlab.layers import recording
from lstmlab.models import Sequential, build_model

STEPS, VOCAB, IG_STEPS = 380, 20000, 50
TARGETS = {"tracing": 1.5, "integrated gradients": 3.0}  # the bounds on ours / anchor


def captum_missing() -> str | None:
    """Why the Captum rows cannot run here, or None where they can."""
    if importlib.util.find_spec("captum") is None:
        return 'captum not installed (pip install -c constraints.txt -e ".[dev]")'
    return None


def scenarios(model: Sequential, x: Tensor) -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """Each scenario's candidates, its anchor first."""
    embedding = model.layers[0]
    with torch.no_grad():
        vectors = embedding.lookup(x)  # (1, T, E)
    found = inspect(model, x, methods=())
    target = found.sequences[0].target

    def scores(v: Tensor) -> Tensor:
        """The scores of classes 0 and 1 as `inspect` reads them: the logit, negated for class 0. (R, 2)"""
        logit = model.run_embedded(v, None)
        return torch.cat([-logit, logit], dim=-1)

    def plain() -> object:
        with torch.inference_mode():
            return model(x)

    def recorded() -> object:
        with torch.inference_mode(), recording():
            return model(x)

    def traced() -> object:
        return inspect(model, x, methods=())

    copies = vectors.expand(IG_STEPS, -1, -1)

    def forward_backward() -> object:
        moved = copies.clone().requires_grad_()
        return torch.autograd.grad(scores(moved)[:, target].sum(), moved)

    def ours_ig() -> object:
        return inspect(model, x, methods=("integrated_gradients",), steps=IG_STEPS)

    def ours_occlusion() -> object:
        return inspect(model, x, methods=("occlusion",))

    found_scenarios: dict[str, list[tuple[str, Callable[[], object]]]] = {
        "tracing": [("model(x)", plain), ("model(x) in recording()", recorded), ("inspect, no attributions", traced)],
        "integrated gradients": [
            (f"forward+backward of {IG_STEPS} copies", forward_backward),
            ("inspect, IG", ours_ig),
        ],
    }
    if captum_missing() is None:
        from captum.attr import IntegratedGradients, Occlusion

        integrated, occluded = IntegratedGradients(scores), Occlusion(scores)
        width = vectors.shape[-1]

        def captum_ig() -> object:
            return integrated.attribute(vectors, baselines=0.0, target=target, n_steps=IG_STEPS)

        def captum_occlusion() -> object:
            with torch.no_grad():
                return occluded.attribute(vectors, sliding_window_shapes=(1, width), baselines=0.0, target=target)

        found_scenarios["Captum IG"] = [("Captum IntegratedGradients", captum_ig), ("inspect, IG", ours_ig)]
        found_scenarios["occlusion"] = [("Captum Occlusion", captum_occlusion), ("inspect, occlusion", ours_occlusion)]
    else:
        print(f"Captum rows skipped: {captum_missing()}")
    return found_scenarios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parse_block_args(parser, None)
    if cuda_missing(args.device):
        return
    set_threads(args.threads)
    device = torch.device(args.device)
    print(machine_line(device))
    steps, sizes = (24, {"vocab_size": 50, "embed_dim": 8, "units": 4}) if smoke() else (STEPS, {"vocab_size": VOCAB})
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", max_len=steps, **sizes).eval().to(device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(2, sizes["vocab_size"], (1, steps), generator=gen).to(device)
    rows, lines = [], []
    for name, candidates in scenarios(model, x).items():
        blocks = [Blocks(fn) for _, fn in candidates]
        measure_blocks(blocks, args.repeats, args.target_ms / 1000, device_sync(device))
        for (label, _), b in zip(candidates, blocks, strict=True):
            columns = b.columns(blocks[0])
            target = TARGETS.get(name) if label.startswith("inspect") else None
            rows.append({"scenario": name, "candidate": label, **columns, "target": target})
            lines.append(
                [
                    name,
                    label,
                    f"{columns['median_ms']:.2f}",
                    f"{columns['q1_ms']:.2f}-{columns['q3_ms']:.2f}",
                    f"{columns['ratio']:.2f}",
                    "" if target is None else f"<= {target:g}",
                ]
            )
    print_table(["scenario", "candidate", "median ms", "IQR ms", "ratio", "target"], lines, left=2, groups=True)
    save_timings(rows, args.csv, "inspect_speed", device)


if __name__ == "__main__":
    main()
