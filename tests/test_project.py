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


# room -> the rooms of lstmlab it may import (ARCHITECTURE.md)
ALLOWED = {
    "layers": set(),
    "data": {"seeds", "names"},
    "models": {"layers", "data", "names"},
    "training": {"data", "seeds"},
    "keras": {"layers", "data", "models", "training", "seeds", "names", "progress"},
    "export": {"layers", "models"},
    "experiments": {"layers", "data", "models", "training", "seeds", "names", "keras", "export"},
    "serve": {"experiments", "data", "models", "layers"},
    "cli": {"experiments", "data", "models", "training", "progress", "serve", "__init__"},
    "seeds": set(),
    "names": set(),
    "progress": set(),
}


def _rooms_imported(path: pathlib.Path) -> set[str]:
    """The lstmlab rooms a module imports (relative or absolute imports), by their first name."""
    import ast

    package = path.relative_to(ROOT / "lstmlab").parts[:-1]
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])  # the package the import is relative to
            parts = [*base, *(node.module.split(".") if node.module else [])]
            if parts:
                rooms.add(parts[0])
            else:  # `from .. import layers`: the names are the rooms (or the package's own names)
                rooms.update(a.name if (ROOT / "lstmlab" / a.name).is_dir() else "__init__" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lstmlab"):
            rooms.add(node.module.split(".")[1] if "." in node.module else "__init__")
        elif isinstance(node, ast.Import):
            rooms.update(a.name.split(".")[1] for a in node.names if a.name.startswith("lstmlab."))
    return rooms


def test_each_room_imports_only_what_the_architecture_allows() -> None:
    for path in sorted((ROOT / "lstmlab").rglob("*.py")):
        parts = path.relative_to(ROOT / "lstmlab").parts
        room = parts[0].removesuffix(".py")
        if room == "__init__" or room == "__main__":
            continue
        imported = _rooms_imported(path) - {room}
        assert imported <= ALLOWED[room], f"{path.relative_to(ROOT)} imports {sorted(imported - ALLOWED[room])}"


def test_the_command_line_holds_no_tensor_code() -> None:
    text = (ROOT / "lstmlab" / "cli.py").read_text()
    assert "import torch" not in text and "torch." not in text


def test_readme_keras_front_end_example_runs_and_learns() -> None:
    """The tutorial's Keras code in the README, on lstmlab.keras: 1000 single-sequence fits, then most steps right."""
    import random

    import numpy as np

    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)\n```", readme, flags=re.S) if "lstmlab.keras" in b)
    printed: list[str] = []
    namespace: dict[str, object] = {"print": lambda *args: printed.append(" ".join(map(str, args)))}
    random.seed(0)
    torch.manual_seed(0)
    exec(block, namespace)  # the README's own example code, run as written
    model, make = namespace["model"], namespace["cumsum_sequence"]
    assert model.count_params() == 3561  # type: ignore[attr-defined]
    assert len([line for line in printed if line.startswith("Expected:")]) == 10
    right = [np.mean(model.predict_classes(x) == y) for x, y in (make(10) for _ in range(100))]  # type: ignore[attr-defined, operator]
    assert np.mean(right) > 0.85
