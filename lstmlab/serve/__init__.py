"""A saved run behind HTTP: `lstmlab serve RUN` (FastAPI on uvicorn, the `serve` extra), with micro-batching and
live streams. FastAPI and uvicorn are imported only when a server is made."""

from .app import ServeSettings, make_app, serve
from .batcher import Batcher, BatcherStats, QueueFull
from .predictor import Encoded, Predictor

__all__ = ["Batcher", "BatcherStats", "Encoded", "Predictor", "QueueFull", "ServeSettings", "make_app", "serve"]
