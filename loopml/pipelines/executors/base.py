"""The executor interface: run a function on an argument, somewhere, and hand back a future.

Executors know nothing about steps or pipelines. The orchestrator submits a
module-level function (importable by reference, so it can be sent to another
process) and one picklable argument; every executor returns a standard
:class:`concurrent.futures.Future`, so the orchestrator waits on any mix of them
with :func:`concurrent.futures.wait`.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from loopml.core.errors import ConfigError, InvalidInputError
from loopml.pipelines.executors.errors import ExecutorError

T = TypeVar("T")
R = TypeVar("R")

STANDARD_RESOURCES = ("cpus", "gpus", "memory")
"""Resource names every executor understands: CPU cores, GPUs, and memory in bytes."""


class Executor(ABC):
    """Runs ``fn(arg)`` and reports the outcome through a :class:`~concurrent.futures.Future`.

    The contract every implementation keeps:

    - ``future.result()`` returns what ``fn`` returned, or raises the exception
      ``fn`` raised, of the same type and message (the engine's wrapper removed).
    - If the process running the work dies, the future fails with
      :class:`~loopml.pipelines.executors.errors.WorkerLostError`; it never hangs.
      Executors never retry work themselves: the caller owns retries.
    - Futures complete from engine threads; callbacks added to them must be quick.
    - Construction does no I/O: a cluster is started (or connected to) by
      :meth:`start`, by entering the executor as a context manager, or by the
      first :meth:`submit`.

    Attributes:
        name: the executor kind, as in its URI (``local``, ``process``, ``ray``, ``dask``).
        parallel: submitted work runs concurrently (up to :attr:`max_workers` at once).
        isolated: work runs in another process: a crash there cannot take the caller down.
        stops_running: :meth:`cancel` stops work that has already started (by
            interrupting it, or killing the process running it); otherwise started work
            runs to its end unseen.
    """

    name: ClassVar[str]
    parallel: ClassVar[bool]
    isolated: ClassVar[bool]
    stops_running: ClassVar[bool]

    @property
    @abstractmethod
    def max_workers(self) -> int:
        """How many submitted functions run at once (starts the executor if needed)."""

    @abstractmethod
    def submit(
        self,
        fn: Callable[[T], R],
        arg: T,
        *,
        resources: Mapping[str, float] | None = None,
    ) -> Future[R]:
        """Schedule ``fn(arg)`` and return its future at once (local execution excepted).

        Args:
            fn: a module-level function, importable by reference in a worker process.
            arg: its one argument; picklable for isolated executors.
            resources: what the work needs, by name: ``cpus``, ``gpus`` and ``memory``
                (bytes) are understood everywhere, other names are custom resources of
                the engine. Engines that schedule by resources (Ray, Dask) honour them;
                the others accept and ignore them. Zero amounts are dropped.

        Returns:
            A future that completes with the result or the exception of ``fn``.

        Raises:
            InvalidInputError: if ``resources`` holds a negative or non-numeric amount.
            ExecutorError: if the executor is shut down, or a cluster it started
                cannot offer ``resources``.
        """

    @abstractmethod
    def cancel(self, future: Future[Any]) -> None:
        """Cancel the work behind ``future``, best effort; returns without waiting for it.

        If ``future`` is done already, nothing happens. Otherwise it ends cancelled
        (``future.cancelled()`` is true and ``result()`` raises
        :class:`~concurrent.futures.CancelledError`) and work that has not started
        never starts. Work that has started is stopped if :attr:`stops_running` is
        true; otherwise it runs to its end and its result is dropped.
        """

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work and release the executor's processes or cluster.

        Args:
            wait: wait for submitted work to finish first; if false, cancel what has
                not finished (as :meth:`cancel` does) and return soon.

        Calling it again does nothing. A cluster the executor connected to (rather
        than started) is left running.
        """

    def start(self) -> Self:
        """Start the executor's processes or cluster now rather than on first use."""
        return self

    def __enter__(self) -> Self:
        """Start the executor; leaving the block shuts it down.

        On a normal exit the shutdown waits for submitted work; when an exception
        leaves the block (Ctrl-C included), what has not finished is cancelled.
        """
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown(wait=exc is None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ShutdownGuard:
    """A flag that turns submissions after :meth:`Executor.shutdown` into a clear error."""

    def __init__(self, executor_name: str) -> None:
        self._name = executor_name
        self._closed = False
        self.lock = threading.RLock()

    def close(self) -> bool:
        """Mark the executor shut down; return whether it was open until now."""
        with self.lock:
            was_open = not self._closed
            self._closed = True
            return was_open

    def check_open(self) -> None:
        """Raise :class:`ExecutorError` if the executor is shut down."""
        if self._closed:
            raise ExecutorError(f"the {self._name} executor is shut down; create a new one")


def check_resources(resources: Mapping[str, float] | None) -> dict[str, float]:
    """Validate a resource request and drop its zero amounts.

    Raises:
        InvalidInputError: if a name is not a non-empty string or an amount is not a
            finite number >= 0.
    """
    checked: dict[str, float] = {}
    for name, amount in (resources or {}).items():
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"resource names are non-empty strings, not {name!r}")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise InvalidInputError(f"resource {name!r} needs a number, not {amount!r}")
        if not math.isfinite(amount) or amount < 0:
            raise InvalidInputError(f"resource {name!r} needs a finite amount >= 0, not {amount}")
        if amount:
            checked[name] = float(amount)
    return checked


def require_engine(module: str, extra: str) -> None:
    """Check, without importing it, that an engine package is installed.

    Raises:
        ConfigError: naming the ``pip install`` command that adds it.
    """
    if importlib.util.find_spec(module) is None:
        raise ConfigError(
            f"the {extra} executor needs the {module!r} package: pip install 'loopml[{extra}]'"
        )
