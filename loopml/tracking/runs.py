"""Runs: ``start_run`` and the ``log_*`` functions that write into the active run."""

from __future__ import annotations

import atexit
import contextvars
import logging
import math
import numbers
import os
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from loopml.core.environment import code_version, environment
from loopml.core.errors import ConflictError, InvalidInputError, NotFoundError
from loopml.metadata import (
    ContextType,
    Execution,
    ExecutionStatus,
    validate_key,
    validate_metric_value,
)
from loopml.tracking.buffer import MetricBuffer, replay_spilled
from loopml.workspace import Workspace, get_workspace

if TYPE_CHECKING:
    from loopml.metadata import Artifact

RUN_TYPE = "run"
DEFAULT_EXPERIMENT = "Default"

_active: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "loopml_active_runs", default=()
)
_buffers: weakref.WeakKeyDictionary[Workspace, MetricBuffer] = weakref.WeakKeyDictionary()
_buffers_lock = threading.Lock()


def metric_buffer(workspace: Workspace) -> MetricBuffer:
    """The metric buffer of a workspace (one per workspace and process)."""
    with _buffers_lock:
        buffer = _buffers.get(workspace)
        if buffer is None:
            spill_dir = workspace.settings.home
            replay_spilled(workspace.metadata, spill_dir)
            buffer = MetricBuffer(workspace.metadata, workspace.settings.flush_interval, spill_dir)
            _buffers[workspace] = buffer
            workspace.on_close(buffer.close)
        return buffer


class ActiveRun:
    """An open run. Use it as a context manager; it ends when the block does.

    Leaving the block by an exception marks the run failed with the traceback;
    otherwise it is completed.
    """

    def __init__(self, workspace: Workspace, execution: Execution, experiment: str) -> None:
        self.workspace = workspace
        self.id = execution.id
        self.name = execution.name
        self.experiment = experiment
        self._buffer = metric_buffer(workspace)
        self._buffer.open_runs.add(self.id)
        self._ended = False
        self._token: contextvars.Token[tuple[ActiveRun, ...]] | None = None

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self.name!r}, experiment={self.experiment!r})"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end(ExecutionStatus.KILLED, error="interrupted (KeyboardInterrupt)")
        else:
            self.end(
                ExecutionStatus.FAILED, error="".join(traceback.format_exception(exc_type, exc, tb))
            )

    # --- logging ----------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        """Record a param (set once per run)."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several params in one write."""
        self._check_open()
        self.workspace.metadata.log_params(self.id, params)

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: float | None = None
    ) -> None:
        """Record one point of a metric. Buffered: it returns in microseconds."""
        if self._ended:
            self._check_open()
        validate_key(key, "metric name")
        number = validate_metric_value(value, key)
        if type(step) is not int or not _MIN_STEP <= step <= _MAX_STEP:
            step = _check_step(step)
        when = time.time() if timestamp is None else _check_timestamp(timestamp)
        self._buffer.add((self.id, key, number, step, when))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int = 0, timestamp: float | None = None
    ) -> None:
        """Record one point of several metrics at the same step."""
        self._check_open()
        if not isinstance(metrics, Mapping):
            raise InvalidInputError("log_metrics takes a mapping of metric names to numbers")
        step = _check_step(step)
        when = time.time() if timestamp is None else _check_timestamp(timestamp)
        rows = [
            (
                self.id,
                validate_key(key, "metric name"),
                validate_metric_value(value, key),
                step,
                when,
            )
            for key, value in metrics.items()
        ]
        self._buffer.extend(rows)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (tags may change; params may not)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags in one write."""
        self.workspace.metadata.set_tags(self.id, tags)

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> Artifact:
        """Store a local file or folder as an output of this run, under ``name``."""
        self._check_open()
        artifact = self.workspace.save_path(path)
        self.workspace.record_events(self.id, outputs={name or Path(path).name: artifact.id})
        return artifact

    def log_object(self, obj: Any, name: str) -> Artifact:
        """Store a Python object (DataFrame, array, dict, text, model) as output ``name``."""
        self._check_open()
        artifact = self.workspace.save(obj)
        self.workspace.record_events(self.id, outputs={name: artifact.id})
        return artifact

    def log_input(self, obj: Any, name: str) -> Artifact:
        """Store a Python object or a path as an input of this run (for lineage)."""
        self._check_open()
        if isinstance(obj, (str, os.PathLike)) and Path(obj).exists():
            artifact = self.workspace.save_path(obj)
        else:
            artifact = self.workspace.save(obj)
        self.workspace.record_events(self.id, inputs={name: artifact.id})
        return artifact

    def use_artifact(self, artifact_id: str, name: str) -> None:
        """Record that this run consumed an artifact already stored."""
        artifact = self.workspace.metadata.get_artifact(artifact_id)
        self.workspace.record_events(self.id, inputs={name: artifact.id})

    def flush(self) -> None:
        """Write buffered metric points now."""
        self._buffer.flush()

    def info(self) -> Execution:
        """The run as stored now (params, latest metrics, tags, status)."""
        self._buffer.flush()
        return self.workspace.metadata.get_execution(self.id)

    # --- ending -------------------------------------------------------------------

    def end(
        self, status: ExecutionStatus = ExecutionStatus.COMPLETED, *, error: str | None = None
    ) -> None:
        """Flush the run's metrics and mark it final. Ending twice is a no-op."""
        if self._ended:
            return
        self._ended = True
        try:
            self._buffer.flush()
        except Exception as exc:
            # The points stay queued (spilled at exit); the run must not claim success.
            status = ExecutionStatus.FAILED
            error = f"metric points of this run could not be written yet: {exc}"
            logging.getLogger(__name__).exception("run %s: %s", self.id, error)
        finally:
            self._buffer.open_runs.discard(self.id)
            _pop(self)
            self.workspace.metadata.finish_execution(
                self.id, status, error=error, environment=environment()
            )

    def _check_open(self) -> None:
        if self._ended:
            raise ConflictError(f"run {self.id} has ended; start a new run to log more")


_MIN_STEP, _MAX_STEP = -(2**63), 2**63 - 1


def _check_step(step: object) -> int:
    """A step is an integer that a 64-bit database column holds."""
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInputError(f"a metric step is an integer, not {type(step).__name__}")
    value = int(step)
    if not _MIN_STEP <= value <= _MAX_STEP:
        raise InvalidInputError(f"a metric step must fit in 64 bits, not {value}")
    return value


def _check_timestamp(timestamp: object) -> float:
    """A timestamp is finite epoch seconds (any real number type)."""
    # Real numbers, and Decimal (a Number that is not Complex).
    real = isinstance(timestamp, numbers.Real) or (
        isinstance(timestamp, numbers.Number) and not isinstance(timestamp, numbers.Complex)
    )
    if isinstance(timestamp, bool) or not real:
        raise InvalidInputError(
            f"a metric timestamp is epoch seconds, not {type(timestamp).__name__}"
        )
    value = float(timestamp)  # type: ignore[arg-type]
    if not math.isfinite(value):
        raise InvalidInputError("a metric timestamp must be a finite number of epoch seconds")
    return value


def _push(run: ActiveRun) -> None:
    _install_exit_hooks()
    _active.set((*_active.get(), run))


_uncaught: list[str] = []
_hooks_installed = False


def _install_exit_hooks() -> None:
    """End runs left open at exit: failed after an uncaught exception, completed otherwise."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        _uncaught.append("".join(traceback.format_exception(kind, value, tb)))
        previous(kind, value, tb)

    sys.excepthook = excepthook
    atexit.register(_end_open_runs)


def _end_open_runs() -> None:
    for run in reversed(_active.get()):
        try:
            if _uncaught:
                run.end(ExecutionStatus.FAILED, error=_uncaught[-1])
            else:
                run.end()
        except Exception:  # the process is exiting; the buffer spills what it cannot write
            logging.getLogger(__name__).exception("could not end run %s at exit", run.id)


def _pop(run: ActiveRun) -> None:
    _active.set(tuple(r for r in _active.get() if r is not run))


def start_run(
    experiment: str | None = None,
    *,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    workspace: Workspace | None = None,
) -> ActiveRun:
    """Start a run in an experiment and make it the active run.

    Args:
        experiment: the experiment's name (created on first use);
            ``LOOPML_EXPERIMENT`` or ``"Default"`` if omitted.
        name: a readable name; the first 8 characters of the id if omitted.
        params: params to record at once.
        tags: tags to set at once.
        nested: start a child of the active run instead of refusing.
        workspace: the stores to use; the process-wide workspace if omitted.

    Returns:
        The active run; use it in a ``with`` block.

    Raises:
        ConflictError: if a run is active and ``nested`` is false.
    """
    parent = active_run()
    if parent is not None and not nested:
        raise ConflictError(
            f"run {parent.id} is active: end it first, or pass nested=True to start a child run"
        )
    ws = workspace or (parent.workspace if parent is not None else get_workspace())
    experiment = (
        experiment
        or (parent.experiment if parent else None)
        or os.environ.get("LOOPML_EXPERIMENT", DEFAULT_EXPERIMENT)
    )
    context = ws.metadata.get_or_create_context(ContextType.EXPERIMENT, experiment)
    version = code_version(str(ws.settings.project_dir))
    execution = ws.metadata.create_execution(
        RUN_TYPE,
        name,
        context_ids=[context.id],
        parent_id=parent.id if parent is not None else None,
        params=params,
        tags=tags,
        user=ws.settings.user,
        git_commit=version.git_commit,
        git_dirty=version.git_dirty,
        environment=environment(),
        properties={"argv": sys.argv[:20], "cwd": os.getcwd()},
    )
    run = ActiveRun(ws, execution, experiment)
    _push(run)
    return run


def active_run() -> ActiveRun | None:
    """The innermost active run of this thread, or ``None``."""
    stack = _active.get()
    return stack[-1] if stack else None


def _require_active() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidInputError("no active run: wrap the code in `with loopml.start_run():`")
    return run


def end_run(status: ExecutionStatus = ExecutionStatus.COMPLETED) -> None:
    """End the active run (a no-op if there is none)."""
    run = active_run()
    if run is not None:
        run.end(status)


def log_param(key: str, value: Any) -> None:
    """Record a param in the active run."""
    _require_active().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Record params in the active run."""
    _require_active().log_params(params)


def log_metric(key: str, value: float, step: int = 0, timestamp: float | None = None) -> None:
    """Record a metric point in the active run (buffered)."""
    _require_active().log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int = 0, timestamp: float | None = None
) -> None:
    """Record several metrics at one step in the active run (buffered)."""
    _require_active().log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    _require_active().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags on the active run."""
    _require_active().set_tags(tags)


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> Artifact:
    """Store a local file or folder as an output of the active run."""
    return _require_active().log_artifact(path, name)


def log_object(obj: Any, name: str) -> Artifact:
    """Store a Python object as an output of the active run."""
    return _require_active().log_object(obj, name)


def flush() -> None:
    """Write every buffered metric point of the active workspace now."""
    run = active_run()
    metric_buffer(run.workspace if run else get_workspace()).flush()


# --- reading --------------------------------------------------------------------


def get_run(run_id: str, *, workspace: Workspace | None = None) -> Execution:
    """Return a run by id with its params, latest metrics and tags."""
    ws = workspace or get_workspace()
    _flush_quietly(ws)
    run = ws.metadata.get_execution(run_id)
    if run.type != RUN_TYPE:
        raise NotFoundError(f"{run_id} is a {run.type} execution, not a run")
    return run


def get_metric_history(run_id: str, key: str, *, workspace: Workspace | None = None) -> list[Any]:
    """Return every point of a run's metric, by step."""
    ws = workspace or get_workspace()
    _flush_quietly(ws)
    return ws.metadata.get_metric_history(run_id, key)


def search_runs(
    filter: str = "",
    *,
    experiments: Sequence[str] | str | None = None,
    order_by: Sequence[str] | str = (),
    limit: int | None = 100,
    workspace: Workspace | None = None,
) -> list[Execution]:
    """Find runs with a filter such as ``metrics.rmse < 0.5 and params.model = 'rf'``.

    Args:
        filter: see :mod:`loopml.metadata.filters` for the language.
        experiments: experiment names to search in (all if omitted).
        order_by: clauses such as ``metrics.rmse ASC``; newest first after them.
        limit: the most runs to return.

    Raises:
        InvalidInputError: for a malformed filter, naming the position.
        NotFoundError: for an unknown experiment.
    """
    ws = workspace or get_workspace()
    _flush_quietly(ws)
    context_ids = None
    if experiments is not None:
        names = [experiments] if isinstance(experiments, str) else list(experiments)
        context_ids = []
        for experiment in names:
            context = ws.metadata.find_context(ContextType.EXPERIMENT, experiment)
            if context is None:
                raise NotFoundError(f"no experiment named {experiment!r}")
            context_ids.append(context.id)
    clauses = [order_by] if isinstance(order_by, str) else list(order_by)
    return ws.metadata.search_executions(
        filter, type=RUN_TYPE, context_ids=context_ids, order_by=clauses, limit=limit
    )


def list_experiments(*, workspace: Workspace | None = None) -> list[Any]:
    """Return every experiment (a context of type ``experiment``)."""
    ws = workspace or get_workspace()
    return ws.metadata.list_contexts(ContextType.EXPERIMENT)


def _flush_quietly(ws: Workspace) -> None:
    with _buffers_lock:
        buffer = _buffers.get(ws)
    if buffer is not None:
        buffer.flush()


def iter_active_runs() -> Iterator[ActiveRun]:
    """The active runs of this thread, outermost first."""
    yield from _active.get()
