"""The command line: presets listed, summaries printed, one-line errors and a non-zero exit on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lstmlab import PRESETS
from lstmlab.cli import main


def test_models_lists_every_preset_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)


def test_summary_prints_the_table_with_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "tutorial-bilstm", "--set", "merge_mode=sum", "--set", "units=7"]) == 0
    out = capsys.readouterr().out
    assert "bidirectional (Bidirectional)" in out
    assert "(None, 10, 7)" in out
    assert "Total params: 512" in out  # 2 * 4 * (7 * (1 + 7) + 7) + (7 + 1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["summary", "nope"], "Expected a preset in ["),
        (["summary", "tutorial-bilstm", "--set", "merge_mode=avg"], "Received: merge_mode='avg'"),
        (["summary", "tutorial-bilstm", "--set", "units"], "Expected --set KEY=VALUE. Received: 'units'"),
        (["summary", "tutorial-bilstm", "--set", "colour=red"], "Received: colour"),
        (["summary", "qa-lstm", "--set", "units=0"], "Received: units=0"),
    ],
)
def test_bad_input_is_one_line_and_exits_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmlab: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_demo_runs_both_paths_and_they_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "tutorial-bilstm", "qa-embedding-bilstm"]) == 0
    out = capsys.readouterr().out
    diffs = [float(line.rsplit("= ", 1)[1]) for line in out.splitlines() if line.startswith("forward pass")]
    assert len(diffs) == 2
    assert max(diffs) < 1e-5


def test_installed_command_exits_non_zero_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lstmlab", "summary", "nope"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("lstmlab: error: Expected a preset")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["summary", "qa-lstm", "--set", "steps=-1"], "Expected positive sizes (or None) in the input shape"),
        (["summary", "qa-lstm", "--set", "features=0"], "Received: input_shape=(10, 0)"),
        (["demo", "text-lstm", "--batch", "1"], None),
    ],
)
def test_sizes_are_checked(argv: list[str], message: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == (0 if message is None else 2)
    if message is not None:
        assert message in capsys.readouterr().err


def test_non_positive_batch_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "qa-lstm", "--batch", "0"])
    assert exit_info.value.code == 2


def test_lstmlab_alone_prints_the_help_and_version_is_known(capsys: pytest.CaptureFixture[str]) -> None:
    from lstmlab import __version__

    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lstmlab") and "train" in out and "evaluate" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"lstmlab {__version__}\n"


@pytest.mark.parametrize("command", ["train", "compare", "evaluate", "predict", "demo", "summary", "report", "models"])
def test_help_states_each_default_once_and_as_a_value(command: str) -> None:
    import argparse

    from lstmlab.cli import make_parser
    from lstmlab.cli.options import HelpFormatter

    commands = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = commands.choices[command]
    assert parser.description
    for action in parser._actions:
        text = HelpFormatter(command)._get_help_string(action)
        assert text.count("default") <= 1, text
        assert "(default: None)" not in text and "(default: task)" not in text and "(default: False)" not in text, text


def test_train_help_defaults_come_from_the_defaults_module(capsys: pytest.CaptureFixture[str]) -> None:
    from lstmlab.runs import defaults

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")
    for name in ("updates", "epochs", "batch_size", "learning_rate", "validation_split", "schedule", "ensemble"):
        assert f"(default: {defaults.describe(name)})" in text, name
    assert "(default: 200)" in text  # --test-size, argparse's own default


def test_scores_name_the_classes_by_their_labels(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    data = Path(str(tmp_path)) / "d.csv"
    data.write_text("text,label\n" + "".join(f"good fine {i},pos\nbad awful {i},neg\n" for i in range(15)))
    run = Path(str(tmp_path)) / "run"
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "2", "--ensemble", "1"]
    assert main(["train", "--data", str(data), "--out", str(run), *small]) == 0
    out = capsys.readouterr().out
    assert "class  precision  recall  f1" in out
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  neg") or line.startswith("  pos")] == [
        "neg",
        "pos",
        "neg",
        "pos",
    ]  # per-class rows, then the confusion matrix's rows
    metrics = __import__("json").loads((run / "metrics.json").read_text())["test"]
    assert metrics["labels"] == ["neg", "pos"] and len(metrics["confusion"]) == 2 and len(metrics["f1"]) == 2


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        (["train", "--updates", "0"], "lstmlab: error: train: argument --updates: expected a positive integer"),
        (["compare", "nope"], "lstmlab: error: compare: argument comparison: invalid choice: 'nope'"),
        (["train", "--epochs", "2", "--updates", "3"], "lstmlab: error: train: argument --updates: not allowed with"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.startswith(message) and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("argv", "received"),
    [
        (["--task-set", "steps=3"], "['--task-set']"),
        (["--train-size", "10", "--test-size", "3"], "['--test-size', '--train-size']"),
        (["--no-standardise"], "['--no-standardise']"),
    ],
)
def test_options_that_would_change_nothing_are_refused(
    argv: list[str], received: str, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    data = Path(str(tmp_path)) / "d.txt"
    data.write_text("good\t1\nbad\t0\n" * 5)
    assert main(["train", "--data", str(data), *argv, "--out", str(Path(str(tmp_path)) / "run")]) == 2
    err = capsys.readouterr().err
    assert err == f"lstmlab: error: Expected only options that apply to this run (texts from --data take neither " \
        f"task nor series options). Received: {received}\n"  # fmt: skip
    assert main(["train", "--max-len", "5", "--out", str(Path(str(tmp_path)) / "run")]) == 2
    assert "(they describe --data). Received: ['--max-len']" in capsys.readouterr().err
    assert not (Path(str(tmp_path)) / "run").exists()


def test_resume_refuses_any_option_written_even_at_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", "runs/x", "--seed", "0", "--task", "cumsum"]) == 2
    assert "Received: ['--seed', '--task']" in capsys.readouterr().err


def test_a_seed_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--seed", str(2**70)]) == 2
    assert capsys.readouterr().err == f"lstmlab: error: Expected a seed in -2**63..2**63-1. Received: {2**70}\n"


def test_a_failed_prediction_prints_nothing_but_the_error(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    import numpy as np

    run = Path(str(tmp_path)) / "run"
    data = Path(str(tmp_path)) / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.normal(size=(20, 6, 2)), y=np.array(["a", "b"] * 10))
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--model",
                "series-bilstm",
                "--set",
                "units=4",
                "--epochs",
                "1",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    capsys.readouterr()
    other = Path(str(tmp_path)) / "three.npz"
    np.savez(other, x=rng.normal(size=(4, 6, 3)))
    assert main(["predict", str(run), "--series-file", str(other)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Expected 2 channels in every series" in err
    assert main(["predict", str(run), "--text", "hello"]) == 2
    assert "for a run trained on series. Received: --text" in capsys.readouterr().err
