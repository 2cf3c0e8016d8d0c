"""The process-pool executor: a :class:`concurrent.futures.ProcessPoolExecutor` on this machine."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, ClassVar, NamedTuple, Self, TypeVar

from loopml.core.errors import ConfigError
from loopml.pipelines.executors.base import Executor, ShutdownGuard, check_resources
from loopml.pipelines.executors.errors import EngineError, WorkerLostError
from loopml.pipelines.executors.futures import Outstanding, chained, settle

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

START_METHODS = ("spawn", "forkserver")
"""Start methods a pool may use. Never ``fork``: the parent runs threads (database
pools, metric flushers, engine callbacks), and a forked child inherits their locks."""


class _Queued(NamedTuple):
    future: Future[Any]
    fn: Callable[[Any], Any]
    arg: Any


class ProcessExecutor(Executor):
    """Run submissions in a pool of worker processes on this machine.

    Work runs in parallel, isolated from the caller: a crash in a worker cannot
    take the caller down. Workers are started with ``spawn`` (or
    ``forkserver``), never ``fork``. The executor hands the pool no more work
    than it has idle workers and keeps the rest queued itself, so
    :meth:`cancel` always stops work that has not started. Work that has
    started cannot be stopped (``stops_running`` is false: the standard pool
    cannot kill one task's process); it runs to its end, keeps its worker busy
    meanwhile, and its result is dropped. Use the Ray or Dask executor where
    running work must be killable (step timeouts).

    When a worker process dies the pool is broken: **every** task running in it
    at that moment fails with
    :class:`~loopml.pipelines.executors.errors.WorkerLostError`, and a fresh
    pool takes the queued and later work. Resources are accepted and ignored.

    Args:
        max_workers: processes in the pool; the number of CPUs if omitted.
        start_method: ``"spawn"`` (the default) or ``"forkserver"``.

    Raises:
        ConfigError: if ``max_workers`` is below 1 or ``start_method`` is not allowed.
    """

    name: ClassVar[str] = "process"
    parallel: ClassVar[bool] = True
    isolated: ClassVar[bool] = True
    stops_running: ClassVar[bool] = False

    def __init__(self, max_workers: int | None = None, *, start_method: str = "spawn") -> None:
        if max_workers is not None and max_workers < 1:
            raise ConfigError(f"a process pool needs at least 1 worker, not {max_workers}")
        if start_method not in START_METHODS:
            raise ConfigError(f"start_method must be one of {START_METHODS}, not {start_method!r}")
        self._max_workers = max_workers or os.cpu_count() or 1
        self._start_method = start_method
        self._guard = ShutdownGuard(self.name)
        self._pool: ProcessPoolExecutor | None = None
        self._queue: deque[_Queued] = deque()  # submitted, not yet handed to the pool
        self._outstanding: Outstanding[Future[Any]] = Outstanding()  # ours -> the pool's
        self._in_pool: set[Future[Any]] = set()  # the pool's, until done (even if cancelled)

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def start(self) -> Self:
        with self._guard.lock:
            self._guard.check_open()
            if self._pool is None:
                self._pool = self._new_pool()
        return self

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context(self._start_method)
        return ProcessPoolExecutor(self._max_workers, mp_context=context)

    def submit(
        self,
        fn: Callable[[T], R],
        arg: T,
        *,
        resources: Mapping[str, float] | None = None,
    ) -> Future[R]:
        self._guard.check_open()
        check_resources(resources)
        self.start()
        future: Future[R] = Future()
        with self._guard.lock:
            self._queue.append(_Queued(future, fn, arg))
        self._feed()
        return future

    def _feed(self) -> None:
        """Hand queued work to the pool while it has an idle worker.

        The pool itself would queue work ahead and mark it running, out of reach
        of :meth:`cancel`; holding it here keeps queued work cancellable.
        """
        with self._guard.lock:
            while self._queue and self._pool is not None and len(self._in_pool) < self._max_workers:
                queued = self._queue.popleft()
                if queued.future.cancelled():
                    continue
                pool_future = self._submit_to_pool(queued.fn, queued.arg)
                self._in_pool.add(pool_future)
                self._outstanding.add(queued.future, pool_future)
                pool_future.add_done_callback(partial(self._report, queued.future))

    def _submit_to_pool(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        assert self._pool is not None
        try:
            return self._pool.submit(fn, arg)
        except BrokenProcessPool:
            # A worker died earlier; its pool refuses work for good. Start another.
            logger.info("the process pool lost a worker; starting a new pool")
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
        try:
            return self._pool.submit(fn, arg)
        except BrokenProcessPool as exc:
            raise EngineError(f"the process pool cannot start workers: {exc}") from exc

    def _report(self, future: Future[Any], done: Future[Any]) -> None:
        with self._guard.lock:
            self._in_pool.discard(done)
        self._outstanding.pop(future)
        if done.cancelled():
            future.cancel()
        else:
            error = done.exception()
            if isinstance(error, BrokenProcessPool):
                lost = WorkerLostError(
                    "a worker process of the pool died (killed, out of memory or crashed) "
                    "while this task was running; the task did not finish"
                )
                error = chained(lost, error)
            settle(future, result=None if error else done.result(), error=error)
        self._feed()

    def cancel(self, future: Future[Any]) -> None:
        if not future.cancel():
            return  # done already
        pool_future = self._outstanding.pop(future)
        if pool_future is not None and not pool_future.cancel():
            logger.debug("a running task of the pool cannot be stopped; its result is dropped")
        self._feed()

    def shutdown(self, wait: bool = True) -> None:
        with self._guard.lock:
            if not self._guard.close():
                return
        if wait:
            while not all(future.done() for future in self._submitted()):
                wait_for(self._submitted())
        else:
            for future in self._submitted():
                self.cancel(future)
        with self._guard.lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            workers = list((getattr(pool, "_processes", None) or {}).values()) if not wait else []
            pool.shutdown(wait=wait, cancel_futures=not wait)
            # Not waiting means not waiting for running work either: stop its processes.
            for worker in workers:
                worker.terminate()

    def _submitted(self) -> list[Future[Any]]:
        with self._guard.lock:
            return [queued.future for queued in self._queue] + self._outstanding.futures()

    def __repr__(self) -> str:
        return (
            f"ProcessExecutor(max_workers={self._max_workers}, start_method={self._start_method!r})"
        )
