"""The project's promises about itself: CI runs the README's test command; the README's example runs."""

from __future__ import annotations

import pathlib
import re

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"^TEST_COMMAND='(.*)'$", ci, flags=re.M)
    assert command is not None
    bash_blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    assert command.group(1) in bash_blocks
    assert 'bash -c "$TEST_COMMAND"' in ci


def test_readme_has_exactly_two_setup_commands_pinning_torch() -> None:
    bash_blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(bash_blocks) == 2
    assert all("pip install -c constraints.txt" in block for block in bash_blocks)
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()


def test_readme_lstmlab_example_runs_and_counts_like_keras() -> None:
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)\n```", readme, flags=re.S) if b.startswith("# lstmlab"))
    namespace: dict[str, object] = {
        "x": torch.rand(3, 10, 1),
        "lengths": torch.tensor([10, 4, 1]),
        "print": lambda *args: None,
    }
    exec(block, namespace)  # the README's own example code, run as written
    model = namespace["model"]
    assert model.count_params() == 3561  # type: ignore[attr-defined]
    assert namespace["logits"].shape == (3, 10, 1)  # type: ignore[attr-defined]
