"""Every code block of the README runs, as written, from a fresh working directory: the main set-up command (its
install already done by the test command that runs this), the Python examples and the shell examples in order.
The main command prints what the README shows it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from helpers import import_keras

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)\n```$", re.M | re.S)
INSTALL = re.compile(r"^python3 -m venv \.venv && \. \.venv/bin/activate && pip install -c constraints\.txt -e \S+ && ")


def _blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(README) if lang == language]


def _environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # the test command's virtual environment: lstmlab, curl's server
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "120"}


def test_the_readme_has_no_block_this_file_does_not_run() -> None:
    languages = {lang for lang, _ in BLOCK.findall(README)}
    assert languages <= {"bash", "text", "python", "sh"}, languages
    assert len(_blocks("bash")) == 2 and len(_blocks("text")) == 1


def test_the_main_command_prints_what_the_readme_shows(tmp_path: Path) -> None:
    main = _blocks("bash")[0]
    assert INSTALL.match(main), main
    command = INSTALL.sub("", main)
    out = subprocess.run(command, shell=True, cwd=tmp_path, env=_environment(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    shown = _blocks("text")[0].splitlines()
    printed = out.stdout.splitlines()
    saved = re.compile(r"saved to runs/\d{4}-\d\d-\d\d_\d{6}_tutorial-bilstm$")
    assert saved.search(shown[0]) and saved.search(printed[0]), (shown[0], printed[0])
    assert printed[1:] == shown[1:]


def test_the_python_examples_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = _blocks("python")
    assert len(blocks) == 2
    keras = import_keras()
    theirs: dict[str, object] = {}
    with warnings.catch_warnings():  # Keras 3 advises keras.Input over the Keras 2 input_shape= the article wrote
        warnings.simplefilter("ignore", UserWarning)
        exec(blocks[0], theirs)  # Keras's own code, on Keras
    assert isinstance(theirs["model"], keras.Model) and theirs["model"].count_params() == 3561  # type: ignore[attr-defined]
    ours: dict[str, object] = {}
    exec(blocks[1], ours)  # the same model in lstmlab, as the README writes it
    assert ours["model"].count_params() == 3561  # type: ignore[attr-defined]
    logits, lengths = ours["logits"], ours["lengths"]
    assert logits.shape == (3, 10, 1)  # type: ignore[attr-defined]
    for row, length in enumerate(lengths.tolist()):  # type: ignore[attr-defined]
        assert bool((logits[row, length:] == 0).all()) and bool((logits[row, :length] != 0).all())  # type: ignore[index]


def test_the_shell_examples_run_in_order(tmp_path: Path) -> None:
    """Train on the bundled Yelp sentences, predict, compare, serve and ask the server: the README's three
    examples, each block a `bash -e` script, in one working directory."""
    blocks = _blocks("sh")
    assert len(blocks) == 3
    printed = []
    for block in blocks:
        out = subprocess.run(
            ["bash", "-e", "-c", block], cwd=tmp_path, env=_environment(), capture_output=True, text=True, timeout=900
        )
        assert out.returncode == 0, f"{block}\n{out.stdout}\n{out.stderr}"
        printed.append(out.stdout)
    assert "saved to runs/yelp" in printed[0]
    assert (tmp_path / "comparisons" / "yelp" / "report.md").is_file()
    assert '"labels":[' in printed[2] and '"probabilities":[[' in printed[2]
