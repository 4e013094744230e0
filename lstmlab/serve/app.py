"""`lstmlab serve RUN`: a saved run behind HTTP and JSON, on FastAPI and uvicorn (the `serve` extra).

Why FastAPI on uvicorn: request bodies are checked against declared models, and the OpenAPI document and its
interactive page (`/docs`) come from the same declarations; uvicorn is the ASGI server it is built and tested on.
Micro-batching is ours (`batcher.Batcher`): one asyncio queue, one worker thread that owns the model.

Endpoints:
- `POST /predict`: `{"texts": [...]}` (text runs), `{"series": [...]}` (series runs: each a list of steps, a step a
  number or a list of channel values), `{"sequences": [...]}` (task runs and imported models: steps of values, or
  token ids). Answers `{"classes": [...], "labels": [...], "probabilities": [[...], ...]}`, in the order given.
- `POST /explain`: the same inputs, and `"methods"` (of `lstmlab.explain.METHODS`; default all), `"steps"` (Integrated
  Gradients' steps, 1..200; default 50), `"trace"` (default false: with true, every LSTM value at every step).
  Answers `lstmlab inspect`'s JSON document (`lstmlab.explain.document`); each request runs alone, in its turn.
- `GET /`: a page to type a text (or paste a series) and see its prediction and each step's attribution.
- `POST /stream`: `{"streams": ["id", ...], "values": [...]}`, one step of each named stream (models that read
  forwards); `POST /stream/end`: `{"streams": [...]}` frees them.
- `GET /health`, `GET /model`, `GET /docs` (OpenAPI).

Errors: 4xx with `{"error": "one line"}` (413 for a body over the limit or too many inputs, 422 for a body that is
not what the run reads, 409 for a model that cannot stream); 503 at once when the queue is full.
"""

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ..explain import METHODS, STEPS
from .batcher import Batcher, QueueFull
from .predictor import Encoded, Predictor
from .settings import ServeSettings

__all__ = ["MAX_STEPS", "PAGE_POLICY", "make_app", "serve"]

MAX_STEPS = 200  # Integrated Gradients' steps in one explain request at most: each is a forward and a backward pass

# What the page may load: nothing but its own inline style, script and (empty) icon, and requests to this server.
PAGE_POLICY = (
    "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
)


def _require() -> tuple[Any, Any]:
    try:
        import fastapi
        import uvicorn
    except ImportError:
        raise ValueError(
            'Expected the serve extra for `lstmlab serve` (pip install -e ".[serve]"). Received: no fastapi or '
            "uvicorn installed"
        ) from None
    return fastapi, uvicorn


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before the application reads it."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        too_large = False

        async def counted() -> Any:
            nonlocal seen, too_large
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)
        if too_large and not started:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"error": f"Expected a request body of at most {self.limit} bytes. Received: more"})
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})


def make_app(run: Path, settings: ServeSettings = ServeSettings()) -> Any:
    """The FastAPI application serving `run` (a run directory)."""
    fastapi, _ = _require()
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

    torch.set_num_threads(settings.threads)
    predictor = Predictor(run, settings.device)
    field = predictor.field
    rows, wait = (settings.max_rows, settings.max_wait_ms) if settings.batching else (1, 0.0)

    def run_batch(parts: Sequence[Encoded]) -> list[dict[str, Any]]:
        return predictor.run(parts)

    batcher: Batcher[Encoded] = Batcher(run_batch, max_rows=rows, max_wait_ms=wait, max_queue=settings.max_queue)

    class Inputs(BaseModel):
        model_config = ConfigDict(extra="forbid")
        texts: list[Any] | None = None
        series: list[Any] | None = None
        sequences: list[Any] | None = None

    class Explain(Inputs):
        trace: StrictBool = Field(False, description="add every LSTM value at every step read ('layers')")
        methods: list[str] = Field(list(METHODS), description=f"attribution methods, of {list(METHODS)}")
        steps: StrictInt = Field(STEPS, ge=1, le=MAX_STEPS, description="Integrated Gradients' integration steps")

    class Failure(BaseModel):
        error: str = Field(description="what was expected and what was received, in one line")

    class Explained(BaseModel):
        """An inspection document (lstmlab.explain.document): per sequence its tokens, prediction, probabilities,
        attributions and, with trace, "layers"."""

        model_config = ConfigDict(extra="allow")
        format: str
        version: int
        classes: list[str]
        inputs: str
        methods: list[str]
        sequences: list[dict[str, Any]]

    refusals: dict[int | str, dict[str, Any]] = {
        413: {"model": Failure, "description": "a body over the limit, or more inputs than one request takes"},
        422: {"model": Failure, "description": "a body that is not what this run reads"},
        503: {"model": Failure, "description": "the queue is full: retry"},
    }
    streaming: dict[int | str, dict[str, Any]] = {
        409: {"model": Failure, "description": "a model that cannot stream"},
        422: {"model": Failure, "description": "a body that is not what the streams read"},
    }

    class Streams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        streams: list[str | int]
        values: list[Any] | None = None

    async def lifespan(app: Any) -> Any:
        await batcher.start()
        yield
        await batcher.stop()

    app = fastapi.FastAPI(
        title="lstmlab",
        description=f"Predictions of the run {run} ({predictor.kind}: send {field!r}).",
        lifespan=lifespan,
    )

    def error(status: int, text: str) -> Any:
        return JSONResponse({"error": _one_line(text)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid body"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error(
            422, f"Expected a JSON body as documented at /docs. Received: {first.get('msg')} at {where or 'the body'}"
        )

    @app.exception_handler(fastapi.HTTPException)
    async def http_error(request: Request, exc: Any) -> Any:
        return error(exc.status_code, str(exc.detail))

    def given_inputs(body: Inputs) -> Any:
        """The run's inputs in `body` (a list), or the error response that refuses them."""
        named = {name: getattr(body, name) for name in ("texts", "series", "sequences")}
        given = {name: value for name, value in named.items() if value is not None}
        if list(given) != [field]:
            received = ", ".join(sorted(given)) or "none"
            return error(422, f"Expected {field!r} for this {predictor.kind} run. Received: {received}")
        inputs = given[field]
        if len(inputs) > settings.max_items:
            return error(413, f"Expected at most {settings.max_items} inputs in one request. Received: {len(inputs)}")
        return inputs

    def queue_full() -> Any:
        return error(503, f"Expected at most {settings.max_queue} waiting requests. Received: one more; retry")

    @app.post("/predict", responses=refusals)
    async def predict(body: Inputs) -> Any:
        inputs = given_inputs(body)
        if not isinstance(inputs, list):
            return inputs
        try:
            encoded = predictor.encode(inputs)
        except ValueError as exc:
            return error(422, str(exc))
        try:
            answer = await batcher.submit(encoded, len(encoded.lengths))
        except QueueFull:
            return queue_full()
        return {"classes": list(predictor.classes), **answer}

    @app.post("/explain", responses={200: {"model": Explained}, **refusals})
    async def explain(body: Explain) -> Any:
        inputs = given_inputs(body)
        if not isinstance(inputs, list):
            return inputs
        unknown = [m for m in body.methods if m not in METHODS]
        if unknown:
            return error(422, f"Expected methods among {list(METHODS)}. Received: {unknown[0]!r}")
        try:
            prepared = predictor.explain_inputs(inputs)
            return await batcher.submit_job(
                lambda: predictor.explain(prepared, methods=body.methods, steps=body.steps, trace=body.trace)
            )
        except ValueError as exc:
            return error(422, str(exc))
        except QueueFull:
            return queue_full()

    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse)
    async def home() -> Any:
        """A page to type a text (or paste a series), and see its prediction and each step's attribution."""
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.post("/stream", responses=streaming)
    async def stream(body: Streams) -> Any:
        if predictor.streamer is None:
            return error(409, str(predictor.stream_refusal))
        if body.values is None:
            return error(422, "Expected 'values', one per stream. Received: none")
        try:
            answer = await batcher.call(lambda: predictor.stream(list(body.streams), body.values))
        except ValueError as exc:
            return error(422, str(exc))
        return {"classes": list(predictor.classes), "streams": list(body.streams), **answer}

    @app.post("/stream/end", responses=streaming)
    async def end(body: Streams) -> Any:
        streamer = predictor.streamer
        if streamer is None:
            return error(409, str(predictor.stream_refusal))

        def end_all() -> int:
            unknown = [s for s in body.streams if not streamer.holds(s)]
            if unknown:
                raise ValueError(f"Expected live stream ids. Received: {unknown[0]!r}, which holds no state")
            for s in body.streams:
                streamer.end(s)
            return streamer.live

        try:
            live = await batcher.call(end_all)
        except ValueError as exc:
            return error(422, str(exc))
        return {"ended": list(body.streams), "live": live}

    @app.get("/health")
    async def health() -> Any:
        stats = batcher.stats
        return {
            "status": "ok",
            "requests": stats.requests,
            "batches": stats.batches,
            "largest_batch": stats.largest,
            "refused": stats.refused,
        }

    @app.get("/model")
    async def model() -> Any:
        return predictor.describe()

    return _BodyLimit(app, settings.max_body)


def _check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address this process cannot listen on (in use, or not this machine's)."""
    import socket

    if not 0 <= port <= 65535:
        raise ValueError(f"Expected a port in 0..65535. Received: {port}")
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise ValueError(f"Expected an address to listen on. Received: {host}:{port}, {error.strerror}") from None


def serve(run: Path, host: str, port: int, settings: ServeSettings = ServeSettings(), ready: Any = None) -> None:
    """Serve `run` until interrupted; `ready(host, port)` is called once the socket listens."""
    _, uvicorn = _require()
    _check_address(host, port)
    app = make_app(run, settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if ready is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets=sockets)
            for listener in server.servers:
                for sock in listener.sockets:
                    bound_host, bound_port = sock.getsockname()[:2]
                    ready(bound_host, bound_port)
                    return

        server.startup = startup
    server.run()
