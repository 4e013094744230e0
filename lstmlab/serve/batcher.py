"""Micro-batching: requests that arrive within a few milliseconds of each other run as one batch, in one worker
thread, through a bounded queue that refuses at once when full instead of growing. Jobs that run alone (an explain
request) wait in the same queue, in their turn."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .settings import ServeSettings

__all__ = ["Batcher", "BatcherStats", "QueueFull"]

Item = TypeVar("Item")


class QueueFull(Exception):
    """The queue holds its maximum of waiting requests."""


@dataclass
class BatcherStats:
    """Requests answered and the batches that answered them."""

    requests: int = 0
    batches: int = 0
    largest: int = 0  # requests in the largest batch
    refused: int = 0  # requests refused with the queue full


@dataclass
class _Waiting(Generic[Item]):
    item: Item
    rows: int
    future: asyncio.Future[Any]
    arrived: float = field(default_factory=time.perf_counter)


@dataclass
class _Job:
    """Work that runs alone in the worker thread, in its turn in the queue."""

    run: Callable[[], Any]
    future: asyncio.Future[Any]


class Batcher(Generic[Item]):
    """Collect submitted items into batches and run `run_batch` on each batch in one worker thread.

    A batch starts with the oldest waiting item and takes the items that arrive within `max_wait_ms` of it, up to
    `max_rows` rows in all; `max_wait_ms=0` and `max_rows=1` answer each request alone. A job (`submit_job`) waits
    in the same queue and runs alone, between batches. The worker thread also runs `call`, so that everything
    touching the model runs in one thread, one thing at a time.

    Args:
        run_batch: items -> one result per item, in order (runs in the worker thread).
        max_rows: rows (inputs) in one batch at most; an item larger than that runs alone.
        max_wait_ms: how long the first item of a batch waits for others.
        max_queue: items waiting at most; `submit` raises `QueueFull` at once beyond.
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[Item]], Sequence[Any]],
        *,
        max_rows: int = ServeSettings.max_rows,
        max_wait_ms: float = ServeSettings.max_wait_ms,
        max_queue: int = ServeSettings.max_queue,
    ) -> None:
        if max_rows < 1 or max_queue < 1 or max_wait_ms < 0:
            raise ValueError(
                f"Expected max_rows >= 1, max_queue >= 1, max_wait_ms >= 0. Received: {max_rows}, {max_queue}, "
                f"{max_wait_ms}"
            )
        self.run_batch = run_batch
        self.max_rows = max_rows
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.stats = BatcherStats()
        self._queue: asyncio.Queue[_Waiting[Item] | _Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="lstmlab-model")

    async def start(self) -> None:
        self._queue = asyncio.Queue(self.max_queue)
        self._worker = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._thread.shutdown(wait=True)

    async def submit(self, item: Item, rows: int) -> Any:
        """The result of `item` (`rows` inputs), once its batch has run.

        Raises:
            QueueFull: at once, when `max_queue` items are waiting.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._put(_Waiting(item, rows, future))
        return await future

    async def submit_job(self, job: Callable[[], Any]) -> Any:
        """The result of `job()`, run in the worker thread alone (in no batch) once what was queued before it has
        run: work that takes the queue's turns and limit but not `run_batch` (an explain request).

        Raises:
            QueueFull: at once, when `max_queue` items are waiting.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._put(_Job(job, future))
        return await future

    def _put(self, waiting: _Waiting[Item] | _Job) -> None:
        assert self._queue is not None, "start() first"
        try:
            self._queue.put_nowait(waiting)
        except asyncio.QueueFull:
            self.stats.refused += 1
            raise QueueFull from None

    async def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` in the worker thread (between batches), for work that must not overlap with them."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, function)

    async def _loop(self) -> None:
        assert self._queue is not None
        queue, loop = self._queue, asyncio.get_running_loop()
        carried: _Waiting[Item] | _Job | None = None  # what did not fit the last batch
        while True:
            first = carried if carried is not None else await queue.get()
            carried = None
            if isinstance(first, _Job):
                await self._run_job(first)
                continue
            batch, rows = [first], first.rows
            deadline = first.arrived + self.max_wait
            while rows < self.max_rows:
                left = deadline - time.perf_counter()
                try:
                    waiting = queue.get_nowait() if left <= 0 else await asyncio.wait_for(queue.get(), left)
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                if isinstance(waiting, _Job) or rows + waiting.rows > self.max_rows:
                    carried = waiting
                    break
                batch.append(waiting)
                rows += waiting.rows
            live = [w for w in batch if not w.future.done()]  # a client that went away is not answered
            if not live:
                continue
            try:
                results = await loop.run_in_executor(self._thread, self.run_batch, [w.item for w in live])
            except Exception as error:  # the batch's error reaches each of its requests
                for w in live:
                    if not w.future.done():
                        w.future.set_exception(error)
                continue
            self.stats.requests += len(live)
            self.stats.batches += 1
            self.stats.largest = max(self.stats.largest, len(live))
            for w, result in zip(live, results, strict=True):
                if not w.future.done():
                    w.future.set_result(result)

    async def _run_job(self, job: _Job) -> None:
        """One job alone in the worker thread; its error reaches its request."""
        if job.future.done():  # a client that went away is not answered
            return
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._thread, job.run)
        except Exception as error:
            if not job.future.done():
                job.future.set_exception(error)
            return
        self.stats.requests += 1
        self.stats.batches += 1
        self.stats.largest = max(self.stats.largest, 1)
        if not job.future.done():
            job.future.set_result(result)
