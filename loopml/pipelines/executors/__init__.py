"""Executors: where pipeline work runs, behind one small interface.

An :class:`Executor` runs a module-level function on one picklable argument
and returns a standard :class:`concurrent.futures.Future`, whatever runs it:
:class:`LocalExecutor` in the calling thread (for debugging),
:class:`ProcessExecutor` in a local process pool, :class:`RayExecutor` and
:class:`DaskExecutor` on a Ray or Dask cluster, started locally or reached at
an address. :func:`executor_from_uri` picks one from a URI such as
``"process://?workers=4"`` or ``"ray:auto"``. A function's exception comes back
as itself; a worker process that dies comes back as :class:`WorkerLostError`;
executors never retry. Importing this package imports neither Ray nor Dask.
"""

from __future__ import annotations

from loopml.pipelines.executors.base import STANDARD_RESOURCES, Executor
from loopml.pipelines.executors.dask import DaskExecutor
from loopml.pipelines.executors.errors import EngineError, ExecutorError, WorkerLostError
from loopml.pipelines.executors.factory import executor_from_uri
from loopml.pipelines.executors.local import LocalExecutor
from loopml.pipelines.executors.process import ProcessExecutor
from loopml.pipelines.executors.ray import RayExecutor

__all__ = [
    "STANDARD_RESOURCES",
    "DaskExecutor",
    "EngineError",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "WorkerLostError",
    "executor_from_uri",
]
