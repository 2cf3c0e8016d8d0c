"""Standard futures in front of engine handles (pool futures, Ray ObjectRefs, Dask futures).

Executors hand out their own :class:`~concurrent.futures.Future`, kept pending
until the engine reports, so that :meth:`Executor.cancel` can always end it
cancelled, and translate the engine's outcome into it with :func:`settle`.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any, Generic, TypeVar

H = TypeVar("H")


def settle(future: Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    """Complete ``future`` with a result or an error, unless it was cancelled meanwhile."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled by Executor.cancel while the engine was still reporting


def chained(error: BaseException, cause: BaseException) -> BaseException:
    """Return ``error`` with ``cause`` as its ``__cause__``, as ``raise error from cause`` would."""
    error.__cause__ = cause
    return error


class Outstanding(Generic[H]):
    """The futures an executor has handed out and not yet settled, with their engine handles.

    Keeping the handle referenced matters: Dask forgets a task whose future is
    garbage collected, and cancelling needs the handle.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Future[Any], H] = {}

    def add(self, future: Future[Any], handle: H) -> None:
        with self._lock:
            self._items[future] = handle

    def get(self, future: Future[Any]) -> H | None:
        with self._lock:
            return self._items.get(future)

    def pop(self, future: Future[Any]) -> H | None:
        with self._lock:
            return self._items.pop(future, None)

    def futures(self) -> list[Future[Any]]:
        with self._lock:
            return list(self._items)
