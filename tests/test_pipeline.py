"""The run pipeline: every preset learns its task through it; train, evaluate and predict on the command line; bad
input stops before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lstmlab import PRESETS
from lstmlab.cli import main
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.pipeline import train_run
from lstmlab.runs.saved import evaluate_run
from lstmlab.runs.spec import RunSpec
from lstmlab.runs.tasks import get_task, task_config
from lstmlab.seeds import Seeds

# (task, training budget, task options) per preset: small budgets, far above chance (0.5) all the same
FITS = {
    "tutorial-lstm": ("cumsum", {"updates": 300, "batch_size": 4}, {}),
    "tutorial-lstm-backward": ("cumsum", {"updates": 300, "batch_size": 4}, {}),
    "tutorial-bilstm": ("cumsum", {"updates": 300, "batch_size": 4}, {}),
    "qa-stateful": ("cumsum", {"updates": 300}, {}),
    "qa-lstm": ("cumsum-whole", {"updates": 800, "batch_size": 16}, {}),
    "qa-timedistributed": ("cumsum-whole", {"updates": 800, "batch_size": 16}, {}),
    "qa-embedding-lstm": ("tokens", {"updates": 150}, {"max_len": 30}),
    "qa-embedding-bilstm": ("tokens", {"updates": 150}, {"max_len": 30}),
    "text-lstm": ("tokens", {"updates": 150}, {"max_len": 30}),
    "text-bilstm": ("tokens", {"updates": 150}, {"max_len": 30}),
    "text-bilstm-pool": ("tokens", {"updates": 150}, {"max_len": 30}),
    "series-bilstm": ("cumsum-whole", {"updates": 800, "batch_size": 16}, {}),
    "series-lstm-fcn": ("cumsum-whole", {"updates": 800, "batch_size": 16}, {}),
}


def test_every_preset_has_a_task() -> None:
    assert set(FITS) == set(PRESETS)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_learns_its_task(preset: str, tmp_path: Path) -> None:
    task, budget, task_options = FITS[preset]
    spec = RunSpec(task=task, preset=preset, train=TrainChoices(**budget), task_options=task_options, test_size=200)
    result = train_run(spec, tmp_path)
    scores, history = result.scores, result.history
    assert scores is not None
    # chance is the share of the commoner class among the scored test items (per-step cumsum labels lean to 1)
    generator = torch.Generator().manual_seed(Seeds(0).test_set)
    test = get_task(task).sample(task_config(task, **task_options), 200, generator)
    per_step_padded = test.lengths is not None and test.y.dim() == 2
    targets = test.y[test.lengths[:, None] > torch.arange(test.y.shape[1])] if per_step_padded else test.y
    chance = max(targets.float().mean().item(), 1 - targets.float().mean().item())
    assert scores.accuracy > chance + 0.15, f"{preset} on {task}: {scores.accuracy:.3f}, chance {chance:.3f}"
    assert history.update_loss[-1] < history.update_loss[0] or sum(history.update_loss[-20:]) < sum(
        history.update_loss[:20]
    )
    assert evaluate_run(tmp_path)[0].accuracy == scores.accuracy  # the saved run scores the same test set alike


def test_train_evaluate_predict_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--updates", "200", "--batch-size", "4", "--out", str(run), "--merge-mode", "sum"]) == 0
    out = capsys.readouterr().out
    assert f"saved to {run}" in out
    assert sorted(p.name for p in run.iterdir()) == [
        "config.json",
        "history.csv",
        "history.png",
        "metrics.json",
        "model.safetensors",
        "updates.csv",
    ]
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["config"]["merge_mode"] == "sum"
    assert config["train"]["updates"] == 200
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"accuracy {metrics['test']['accuracy']:.4f}" in out
    assert len((run / "updates.csv").read_text().splitlines()) == 201  # header + one row per update
    assert (run / "updates.csv").read_text().splitlines()[1].startswith("1,")  # integers as integers
    assert [line.split(",")[0] for line in (run / "history.csv").read_text().splitlines()] == ["epoch", "0", "1"]
    assert (run / "history.png").read_bytes().startswith(b"\x89PNG")

    assert main(["evaluate", str(run)]) == 0
    assert f"accuracy {metrics['test']['accuracy']:.4f}" in capsys.readouterr().out

    assert main(["predict", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert all("Expected:" in line and "Predicted:" in line for line in lines)

    sequences = tmp_path / "sequences.txt"
    sequences.write_text("0.9 0.9 0.9 0.9 0.9 0.9 0.9 0.9 0.9 0.9\n0.01,0.01,0.01\n")
    assert main(["predict", str(run), "--input", str(sequences)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert len(first.split()) == 10
    assert (first.split()[0], first.split()[-1]) == ("0", "1")  # 0.9 has not passed 2.5; 9.0 has
    assert second.split() == ["0", "0", "0"]  # one padded row of 3 steps: 3 predictions


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "--model", "text-lstm", "--out", "{tmp}/a"],
            "Expected a model reading numeric values for task cumsum",
        ),
        (["train", "--model", "nope", "--out", "{tmp}/a"], "Expected a preset in"),
        (["train", "--task-set", "steps=0", "--out", "{tmp}/a"], "Expected steps to be a positive integer"),
        (["train", "--patience", "2", "--out", "{tmp}/a"], "Expected a fixed training set (--train-size)"),
        (["train", "--model", "qa-stateful", "--batch-size", "4", "--out", "{tmp}/a"], "Expected batch size 1"),
        (["evaluate", "{tmp}"], "Expected a run directory holding model.safetensors"),
        (["predict", "{tmp}"], "Expected a run directory holding model.safetensors"),
    ],
)
def test_bad_training_input_is_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "a").exists()  # nothing half-written


def test_predict_input_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--updates", "5", "--out", str(run)]) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("0.1 0.2\nnot numbers\n")
    assert main(["predict", str(run), "--input", str(bad)]) == 2
    assert f"{bad}:2. Received: 'not numbers'" in capsys.readouterr().err
    long = tmp_path / "long.txt"
    long.write_text(" ".join(["0.5"] * 11))
    assert main(["predict", str(run), "--input", str(long)]) == 2
    assert "Expected at most 10 values a line" in capsys.readouterr().err
    assert main(["predict", str(run), "--input", str(tmp_path / "missing.txt")]) == 2


def test_stateful_model_answers_every_step_one_call_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = RunSpec(task="cumsum", preset="qa-stateful", train=TrainChoices(updates=50), test_size=20)
    result = train_run(spec, tmp_path)
    model, scores = result.model, result.scores
    assert scores is not None
    assert model.input_shape == (1, 1)  # one step per call, whatever the task's length
    assert scores.count == 20 * 10  # every step of every test sequence is scored
    assert main(["predict", str(tmp_path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 10
    rows = tmp_path / "rows.txt"
    rows.write_text("0.9 0.9 0.9 0.9\n0.1 0.1 0.1 0.1\n")
    assert main(["predict", str(tmp_path), "--input", str(rows)]) == 0
    assert [len(line.split()) for line in capsys.readouterr().out.splitlines()] == [4, 4]
    rows.write_text("0.9 0.9\n0.1 0.1 0.1\n")
    assert main(["predict", str(tmp_path), "--input", str(rows)]) == 2
    assert "Expected sequences of one length" in capsys.readouterr().err


def test_a_reused_directory_is_refused_then_replaced_whole(tmp_path: Path) -> None:
    train_run(RunSpec(train=TrainChoices(updates=5), test_size=5), tmp_path)
    assert (tmp_path / "updates.csv").exists()
    again = RunSpec(train_size=40, train=TrainChoices(epochs=2, batch_size=8), test_size=5)
    with pytest.raises(ValueError, match=f"Expected a new or empty run directory. Received: {tmp_path} holds files"):
        train_run(again, tmp_path)
    assert (tmp_path / "updates.csv").exists()  # the refused run touched nothing
    train_run(again, tmp_path, overwrite=True)
    assert not (tmp_path / "updates.csv").exists()  # the fixed-set run has no per-update history


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--clip-norm", "-1"], "Expected a finite clip_norm > 0"),
        (["train", "--learning-rate", "inf"], "Expected a finite learning_rate > 0"),
        (["train", "--task", "tokens", "--model", "text-lstm", "--task-set", "cue_words=0"], "Expected cue_words >= 1"),
        (["train", "--out", "/proc/lstmlab-cannot-write-here"], "No such file or directory"),
    ],
)
def test_more_bad_training_input(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_non_finite_input_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--updates", "5", "--out", str(run)]) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("0.1 inf 0.2\n")
    assert main(["predict", str(run), "--input", str(bad)]) == 2
    assert "Expected finite numbers" in capsys.readouterr().err


def test_token_ids_outside_the_vocabulary_name_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--task", "tokens", "--model", "qa-embedding-lstm", "--updates", "3", "--out", str(run)]) == 0
    ids = tmp_path / "ids.txt"
    ids.write_text("5 6 7\n1000000 3\n")
    assert main(["predict", str(run), "--input", str(ids)]) == 2
    assert f"Expected token ids in 0..999 (the model's vocabulary) in {ids}, sequence 2. Received: 1000000" in (
        capsys.readouterr().err
    )


def test_a_streamed_corpus_with_updates_is_refused_before_its_pass(tmp_path: Path) -> None:
    """--updates with a streamed corpus is refused before the file is read (23b5aee let it through to the Trainer,
    which refused it after the run directory was begun)."""
    from lstmlab.data import DataSpec, StreamSettings
    from lstmlab.runs import RunSpec, TrainChoices, prepare

    missing = tmp_path / "never-read.csv"  # the refusal comes before the pass would find it missing
    spec = RunSpec(data=DataSpec(str(missing), stream=StreamSettings()), train=TrainChoices(updates=5))
    with pytest.raises(ValueError, match="Expected --epochs with --data .* Received: --updates 5"):
        prepare(spec)


def test_a_data_run_of_a_fixed_batch_model_is_refused_at_another_batch_size(tmp_path: Path) -> None:
    """A model built for one batch size (qa-stateful: 1) on the user's data at batch 16 is refused before training,
    as it is on a task (23b5aee checked it only on tasks)."""
    import numpy as np

    from lstmlab.data import DataSpec
    from lstmlab.runs import RunSpec, TrainChoices, prepare

    path = tmp_path / "series.npz"
    rows = np.random.default_rng(0).normal(size=(20, 6, 1))
    np.savez(path, x=rows, y=np.array([0, 1] * 10))
    spec = RunSpec(preset="qa-stateful", data=DataSpec(str(path)), train=TrainChoices(batch_size=16))
    with pytest.raises(ValueError, match="Expected batch size 1 for qa-stateful. Received: 16"):
        prepare(spec)
