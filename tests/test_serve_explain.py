"""`POST /explain` and the page at `GET /`: a real server process on loopback. An explanation's prediction and
probabilities are /predict's, its attributions follow the tokens and add up (Integrated Gradients' completeness), the
gate traces come only when asked; bad requests get /predict's one-line errors; explain jobs take the batcher's turns
and its limit; the page, in headless Chromium, shows what the server answered."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import console_errors, open_page
from helpers import Server

from lstmlab.cli import main
from lstmlab.serve import Batcher, QueueFull

httpx = pytest.importorskip("httpx")  # the serve extra (and httpx) are in `dev`: CI runs these
pytest.importorskip("fastapi")

TEXTS = ["good fine film really", "bad awful plot sadly", "good plot", "awful"]


def _train(argv: list[Any]) -> None:
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("explain")
    reviews = folder / "r.csv"
    rows = "".join(f"good fine film {i} really,pos\nbad awful plot {i} sadly,neg\n" for i in range(20))
    reviews.write_text("text,label\n" + rows)
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "4", "--ensemble", "1"]
    _train(["train", "--data", reviews, "--out", folder / "text", *small])
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 12, 30)
    x, labels = np.zeros((30, 12, 2)), []
    for i, n in enumerate(lengths):
        x[i, :n] = 40 + np.cumsum(rng.normal(1 if i % 2 else -1, 0.3, (n, 2)), axis=0)
        labels.append("up" if i % 2 else "down")
    np.savez(folder / "s.npz", x=x, y=np.array(labels), lengths=lengths)
    _train(["train", "--data", folder / "s.npz", "--model", "qa-lstm", "--epochs", "2", "--out", folder / "series"])
    return {"text": folder / "text", "series": folder / "series"}


@pytest.fixture(scope="module")
def text_server(runs: dict[str, Path]) -> Iterator[Server]:
    running = Server(runs["text"], "--max-queue", "2", "--max-body", "100000")
    yield running
    running.stop()


def _post(server: Server, route: str, body: dict[str, Any]) -> Any:
    response = httpx.post(f"{server.url}{route}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _assert_as_predicted(server: Server, field: str, inputs: list[Any], found: dict[str, Any]) -> None:
    """Each sequence's prediction and probabilities are /predict's for the same inputs."""
    predicted = _post(server, "/predict", {field: inputs})
    assert found["classes"] == predicted["classes"] and len(found["sequences"]) == len(inputs)
    for sequence, label, probabilities in zip(
        found["sequences"], predicted["labels"], predicted["probabilities"], strict=True
    ):
        assert sequence["prediction"] == label == sequence["target"]
        shown = [sequence["probabilities"][name] for name in predicted["classes"]]
        np.testing.assert_allclose(shown, probabilities, atol=1e-6, rtol=0)


def _assert_attributions_add_up(sequence: dict[str, Any], methods: tuple[str, ...]) -> None:
    assert sorted(sequence["attributions"]) == sorted(methods)
    for values in sequence["attributions"].values():
        assert len(values) == len(sequence["tokens"]) == len(sequence["positions"])
    explained = sequence["score"] - sequence["baseline_score"]
    total = sum(sequence["attributions"]["integrated_gradients"])
    assert sequence["completeness_gap"] == pytest.approx(total - explained, abs=1e-9)
    assert abs(sequence["completeness_gap"]) < 1e-3 * max(1.0, abs(explained))


def test_texts_are_explained_as_predicted_with_attributions_that_add_up(text_server: Server) -> None:
    before = httpx.get(f"{text_server.url}/health").json()
    found = _post(text_server, "/explain", {"texts": TEXTS})
    after = httpx.get(f"{text_server.url}/health").json()
    assert after["requests"] == before["requests"] + 1 and after["batches"] == before["batches"] + 1  # one job
    assert found["format"] == "lstmlab-inspection" and found["inputs"] == "text"
    assert found["methods"] == ["integrated_gradients", "occlusion"] and found["integration_steps"] == 50
    _assert_as_predicted(text_server, "texts", TEXTS, found)
    for text, sequence in zip(TEXTS, found["sequences"], strict=True):
        assert sequence["tokens"] == text.split()  # post-padded: only the words are read
        _assert_attributions_add_up(sequence, ("integrated_gradients", "occlusion"))
        assert "layers" not in sequence

    traced = _post(text_server, "/explain", {"texts": TEXTS[:1], "trace": True, "steps": 8})
    (sequence,) = traced["sequences"]
    assert traced["integration_steps"] == 8
    occluded = found["sequences"][0]["attributions"]["occlusion"]  # occlusion takes no steps
    assert sequence["attributions"]["occlusion"] == pytest.approx(occluded, abs=1e-6)
    directions = sequence["layers"]["bidirectional"]
    assert sorted(directions) == ["backward", "forward"]
    for values in directions.values():
        assert sorted(values) == sorted(traced["quantities"])
        assert all(len(rows) == len(sequence["tokens"]) and len(rows[0]) == 4 for rows in values.values())

    alone = _post(text_server, "/explain", {"texts": TEXTS[1:2], "methods": ["occlusion"]})
    assert alone["methods"] == ["occlusion"] and alone["sequences"][0]["completeness_gap"] is None
    assert alone["sequences"][0]["attributions"]["occlusion"] == pytest.approx(
        found["sequences"][1]["attributions"]["occlusion"], abs=1e-6
    )


def test_series_are_explained_as_predicted_and_labelled_by_the_values_sent(runs: dict[str, Path]) -> None:
    server = Server(runs["series"])
    try:
        rng = np.random.default_rng(5)
        series = [(40 + np.cumsum(rng.normal(0, 1, (n, 2)), axis=0)).round(3).tolist() for n in (4, 9, 1)]
        found = _post(server, "/explain", {"series": series})
        assert found["inputs"] == "series"
        _assert_as_predicted(server, "series", series, found)
        for values, sequence in zip(series, found["sequences"], strict=True):
            assert sequence["tokens"] == [", ".join(f"{v:.4g}" for v in step) for step in values]
            assert sequence["positions"] == list(range(len(values)))
            _assert_attributions_add_up(sequence, ("integrated_gradients", "occlusion"))
            assert "layers" not in sequence
        response = httpx.post(f"{server.url}/explain", json={"texts": ["good"]})
        assert response.status_code == 422
        assert response.json()["error"] == "Expected 'series' for this series run. Received: texts"
    finally:
        server.stop()


def test_bad_explain_requests_get_one_line_4xx_and_a_full_queue_503(text_server: Server) -> None:
    url = f"{text_server.url}/explain"
    cases = [
        ({"texts": ["fine", "   "]}, 422, "Expected text with at least one token. Received: text 2"),
        ({"texts": [""]}, 422, "Expected text with at least one token. Received: text 1 is ''"),
        ({"series": [[1.0, 2.0]]}, 422, "Expected 'texts' for this text run. Received: series"),
        ({}, 422, "Expected 'texts' for this text run. Received: none"),
        ({"texts": []}, 422, "Expected a non-empty list in 'texts'"),
        ({"texts": [3]}, 422, "Expected texts (strings)"),
        ({"texts": ["fine"], "steps": 0}, 422, "greater than or equal to 1 at steps"),
        ({"texts": ["fine"], "steps": 201}, 422, "less than or equal to 200 at steps"),
        ({"texts": ["fine"], "steps": "5"}, 422, "valid integer at steps"),
        ({"texts": ["fine"], "trace": "yes"}, 422, "valid boolean at trace"),
        ({"texts": ["fine"], "methods": ["saliency"]}, 422, "Expected methods among"),
        ({"texts": ["fine"], "target": 1}, 422, "Extra inputs are not permitted at target"),
        ({"texts": ["fine"] * 1025}, 413, "Expected at most 1024 inputs in one request. Received: 1025"),
        ({"texts": ["word " * 30000]}, 413, "Expected a request body of at most 100000 bytes"),
    ]
    for body, status, message in cases:
        response = httpx.post(url, json=body, timeout=30)
        assert response.status_code == status, (body, response.text)
        error = response.json()["error"]
        assert message in error and "\n" not in error, error

    heavy = {"texts": [f"good fine film {i} really" for i in range(400)], "steps": 200}

    def ask(_: int) -> tuple[int, str]:
        response = httpx.post(url, json=heavy, timeout=60)
        return response.status_code, response.text

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, range(16)))
    statuses = [a[0] for a in answers]
    assert set(statuses) <= {200, 503} and statuses.count(503) > 0 and statuses.count(200) > 0, statuses
    assert all("Expected at most 2 waiting requests" in text for status, text in answers if status == 503)
    assert httpx.post(url, json={"texts": ["good film"]}).status_code == 200  # still serving

    paths = httpx.get(f"{text_server.url}/openapi.json").json()["paths"]
    assert sorted(paths["/explain"]["post"]["responses"]) == ["200", "413", "422", "503"]
    assert sorted(paths["/predict"]["post"]["responses"]) == ["200", "413", "422", "503"]
    assert "text/html" in paths["/"]["get"]["responses"]["200"]["content"]


def test_the_batcher_runs_a_job_alone_in_its_turn_and_refuses_it_when_full() -> None:
    release = threading.Event()
    ran: list[Any] = []

    def run_batch(items: Any) -> list[int]:
        release.wait(10)
        ran.append(list(items))
        return [2 * i for i in items]

    def job() -> str:
        ran.append("job")
        return "done"

    async def scenario() -> None:
        batcher: Batcher[int] = Batcher(run_batch, max_rows=10, max_wait_ms=0.0, max_queue=3)
        await batcher.start()
        first = asyncio.create_task(batcher.submit(1, 1))
        await asyncio.sleep(0.05)  # the worker holds item 1 and waits on the event
        queued = [
            asyncio.create_task(batcher.submit(2, 1)),
            asyncio.create_task(batcher.submit_job(job)),
            asyncio.create_task(batcher.submit(3, 1)),
        ]
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull):
            await batcher.submit_job(job)
        release.set()
        assert await first == 2 and [await q for q in queued] == [4, "done", 6]
        assert ran == [[1], [2], "job", [3]]  # the job in its turn, merged with no batch
        assert batcher.stats.requests == 4 and batcher.stats.batches == 4 and batcher.stats.refused == 1
        await batcher.stop()

    asyncio.run(scenario())


def test_sequences_of_a_task_run_are_explained_step_by_step(tmp_path: Path) -> None:
    from lstmlab.serve import Predictor

    run = tmp_path / "run"
    _train(["train", "--task", "tokens", "--model", "qa-embedding-lstm", "--updates", "3", "--out", run])
    predictor = Predictor(run)
    sequences = [[3, 5, 7], [9] * 10, [2]]
    found = predictor.explain(predictor.explain_inputs(sequences), methods=("integrated_gradients",), steps=16)
    answer = predictor.run([predictor.encode(sequences)])[0]
    for sequence, ids, label in zip(found["sequences"], sequences, answer["labels"], strict=True):
        assert sequence["tokens"] == [str(i) for i in ids] and sequence["prediction"] == label
        assert len(sequence["attributions"]["integrated_gradients"]) == len(ids)
    with pytest.raises(ValueError, match="Expected ids in 0.."):
        predictor.explain_inputs([[1, -4]])


# ---- the page, in the browser ----


def _colours(browser: Any) -> list[tuple[int, ...]]:
    script = "return [...document.querySelectorAll('#tokens .token')].map(s => getComputedStyle(s).backgroundColor)"
    return [tuple(int(c) for c in re.findall(r"\d+", colour)[:3]) for colour in browser.execute_script(script)]


def test_the_page_explains_a_typed_text(browser: Any, text_server: Server) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    text = "bad awful plot sadly"
    open_page(browser, f"{text_server.url}/")
    WebDriverWait(browser, 20).until(lambda b: "text run" in b.find_element(By.ID, "about").text)
    assert "Type a text" in browser.find_element(By.ID, "hint").text
    browser.find_element(By.ID, "input").send_keys(text)
    browser.find_element(By.ID, "explain").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#tokens .token"))

    predicted = _post(text_server, "/predict", {"texts": [text]})
    found = _post(text_server, "/explain", {"texts": [text]})["sequences"][0]
    assert browser.find_element(By.ID, "prediction").text == predicted["labels"][0]
    for name, p in zip(predicted["classes"], predicted["probabilities"][0], strict=True):
        row = browser.find_element(By.CSS_SELECTOR, f'#probabilities [data-class="{name}"]').text.split()
        assert row[0] == name and float(row[-1].rstrip("%")) == pytest.approx(100 * p, abs=0.06)
    tokens = browser.find_elements(By.CSS_SELECTOR, "#tokens .token")
    assert [t.text for t in tokens] == text.split()
    colours = _colours(browser)
    assert len(set(colours)) > 1
    shares = np.array(found["attributions"]["integrated_gradients"])  # red toward the prediction, blue against
    clear = np.abs(shares) > 0.1 * np.abs(shares).max()
    redness = np.array([c[0] - c[2] for c in colours])
    assert np.array_equal(np.sign(redness[clear]), np.sign(shares[clear]))
    assert "red toward " + found["prediction"] in browser.find_element(By.ID, "legend").text

    ActionChains(browser).move_to_element(tokens[1]).perform()
    readout = browser.find_element(By.ID, "readout").text
    assert readout.startswith('"awful"') and f"{found['attributions']['occlusion'][1]:.4f}" in readout

    assert console_errors(browser) == []
    Select(browser.find_element(By.ID, "method")).select_by_value("occlusion")
    occluded = np.array(found["attributions"]["occlusion"])
    shown = np.array([c[0] - c[2] for c in _colours(browser)])
    clear = np.abs(occluded) > 0.1 * np.abs(occluded).max()
    assert np.array_equal(np.sign(shown[clear]), np.sign(occluded[clear]))

    browser.find_element(By.ID, "input").clear()
    browser.find_element(By.ID, "explain").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "error").text)
    shown_error = browser.find_element(By.ID, "error").text
    assert shown_error == "Expected text with at least one token. Received: text 1 is ''"
    assert not browser.find_element(By.ID, "result").is_displayed()
    logged = console_errors(browser)  # the browser logs the 422 it fetched, and the page nothing else
    assert len(logged) == 1 and "/explain" in logged[0] and "status of 422" in logged[0], logged
