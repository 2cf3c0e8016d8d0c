"""Errors of the executors.

Each one is an :class:`ExecutorError`; the two that report a failed engine are
also core's :class:`~loopml.core.errors.BackendError`, so callers may catch
either::

    ExecutorError (LoopMLError)                  executor_error
    ├── WorkerLostError      + BackendError      the process running the work died
    └── EngineError          + BackendError      the engine failed for another reason

An exception raised by the submitted function itself is never wrapped: it
comes back from ``future.result()`` as it was raised. A missing engine package
or a malformed executor URI raises core's :class:`~loopml.core.errors.ConfigError`.
"""

from __future__ import annotations

from loopml.core.errors import BackendError, LoopMLError


class ExecutorError(LoopMLError):
    """Root of the executor errors; raised itself when work cannot be accepted.

    For example: the executor is shut down, or no worker of a cluster the
    executor started offers the resources asked for.
    """

    error_code = "executor_error"


class WorkerLostError(ExecutorError, BackendError):
    """The process running the work died (killed, out of memory, crashed) before it finished.

    The work may have done part of its side effects. Executors never retry it
    themselves: whoever submitted it decides.
    """

    error_code = "worker_lost"


class EngineError(ExecutorError, BackendError):
    """The engine (Ray, Dask, the process pool) failed to run the work for another reason.

    For example: the cluster went away, a worker could not be started, or the
    engine dropped the task.
    """

    error_code = "engine_error"
