"""Answering as values arrive: the Q&A's stateful model (`qa-stateful`: LSTM(10) -> Dense(1), one value a step),
one stream stepped call by call, and 10,000 streams stepped together, beside plain PyTorch and Keras in one run.

One stream, one step per call (microseconds per step, lower is better), the same weights everywhere:
- lstmlab `Streamer.step(["s"], [value])` (the anchor);
- lstmlab `streaming(model)` called on a (1, 1, 1) tensor (the PyTorch path of a stateful Sequential);
- `nn.LSTM` + `nn.Linear` called per step, the state passed back in, under `torch.inference_mode()`;
- Keras 3 on a stateful `LSTM(10, stateful=True)` + `Dense(1)`, `model(x)` per step (the `bench` extra; the
  backend is printed; `--keras-backend`, tensorflow by default as in the articles, falls back to torch where
  TensorFlow is not installed, and says so).

10,000 streams, each advanced one step per call (stream-steps per second, higher is better):
- lstmlab `Streamer.step(ids, values)` with 10,000 string ids (the anchor);
- `nn.LSTM` + `nn.Linear` on a (10000, 1, 1) batch with its (1, 10000, 10) state passed back in: the same
  arithmetic with no ids, no slots and no per-stream bookkeeping (a lower bound on what PyTorch needs).

Blocks of calls sized to about `--target-ms`, round-robin, `--repeats` blocks each, medians; one thread (torch and
NumPy's BLAS, set before NumPy loads) unless `--threads`. Targets (the issue's): one stream at least 10x faster than
`nn.LSTM` per step; at least 2,000,000 stream-steps per second with 10,000 streams.

Usage:
    python benchmarks/streaming.py [--repeats 15] [--target-ms 200] [--threads 1] [--keras-backend torch] [--quick]

Rows: benchmarks/results/streaming.csv.
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_first() -> int:
    """The thread count, read and set before NumPy (and its BLAS) loads."""
    threads = 1
    if "--threads" in sys.argv:
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    return threads


THREADS = _threads_first()

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import (  # noqa: E402
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

from lstmlab.models import Streamer, build_model, streaming  # noqa: E402

STREAMS = 10_000
SMOKE_STREAMS = 100  # streams stepped together in a smoke run


def _keras_step(model: torch.nn.Module, backend: str) -> tuple[object, str] | None:
    """A stateful Keras LSTM(10) -> Dense(1) with the model's weights, and its name; None (said) where absent."""
    if importlib.util.find_spec("keras") is None:
        print("Keras: not installed (pip install -c constraints.txt -e '.[bench]'); its row is skipped")
        return None
    if importlib.util.find_spec(backend) is None:
        print(f"Keras: {backend} not installed; Keras runs on its torch backend instead")
        backend = "torch"
    os.environ["KERAS_BACKEND"] = backend
    import keras

    lstm, dense = model.layers[0], model.layers[1]
    k_lstm = keras.layers.LSTM(10, stateful=True)
    k_model = keras.Sequential([keras.Input((1, 1), batch_size=1), k_lstm, keras.layers.Dense(1)])
    cell = lstm.cell
    k_lstm.set_weights(
        [cell.weight_ih.detach().numpy().T, cell.weight_hh.detach().numpy().T, cell.bias.detach().numpy()]
    )
    k_model.layers[-1].set_weights([dense.linear.weight.detach().numpy().T, dense.linear.bias.detach().numpy()])
    x = np.full((1, 1, 1), 0.5, np.float32)
    return (lambda: k_model(x)), f"Keras {keras.__version__} ({keras.backend.backend()} backend), model(x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--target-ms", type=float, default=200.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keras-backend", default="tensorflow")
    parser.add_argument("--quick", action="store_true", help="3 repeats of 20 ms: checks that it runs")
    parser.add_argument("--csv", default=str(RESULTS_DIR / "streaming.csv"))
    args = parser.parse_args()
    smoke_banner()
    repeats, target = (3, 0.02) if args.quick else (args.repeats, args.target_ms / 1000)
    streams = STREAMS
    if smoke():  # the smallest run (timing.smoke): one block of about 2 ms per candidate, SMOKE_STREAMS streams
        repeats, target, streams = 1, 0.002, SMOKE_STREAMS
    set_threads(args.threads)
    print(machine_line(torch.device("cpu")) + f"; NumPy {np.__version__}")
    torch.manual_seed(0)
    model = build_model("qa-stateful").eval()
    lstm_layer, dense_layer = model.layers[0], model.layers[1]
    lstm = torch.nn.LSTM(1, 10, batch_first=True)
    lstm_layer.store_torch_weights(lstm, "")
    linear = torch.nn.Linear(10, 1)
    linear.load_state_dict(dense_layer.linear.state_dict())

    # the same answers first: 20 steps of one stream on every path
    values = np.random.default_rng(0).random(20).astype(np.float32)
    streamer = Streamer(model)
    live = streaming(model)
    state = None
    with torch.inference_mode():
        for v in values:
            ours = streamer.step(["check"], [v])[0, 0]
            out, state = lstm(torch.tensor([[[v]]]), state)
            theirs = float(linear(out[:, -1])[0, 0])
            path = float(live(torch.tensor([[[v]]]))[0, 0])
    difference = max(abs(ours - theirs), abs(path - theirs))
    print(f"after 20 steps, |Streamer - nn.LSTM| and |streaming() - nn.LSTM|: at most {difference:.1e}")

    one = np.array([0.5], np.float32)
    streamer = Streamer(model)
    live.reset_states()
    one_x = torch.tensor([[[0.5]]])
    torch_state: list[object] = [None]

    def torch_step() -> object:
        with torch.inference_mode():
            out, torch_state[0] = lstm(one_x, torch_state[0])  # type: ignore[arg-type]
            return linear(out[:, -1])

    def path_step() -> object:
        with torch.inference_mode():
            return live(one_x)

    candidates = [
        ("lstmlab Streamer.step", lambda: streamer.step(["s"], one)),
        ("lstmlab streaming(model)(x)", path_step),
        ("nn.LSTM + nn.Linear per step", torch_step),
    ]
    keras = None if args.quick else _keras_step(model, args.keras_backend)
    if keras is not None:
        candidates.append((keras[1], keras[0]))
    blocks = [Blocks(step, max_iters=None) for _, step in candidates]
    measure_blocks(blocks, repeats, target, lambda: None)
    rows, lines = [], []
    for (name, _), b in zip(candidates, blocks, strict=True):
        columns = b.columns(blocks[0])
        per_second = 1000 / columns["median_ms"]  # type: ignore[operator]
        rows.append({"case": "one stream", "candidate": name, "stream_steps_per_s": per_second, **columns})
        us = columns["median_ms"] * 1000  # type: ignore[operator]
        lines.append(["one stream", name, f"{us:.1f} us/step", f"{columns['ratio']:.2f}"])

    ids = [f"sensor-{i}" for i in range(streams)]
    many = np.random.default_rng(1).random(streams).astype(np.float32)
    crowd = Streamer(model, capacity=streams)
    crowd.step(ids, many)  # slots taken once, as in a running service
    batch_x = torch.from_numpy(many).reshape(streams, 1, 1)
    batch_state: list[object] = [None]

    def torch_batch() -> object:
        with torch.inference_mode():
            out, batch_state[0] = lstm(batch_x, batch_state[0])  # type: ignore[arg-type]
            return linear(out[:, -1])

    crowd_candidates = [("lstmlab Streamer.step", lambda: crowd.step(ids, many)), ("nn.LSTM + nn.Linear", torch_batch)]
    crowd_blocks = [Blocks(step) for _, step in crowd_candidates]
    measure_blocks(crowd_blocks, repeats, target, lambda: None)
    for (name, _), b in zip(crowd_candidates, crowd_blocks, strict=True):
        columns = b.columns(crowd_blocks[0])
        rate = streams / (columns["median_ms"] / 1000)  # type: ignore[operator]
        rows.append({"case": f"{streams} streams", "candidate": name, "stream_steps_per_s": rate, **columns})
        lines.append([f"{streams} streams", name, f"{rate:,.0f} stream-steps/s", f"{columns['ratio']:.2f}"])
    print_table(["case", "candidate", "median", "time / anchor"], lines, left=2, groups=True)
    per_step = {r["candidate"]: r["median_ms"] for r in rows if r["case"] == "one stream"}
    speedup = per_step["nn.LSTM + nn.Linear per step"] / per_step["lstmlab Streamer.step"]
    rate = next(r["stream_steps_per_s"] for r in rows if r["case"] != "one stream" and "lstmlab" in r["candidate"])
    print(
        f"one stream: Streamer {speedup:.1f}x faster than nn.LSTM per step (target 10x: {'met' if speedup >= 10 else 'NOT met'})"
    )
    print(f"{streams} streams: {rate:,.0f} stream-steps/s (target 2,000,000: {'met' if rate >= 2e6 else 'NOT met'})")
    if not args.quick:
        write_csv(Path(args.csv), rows, threads=args.threads)
        print(f"rows: {results_path(Path(args.csv))}")


if __name__ == "__main__":
    main()
