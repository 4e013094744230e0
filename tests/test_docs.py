"""The documentation site's promises: every code block on it is run by the build, the API page lists every public
name, and the built site works in a browser (headless Chromium: title, navigation, figures, no console errors).

The browser test reads the site that `mkdocs build --strict` wrote where `LSTMLAB_SITE` names it (CI builds the
site once, just before pytest); otherwise it builds one of its own, which takes minutes.
"""

from __future__ import annotations

import doctest
import functools
import http.server
import importlib
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import console_errors, open_page

import lstmlab
import lstmlab.layers

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INCLUDED = [ROOT / "ARCHITECTURE.md", ROOT / "CHANGELOG.md", ROOT / "CONTRIBUTING.md"]  # pages include these
FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<info>[^`\n]*)$", re.M)
RUN_LANGUAGES = {"python", "py", "console", "sh", "bash", "shell", "pycon"}


def _fences(text: str) -> list[tuple[str, str]]:
    """(language, options) of each fenced block opened in `text`."""
    found, open_ticks = [], None
    for match in FENCE.finditer(text):
        ticks, info = match["ticks"], match["info"].strip()
        if open_ticks is None:
            open_ticks = ticks
            language, _, options = info.partition(" ")
            found.append((language, options))
        elif ticks == open_ticks and not info:
            open_ticks = None
    return found


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_scripts" not in p.parts)


def test_every_code_block_on_the_site_is_run_by_the_build() -> None:
    """A block of code or commands on a page is executed by markdown-exec (`exec="on"`), so that no example can
    break unseen and no output is written by hand; `text` blocks hold only outputs and samples."""
    unrun = []
    for page in [*_pages(), *INCLUDED]:
        for language, options in _fences(page.read_text(encoding="utf-8")):
            if language.lower() in RUN_LANGUAGES and 'exec="on"' not in options:
                unrun.append(f"{page.relative_to(ROOT)}: ```{language} {options}")
            if not language:
                unrun.append(f"{page.relative_to(ROOT)}: a block without a language")
    assert not unrun, "\n".join(unrun)


def test_the_fence_reader_sees_unrun_blocks() -> None:
    text = '```python\nprint(1)\n```\n\n```console exec="on" source="console"\n$ lstmlab --version\n```\n'
    assert _fences(text) == [("python", ""), ("console", 'exec="on" source="console"')]


def test_the_api_page_lists_every_public_name_and_layer_class() -> None:
    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: (\S+)$", page, flags=re.M))
    public = {f"lstmlab.{name}" for name in lstmlab.__all__ if name != "__version__"}
    layer_classes = {
        name
        for name in lstmlab.layers.__all__
        if isinstance(getattr(lstmlab.layers, name), type)
        and issubclass(getattr(lstmlab.layers, name), lstmlab.layers.Layer)
    }
    named = {n.rsplit(".", 1)[1] for n in documented}
    assert public <= documented, sorted(public - documented)
    assert layer_classes <= named, sorted(layer_classes - named)


def test_the_examples_in_the_documented_docstrings_print_what_they_show() -> None:
    """The API page renders each name's docstring, examples included: each example runs (doctest, in its
    module's namespace) and prints what it shows."""
    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for name in re.findall(r"^::: (\S+)$", page, flags=re.M):
        owner, _, attribute = name.rpartition(".")
        documented = getattr(importlib.import_module(owner), attribute)
        module = sys.modules[getattr(documented, "__module__", None) or owner]
        for test in finder.find(documented, name, module=module, globs=dict(vars(module))):
            examples += len(test.examples)
            runner.run(test)
    assert examples >= 30
    assert runner.summarize(verbose=False).failed == 0


def test_the_reference_pages_are_generated_from_the_code() -> None:
    for page, call in [("cli.md", "reference.cli_markdown()"), ("presets.md", "reference.presets_markdown()")]:
        assert call in (DOCS / "reference" / page).read_text(encoding="utf-8"), page
    sys.path.insert(0, str(DOCS / "_scripts"))
    try:
        import reference
    finally:
        sys.path.remove(str(DOCS / "_scripts"))
    commands = reference.cli_markdown()
    for name in ["train", "compare", "tune", "serve", "export", "import-keras", "predict", "evaluate"]:
        assert f"## `lstmlab {name}`" in commands
    assert "`--learning-rate LEARNING_RATE`" in commands
    assert "| `tutorial-bilstm` |" in reference.presets_markdown() and "| 3,561 |" in reference.presets_markdown()


def test_the_version_is_defined_once_and_the_changelog_starts_there() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, flags=re.M)
    assert released and released[0] == lstmlab.__version__
    out = subprocess.run([sys.executable, "-m", "lstmlab", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"lstmlab {lstmlab.__version__}"


def _page_blocks(page: Path, session: str) -> list[str]:
    """The Python blocks of one markdown-exec session on a page, dedented (blocks in tabs are indented)."""
    pattern = re.compile(
        r"^( *)```python exec=\"on\"[^\n]*session=\"" + session + r"\"[^\n]*\n(.*?)\n\1```$", re.M | re.S
    )
    return [
        textwrap.dedent("\n".join(line[len(m[0]) :] for line in m[1].splitlines()))
        for m in pattern.findall(page.read_text())
    ]


def test_the_tutorials_keras_code_learns_the_problem() -> None:
    """The article's Keras code as the cumulative-sum tutorial runs it on lstmlab.keras (1000 fits of one fresh
    sequence each), checked here for what the page can only show: most steps of fresh sequences are right."""
    import random

    import numpy as np
    import torch

    blocks = _page_blocks(DOCS / "tutorials" / "cumulative-sum.md", "cumsum")
    model_block = next(b for b in blocks if "from lstmlab.keras.models import Sequential" in b)
    loop_block = next(b for b in blocks if "def get_sequence" in b)
    printed: list[str] = []
    namespace: dict[str, object] = {"print": lambda *args: printed.append(" ".join(map(str, args)))}
    random.seed(0)
    torch.manual_seed(0)
    exec(model_block, namespace)  # the page's code, run as written
    exec(loop_block, namespace)
    model, make = namespace["model"], namespace["get_sequence"]
    assert model.count_params() == 3561  # type: ignore[attr-defined]
    assert len([line for line in printed if line.startswith("Expected:")]) == 10
    right = [np.mean(model.predict_classes(x) == y) for x, y in (make(10) for _ in range(100))]  # type: ignore[attr-defined, operator]
    assert np.mean(right) > 0.85


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("LSTMLAB_SITE")
    if given:
        path = Path(given)
        if not path.is_absolute():
            path = ROOT / path
        assert (path / "index.html").is_file(), f"LSTMLAB_SITE={given} holds no built site"
        return path
    path = tmp_path_factory.mktemp("site")
    subprocess.run(["mkdocs", "build", "--strict", "--site-dir", str(path)], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_home_page_opens_with_its_title_and_navigation(browser: object, served: str) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{served}/")
    assert browser.title.startswith("lstmlab")  # type: ignore[attr-defined]
    navigation = browser.find_element(By.CSS_SELECTOR, "nav.md-nav--primary").get_attribute("textContent")  # type: ignore[attr-defined]
    for section in ["Tutorials", "How-to guides", "Reference", "Benchmarks"]:
        assert section in navigation
    footer = browser.find_element(By.CSS_SELECTOR, ".md-copyright").text  # type: ignore[attr-defined]
    assert f"lstmlab {lstmlab.__version__}" in footer
    assert console_errors(browser) == []


def test_a_tutorial_opens_with_its_figures_drawn_by_the_build(browser: object, served: str) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{served}/tutorials/cumulative-sum/")
    assert "cumulative-sum" in browser.title.lower()  # type: ignore[attr-defined]
    heading = browser.find_element(By.CSS_SELECTOR, "article h1").text  # type: ignore[attr-defined]
    assert heading.startswith("The cumulative-sum Bi-LSTM")
    figures = browser.find_elements(By.CSS_SELECTOR, "article figure img")  # type: ignore[attr-defined]
    assert len(figures) >= 3
    for figure in figures:
        assert figure.get_attribute("src").startswith("data:image/png;base64,")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", figure) > 100  # type: ignore[attr-defined]
    assert "Expected:" in browser.find_element(By.CSS_SELECTOR, "article").text  # type: ignore[attr-defined]
    assert console_errors(browser) == []
