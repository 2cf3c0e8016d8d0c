"""The in-process executor: runs each function right away, in the calling thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, ClassVar, Self, TypeVar

from loopml.pipelines.executors.base import Executor, ShutdownGuard, check_resources

T = TypeVar("T")
R = TypeVar("R")


class LocalExecutor(Executor):
    """Run every submission in the calling thread, one after another.

    :meth:`submit` returns only when the function has returned, with a future
    already done. Nothing is pickled and nothing crosses a process, so
    breakpoints, ``pdb`` and profilers work as in a plain call: the executor to
    debug a pipeline with. Resources are accepted and ignored.
    """

    name: ClassVar[str] = "local"
    parallel: ClassVar[bool] = False
    isolated: ClassVar[bool] = False
    stops_running: ClassVar[bool] = False

    def __init__(self) -> None:
        self._guard = ShutdownGuard(self.name)

    @property
    def max_workers(self) -> int:
        return 1

    def start(self) -> Self:
        self._guard.check_open()
        return self

    def submit(
        self,
        fn: Callable[[T], R],
        arg: T,
        *,
        resources: Mapping[str, float] | None = None,
    ) -> Future[R]:
        self._guard.check_open()
        check_resources(resources)
        future: Future[R] = Future()
        try:
            result = fn(arg)
        except Exception as exc:  # the function's own failure, reported through the future
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def cancel(self, future: Future[Any]) -> None:
        future.cancel()  # every future of this executor is done already: this does nothing

    def shutdown(self, wait: bool = True) -> None:
        self._guard.close()
