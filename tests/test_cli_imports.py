"""Each command imports only what it uses: `--version` and `--help` import neither PyTorch nor NumPy, and no
command imports SciPy, ONNX, FastAPI or Optuna unless it uses them (`sys.modules` after the command ran, in a
fresh process; `benchmarks/startup.py` times the same commands)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "numpy", "scipy", "onnx", "onnxruntime", "fastapi", "uvicorn", "optuna", "sklearn", "h5py")
PROBE = """
import sys
HEAVY = set(sys.argv[1].split(","))
sys.argv[1:2] = []
from lstmlab.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:
    status = stop.code
print("status", status)
print("imported", *sorted({name.split(".")[0] for name in sys.modules} & HEAVY))
"""


def imported_by(argv: list[str], cwd: Path) -> set[str]:
    """The heavy packages in `sys.modules` after `lstmlab ARGV` ran in a fresh process (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert f"status {0}" in lines, done.stdout + done.stderr
    return set(next(line for line in lines if line.startswith("imported")).split()[1:])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commands")


NOTHING_HEAVY: set[str] = set()
LIGHT = ["--version", "--help", "train --help", "compare --help", "tune --help", "serve --help", "export --help"]


@pytest.mark.parametrize("command", LIGHT)
def test_help_and_version_import_no_pytorch(command: str, work: Path) -> None:
    assert imported_by(command.split(), work) == NOTHING_HEAVY


# command -> the heavy packages it may import (each ran in order: later commands use the run the first wrote)
COMMANDS = [
    ("models", {"torch", "numpy"}),
    ("summary tutorial-bilstm", {"torch", "numpy"}),
    ("train --updates 3 --test-size 4 --out run", {"torch", "numpy"}),
    ("evaluate run --test-size 4", {"torch", "numpy"}),
    ("predict run", {"torch", "numpy"}),
    ("export run --format keras --out run.keras", {"torch", "numpy", "h5py"}),
    ("compare directions --seeds 2 --updates 2 --out cmp", {"torch", "numpy", "scipy"}),
    ("report cmp", {"torch", "numpy", "scipy"}),
]


def test_each_command_imports_only_what_it_uses(work: Path) -> None:
    for command, allowed in COMMANDS:
        imported = imported_by(command.split(), work)
        assert imported <= allowed, f"lstmlab {command} imported {sorted(imported - allowed)}"
