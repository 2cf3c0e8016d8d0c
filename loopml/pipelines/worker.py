"""What runs on an executor's worker: one try of one step.

The worker loads the step's input artifacts (verified), calls the function,
checks what it returned against the step's signature, and writes each output's
bytes to the content-addressed artifact store. It never touches the metadata
store: the orchestrator records executions, events and cache entries once the
bytes are durable, so a step's outputs are committed once, by one writer, even
if an engine runs a try twice.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import io
import logging
import os
import socket
import sys
import threading
import time
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from loopml.core.config import Settings
from loopml.pipelines.context import StepContext, running
from loopml.pipelines.errors import StepOutputError, StepRejectedError, StepTimeoutError
from loopml.pipelines.step import Step

logger = logging.getLogger(__name__)

LOG_LIMIT = 64 * 1024
STEP_THREAD_PREFIX = "loopml-step-"


@dataclasses.dataclass(frozen=True)
class InputArtifact:
    """An input of a try: the artifact, its stored bytes and how to read them."""

    digest: str
    materializer: str
    type_name: str
    blob: str


@dataclasses.dataclass(frozen=True)
class StepTask:
    """One try of one step, as sent to a worker (picklable)."""

    settings: Settings
    run_id: str
    node: str
    attempt: int
    step: Step[Any, Any]
    kind: str  # "step", "load" or "save"
    inputs: Mapping[str, InputArtifact]
    params: Mapping[str, Any]
    outputs: tuple[str, ...]
    timeout: float | None = None
    dataset: Any = None
    trusted: tuple[str, ...] = ()
    execution_id: str | None = None


@dataclasses.dataclass(frozen=True)
class StoredOutput:
    """An output whose bytes are durable in the artifact store.

    ``digest`` is the artifact id (bytes and format); ``blob`` the sha256 of the bytes.
    """

    digest: str
    blob: str
    size: int
    uri: str
    type_name: str
    materializer: str
    materializer_version: int | str
    python_type: str


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """What a successful try produced."""

    outputs: Mapping[str, StoredOutput]
    started_at: float
    ended_at: float
    logs: str
    worker: str


_stores: dict[tuple[str, str], Any] = {}
_stores_lock = threading.Lock()


def _content_store(settings: Settings) -> Any:
    import json

    key = (settings.artifact_uri, json.dumps(dict(settings.artifact_options), sort_keys=True))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            from loopml.artifacts import ContentStore, artifact_store_from_uri

            store = ContentStore(
                artifact_store_from_uri(settings.artifact_uri, dict(settings.artifact_options))
            )
            _stores[key] = store
        return store


def execute_task(task: StepTask) -> TaskResult:
    """Run one try of a step and store its outputs. Runs on the executor's worker.

    Raises:
        Whatever the step raises; StepOutputError if it returned the wrong thing;
        StepTimeoutError if it ran past its timeout.
    """
    started = time.time()
    store = _content_store(task.settings)
    with _captured_logs() as logs:
        arguments = {arg: _load(store, spec, task.trusted) for arg, spec in task.inputs.items()}
        arguments.update(task.params)
        try:
            with running(_context(task)):
                result = _call(task, arguments)
        except StepRejectedError as rejection:
            _store_evidence(store, rejection)
            raise
        values = _split_outputs(task, result)
        outputs = {name: _store(store, value) for name, value in values.items()}
    return TaskResult(
        outputs=outputs,
        started_at=started,
        ended_at=time.time(),
        logs=logs.getvalue()[-LOG_LIMIT:],
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )


def _context(task: StepTask) -> StepContext:
    return StepContext(
        run_id=task.run_id,
        step=task.node,
        attempt=task.attempt,
        execution_id=task.execution_id,
        inputs={arg: spec.digest for arg, spec in task.inputs.items()},
        settings=task.settings,
    )


def _store_evidence(store: Any, rejection: StepRejectedError) -> None:
    """Store what a rejecting step gave as evidence; only its stored form travels back."""
    try:
        rejection.stored = {name: _store(store, v) for name, v in rejection.evidence.items()}
    except Exception:  # the rejection matters more than its evidence
        logger.warning("could not store the evidence of a rejection", exc_info=True)
    rejection.evidence = {}


def _call(task: StepTask, arguments: dict[str, Any]) -> Any:
    if task.kind == "load":
        return task.dataset.load()
    if task.kind == "save":
        task.dataset.save(arguments["data"])
        return None
    if task.timeout is None:
        return task.step.fn(**arguments)
    return _call_with_timeout(task, arguments)


def _call_with_timeout(task: StepTask, arguments: dict[str, Any]) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = task.step.fn(**arguments)
        except BaseException as exc:
            box["error"] = exc

    # The step's thread sees the current step (contextvars do not cross threads by themselves).
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(target,), name=f"{STEP_THREAD_PREFIX}{task.node}", daemon=True
    )
    thread.start()
    thread.join(task.timeout)
    if thread.is_alive():
        raise StepTimeoutError(
            f"step {task.node!r} ran longer than its timeout of {task.timeout:g} s"
        )
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _load(store: Any, spec: InputArtifact, trusted: tuple[str, ...]) -> Any:
    from loopml.artifacts import get_materializer

    data = store.get_bytes(spec.blob)
    return get_materializer(spec.materializer).load(data, spec.type_name, trusted=list(trusted))


def _store(store: Any, value: Any) -> StoredOutput:
    from loopml.artifacts import materializer_for
    from loopml.workspace import object_artifact_id

    materializer = materializer_for(value)
    type_name = materializer.type_name(value)
    blob = store.put_bytes(materializer.dump(value))
    return StoredOutput(
        digest=object_artifact_id(blob.digest, materializer.name, type_name),
        blob=blob.digest,
        size=blob.size,
        uri=blob.uri,
        type_name=type_name,
        materializer=materializer.name,
        materializer_version=materializer.version,
        python_type=f"{type(value).__module__}.{type(value).__qualname__}",
    )


def _split_outputs(task: StepTask, result: Any) -> dict[str, Any]:
    names = task.outputs
    if not names:
        return {}
    if len(names) == 1:
        values = {names[0]: result}
    else:
        if not isinstance(result, tuple) or len(result) != len(names):
            raise StepOutputError(
                f"step {task.node!r} must return a tuple of {len(names)} values "
                f"({', '.join(names)}), but returned {type(result).__name__}"
            )
        values = dict(zip(names, result, strict=True))
    if task.kind == "step":
        for name, value in values.items():
            _check_type(task, name, value)
    return values


def _check_type(task: StepTask, name: str, value: Any) -> None:
    expected = task.step.output_type(name)
    if not _matches(value, expected):
        shown = getattr(expected, "__qualname__", None) or str(expected).replace("NoneType", "None")
        raise StepOutputError(
            f"step {task.node!r} output {name!r} must be a {shown} "
            f"(its annotation), but the step returned a {type(value).__qualname__}"
        )


def _matches(value: Any, expected: Any) -> bool:
    """Whether ``value`` is of the annotated type (unions member by member; generics by origin)."""
    if expected is Any:
        return True
    if typing.get_origin(expected) is typing.Union or isinstance(expected, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(expected))
    origin = typing.get_origin(expected) or expected
    return not isinstance(origin, type) or isinstance(value, origin)


class _Tee(io.TextIOBase):
    """Writes to the console, and to the step's buffer when the step's own threads write."""

    def __init__(self, console: Any, buffer: io.StringIO, owner: int) -> None:
        self.console = console
        self.buffer = buffer
        self.owner = owner

    def write(self, text: str) -> int:
        self.console.write(text)
        current = threading.current_thread()
        if current.ident == self.owner or current.name.startswith(STEP_THREAD_PREFIX):
            self.buffer.write(text)
        return len(text)

    def flush(self) -> None:
        self.console.flush()


@contextlib.contextmanager
def _captured_logs() -> Iterator[io.StringIO]:
    """Copy what the step prints and logs into a buffer (the console still shows it)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    owner = threading.get_ident()
    handler.addFilter(
        lambda record: (
            record.thread == owner or (record.threadName or "").startswith(STEP_THREAD_PREFIX)
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    saved = sys.stdout, sys.stderr
    sys.stdout = _Tee(saved[0], buffer, owner)
    sys.stderr = _Tee(saved[1], buffer, owner)
    try:
        yield buffer
    finally:
        sys.stdout, sys.stderr = saved
        root.removeHandler(handler)
