"""`lstmlab inspect`'s page: what it embeds, that it loads nothing, that it is written whole, and what a person sees
in a headless Chromium (tokens, colours, the hover panel, the heatmap), for real inspections of a text model, a
per-step series model and a 3000-step text."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from browser import console_errors, open_page

from lstmlab.explain import inspect, page_html, write_page
from lstmlab.explain.document import document
from lstmlab.explain.page import LAYERS_ENCODING
from lstmlab.models import build_model

BREAKER = "</script><b>x"  # a token that would end the data's script element if written as it is
UNKNOWN = 5  # the text document's token not in the vocabulary


@pytest.fixture(scope="module")
def text_document() -> dict[str, Any]:
    """Two texts (40 and 12 ids) through a Bi-LSTM with pooling, both attribution methods."""
    torch.manual_seed(0)
    model = build_model("text-bilstm-pool", vocab_size=50, max_len=40, units=8)
    ids = torch.randint(2, 50, (2, 40))
    ids[1, 12:] = 0
    inspection = inspect(model, ids, [40, 12], steps=8)
    tokens = [[f"w{int(i)}" for i in ids[0]], [f"w{int(i)}" for i in ids[1, :12]]]
    tokens[0][3] = BREAKER
    known = [[True] * 40, [True] * 12]
    known[0][UNKNOWN] = False
    return document(
        inspection, model=model.name, classes=["negative", "positive"], inputs="text", tokens=tokens, known=known
    )


@pytest.fixture(scope="module")
def series_document() -> dict[str, Any]:
    """One series of 10 values through the tutorial's per-step Bi-LSTM."""
    torch.manual_seed(1)
    model = build_model("tutorial-bilstm")
    x = torch.rand(1, 10, 1)
    inspection = inspect(model, x, steps=8)
    tokens = [[f"{float(v):.2f}" for v in x[0, :, 0]]]
    return document(inspection, model=model.name, classes=["0", "1"], inputs="series", tokens=tokens)


@pytest.fixture(scope="module")
def long_document() -> dict[str, Any]:
    """A text of 3000 ids, Integrated Gradients only."""
    torch.manual_seed(2)
    model = build_model("text-bilstm-pool", vocab_size=50, max_len=3000, units=16)
    ids = torch.randint(2, 50, (1, 3000))
    inspection = inspect(model, ids, methods=("integrated_gradients",), steps=8)
    tokens = [[f"w{int(i)}" for i in ids[0]]]
    return document(
        inspection,
        model=model.name,
        classes=["negative", "positive"],
        inputs="text",
        tokens=tokens,
        known=[[True] * 3000],
    )


def embedded(html: str) -> Any:
    """The data a page holds, read as strict JSON (no NaN)."""
    found = re.search(r'<script type="application/json" id="inspection">(.*?)</script>', html, re.S)
    assert found is not None

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant}")

    return json.loads(found.group(1), parse_constant=refuse)


def unpacked(text: str, units: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, units)


class Resources(HTMLParser):
    """Every src and href of a page, and its CSP meta."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.policy: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.links += [value or "" for name, value in attrs if name in {"src", "href", "srcset", "action"}]
        if tag == "meta" and found.get("http-equiv") == "Content-Security-Policy":
            self.policy = found.get("content")


# ---- the HTML text ----


def test_page_loads_nothing(text_document: dict[str, Any]) -> None:
    html = page_html(text_document)
    resources = Resources()
    resources.feed(html)
    assert all(link.startswith("data:") for link in resources.links), resources.links
    assert not re.search(r"https?://|//cdn|@import|url\(|fetch\(|XMLHttpRequest|<link[^>]*stylesheet", html)
    assert resources.policy is not None and "default-src 'none'" in resources.policy


def test_page_embeds_the_document(text_document: dict[str, Any]) -> None:
    data = embedded(page_html(text_document))
    assert data["layers_encoding"] == LAYERS_ENCODING
    assert {key: value for key, value in data.items() if key not in {"sequences", "layers_encoding"}} == {
        key: value for key, value in text_document.items() if key != "sequences"
    }
    for shown, sequence in zip(data["sequences"], text_document["sequences"], strict=True):
        assert {k: v for k, v in shown.items() if k != "layers"} == {k: v for k, v in sequence.items() if k != "layers"}
        for layer, directions in sequence["layers"].items():
            for direction, quantities in directions.items():
                for name, values in quantities.items():
                    packed = unpacked(shown["layers"][layer][direction][name], len(values[0]))
                    np.testing.assert_allclose(packed, np.array(values), rtol=2e-7, atol=1e-8)


def test_a_closing_script_token_stays_data(text_document: dict[str, Any]) -> None:
    html = page_html(text_document)
    assert BREAKER not in html
    assert html.count("</script>") == 2  # the data's and the program's
    assert embedded(html)["sequences"][0]["tokens"][3] == BREAKER


def test_non_finite_numbers_become_null(series_document: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(series_document))
    broken["sequences"][0]["attributions"]["occlusion"][2] = float("nan")
    broken["sequences"][0]["score"] = float("inf")
    broken["sequences"][0]["layers"]["bidirectional"]["forward"]["cell"][1][0] = float("nan")
    shown = embedded(page_html(broken))["sequences"][0]
    assert shown["attributions"]["occlusion"][2] is None and shown["score"] is None
    assert np.isnan(unpacked(shown["layers"]["bidirectional"]["forward"]["cell"], 20)[1, 0])


def test_the_template_has_one_place_for_the_data() -> None:
    template = (Path(__file__).parents[1] / "lstmlab" / "explain" / "page.html").read_text(encoding="utf-8")
    assert template.count("__DATA__") == 1


# ---- writing ----


def test_write_page_writes_the_page(tmp_path: Path, series_document: dict[str, Any]) -> None:
    path = tmp_path / "run" / "inspection.html"
    write_page(path, series_document)
    assert path.read_text(encoding="utf-8") == page_html(series_document)
    assert [p.name for p in path.parent.iterdir()] == ["inspection.html"]


def test_write_page_leaves_no_file_when_a_directory_is_in_the_way(
    tmp_path: Path, series_document: dict[str, Any]
) -> None:
    path = tmp_path / "inspection.html"
    path.mkdir()
    with pytest.raises(IsADirectoryError):
        write_page(path, series_document)
    assert path.is_dir() and not any(path.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["inspection.html"]


def test_write_page_keeps_the_old_page_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, series_document: dict[str, Any], text_document: dict[str, Any]
) -> None:
    path = tmp_path / "inspection.html"
    write_page(path, series_document)

    def fail(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lstmlab.atomic.os.fsync", fail)
    with pytest.raises(OSError, match="No space"):
        write_page(path, text_document)
    assert path.read_text(encoding="utf-8") == page_html(series_document)
    assert [p.name for p in tmp_path.iterdir()] == ["inspection.html"]
    with pytest.raises(OSError, match="No space"):
        write_page(tmp_path / "new.html", text_document)
    assert [p.name for p in tmp_path.iterdir()] == ["inspection.html"]


# ---- in the browser ----


def opened(browser: Any, directory: Path, document_: dict[str, Any]) -> Any:
    path = directory / "inspection.html"
    write_page(path, document_)
    open_page(browser, path.as_uri())
    return browser


def token_colours(browser: Any) -> list[str]:
    script = "return [...document.querySelectorAll('#tokens .token')].map(s => getComputedStyle(s).backgroundColor)"
    colours: list[str] = browser.execute_script(script)
    return colours


def rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(c) for c in re.findall(r"\d+", colour)[:3])


def assert_darker_with(values: np.ndarray, colours: list[str]) -> None:
    """The larger the value, the darker its colour (up to a step of rounding)."""
    lightness = np.array([sum(rgb(c)) for c in colours])[np.argsort(values, kind="stable")]
    assert np.all(np.diff(lightness) <= 2), lightness
    assert lightness[0] > lightness[-1]


def choose(browser: Any, select_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, select_id)).select_by_value(value)


def shown_number(browser: Any, selector: str) -> float:
    from selenium.webdriver.common.by import By

    return float(browser.find_element(By.CSS_SELECTOR, selector).text)


def test_the_page_shows_the_tokens_and_the_prediction(
    browser: Any, tmp_path: Path, text_document: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    opened(browser, tmp_path, text_document)
    first, second = text_document["sequences"]
    tokens = browser.find_elements(By.CSS_SELECTOR, "#tokens .token")
    assert [t.text for t in tokens] == first["tokens"]
    assert tokens[3].text == BREAKER and browser.find_elements(By.CSS_SELECTOR, "#tokens b") == []
    assert browser.find_element(By.ID, "model").text == "text-bilstm-pool"
    assert browser.find_element(By.ID, "prediction").text.startswith(first["prediction"])
    for name, p in first["probabilities"].items():
        row = browser.find_element(By.CSS_SELECTOR, f'#probabilities [data-class="{name}"]').text
        assert row.split()[0] == name and float(row.split()[-1]) == pytest.approx(p, abs=1e-4)
    assert shown_number(browser, "#gap") == pytest.approx(first["completeness_gap"], rel=1e-2, abs=1e-6)
    assert shown_number(browser, "#attribution-sum") == pytest.approx(
        sum(first["attributions"]["integrated_gradients"]), abs=1e-6
    )
    choose(browser, "sequence", "1")
    assert [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#tokens .token")] == second["tokens"]
    assert console_errors(browser) == []


def test_the_colours_follow_the_unit_and_the_colour_by(
    browser: Any, tmp_path: Path, text_document: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    opened(browser, tmp_path, text_document)
    values = text_document["sequences"][0]["layers"]["bidirectional"]["forward"]
    before = token_colours(browser)
    browser.find_element(By.ID, "unit").send_keys(Keys.ARROW_UP)
    assert browser.find_element(By.ID, "unit").get_attribute("value") == "1"
    assert token_colours(browser) != before

    choose(browser, "colour-by", "q:forget_gate")  # white (closed) to dark purple (open)
    gate = np.array([row[1] for row in values["forget_gate"]])
    assert_darker_with(gate, token_colours(browser))

    choose(browser, "colour-by", "a:integrated_gradients")  # blue negative, red positive, darker further from 0
    shares = np.array(text_document["sequences"][0]["attributions"]["integrated_gradients"])
    colours = token_colours(browser)
    redness = np.array([rgb(c)[0] - rgb(c)[2] for c in colours])
    clear = np.abs(shares) > 0.1 * np.abs(shares).max()
    assert clear.sum() > 10 and np.array_equal(np.sign(redness[clear]), np.sign(shares[clear]))
    for side in (shares > 0, shares < 0):
        assert_darker_with(np.abs(shares[side]), [c for c, chosen in zip(colours, side, strict=True) if chosen])

    unit = browser.find_element(By.ID, "unit")  # typed out of range: clamped to the last unit
    unit.clear()
    unit.send_keys("99", Keys.TAB)
    assert unit.get_attribute("value") == "7"
    assert browser.find_element(By.ID, "unit-range").text == "0 to 7"
    assert console_errors(browser) == []


def test_hovering_a_token_shows_its_values(browser: Any, tmp_path: Path, text_document: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    opened(browser, tmp_path, text_document)
    sequence = text_document["sequences"][0]
    choose(browser, "direction", "backward")
    tokens = browser.find_elements(By.CSS_SELECTOR, "#tokens .token")
    ActionChains(browser).move_to_element(tokens[7]).perform()
    assert browser.find_element(By.ID, "panel-token").text == sequence["tokens"][7]
    for quantity, values in sequence["layers"]["bidirectional"]["backward"].items():
        shown = shown_number(browser, f'#panel-values [data-quantity="{quantity}"]')
        assert shown == pytest.approx(values[7][0], abs=6e-5), quantity
    for method, shares in sequence["attributions"].items():
        shown = shown_number(browser, f'#panel-attributions [data-method="{method}"]')
        assert shown == pytest.approx(shares[7], rel=6e-3, abs=6e-5), method
    assert "vocabulary" not in browser.find_element(By.ID, "panel").text

    unknown = tokens[UNKNOWN]
    assert unknown.value_of_css_property("font-style") == "italic"
    assert tokens[7].value_of_css_property("font-style") == "normal"
    ActionChains(browser).move_to_element(unknown).perform()
    assert "Not in the model's vocabulary" in browser.find_element(By.ID, "panel").text
    assert console_errors(browser) == []


def heatmap_pixels(browser: Any) -> dict[str, int]:
    return dict(
        browser.execute_script(
            """const canvas = document.getElementById('heatmap');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0; const colours = new Set();
            for (let k = 0; k < data.length; k += 4) {
              if (data[k + 3] === 255) painted++;
              colours.add(data[k] + ',' + data[k + 1] + ',' + data[k + 2]);
            }
            return {width: canvas.width, height: canvas.height, painted: painted, colours: colours.size};"""
        )
    )


def test_the_heatmap_is_drawn_and_a_row_picks_its_unit(
    browser: Any, tmp_path: Path, text_document: dict[str, Any]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    opened(browser, tmp_path, text_document)
    pixels = heatmap_pixels(browser)
    assert pixels["painted"] == pixels["width"] * pixels["height"] > 0
    assert pixels["colours"] > 20
    marks = browser.find_element(By.ID, "heatmap-marks")
    height = marks.size["height"]
    # Selenium's offsets are from the element's centre; unit 5 of 8 is the sixth row.
    ActionChains(browser).move_to_element_with_offset(marks, 0, int((5.5 / 8 - 0.5) * height)).click().perform()
    assert browser.find_element(By.ID, "unit").get_attribute("value") == "5"
    assert browser.find_element(By.ID, "panel-token").text  # the column under the pointer fills the panel
    assert console_errors(browser) == []


def test_a_per_step_model_shows_each_step(browser: Any, tmp_path: Path, series_document: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    opened(browser, tmp_path, series_document)
    sequence = series_document["sequences"][0]
    steps = sequence["steps"]
    assert browser.find_element(By.ID, "steps-strip").text.split() == steps["predictions"]
    tokens = browser.find_elements(By.CSS_SELECTOR, "#tokens .token")
    assert [t.text for t in tokens] == sequence["tokens"]
    assert "target" in (tokens[steps["target_step"]].get_attribute("class") or "")
    ActionChains(browser).move_to_element(tokens[4]).perform()
    for c, name in enumerate(sequence["probabilities"]):
        shown = shown_number(browser, f'#panel-steps [data-class="{name}"]')
        assert shown == pytest.approx(steps["probabilities"][4][c], abs=6e-5)
    choose(browser, "colour-by", "p:1")
    assert len(set(token_colours(browser))) > 1
    assert heatmap_pixels(browser)["painted"] > 0
    assert console_errors(browser) == []


def test_a_long_input_shows_every_token_and_recolours(
    browser: Any, tmp_path: Path, long_document: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    path = tmp_path / "inspection.html"
    write_page(path, long_document)
    assert path.stat().st_size < 3.5e6  # 3000 steps x 16 units x 6 quantities x 2 directions, packed
    open_page(browser, path.as_uri())
    texts = browser.execute_script("return [...document.querySelectorAll('#tokens .token')].map(s => s.textContent)")
    assert texts == long_document["sequences"][0]["tokens"]
    box = browser.find_element(By.ID, "tokens")
    assert box.size["height"] < 900 and browser.execute_script("return arguments[0].scrollHeight", box) > 2000
    before = token_colours(browser)
    choose(browser, "colour-by", "q:input_gate")
    after = token_colours(browser)
    assert sum(a != b for a, b in zip(before, after, strict=True)) > 2500
    pixels = heatmap_pixels(browser)
    assert pixels["width"] <= 960 and pixels["painted"] == pixels["width"] * pixels["height"]
    assert console_errors(browser) == []
