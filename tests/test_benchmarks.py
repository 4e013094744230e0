"""Every benchmark command the docs show runs, at its smallest size (`LSTMLAB_BENCH_SMOKE=1`, benchmarks/timing.py).

The commands are read from where a user reads them: the `bash` blocks of `benchmarks/README.md` (which the site's
benchmarks page shows) and every inline `python benchmarks/...` in the README and on the site. A smoke run checks
that the command parses, runs end to end and prints its table; its figures are not results, so nothing here looks
at a number. A set from `../shared/datasets/` that is absent is skipped by the script itself, with its reason.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE_VARIABLE = "LSTMLAB_BENCH_SMOKE"
SCRIPT = re.compile(r"python benchmarks/\w+\.py")
# Commands that set up a machine rather than measure: the bench extra (TensorFlow, for the Keras columns), the
# tokenizers anchor, activating the venv. The Keras and tokenizers columns skip with a message where absent.
SET_UP = re.compile(r"^(pip install|\. \.venv/bin/activate)")


def bash_lines(markdown: str) -> list[str]:
    """The command lines of the `bash` blocks, comments after `#` dropped."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if inside and line.strip():
            lines.append(re.sub(r"\s+#.*$", "", line).strip())
    return lines


def inline_commands(markdown: str) -> list[str]:
    """Every inline code span that is a benchmark command."""
    return [span for span in re.findall(r"`([^`\n]+)`", markdown) if SCRIPT.match(span)]


def measured_part(line: str) -> str:
    """The benchmark command of a line: a line that first checks out an older library
    (`git worktree add /tmp/before REV && PYTHONPATH=/tmp/before python benchmarks/...`) runs its script on this
    checkout's library here, since an old commit's library is not what this suite tests."""
    found = SCRIPT.search(line)
    assert found is not None, f"expected a `python benchmarks/<script>.py` command, got: {line}"
    return line[found.start() :]


def documented_commands() -> list[str]:
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    lines = [line for line in bash_lines(readme) if not SET_UP.match(line)]
    for page in pages:
        lines += inline_commands(page.read_text(encoding="utf-8"))
    return list(dict.fromkeys(measured_part(line) for line in lines))


COMMANDS = documented_commands()
START = time.time()


def test_the_commands_were_found() -> None:
    scripts = {SCRIPT.search(c).group(0) for c in COMMANDS}  # type: ignore[union-attr]
    shared = {"timing.py", "versus_baseline.py"}  # modules the scripts import, not scripts
    on_disk = {f"python benchmarks/{p.name}" for p in (ROOT / "benchmarks").glob("*.py") if p.name not in shared}
    assert scripts == on_disk, f"scripts no page shows: {sorted(on_disk - scripts)}"


@pytest.mark.parametrize("command", COMMANDS)
def test_documented_benchmark_command_runs(command: str, tmp_path: Path) -> None:
    env = {**os.environ, SMOKE_VARIABLE: "1", "TMPDIR": str(tmp_path), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    args = shlex.split(command)
    done = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{output[-4000:]}"
    assert "smoke run" in done.stdout, f"{command} did not say it ran as a smoke run:\n{output[-2000:]}"
    leftovers = sorted(p.name for p in (ROOT / "benchmarks" / "results").glob("*") if p.stat().st_mtime > START)
    assert not leftovers, f"{command} wrote into benchmarks/results/: {leftovers}"
