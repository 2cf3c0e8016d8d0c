"""The Dask executor: tasks on a local Dask cluster it starts, or on an existing scheduler.

``dask`` and ``distributed`` are imported on first use, never when this module is imported.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import Any, ClassVar, Self, TypeVar

from loopml.core.errors import ConfigError
from loopml.pipelines.executors.base import (
    Executor,
    ShutdownGuard,
    check_resources,
    require_engine,
)
from loopml.pipelines.executors.errors import EngineError, ExecutorError, WorkerLostError
from loopml.pipelines.executors.futures import Outstanding, chained, settle

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_DASK_NAMES = {"cpus": "CPU", "gpus": "GPU", "memory": "MEMORY"}

LOCAL_CLUSTER_CONFIG = {
    # A worker death is reported at once; the caller owns retries.
    "distributed.scheduler.allowed-failures": 0,
    # Hand a one-thread worker no more queued work than it runs, so killing it for a
    # cancel rarely takes another task along.
    "distributed.scheduler.worker-saturation": 1.0,
}
"""Scheduler settings of a cluster the executor starts."""


@dataclasses.dataclass
class _Task:
    fn: Callable[[Any], Any]
    arg: Any
    resources: dict[str, float]
    handle: Any = None  # the distributed.Future running it now


class DaskExecutor(Executor):
    """Run submissions as Dask tasks (always ``pure=False``: equal calls are not merged).

    With no ``address`` the executor starts, on first use (:meth:`start`), a
    ``LocalCluster`` of ``n_workers`` worker processes with one thread each,
    on 127.0.0.1 and without dashboard, and closes it at :meth:`shutdown`. Its
    workers offer the resources ``CPU`` (1) and ``MEMORY`` (their memory limit,
    in bytes); its scheduler reports a worker death at once, without retrying
    (``allowed-failures`` 0). Scripts that start one need the
    ``if __name__ == "__main__":`` guard. With an address (``tcp://host:8786``)
    it connects to that scheduler and leaves it running; Dask's own settings
    apply there (by default it retries a task three times before it reports
    the death), and loopml and the submitted code must be importable on its
    workers.

    Resources map to Dask worker resources: ``cpus`` to ``CPU``, ``gpus`` to
    ``GPU``, ``memory`` to ``MEMORY``, other names unchanged; a worker must
    declare them. :meth:`cancel` releases the task and, if it is running, kills
    the worker process running it (its nanny starts a new one): other tasks
    waiting on that worker are resubmitted on a local cluster, rescheduled by
    Dask elsewhere.

    Args:
        address: the scheduler to connect to; ``None`` starts a local cluster.
        n_workers: worker processes of a local cluster.

    Raises:
        ConfigError: if ``dask[distributed]`` is missing, or ``n_workers`` is below 1.
    """

    name: ClassVar[str] = "dask"
    parallel: ClassVar[bool] = True
    isolated: ClassVar[bool] = True
    stops_running: ClassVar[bool] = True

    def __init__(self, address: str | None = None, n_workers: int = 2) -> None:
        require_engine("distributed", "dask")
        if n_workers < 1:
            raise ConfigError(f"a Dask cluster needs at least 1 worker, not {n_workers}")
        self._address = address
        self._n_workers = n_workers
        self._guard = ShutdownGuard(self.name)
        self._client: Any = None
        self._cluster: Any = None
        self._capacity: dict[str, float] | None = None
        self._cancel_kills: set[str] = set()
        self._outstanding: Outstanding[_Task] = Outstanding()

    @property
    def max_workers(self) -> int:
        self.start()
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def start(self) -> Self:
        with self._guard.lock:
            self._guard.check_open()
            if self._client is None:
                try:
                    self._client = self._connect()
                except (OSError, TimeoutError) as exc:
                    where = self._address or "a local Dask cluster"
                    raise EngineError(f"could not start or connect to {where}: {exc}") from exc
        return self

    def _connect(self) -> Any:
        from distributed import Client

        if self._address is not None:
            return Client(self._address, set_as_default=False, timeout="30s")
        import dask
        from distributed import LocalCluster
        from distributed.system import MEMORY_LIMIT

        memory = MEMORY_LIMIT // self._n_workers
        self._capacity = {"CPU": 1.0, "MEMORY": float(memory)}
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            self._cluster = LocalCluster(
                n_workers=self._n_workers,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                # No dashboard; the scheduler's health and metrics routes on a free
                # loopback port rather than 8787 on every interface.
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                memory_limit=memory,
                resources=self._capacity,
            )
        return Client(self._cluster, set_as_default=False)

    def submit(
        self,
        fn: Callable[[T], R],
        arg: T,
        *,
        resources: Mapping[str, float] | None = None,
    ) -> Future[R]:
        self._guard.check_open()
        wanted = {_DASK_NAMES.get(k, k): v for k, v in check_resources(resources).items()}
        self.start()
        if self._capacity is not None:  # a cluster we started: every worker offers the same
            for name, amount in wanted.items():
                if amount > self._capacity.get(name, 0.0):
                    raise ExecutorError(
                        f"the workers of the local Dask cluster offer "
                        f"{self._capacity.get(name, 0.0):g} {name!r} each, "
                        f"and a task asks for {amount:g}"
                    )
        future: Future[R] = Future()
        try:
            self._launch(future, _Task(fn, arg, wanted))
        except Exception as exc:  # the client lost its scheduler, or arg cannot be sent
            raise EngineError(f"Dask did not accept the task: {exc}") from exc
        return future

    def _launch(self, future: Future[Any], task: _Task) -> None:
        task.handle = self._client.submit(
            task.fn, task.arg, pure=False, resources=task.resources or None
        )
        self._outstanding.add(future, task)
        handle = task.handle
        handle.add_done_callback(lambda done: self._report(future, handle))

    def _report(self, future: Future[Any], done: Any) -> None:
        from distributed import KilledWorker

        task = self._outstanding.get(future)
        if task is None or task.handle is not done:
            return  # cancelled meanwhile
        result: Any = None
        error: BaseException | None = None
        try:
            if done.status == "finished":
                result = done.result()
            elif done.status == "error":
                error = done.exception()
                if isinstance(error, KilledWorker):
                    if self._lost_to_a_cancel(error) and not future.cancelled():
                        # It waited on the worker killed for a cancel: it never started.
                        logger.info("resubmitting task %s, lost with a cancelled one", done.key)
                        self._launch(future, task)
                        return
                    message = f"the Dask worker running the task died; it did not finish: {error}"
                    error = chained(WorkerLostError(message), error)
                elif error is not None:
                    error = error.with_traceback(done.traceback())
            else:
                error = EngineError(
                    f"Dask dropped the task ({done.status}): its client or scheduler went away"
                )
        except Exception as exc:  # fetching the outcome failed: the cluster is in trouble
            error = chained(EngineError(f"could not fetch the task's outcome: {exc}"), exc)
        self._outstanding.pop(future)
        settle(future, result=result, error=error)

    def _lost_to_a_cancel(self, error: Exception) -> bool:
        last_worker = getattr(error, "last_worker", None)
        return getattr(last_worker, "address", None) in self._cancel_kills

    def cancel(self, future: Future[Any]) -> None:
        task = self._outstanding.pop(future)
        if not future.cancel() or task is None:
            return
        try:
            self._client.cancel([task.handle], force=True)
            # A running task only stops with its process; the state query and the kill
            # happen on the worker, so only a worker still running this task dies.
            key = task.handle.key
            running = self._client.run(_is_running, key, on_error="return")
            workers = [address for address, answer in running.items() if answer is True]
            if workers:
                self._cancel_kills.update(workers)
                self._client.run(_exit_if_running, key, workers=workers, on_error="ignore")
        except Exception as exc:  # best effort: the cluster may be going away
            logger.warning("could not stop a cancelled Dask task: %s", exc)

    def shutdown(self, wait: bool = True) -> None:
        with self._guard.lock:
            if not self._guard.close():
                return
        if wait:
            wait_for(self._outstanding.futures())
        else:
            for future in self._outstanding.futures():
                self.cancel(future)
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __repr__(self) -> str:
        return f"DaskExecutor(address={self._address!r}, n_workers={self._n_workers})"


def _is_running(key: Any, dask_worker: Any) -> bool:
    """Run on each worker: whether it is executing the task ``key`` (even if cancelled)."""
    return any(task.key == key for task in dask_worker.state.executing)


def _exit_if_running(key: Any, dask_worker: Any) -> None:
    """Run on a worker: end its process at once if it is still executing ``key``."""
    if _is_running(key, dask_worker):
        os._exit(70)  # a thread cannot be stopped; the nanny starts a new worker process
