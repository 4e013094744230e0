"""A saved run behind HTTP: `lstmlab serve RUN` (FastAPI on uvicorn, the `serve` extra), with micro-batching and
live streams. FastAPI and uvicorn are imported only when a server is made.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .app import make_app, serve
    from .batcher import Batcher, BatcherStats, QueueFull
    from .predictor import Encoded, Predictor
    from .settings import HOST, PORT, ServeSettings
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "HOST",
    "PORT",
    "Batcher",
    "BatcherStats",
    "Encoded",
    "Predictor",
    "QueueFull",
    "ServeSettings",
    "make_app",
    "serve",
]
