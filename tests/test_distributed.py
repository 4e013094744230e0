"""Data-parallel training: two processes (gloo, CPU) training one model end with the weights and the history one
process gets on the same global batches, in float64 (within 1e-7: the sums run in another order); the CLI under
torchrun writes the same run directory."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from lstmlab.data import CumsumConfig, SequenceData, make_cumsum
from lstmlab.models import Ensemble, Sequential, build_model
from lstmlab.training import TrainConfig, Trainer
from lstmlab.training.distributed import World, joined

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without torch.distributed")

CASES = {
    # a class per step, variable lengths (the scored steps differ from row to row), a last batch of one row
    "per-step": ({"min_steps": 3}, "tutorial-lstm", 1, 9),
    # a class per sequence, an ensemble (each member its own loss), gradient clipping, a cosine schedule
    "ensemble": ({"per_step": False}, "qa-lstm", 2, 10),
    # token ids padded after each text (lengths from padding id 0), the text model without its dropout
    "text": ({}, "text-bilstm-pool", 1, 12),
}


def _model(name: str, members: int) -> Sequential:
    torch.manual_seed(0)
    options: dict[str, Any] = {"steps": None} if name == "tutorial-lstm" else {}
    if name == "text-bilstm-pool":
        options = {"vocab_size": 40, "max_len": 12, "embed_dim": 8, "units": 6, "dropout": 0.0, "input_dropout": 0.0}
    built = [build_model(name, **options).double() for _ in range(members)]
    return built[0] if members == 1 else Ensemble(built)


def _train(case: str, at: World) -> tuple[dict[str, torch.Tensor], list[dict[str, float]]]:
    task, name, members, batch = CASES[case]
    if name == "text-bilstm-pool":
        gen = torch.Generator().manual_seed(3)
        lengths = torch.randint(1, 13, (64,), generator=gen)
        ids = torch.randint(2, 40, (64, 12), generator=gen) * (torch.arange(12) < lengths[:, None])
        data = SequenceData(ids, (ids[:, 0] > 20).long(), lengths)
    else:
        data = make_cumsum(CumsumConfig(**task), 64, torch.Generator().manual_seed(3))  # type: ignore[arg-type]
        data = SequenceData(data.x.double(), data.y, data.lengths)
    model = _model(name, members)
    config = TrainConfig(epochs=3, batch_size=batch, learning_rate=1e-2, seed=0, clip_norm=1.0, schedule="cosine")
    trainer = Trainer(model, data, config=config, world=at)
    history = trainer.run()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, history.epochs


def _rank(rank: int, size: int, port: int, case: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(size))
    torch.set_num_threads(1)
    with joined() as at:  # as the pipeline joins and leaves (a barrier before the group goes)
        assert at == World(rank, size)
        weights, epochs = _train(case, at)
        torch.save({"weights": weights, "epochs": epochs}, f"{out}.{rank}")


def _torchrun(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`torchrun --nproc-per-node 2 -m lstmlab ARGV`, one thread a process, its output captured."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port"]
    command += [str(_free_port()), "-m", "lstmlab", *argv]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_processes_train_the_weights_one_process_trains(case: str, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    alone, alone_epochs = _train(case, World())
    out = str(tmp_path / "rank")
    torch.multiprocessing.spawn(_rank, args=(2, _free_port(), case, out), nprocs=2, join=True)
    ranks = [torch.load(f"{out}.{r}") for r in range(2)]
    for k, v in alone.items():
        for r in ranks:  # every rank holds the one model
            # float64: sums in another order, then three epochs of Adam (a wrong weighting is off by 1e-3 or more)
            torch.testing.assert_close(r["weights"][k], v, rtol=1e-7, atol=1e-9)
        assert not torch.equal(v, _model(*CASES[case][1:3]).state_dict()[k]) or "bias" in k  # it trained
    for mine, theirs in zip(alone_epochs, ranks[0]["epochs"], strict=True):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert theirs[key] == pytest.approx(mine[key], rel=1e-7, abs=1e-10)


def _reviews(tmp_path: Path, rows: list[tuple[str, object]]) -> Path:
    """A CSV of texts and labels in `tmp_path`."""
    data = tmp_path / "reviews.csv"
    with data.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return data


def _run_files(run: Path) -> dict[str, Any]:
    config = json.loads((run / "config.json").read_text())
    return {
        "files": sorted(p.name for p in run.iterdir()),
        "weights": load_file(run / "model.safetensors"),
        "history": (run / "history.csv").read_text().splitlines(),
        "config": config,
    }


def test_torchrun_two_processes_write_the_run_one_process_writes(tmp_path: Path) -> None:
    common = [
        "--task",
        "cumsum",
        "--model",
        "tutorial-lstm",
        "--train-size",
        "96",
        "--epochs",
        "2",
        "--batch-size",
        "10",
    ]
    common += ["--validation-split", "0.2", "--seed", "0", "--set", "units=8"]
    one = tmp_path / "one"
    assert subprocess.run([sys.executable, "-m", "lstmlab", "train", *common, "--out", str(one)]).returncode == 0
    two = tmp_path / "two"
    done = _torchrun(["train", *common, "--out", str(two)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("saved to") == 1  # rank 0 alone reports and writes
    a, b = _run_files(one), _run_files(two)
    assert a["files"] == b["files"] and not list(tmp_path.glob("*.partial"))
    assert b["config"]["train"]["world_size"] == 2 and a["config"]["train"]["world_size"] == 1
    for k, v in a["weights"].items():
        torch.testing.assert_close(b["weights"][k], v, rtol=1e-4, atol=1e-5)  # float32: sums in another order


def test_models_that_cannot_split_are_refused_in_one_line(tmp_path: Path) -> None:
    out = ["--out", str(tmp_path / "run")]
    done = _torchrun(["train", "--task", "cumsum", "--model", "qa-stateful", "--updates", "4", *out])
    assert done.returncode != 0
    # each rank says it in one line; the traceback torchrun prints is its own (a child failed), none is lstmlab's
    assert done.stderr.count("lstmlab: error: Expected a model that is not stateful for data-parallel training") == 2
    assert "lstmlab/runs" not in done.stderr and not (tmp_path / "run").exists()
    checkpoints = _torchrun(["train", "--updates", "4", "--checkpoint-every", "1", *out])
    assert checkpoints.returncode != 0
    assert checkpoints.stderr.count("lstmlab: error: Expected no --checkpoint-every for a data-parallel run") == 2
    assert not (tmp_path / "run").exists()


def test_resume_is_refused_under_torchrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lstmlab.cli import main

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--resume", str(tmp_path / "run")]) == 2
    assert "Expected --resume in one process (a checkpoint of one). Received: 2 processes" in capsys.readouterr().err


def test_a_comparison_on_data_spreads_its_runs_over_the_ranks(tmp_path: Path) -> None:
    data = _reviews(
        tmp_path, [(f"the film was {'good' if i % 2 else 'bad'} {i}", "pos" if i % 2 else "neg") for i in range(40)]
    )
    argv = ["compare", "models", "text-lstm:embed_dim=8", "text-lstm:units=8,embed_dim=8", "--data", str(data)]
    argv += ["--seeds", "2", "--epochs", "1", "--ensemble", "1", "--no-baselines"]
    one = tmp_path / "one"
    done = subprocess.run(
        [sys.executable, "-m", "lstmlab", *argv, "--workers", "1", "--out", str(one)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    two = tmp_path / "two"
    done = _torchrun([*argv, "--out", str(two)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("report: ") == 1  # rank 0 alone writes and reports
    rows = [list(csv.DictReader((d / "results.csv").read_text().splitlines())) for d in (one, two)]
    key = ["model", "split", "accuracy", "test_count"]
    assert [[r[k] for k in key] for r in rows[0]] == [[r[k] for k in key] for r in rows[1]]  # the same runs, scores
    assert json.loads((two / "runs.json").read_text())["spec"]["workers"] == 2
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())


def test_a_comparison_on_a_task_is_refused_under_torchrun(tmp_path: Path) -> None:
    done = _torchrun(["compare", "directions", "--out", str(tmp_path / "cmp")])
    assert done.returncode != 0
    assert done.stderr.count("lstmlab: error: Expected --data for a comparison over several processes") == 2
    assert not (tmp_path / "cmp").exists()


def test_torchrun_trains_a_streamed_corpus_as_one_process_does(tmp_path: Path) -> None:
    """Every rank reads the same batches of the stream and trains on its rows of each."""
    data = _reviews(
        tmp_path, [(f"{'good' if i % 3 else 'bad'} film number {i % 17} " * (1 + i % 5), i % 3 > 0) for i in range(300)]
    )
    common = ["--data", str(data), "--stream", "--loader-workers", "0", "--buffer", "64", "--epochs", "2"]
    common += ["--ensemble", "1", "--set", "units=4", "--set", "embed_dim=8", "--set", "dropout=0"]
    common += ["--set", "input_dropout=0", "--seed", "3"]
    one = tmp_path / "one"
    done = subprocess.run([sys.executable, "-m", "lstmlab", "train", *common, "--out", str(one)], capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]
    two = tmp_path / "two"
    done2 = _torchrun(["train", *common, "--out", str(two)])
    assert done2.returncode == 0, done2.stderr[-2000:]
    a, b = _run_files(one), _run_files(two)
    assert a["files"] == b["files"] and b["config"]["dataset"]["spec"]["stream"] is not None
    for k, v in a["weights"].items():
        torch.testing.assert_close(b["weights"][k], v, rtol=1e-4, atol=1e-5)  # float32: sums in another order
