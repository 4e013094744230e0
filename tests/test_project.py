"""The project's promises about itself: CI runs the README's test command; every room is
in the import contract; no package holds more than 12 modules; each package lists its public names once, none also a module's name; no room
imports another's private names; the command line holds no tensor code."""

from __future__ import annotations

import pathlib
import re

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


PACKAGE = ROOT / "lstmlab"


def _rooms() -> set[str]:
    """lstmlab's rooms: its packages and top-level modules."""
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} | {
        p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")
    }


def test_the_import_contract_places_every_room() -> None:
    """pyproject.toml's layers contract (run by `lint-imports` in CI) names every room, so a new room cannot
    import upwards unseen; circles are refused in every package."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {c["type"]: c for c in config["contracts"]}
    layered = {
        room.strip().removeprefix("lstmlab.") for layer in contracts["layers"]["layers"] for room in layer.split("|")
    }
    assert layered == _rooms()
    assert contracts["acyclic_siblings"]["ancestors"] == ["lstmlab"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "&& lint-imports &&" in ci


def test_no_package_holds_more_than_twelve_modules() -> None:
    for package in [p.parent for p in PACKAGE.rglob("__init__.py")]:
        modules = sorted(p.name for p in package.glob("*.py"))
        assert len(modules) <= 12, f"{package.relative_to(ROOT)} holds {len(modules)} modules: {modules}"


def _lazy_packages() -> list[str]:
    found = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if "exports(__name__, __file__)" in init.read_text():
            parts = init.parent.relative_to(ROOT).parts
            found.append(".".join(parts))
    return found


def test_each_package_lists_its_public_names_once_and_each_resolves() -> None:
    """A package's names under TYPE_CHECKING are its `__all__`, and each is importable from the package."""
    import importlib

    from lstmlab.lazy import _type_checking_imports

    packages = _lazy_packages()
    assert {"lstmlab", "lstmlab.runs", "lstmlab.compare", "lstmlab.data", "lstmlab.training"} <= set(packages)
    for name in packages:
        package = importlib.import_module(name)
        imported = set(_type_checking_imports(pathlib.Path(package.__file__ or "")))
        assert set(package.__all__) - {"__version__"} == imported, name
        for public in package.__all__:
            assert getattr(package, public) is not None, f"{name}.{public}"


def test_no_lazily_exported_name_is_also_a_module_of_its_package() -> None:
    """Importing a package's module binds the module's name in the package, so a public name that is also a module's
    name would read as the module once anything imported it (`lstmlab.models.streaming` did, in a test run alone)."""
    import importlib
    import pkgutil

    for name in _lazy_packages():
        package = importlib.import_module(name)
        modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        assert not set(package.__all__) & modules, (
            f"{name}: names that are also modules: {set(package.__all__) & modules}"
        )


def test_the_public_api_is_documented_and_typed() -> None:
    """Every name `lstmlab` exports has a docstring (classes, functions) and the package ships py.typed."""
    import lstmlab

    undocumented = [
        name
        for name in lstmlab.__all__
        if callable(getattr(lstmlab, name)) and not (getattr(lstmlab, name).__doc__ or "").strip()
    ]
    assert undocumented == []
    assert (PACKAGE / "py.typed").exists()


def test_no_room_imports_a_private_name_of_another() -> None:
    """Names starting with `_` stay inside their room (a room's package exports what others use)."""
    import ast

    for path in sorted(PACKAGE.rglob("*.py")):
        room = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level or node.module is None:
                continue
            depth = len(path.relative_to(PACKAGE).parts) - 1
            if node.level <= depth:  # within the room
                continue
            target = node.module.split(".")[0]
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert target == room or not private, f"{path.relative_to(ROOT)} imports {private} from {node.module}"


def test_the_command_line_holds_no_tensor_code() -> None:
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        text = path.read_text()
        assert "import torch" not in text and "torch." not in text, path.name
