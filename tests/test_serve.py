"""`lstmlab serve`: a real server process on loopback, a real HTTP client. Answers equal `lstmlab predict`'s, also
for requests batched together; bad requests get 4xx with one line and the server keeps serving; a full queue
answers 503 at once; live streams equal the model on whole sequences."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import Server

from lstmlab.cli import main
from lstmlab.data.text import TextEncoder
from lstmlab.runs.saved import load_run
from lstmlab.serve import Batcher, QueueFull
from lstmlab.training import predict

httpx = pytest.importorskip("httpx")  # the serve extra (and httpx) are in `dev`: CI runs these
pytest.importorskip("fastapi")

TEXTS = [f"good fine film {i}" if i % 3 else f"bad awful plot number {i}, sadly" for i in range(40)]


def _train(argv: list[Any]) -> None:
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("serve")
    reviews = folder / "r.csv"
    rows = "".join(f"good fine film {i} really,pos\nbad awful plot {i} sadly,neg\n" for i in range(20))
    reviews.write_text("text,label\n" + rows)
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "2", "--ensemble", "1"]
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


@pytest.fixture
def server(runs: dict[str, Path], request: pytest.FixtureRequest) -> Iterator[Server]:
    kind, *options = request.param
    running = Server(runs[kind], *options)
    yield running
    running.stop()


def _expected(run: Path, texts: list[str]) -> np.ndarray:
    saved = load_run(run)
    _, encoder = saved.data
    assert isinstance(encoder, TextEncoder)
    p = predict(saved.model, encoder.unlabelled(texts))
    return torch.cat([1 - p, p], dim=-1).numpy()


@pytest.mark.parametrize("server", [("text", "--batch-wait-ms", "30")], indirect=True)
def test_concurrent_requests_are_batched_and_answer_as_lstmlab_predict(server: Server, runs: dict[str, Path]) -> None:
    expected = _expected(runs["text"], TEXTS)

    def ask(start: int) -> dict[str, Any]:
        texts = TEXTS[start : start + 3]
        response = httpx.post(f"{server.url}/predict", json={"texts": texts}, timeout=30)
        assert response.status_code == 200, response.text
        return {"start": start, **response.json()}

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, range(0, 36)))
    for answer in answers:  # each request's rows in its own order, as lstmlab predicts them alone
        rows = expected[answer["start"] : answer["start"] + 3]
        np.testing.assert_allclose(answer["probabilities"], rows, atol=1e-6, rtol=0)
        assert answer["labels"] == [answer["classes"][int(k)] for k in rows.argmax(-1)]
        assert answer["classes"] == ["neg", "pos"]
    health = httpx.get(f"{server.url}/health").json()
    assert health["requests"] == 36 and health["batches"] < 36 and health["largest_batch"] > 1  # batched


@pytest.mark.parametrize("server", [("text", "--max-body", "2000")], indirect=True)
def test_bad_requests_get_one_line_4xx_and_the_server_keeps_serving(server: Server) -> None:
    url = f"{server.url}/predict"
    cases = [
        (dict(content=b"not json", headers={"content-type": "application/json"}), 422, "JSON decode error"),
        (dict(json={"series": [[1.0, 2.0]]}), 422, "Expected 'texts' for this text run. Received: series"),
        (dict(json={"texts": ["fine", "   "]}), 422, "Expected text with at least one token. Received: text 2"),
        (dict(json={"texts": "fine"}), 422, "Input should be a valid list at texts"),
        (dict(json={"texts": [3]}), 422, "Expected texts (strings)"),
        (dict(json={"texts": ["fine"], "more": 1}), 422, "Extra inputs are not permitted"),
        (dict(json={"texts": ["word " * 1000]}), 413, "Expected a request body of at most 2000 bytes"),
    ]
    for kwargs, status, message in cases:
        response = httpx.post(url, timeout=30, **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        error = response.json()["error"]
        assert message in error and "\n" not in error, error
    response = httpx.post(f"{server.url}/stream", json={"streams": ["a"], "values": [1]})
    assert response.status_code == 409 and "Bidirectional" in response.json()["error"]
    assert httpx.post(url, json={"texts": ["good film"]}).status_code == 200  # still serving
    described = httpx.get(f"{server.url}/model").json()
    assert described["preset"] == "text-bilstm-pool" and described["input"] == "texts"
    assert described["test"]["count"] > 0 and described["classes"] == ["neg", "pos"]
    assert "/predict" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


@pytest.mark.parametrize("server", [("text", "--no-batching", "--max-queue", "1")], indirect=True)
def test_a_full_queue_answers_503_at_once(server: Server) -> None:
    body = {"texts": TEXTS * 5}  # 200 texts a request: each takes a while alone

    def ask(_: int) -> tuple[int, str]:
        response = httpx.post(f"{server.url}/predict", json=body, timeout=60)
        return response.status_code, response.text

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(ask, range(24)))
    statuses = [a[0] for a in answers]
    assert set(statuses) <= {200, 503} and statuses.count(503) > 0 and statuses.count(200) > 0
    refused = [a for a in answers if a[0] == 503]
    assert all("Expected at most 1 waiting requests" in a[1] for a in refused)
    assert httpx.get(f"{server.url}/health").json()["refused"] == statuses.count(503)


@pytest.mark.parametrize("server", [("series",)], indirect=True)
def test_series_predictions_and_live_streams(server: Server, runs: dict[str, Path]) -> None:
    saved = load_run(runs["series"])
    _, scaler = saved.data
    rng = np.random.default_rng(5)
    series = [40 + np.cumsum(rng.normal(0, 1, (n, 2)), axis=0) for n in (4, 9, 1, 6)]
    response = httpx.post(f"{server.url}/predict", json={"series": [s.tolist() for s in series]})
    assert response.status_code == 200, response.text
    p = predict(saved.model, scaler.unlabelled(series, "test"))  # type: ignore[union-attr]
    np.testing.assert_allclose(response.json()["probabilities"], torch.cat([1 - p, p], -1).numpy(), atol=1e-6)
    for bad, message in (
        ([[[1.0, float("nan")]]], "Expected finite values in series 1"),
        ([[[1.0, 2.0, 3.0]]], "Expected 2 value(s) per step in series 1. Received: 3"),
        ([[[1.0], [2.0, 3.0]]], "ragged or non-numeric"),
    ):
        content = __import__("json").dumps({"series": bad}).encode()  # NaN as JSON's NaN literal
        response = httpx.post(f"{server.url}/predict", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422 and message in response.json()["error"], response.text
    # two streams, interleaved: after each step, each equals the model on its whole series so far
    for step in range(9):
        ids = [f"s{i}" for i in (1, 3) if step < len(series[i])]
        values = [series[i][step].tolist() for i in (1, 3) if step < len(series[i])]
        answer = httpx.post(f"{server.url}/stream", json={"streams": ids, "values": values}).json()
        for name, probabilities in zip(ids, answer["probabilities"], strict=True):
            whole = series[int(name[1:])][: step + 1]
            q = predict(saved.model, scaler.unlabelled([whole], "test"))  # type: ignore[union-attr]
            np.testing.assert_allclose(probabilities, torch.cat([1 - q, q], -1)[0].numpy(), atol=1e-5)
    ended = httpx.post(f"{server.url}/stream/end", json={"streams": ["s1", "s3"]}).json()
    assert ended == {"ended": ["s1", "s3"], "live": 0}
    response = httpx.post(f"{server.url}/stream/end", json={"streams": ["s1"]})
    assert response.status_code == 422 and "holds no state" in response.json()["error"]


def test_the_batcher_refuses_at_once_when_full_and_batches_what_waits() -> None:
    release = threading.Event()
    batches: list[list[int]] = []

    def run_batch(items: Any) -> list[int]:
        release.wait(10)
        batches.append(list(items))
        return [2 * i for i in items]

    async def scenario() -> None:
        batcher: Batcher[int] = Batcher(run_batch, max_rows=10, max_wait_ms=0.0, max_queue=2)
        await batcher.start()
        first = asyncio.create_task(batcher.submit(1, 1))
        await asyncio.sleep(0.05)  # the worker holds item 1 and waits on the event
        queued = [asyncio.create_task(batcher.submit(i, 1)) for i in (2, 3)]
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull):
            await batcher.submit(4, 1)
        # at once: refused while the worker still holds item 1 (the queue never drained while we waited)
        assert not first.done() and not any(q.done() for q in queued) and not batches
        release.set()
        assert await first == 2 and [await q for q in queued] == [4, 6]
        assert batches == [[1], [2, 3]] and batcher.stats.refused == 1 and batcher.stats.largest == 2
        await batcher.stop()

    asyncio.run(scenario())


def test_an_address_in_use_is_refused_in_one_line(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", str(runs["text"]), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"Expected an address to listen on. Received: 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "sequences", "bad", "message"),
    [
        (  # a class per step, on values
            ["--task", "cumsum", "--model", "tutorial-lstm"],
            [[0.1, 0.2, 0.9], [0.5] * 10, [0.3]],
            [[0.1] * 11],
            "Expected at most 10 steps",
        ),
        (  # token ids, a class per sequence
            ["--task", "tokens", "--model", "qa-embedding-lstm"],
            [[3, 5, 7], [9] * 10, [2]],
            [[1, -4]],
            "Expected ids in 0..",
        ),
    ],
)
def test_sequences_of_task_runs_answer_as_the_model(
    argv: list[str], sequences: list[Any], bad: list[Any], message: str, tmp_path: Path
) -> None:
    from lstmlab.serve import Predictor

    run = tmp_path / "run"
    _train(["train", *argv, "--updates", "3", "--out", run])
    predictor = Predictor(run)
    answer = predictor.run([predictor.encode(sequences)])[0]
    model = load_run(run).model
    for row, sequence in enumerate(sequences):
        width = model.input_shape[0]
        x = torch.zeros(1, width, *model.input_shape[1:], dtype=torch.long if predictor.tokens else torch.float32)
        x[0, : len(sequence)] = torch.tensor(sequence).reshape(len(sequence), *model.input_shape[1:])
        with torch.no_grad():
            p = torch.sigmoid(model(x, torch.tensor([len(sequence)])))[0]
        expected = torch.cat([1 - p, p], dim=-1)
        got = torch.tensor(answer["probabilities"][row], dtype=torch.float64)
        if predictor.per_step:
            expected = expected[: len(sequence)]
            assert len(answer["labels"][row]) == len(sequence)
        torch.testing.assert_close(got, expected.double(), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=message):
        predictor.encode(bad)
