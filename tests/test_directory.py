"""Run directories never lose work: refused overwrite, dated names, the user's umask, Ctrl-C (a real SIGINT to a
child process) leaving the old run intact and a resumable checkpoint, resume equal to an uninterrupted run."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from lstmlab.cli import main
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.directory import RunDirectory, dated_name
from lstmlab.runs.pipeline import resume_run, train_run
from lstmlab.runs.spec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--updates", "5", "--test-size", "5"]


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def assert_same_run(a: Path, b: Path) -> None:
    """Two finished runs with the same weights, history and scores (their descriptions may differ in paths)."""
    first, second = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert first.keys() == second.keys()
    for key, value in first.items():
        assert value.equal(second[key]), key
    for name in ("history.csv", "updates.csv", "metrics.json"):
        if (a / name).exists() or (b / name).exists():
            assert (a / name).read_text() == (b / name).read_text(), name
    config_a, config_b = (json.loads((run / "config.json").read_text()) for run in (a, b))
    assert config_a["train"] == config_b["train"]  # a resumed run says how it was trained, world_size included


def test_out_onto_a_non_empty_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", *QUICK, "--out", str(run)]) == 0
    before = files(run)
    capsys.readouterr()
    assert main(["train", *QUICK, "--seed", "1", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert err == f"lstmlab: error: Expected a new or empty run directory. Received: {run} holds files (--overwrite " \
        "to replace them once the new run is complete)\n"  # fmt: skip
    assert files(run) == before and not (tmp_path / "run.partial").exists()
    assert main(["train", *QUICK, "--seed", "1", "--out", str(run), "--overwrite"]) == 0
    assert files(run)["model.safetensors"] != before["model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing beside it: no .partial, no old run


def test_without_out_each_run_gets_a_new_dated_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *QUICK]) == 0
    assert main(["train", *QUICK]) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(r.name.endswith("_tutorial-bilstm") or "_tutorial-bilstm-" in r.name for r in runs)
    printed = capsys.readouterr().out
    assert all(f"saved to {Path('runs') / r.name}" in printed for r in runs)
    now = datetime.datetime(2026, 12, 2, 8, 15, 0)
    taken = dated_name("qa-lstm", now)
    assert taken == Path("runs/2026-12-02_081500_qa-lstm")
    taken.mkdir(parents=True)
    assert dated_name("qa-lstm", now) == Path("runs/2026-12-02_081500_qa-lstm-2")


def test_files_get_the_users_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert main(["train", *QUICK, "--out", str(tmp_path / "run")]) == 0
    finally:
        os.umask(previous)
    run = tmp_path / "run"
    assert (run.stat().st_mode & 0o777) == 0o750
    modes = {p.name: p.stat().st_mode & 0o777 for p in run.iterdir()}
    assert set(modes.values()) == {0o640}, modes  # curves, weights, CSV and JSON alike


def test_a_stopped_data_run_resumes_to_the_uninterrupted_run(tmp_path: Path) -> None:
    """A text run with a validation split (the best epoch kept on disk as it trains), stopped after an update in its
    second epoch, resumed from the checkpoint: the same run as one never stopped."""
    from lstmlab.data.spec import DataSpec

    data = tmp_path / "d.txt"
    data.write_text("".join(f"good fine {i}\t1\nbad awful {i}\t0\n" for i in range(30)))
    choices = TrainChoices(epochs=3, batch_size=8, ensemble=2, validation_split=0.2, schedule="cosine")
    spec = RunSpec(preset="text-bilstm-pool", model_options={"units": 4, "embed_dim": 4}, train=choices, seed=2)
    spec = RunSpec(**{**spec.__dict__, "data": DataSpec(str(data), test_fraction=0.2)})
    whole = train_run(spec, tmp_path / "whole")
    assert whole.scores is not None and not whole.interrupted
    calls = iter(range(1, 1000))
    stopped = train_run(spec, tmp_path / "run", stop=lambda: next(calls) == 7)
    assert stopped.interrupted and stopped.updates == (7, 15) and stopped.directory == tmp_path / "run.partial"
    assert not (tmp_path / "run").exists()
    assert {"checkpoint.safetensors", "checkpoint.json", "config.json"} <= set(files(tmp_path / "run.partial"))
    with pytest.raises(ValueError, match="Expected a finished run in .*run.partial. Received: an interrupted one"):
        main_error(["evaluate", str(tmp_path / "run.partial")])
    resumed = resume_run(tmp_path / "run")
    assert not resumed.interrupted and resumed.directory == tmp_path / "run"
    assert not (tmp_path / "run.partial").exists() and "checkpoint.json" not in files(tmp_path / "run")
    assert_same_run(tmp_path / "whole", tmp_path / "run")
    with pytest.raises(ValueError, match=r"Expected an interrupted run to resume .*\. Received: a finished run"):
        resume_run(tmp_path / "run")


def main_error(argv: list[str]) -> None:
    """Run the CLI's handler directly, so that its error propagates."""
    from lstmlab.cli import make_parser

    args = make_parser().parse_args(argv)
    args.handler(args)


def test_resume_takes_no_other_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", str(tmp_path / "x"), "--seed", "3"]) == 2
    assert "Expected no other run options with --resume (it continues as saved). Received: ['--seed']" in (
        capsys.readouterr().err
    )
    assert main(["train", "--resume", str(tmp_path / "x")]) == 2
    assert "Expected an interrupted run to resume" in capsys.readouterr().err


CHILD = "import sys, torch\ntorch.set_num_threads(1)\nfrom lstmlab.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def start_child(argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def wait_for(path: Path, child: subprocess.Popen[str], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


TRAIN = ["train", "--updates", "1500", "--test-size", "20", "--seed", "4"]


def test_ctrl_c_keeps_the_old_run_and_leaves_a_checkpoint_that_resumes_bit_for_bit(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", *QUICK, "--out", str(run)]) == 0  # a finished run the new one is to replace
    old = files(run)
    child = start_child([*TRAIN, "--out", str(run), "--overwrite"])
    wait_for(tmp_path / "run.partial" / "config.json", child)  # training has begun
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, (out, err)
    assert err == "" and "Traceback" not in out
    (line,) = out.splitlines()
    assert line.startswith("interrupted after update ") and line.endswith(f"`lstmlab train --resume {run}`")
    assert files(run) == old  # the old run, untouched
    checkpoint = json.loads((tmp_path / "run.partial" / "checkpoint.json").read_text())
    assert 0 < checkpoint["trainer"]["updates"] < 1500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.partial"]

    assert main(["train", "--resume", str(run)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert main([*TRAIN, "--out", str(tmp_path / "whole")]) == 0
    assert_same_run(tmp_path / "whole", run)


def test_a_killed_run_resumes_from_its_last_periodic_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    child = start_child([*TRAIN, "--out", str(run), "--checkpoint-every", "2"])
    wait_for(tmp_path / "run.partial" / "checkpoint.json", child)  # after 200 updates
    child.kill()  # no chance to save anything more
    child.communicate(timeout=60)
    assert not run.exists()
    resumed = resume_run(run)
    assert not resumed.interrupted
    assert main([*TRAIN, "--out", str(tmp_path / "whole")]) == 0
    assert_same_run(tmp_path / "whole", run)


def test_run_directory_of_a_partial_path() -> None:
    assert RunDirectory.of(Path("runs/a.partial")).target == Path("runs/a")
    assert RunDirectory.of(Path("runs/a")).partial == Path("runs/a.partial")


def test_overwrite_replaces_only_lstmlab_runs_and_never_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "code.py").write_text("important\n")
    assert main(["train", *QUICK, "--out", str(project), "--overwrite"]) == 2
    assert "Expected an lstmlab run to overwrite in" in capsys.readouterr().err
    assert (project / "src" / "code.py").read_text() == "important\n" and not (tmp_path / "project.partial").exists()
    for name in (".", ".."):
        assert main(["train", *QUICK, "--out", name, "--overwrite"]) == 2
        assert "Expected a directory name for the run (e.g. runs/NAME)" in capsys.readouterr().err


def test_a_partial_directory_without_a_checkpoint_is_leftover_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "run.partial").mkdir()
    (tmp_path / "run.partial" / "config.json").write_text("{}")  # a run killed before its first checkpoint
    assert main(["train", *QUICK, "--out", str(tmp_path / "run")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_resume_finishes_into_the_run_it_is_given_and_refuses_to_replace_another(tmp_path: Path) -> None:
    calls = iter(range(1, 1000))
    spec = RunSpec(train=TrainChoices(updates=30), test_size=5)
    assert train_run(spec, tmp_path / "a", stop=lambda: next(calls) == 10).interrupted
    (tmp_path / "a.partial").rename(tmp_path / "b.partial")  # moved (or copied) elsewhere: it finishes there
    assert resume_run(tmp_path / "b").directory == tmp_path / "b"
    assert not (tmp_path / "a").exists()
    calls = iter(range(1, 1000))
    assert train_run(spec, tmp_path / "c", stop=lambda: next(calls) == 10).interrupted
    assert main(["train", *QUICK, "--out", str(tmp_path / "c.other")]) == 0
    (tmp_path / "c.other").rename(tmp_path / "c")  # a finished run appears where the interrupted one was going
    with pytest.raises(ValueError, match="Expected a new or empty run directory. Received: .*c holds files"):
        resume_run(tmp_path / "c")


def test_resume_refuses_changed_training_data(tmp_path: Path) -> None:
    from lstmlab.data.spec import DataSpec

    data = tmp_path / "d.txt"
    data.write_text("".join(f"good fine {i}\t1\nbad awful {i}\t0\n" for i in range(20)))
    choices = TrainChoices(epochs=2, batch_size=8, ensemble=1)
    spec = RunSpec(model_options={"units": 4, "embed_dim": 4}, train=choices, data=DataSpec(str(data)))
    calls = iter(range(1, 1000))
    assert train_run(spec, tmp_path / "run", stop=lambda: next(calls) == 2).interrupted
    data.write_text("".join(f"good nice {i}\t1\nbad awful {i}\t0\n" for i in range(20)))
    with pytest.raises(ValueError, match="Expected the training data the run began with"):
        resume_run(tmp_path / "run")


def test_ctrl_c_after_training_still_saves_the_run() -> None:
    """Once training is done, a first Ctrl-C no longer stops anything: the run is saved and scored."""
    import signal as signals

    from lstmlab.runs import pipeline

    original = pipeline.evaluate_model

    def pressed_while_scoring(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signals.SIGINT)  # the handler only sets the flag: no KeyboardInterrupt here
        return original(*args, **kwargs)  # type: ignore[arg-type]

    import tempfile

    with tempfile.TemporaryDirectory() as scratch, pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "evaluate_model", pressed_while_scoring)
        result = train_run(RunSpec(train=TrainChoices(updates=5), test_size=5), Path(scratch) / "run")
        assert not result.interrupted and (Path(scratch) / "run" / "metrics.json").exists()


def test_sigterm_stops_like_ctrl_c(tmp_path: Path) -> None:
    run = tmp_path / "run"
    child = start_child([*TRAIN, "--out", str(run)])
    wait_for(tmp_path / "run.partial" / "config.json", child)
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130 and err == "" and out.startswith("interrupted after update "), (out, err)
    assert (tmp_path / "run.partial" / "checkpoint.safetensors").exists() and not run.exists()
