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
