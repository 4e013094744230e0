"""A package's public names imported on first use (lstmlab/lazy.py): each from its module, once, and nothing else."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING

            from lstmlab.lazy import exports

            if TYPE_CHECKING:
                from .heavy import Heavy, make
                from .light import LIGHT as light
            else:
                __getattr__, __dir__ = exports(__name__, __file__)

            __all__ = ["Heavy", "light", "make"]
            """
        )
    )
    (root / "heavy.py").write_text("class Heavy:\n    pass\n\n\ndef make():\n    return Heavy()\n")
    (root / "light.py").write_text("LIGHT = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazypkg"
    for name in [n for n in sys.modules if n.split(".")[0] == "lazypkg"]:
        del sys.modules[name]


def test_a_name_imports_its_module_only_when_read(package: str) -> None:
    import importlib

    lazy = importlib.import_module(package)
    assert f"{package}.heavy" not in sys.modules and f"{package}.light" not in sys.modules
    assert lazy.light == 3  # an alias: `from .light import LIGHT as light`
    assert f"{package}.light" in sys.modules and f"{package}.heavy" not in sys.modules
    assert isinstance(lazy.make(), lazy.Heavy)
    assert vars(lazy)["Heavy"] is sys.modules[f"{package}.heavy"].Heavy  # kept: later reads skip __getattr__
    assert {"Heavy", "light", "make"} <= set(dir(lazy))


def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    import importlib

    lazy = importlib.import_module(package)
    with pytest.raises(AttributeError, match="module 'lazypkg' has no attribute 'Missing'"):
        _ = lazy.Missing
    with pytest.raises(ImportError, match="cannot import name 'Missing'"):
        exec(f"from {package} import Missing")


def test_only_relative_imports_may_stand_under_type_checking(tmp_path: Path) -> None:
    from lstmlab.lazy import _type_checking_imports

    init = tmp_path / "__init__.py"
    init.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os\n")
    with pytest.raises(ValueError, match="Expected only `from .module import name` under TYPE_CHECKING"):
        _type_checking_imports(init)
