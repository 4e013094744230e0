"""How `lstmlab serve` listens, batches and what it accepts: its defaults, in one place (the command line's help
reads them without importing the server)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOST", "PORT", "ServeSettings"]

HOST = "127.0.0.1"  # the loopback address: another machine reaches the server only where the user says so
PORT = 8000


@dataclass(frozen=True)
class ServeSettings:
    """How the server batches and what it accepts."""

    device: str = "cpu"
    threads: int = 1  # the model's intra-op threads: more spin against the server's own thread on a small machine
    batching: bool = True
    max_wait_ms: float = 2.0  # how long a batch's first request waits for others
    max_rows: int = 256  # inputs in one batch at most
    max_queue: int = 256  # requests waiting at most; beyond, 503 at once
    max_body: int = 1_000_000  # bytes in one request body at most; beyond, 413
    max_items: int = 1024  # inputs in one request at most
