"""Adaptive micro-batching: concurrent requests to one version share one predict call.

A :class:`MicroBatcher` owns one worker thread. Requests queue their frames;
the worker takes every frame waiting (up to ``max_batch_size`` rows), runs the
model once on the concatenated rows and hands each request its slice. A
request that arrives alone is predicted at once; only when recent batches
held several requests (traffic is concurrent) does the worker wait, at most
``max_wait`` seconds and only until as many requests as the busiest recent
batch have arrived, so that closed-loop clients are gathered into full batches.

Results come back to the asyncio loop of each caller through
``call_soon_threadsafe``, so the batcher works under any loop (uvicorn's,
TestClient's) and predict never blocks the loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Predict = Callable[[Any, str], Any]
"""``predict(frame, kind)`` -> an array with one entry (or row) per frame row."""


@dataclasses.dataclass
class _Job:
    frame: Any
    kind: str
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class MicroBatcher:
    """Gathers concurrent predict calls into batches on a worker thread.

    Args:
        predict: runs the model: ``predict(frame, kind)`` with ``kind`` ``"predict"``
            or ``"proba"``.
        max_batch_size: most rows in one call (a larger request runs alone).
        max_wait: longest wait for more requests, in seconds (0: never wait).
        on_batch: called with the number of rows of each batch (metrics).
        name: the worker thread's name.
    """

    def __init__(
        self,
        predict: Predict,
        *,
        max_batch_size: int = 1024,
        max_wait: float = 0.002,
        on_batch: Callable[[int], None] | None = None,
        name: str = "loopml-batcher",
    ) -> None:
        self._predict = predict
        self._max_rows = max(1, max_batch_size)
        self._max_wait = max_wait
        self._on_batch = on_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._expect = 1
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, frame: Any, kind: str = "predict") -> Any:
        """Predict ``frame`` as part of the next batch and return its own results.

        Raises:
            RuntimeError: if the batcher is closed.
            Exception: whatever the model raised on this frame.
        """
        if self._closed:
            raise RuntimeError("the batcher is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(frame, kind, loop, future))
        return await future

    def close(self, timeout: float | None = 10.0) -> None:
        """Finish the queued requests, then stop the worker."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        pending: _Job | None = None
        while True:
            first = pending or self._queue.get()
            if first is None:
                return
            batch, pending, stop = self._gather(first)
            self._execute(batch)
            if stop:
                return

    def _gather(self, first: _Job) -> tuple[list[_Job], _Job | None, bool]:
        batch, rows = [first], len(first.frame)
        deadline = time.monotonic() + self._max_wait
        want = self._expect
        while rows < self._max_rows:
            try:
                remaining = deadline - time.monotonic()
                if len(batch) < want and remaining > 0:
                    job = self._queue.get(timeout=remaining)
                else:
                    job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, None, True
            if job.kind != first.kind or rows + len(job.frame) > self._max_rows:
                return batch, job, False
            batch.append(job)
            rows += len(job.frame)
        # Expect as many requests as the busiest recent batch, forgetting one per batch:
        # one small batch does not end the waiting, a quiet spell soon does.
        self._expect = max(len(batch), self._expect - 1)
        return batch, None, False

    def _execute(self, batch: list[_Job]) -> None:
        if self._on_batch is not None:
            self._on_batch(sum(len(job.frame) for job in batch))
        if len(batch) == 1:
            self._answer(batch[0], *self._call(batch[0].frame, batch[0].kind))
            return
        import pandas as pd

        try:
            frame = pd.concat([job.frame for job in batch], ignore_index=True)
            result, error = self._call(_recategorize(frame, batch[0].frame), batch[0].kind)
        except Exception as exc:  # a concat failure: let each request find its own
            result, error = None, exc
        if error is not None:
            for job in batch:  # one bad request must not fail the others
                self._answer(job, *self._call(job.frame, job.kind))
            return
        start = 0
        for job in batch:
            end = start + len(job.frame)
            self._answer(job, result[start:end], None)
            start = end

    def _call(self, frame: Any, kind: str) -> tuple[Any, BaseException | None]:
        try:
            return self._predict(frame, kind), None
        except Exception as exc:
            return None, exc

    @staticmethod
    def _answer(job: _Job, result: Any, error: BaseException | None) -> None:
        def deliver() -> None:
            if job.future.done():  # the caller timed out or went away
                return
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

        try:
            job.loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # the caller's loop is closed
            logger.debug("dropped a result: its event loop is closed")


def _recategorize(frame: Any, like: Any) -> Any:
    """Concatenated categoricals with different categories become objects: make them categories."""
    for name in frame.columns:
        if like[name].dtype.name == "category" and frame[name].dtype.name != "category":
            frame[name] = frame[name].astype("category")
    return frame
