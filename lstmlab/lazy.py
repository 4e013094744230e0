"""A package's public names, imported on first use (PEP 562), so that importing a room costs only what is used.

`lstmlab --help` reads a few settings from several rooms and never imports PyTorch; `lstmlab train` imports
neither SciPy nor ONNX. A package lists its public names once, as imports under `if TYPE_CHECKING:` (what mypy,
import-linter and a reader see) and in `__all__`, and calls `exports(__name__, __file__)` otherwise:

    if TYPE_CHECKING:
        from .pipeline import train_run
    else:
        __getattr__, __dir__ = exports(__name__, __file__)

Written here rather than taken from Scientific Python's `lazy_loader`: that reads the names from a separate `.pyi`
stub, which import-linter does not read, so the rooms' import graph would lose each package's own imports.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["exports"]


def _type_checking_imports(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (relative module, attribute) of each `from .module import name` under `if TYPE_CHECKING:`."""
    where: dict[str, tuple[str, str]] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if not (isinstance(statement, ast.ImportFrom) and statement.level == 1):
                raise ValueError(f"Expected only `from .module import name` under TYPE_CHECKING in {path}")
            for alias in statement.names:
                where[alias.asname or alias.name] = ("." + (statement.module or ""), alias.name)
    return where


def exports(package: str, file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of `package` (whose `__init__.py` is `file`): each public name is imported
    from its module on first access and kept in the package.

    `tests/test_project.py` checks that the names under TYPE_CHECKING are the package's `__all__`.
    """
    where = _type_checking_imports(Path(file))
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = where[name]
        value = getattr(importlib.import_module(module, package), attribute)
        namespace[name] = value  # later look-ups no longer come here
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
