"""The orchestrator: runs a plan on an executor, with caching, retries, lineage and heartbeats.

One process (the one that calls :func:`run`) owns the metadata of a pipeline
run. It schedules every node whose inputs are ready, reuses cached outputs,
sends the rest to the executor, and records each try as an execution with its
input and output events once the worker reports its outputs durable. A
failing try is retried with exponential backoff; a step that still fails
fails the run (no new step starts; those running finish and are recorded). A
heartbeat thread keeps the run alive in the store; a run whose orchestrator
died is marked failed by the next process that looks (:func:`fail_stale_runs`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from loopml.core.environment import code_version, environment
from loopml.core.errors import ConflictError, NotFoundError
from loopml.metadata import Artifact, ContextType, ExecutionStatus
from loopml.pipelines.errors import (
    PipelineDefinitionError,
    PipelineError,
    StepFailedError,
    StepRejectedError,
    StepTimeoutError,
)
from loopml.pipelines.pipeline import (
    LOAD_DATASET,
    LOAD_PREFIX,
    SAVE_DATASET,
    SAVE_PREFIX,
    Pipeline,
    load_pipeline,
)
from loopml.pipelines.plan import Node, Plan
from loopml.pipelines.worker import (
    InputArtifact,
    StepTask,
    StoredOutput,
    TaskResult,
    execute_task,
)
from loopml.workspace import Workspace, blob_digest, get_workspace

logger = logging.getLogger(__name__)

PIPELINE_TYPE = "pipeline"
STEP_TYPE = "step"
PIPELINE_RUN_CONTEXT = "pipeline_run"
HEARTBEAT_INTERVAL = 10.0
STALE_AFTER = 30.0
"""A run without a heartbeat for this long is dead; checked with a 10 s beat: failed within 45 s."""

Observer = Callable[[str, str, Mapping[str, Any]], None]
"""Called as ``observer(node, state, info)``.

States: pending, running, cached, done, failed, retrying, skipped.
"""


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    """The result of a pipeline run."""

    id: str
    pipeline: str
    status: ExecutionStatus
    outputs: Mapping[str, Mapping[str, str]]
    """node -> output name -> artifact id."""
    steps: Mapping[str, ExecutionStatus]
    """node -> final status (completed, cached, failed; missing if never started)."""
    seconds: float

    def artifact(self, node: str, output: str = "output") -> str:
        """The artifact id of one output of one node."""
        try:
            return self.outputs[node][output]
        except KeyError:
            raise NotFoundError(
                f"run {self.id} has no output {output!r} of step {node!r}"
            ) from None


def fail_stale_runs(workspace: Workspace, older_than: float = STALE_AFTER) -> list[str]:
    """Mark failed the pipeline runs and steps whose orchestrator stopped beating."""
    store = workspace.metadata
    return store.fail_stale(older_than, type=PIPELINE_TYPE) + store.fail_stale(
        older_than, type=STEP_TYPE
    )


def run(
    pipeline: Pipeline | Plan | str,
    params: Mapping[str, Any] | None = None,
    *,
    executor: Any = None,
    catalog: Any = None,
    workspace: Workspace | None = None,
    started_by: str = "python",
    trusted: tuple[str, ...] = (),
    observer: Observer | None = None,
    resume_from: str | None = None,
    use_cache: bool = True,
) -> PipelineRun:
    """Run a pipeline and record it, step by step, in the metadata store.

    Args:
        pipeline: a ``@pipeline``, a compiled plan, or a ``module:function`` reference.
        params: pipeline parameters (defaults for the rest).
        executor: an :class:`~loopml.pipelines.executors.Executor` or a URI
            (``local``, ``process``, ``ray``, ``dask``...); the settings' executor if omitted.
        catalog: a :class:`~loopml.pipelines.catalog.Catalog` or a mapping of datasets,
            added to the catalog of ``loopml.yaml``.
        workspace: the stores; the process-wide workspace if omitted.
        started_by: who or what started the run (``cli``, ``python``, ``trigger:<name>``).
        trusted: extra types trusted when loading model inputs (skops).
        observer: called on every step state change (for progress views).
        resume_from: a failed run whose finished steps are reused whatever their cache setting.
        use_cache: look up the step cache; ``False`` runs every step (and refreshes the cache).

    Returns:
        The run's id, status and output artifacts.

    Raises:
        PipelineDefinitionError: before anything runs, for a malformed pipeline or catalog.
        StepFailedError: if a step failed after its retries (the run is recorded as failed).
    """
    ws = workspace or get_workspace()
    reference = None
    if isinstance(pipeline, str):
        pipeline = load_pipeline(pipeline)
    if isinstance(pipeline, Pipeline):
        reference = pipeline.reference
        plan = pipeline.compile(**dict(params or {}))
    else:
        if params:
            raise PipelineDefinitionError("params are given to a pipeline, not to a compiled plan")
        plan = pipeline
    datasets = _resolve_datasets(plan, ws, catalog)
    fail_stale_runs(ws)
    owned = executor is None or isinstance(executor, str)
    engine = _executor(executor, ws)
    failed = True
    try:
        orchestrator = _Orchestrator(
            ws,
            plan,
            engine,
            datasets,
            reference,
            started_by,
            trusted,
            observer,
            resume_from,
            use_cache,
        )
        result = orchestrator.run()
        failed = False
        return result
    finally:
        if owned:
            # An interrupted or failed run must not wait for work it abandoned.
            engine.shutdown(wait=not failed)


def resume(run_id: str, *, workspace: Workspace | None = None, **options: Any) -> PipelineRun:
    """Run a failed or killed pipeline run again, reusing every step that finished.

    Raises:
        NotFoundError: if there is no such pipeline run.
        ConflictError: if the run completed or is still running.
    """
    ws = workspace or get_workspace()
    fail_stale_runs(ws)
    execution = ws.metadata.get_execution(run_id)
    if execution.type != PIPELINE_TYPE:
        raise NotFoundError(f"{run_id} is a {execution.type} execution, not a pipeline run")
    if execution.status in (ExecutionStatus.RUNNING, ExecutionStatus.COMPLETED):
        raise ConflictError(f"pipeline run {run_id} is {execution.status}: nothing to resume")
    reference = execution.properties.get("reference")
    if not reference:
        raise ConflictError(f"pipeline run {run_id} was run from a plan and cannot be resumed")
    options.setdefault("started_by", f"resume:{run_id}")
    return run(
        str(reference),
        dict(execution.properties.get("params", {})),
        workspace=ws,
        resume_from=run_id,
        **options,
    )


def _executor(executor: Any, ws: Workspace) -> Any:
    if executor is not None and not isinstance(executor, str):
        return executor
    from loopml.pipelines.executors import executor_from_uri

    return executor_from_uri(executor or ws.settings.executor)


def _resolve_datasets(plan: Plan, ws: Workspace, catalog: Any) -> dict[str, Any]:
    """Every dataset the plan reads or writes, checked before anything runs."""
    uses = [
        (str(node.params["name"]), node.name)
        for node in plan
        if node.step is LOAD_DATASET or node.step is SAVE_DATASET
    ]
    if not uses:
        return {}
    from loopml.pipelines.catalog import Catalog

    merged = Catalog.from_settings(ws.settings)
    if catalog is not None:
        extra = catalog if isinstance(catalog, Catalog) else Catalog(dict(catalog))
        merged = merged.merged(extra)
    found = {}
    for name, node in uses:  # a dataset both read and written is checked for both
        try:
            dataset = merged.get(name)
        except Exception as exc:
            raise PipelineDefinitionError(f"step {node!r}: {exc}") from exc
        if node.startswith(SAVE_PREFIX) and not dataset.writable:
            raise PipelineDefinitionError(f"step {node!r}: dataset {name!r} is read-only")
        if node.startswith(LOAD_PREFIX) and not dataset.exists():
            raise PipelineDefinitionError(
                f"step {node!r}: dataset {name!r} has no data yet ({dataset.describe()})"
            )
        found[name] = dataset
    return found


@dataclasses.dataclass
class _NodeState:
    status: str = "pending"
    attempt: int = 0
    execution_id: str | None = None
    future: concurrent.futures.Future[TaskResult] | None = None
    deadline: float | None = None
    retry_at: float | None = None
    cache_key: str | None = None
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)


class _Orchestrator:
    def __init__(
        self,
        ws: Workspace,
        plan: Plan,
        executor: Any,
        datasets: dict[str, Any],
        reference: str | None,
        started_by: str,
        trusted: tuple[str, ...],
        observer: Observer | None,
        resume_from: str | None,
        use_cache: bool = True,
    ) -> None:
        self.ws = ws
        self.store = ws.metadata
        self.plan = plan
        self.executor = executor
        self.datasets = datasets
        self.reference = reference
        self.started_by = started_by
        self.trusted = trusted
        self.observer = observer
        self.states = {name: _NodeState() for name in plan.order}
        self.upstream = {name: plan.nodes[name].upstream for name in plan.order}
        self.previous = _previous_outputs(ws, resume_from) if resume_from else {}
        self.failure: StepFailedError | None = None
        self.artifacts: dict[str, InputArtifact] = {}
        # Executors that can stop a running try enforce timeouts by cancelling it; on the
        # others (in-process, process pool) the worker abandons the try at its timeout.
        self.stops_running = bool(getattr(executor, "stops_running", False))
        self.use_cache = use_cache
        self.stop_beating = threading.Event()
        self.fenced = threading.Event()

    # --- the run ------------------------------------------------------------------

    def run(self) -> PipelineRun:
        started = time.perf_counter()
        self._open_run()
        beat = threading.Thread(
            target=self._heartbeat, name="loopml-pipeline-heartbeat", daemon=True
        )
        beat.start()
        status = ExecutionStatus.FAILED
        error: str | None = None
        try:
            self._loop()
            status = ExecutionStatus.FAILED if self.failure else ExecutionStatus.COMPLETED
            error = self.failure.traceback if self.failure else None
        except KeyboardInterrupt:
            status, error = ExecutionStatus.KILLED, "interrupted (KeyboardInterrupt)"
            self._cancel_running("the pipeline run was interrupted")
            raise
        except BaseException:
            error = traceback.format_exc()
            self._cancel_running("the orchestrator failed")
            raise
        finally:
            self.stop_beating.set()
            beat.join(timeout=5)
            self.store.finish_execution(self.run_id, status, error=error)
        if self.failure is not None:
            raise self.failure
        return PipelineRun(
            id=self.run_id,
            pipeline=self.plan.name,
            status=status,
            outputs={n: dict(s.outputs) for n, s in self.states.items() if s.outputs},
            steps={
                n: ExecutionStatus(s.status)
                for n, s in self.states.items()
                if s.status in ("completed", "cached", "failed")
            },
            seconds=time.perf_counter() - started,
        )

    def _open_run(self) -> None:
        pipeline_context = self.store.get_or_create_context(ContextType.PIPELINE, self.plan.name)
        version = code_version(str(self.ws.settings.project_dir))
        execution = self.store.create_execution(
            PIPELINE_TYPE,
            self.plan.name,
            context_ids=[pipeline_context.id],
            params={k: _param_text(v) for k, v in self.plan.params.items()},
            user=self.ws.settings.user,
            git_commit=version.git_commit,
            git_dirty=version.git_dirty,
            environment=environment(),
            properties={
                "plan": self.plan.to_dict(),
                "params": dict(self.plan.params),
                "reference": self.reference,
                "started_by": self.started_by,
                "executor": getattr(self.executor, "name", type(self.executor).__name__),
            },
        )
        self.run_id = execution.id
        self.run_context = self.store.get_or_create_context(
            PIPELINE_RUN_CONTEXT,
            execution.id,
            parent_id=pipeline_context.id,
            properties={"pipeline": self.plan.name},
        ).id
        self.store.associate(self.run_context, execution.id)
        self.git = version
        for name in self.plan.order:
            self._notify(name, "pending")

    def _loop(self) -> None:
        capacity = max(1, int(getattr(self.executor, "max_workers", 1) or 1))
        while True:
            if self.fenced.is_set():
                self._cancel_running("another process marked the run failed")
                raise PipelineError(
                    f"pipeline run {self.run_id} was marked failed by another process (no "
                    f"heartbeat for {STALE_AFTER:g} s: was this machine suspended?); the steps "
                    f"that finished are reused by `loopml runs resume {self.run_id}`"
                )
            self._schedule(capacity)
            running = {
                s.future: n for n, s in self.states.items() if s.status == "running" and s.future
            }
            waiting_retry = [s for s in self.states.values() if s.status == "retrying"]
            if not running and not waiting_retry:
                if not self._ready():
                    break
                continue
            timeout = self._next_wakeup()
            done, _ = concurrent.futures.wait(
                running, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                self._finish(running[future], future)
            self._expire()

    def _ready(self) -> list[str]:
        if self.failure is not None:
            return []
        ready = []
        for name in self.plan.order:
            state = self.states[name]
            if state.status != "pending":
                continue
            if all(self.states[u].status in ("completed", "cached") for u in self.upstream[name]):
                ready.append(name)
        return ready

    def _schedule(self, capacity: int) -> None:
        now = time.monotonic()
        for state in self.states.values():
            if state.status == "retrying" and state.retry_at is not None and state.retry_at <= now:
                if self.failure is None:
                    state.status = "pending"
                else:
                    state.status = "failed"
        running = sum(s.status == "running" for s in self.states.values())
        for name in self._ready():
            if running >= capacity:
                return
            self._start(name)
            running += self.states[name].status == "running"

    def _next_wakeup(self) -> float:
        now = time.monotonic()
        moments = [s.deadline for s in self.states.values() if s.status == "running" and s.deadline]
        moments += [
            s.retry_at for s in self.states.values() if s.status == "retrying" and s.retry_at
        ]
        if not moments:
            return 1.0
        return max(0.0, min(min(moments) - now, 1.0))

    # --- one node -------------------------------------------------------------------

    def _start(self, name: str) -> None:
        node = self.plan.nodes[name]
        state = self.states[name]
        inputs = {
            arg: self.states[ref.node].outputs[ref.output] for arg, ref in node.inputs.items()
        }
        if state.cache_key is None:
            state.cache_key = self._cache_key(node, inputs)
        reused = self._reusable(node, state.cache_key)
        if reused is not None:
            self._record_cached(node, state, inputs, reused)
            return
        state.attempt += 1
        execution = self._record_step(node, state, inputs, {"attempt": state.attempt})
        state.execution_id = execution.id
        state.status = "running"
        timeout = node.step.settings.timeout
        grace = 0.0 if self.stops_running else 5.0
        state.deadline = time.monotonic() + timeout + grace if timeout else None
        self._notify(name, "running", attempt=state.attempt)
        try:
            task = self._task(node, state, inputs)
            state.future = self.executor.submit(
                execute_task, task, resources=dict(node.step.settings.resources) or None
            )
        except Exception as exc:  # e.g. resources no worker offers: this try fails, recorded
            self._failed_try(name, exc)

    def _record_step(
        self,
        node: Node,
        state: _NodeState,
        inputs: Mapping[str, str],
        properties: Mapping[str, Any],
        status: ExecutionStatus = ExecutionStatus.RUNNING,
    ) -> Any:
        """Record one try (or one reuse) of a node as a step execution with its inputs."""
        return self.store.create_execution(
            STEP_TYPE,
            node.name,
            context_ids=[self.run_context],
            parent_id=self.run_id,
            params={k: _param_text(v) for k, v in node.params.items()},
            user=self.ws.settings.user,
            git_commit=self.git.git_commit,
            git_dirty=self.git.git_dirty,
            properties={
                "node": node.name,
                "function": node.function,
                "cache_key": state.cache_key,
                "pipeline_run": self.run_id,
                **properties,
            },
            status=status,
            inputs=dict(inputs),
        )

    def _task(self, node: Node, state: _NodeState, inputs: Mapping[str, str]) -> StepTask:
        specs = {arg: self._input(artifact_id) for arg, artifact_id in inputs.items()}
        kind = (
            "load" if node.step is LOAD_DATASET else "save" if node.step is SAVE_DATASET else "step"
        )
        return StepTask(
            settings=self.ws.settings,
            run_id=self.run_id,
            node=node.name,
            attempt=state.attempt,
            step=node.step,
            kind=kind,
            inputs=specs,
            params={} if kind != "step" else dict(node.params),
            outputs=node.outputs,
            timeout=None if self.stops_running else node.step.settings.timeout,
            dataset=self.datasets.get(str(node.params.get("name"))) if kind != "step" else None,
            trusted=self.trusted,
            execution_id=state.execution_id,
        )

    def _input(self, artifact_id: str) -> InputArtifact:
        known = self.artifacts.get(artifact_id)
        if known is None:
            known = self._remember(self.store.get_artifact(artifact_id))
        return known

    def _remember(self, artifact: Artifact) -> InputArtifact:
        """Keep how to load an artifact, so later steps need no lookup."""
        materializer = str(artifact.properties.get("materializer", "bytes"))
        known = InputArtifact(artifact.id, materializer, artifact.type, blob_digest(artifact))
        self.artifacts[artifact.id] = known
        return known

    def _finish(self, name: str, future: concurrent.futures.Future[TaskResult]) -> None:
        state = self.states[name]
        state.future = None
        try:
            result = future.result()
        except BaseException as exc:  # a try failed: record it, then retry or fail the run
            self._failed_try(name, exc)
            return
        self._succeeded(name, result)

    def _succeeded(self, name: str, result: TaskResult) -> None:
        node = self.plan.nodes[name]
        state = self.states[name]
        assert state.execution_id is not None
        missing = [o for o, out in result.outputs.items() if not self.ws.artifacts.exists(out.blob)]
        if missing:
            self._failed_try(name, RuntimeError(f"outputs {missing} are not in the artifact store"))
            return
        records, outputs = self._records(result.outputs)
        cacheable = node.step.settings.cache and state.cache_key
        try:
            self.store.finish_execution(
                state.execution_id,
                ExecutionStatus.COMPLETED,
                properties={
                    "seconds": round(result.ended_at - result.started_at, 6),
                    "worker_started_at": result.started_at,
                    "worker_ended_at": result.ended_at,
                    "logs": result.logs,
                    "worker": result.worker,
                    **self._dataset_properties(node),
                },
                outputs=outputs,
                artifacts=records,
                attribute_to=self.run_context,
                cache_key=state.cache_key if cacheable else None,
            )
        except ConflictError:
            # Another process declared this run dead while the step ran: stop here.
            self.fenced.set()
            return
        state.outputs = outputs
        state.status = "completed"
        self._notify(name, "done", seconds=result.ended_at - result.started_at)

    def _records(
        self, stored_outputs: Mapping[str, StoredOutput]
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Artifact records and output events of stored outputs (remembered for later steps)."""
        records = [
            {
                "digest": stored.digest,
                "uri": stored.uri,
                "size": stored.size,
                "type": stored.type_name,
                "properties": {
                    "materializer": stored.materializer,
                    "materializer_version": stored.materializer_version,
                    "python_type": stored.python_type,
                    "blob": stored.blob,
                },
            }
            for stored in stored_outputs.values()
        ]
        for stored in stored_outputs.values():
            self.artifacts[stored.digest] = InputArtifact(
                stored.digest, stored.materializer, stored.type_name, stored.blob
            )
        return records, {output: stored.digest for output, stored in stored_outputs.items()}

    def _failed_try(self, name: str, exc: BaseException) -> None:
        node = self.plan.nodes[name]
        state = self.states[name]
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        rejected = isinstance(exc, StepRejectedError)
        evidence = self._evidence(exc) if isinstance(exc, StepRejectedError) else {}
        records, outputs = self._records(evidence)
        if state.execution_id is not None:
            with contextlib.suppress(ConflictError):
                self.store.finish_execution(
                    state.execution_id,
                    ExecutionStatus.FAILED,
                    error=text,
                    outputs=outputs,
                    artifacts=records,
                    attribute_to=self.run_context if outputs else None,
                )
        settings = node.step.settings
        if state.attempt <= settings.retries and self.failure is None and not rejected:
            delay = settings.retry_delay * (2 ** (state.attempt - 1))
            state.status = "retrying"
            state.retry_at = time.monotonic() + delay
            self._notify(name, "retrying", attempt=state.attempt, delay=delay, error=_describe(exc))
            return
        state.status = "failed"
        self._notify(name, "failed", error=_describe(exc))
        if self.failure is None:
            tries = f"{state.attempt} tr{'y' if state.attempt == 1 else 'ies'}"
            self.failure = StepFailedError(
                f"step {name!r} failed after {tries}: "
                f"{type(exc).__name__}: {exc} (pipeline run {self.run_id})",
                step=name,
                run_id=self.run_id,
                traceback=text,
            )
        for other in self.plan.downstream(name):
            if self.states[other].status == "pending":
                self.states[other].status = "skipped"
                self._notify(other, "skipped")

    def _evidence(self, rejection: StepRejectedError) -> dict[str, StoredOutput]:
        """The stored evidence of a rejection whose bytes are in the store."""
        stored = {
            name: value
            for name, value in rejection.stored.items()
            if isinstance(value, StoredOutput) and self.ws.artifacts.exists(value.blob)
        }
        return stored

    def _expire(self) -> None:
        now = time.monotonic()
        for name, state in self.states.items():
            if state.status == "running" and state.deadline is not None and now > state.deadline:
                future = state.future
                if future is not None:
                    self.executor.cancel(future)
                    state.future = None
                timeout = self.plan.nodes[name].step.settings.timeout
                self._failed_try(
                    name, StepTimeoutError(f"step {name!r} ran past its timeout of {timeout:g} s")
                )

    def _cancel_running(self, why: str) -> None:
        for state in self.states.values():
            if state.status == "running":
                if state.future is not None:
                    self.executor.cancel(state.future)
                if state.execution_id is not None:
                    with contextlib.suppress(Exception):
                        self.store.finish_execution(
                            state.execution_id, ExecutionStatus.KILLED, error=why
                        )

    # --- caching --------------------------------------------------------------------

    def _cache_key(self, node: Node, inputs: Mapping[str, str]) -> str:
        from loopml.core.environment import package_versions
        from loopml.core.version import __version__
        from loopml.pipelines.cache import cache_key, code_fingerprint

        extra: dict[str, Any] = {}
        if node.step is LOAD_DATASET:
            dataset = self.datasets[str(node.params["name"])]
            extra = {"dataset": dataset.describe(), "fingerprint": dataset.fingerprint()}
        # Library code is not hashed: the installed versions of ML packages stand for it.
        extra["packages"] = package_versions()
        return cache_key(
            code=code_fingerprint(node.step.fn)
            if node.step not in (LOAD_DATASET, SAVE_DATASET)
            else node.step.name,
            params=node.params,
            inputs=inputs,
            materializers=self._input_materializers(inputs),
            loopml_version=__version__,
            extra=extra,
        )

    def _input_materializers(self, inputs: Mapping[str, str]) -> dict[str, int | str]:
        """Current versions of the materializers that will load the inputs.

        Only those: the key must not depend on what else a process registered.
        """
        from loopml.artifacts import get_materializer

        names = {self._input(artifact_id).materializer for artifact_id in inputs.values()}
        return {name: get_materializer(name).version for name in sorted(names)}

    def _usable(self, node: Node, outputs: Mapping[str, Artifact]) -> bool:
        """Whether reused outputs are complete, present and in today's formats.

        Other outputs the step recorded itself (a model package it stored, say,
        through :func:`~loopml.pipelines.current_step`) do not count.
        """
        from loopml.artifacts import get_materializer

        if not set(node.outputs) <= set(outputs):
            return False
        for artifact in (outputs[name] for name in node.outputs):
            name = artifact.properties.get("materializer")
            version = artifact.properties.get("materializer_version")
            if name is not None and version != get_materializer(str(name)).version:
                return False
            if not self.ws.artifacts.exists(blob_digest(artifact)):
                return False
        return True

    def _reusable(self, node: Node, key: str) -> tuple[str, dict[str, str]] | None:
        """(execution id, outputs) to reuse for this node, if any is valid."""
        candidates: list[tuple[str, dict[str, Artifact], str | None]] = []
        previous = self.previous.get(node.name)
        if previous is not None and previous[0] == key:
            candidates.append((previous[1], _output_artifacts(self.ws, previous[1]), None))
        if node.step.settings.cache and self.use_cache:
            cached = self.store.cached_outputs(key)
            if cached is not None:
                candidates.append((cached[0], cached[1], key))
        for execution_id, outputs, entry in candidates:
            if self._usable(node, outputs):
                declared = {name: outputs[name] for name in node.outputs}
                for artifact in declared.values():
                    self._remember(artifact)
                return execution_id, {name: a.id for name, a in declared.items()}
            if entry is not None:
                logger.warning(
                    "cache entry of step %s lost its outputs or their format changed; "
                    "running it again",
                    node.name,
                )
                self.store.delete_cache_entry(entry)
        return None

    def _record_cached(
        self,
        node: Node,
        state: _NodeState,
        inputs: Mapping[str, str],
        reused: tuple[str, dict[str, str]],
    ) -> None:
        source, outputs = reused
        execution = self._record_step(
            node, state, inputs, {"cached_from": source}, status=ExecutionStatus.CACHED
        )
        state.execution_id = execution.id
        state.outputs = dict(outputs)
        state.status = "cached"
        self._notify(node.name, "cached", cached_from=source)

    def _dataset_properties(self, node: Node) -> dict[str, Any]:
        if node.step is LOAD_DATASET or node.step is SAVE_DATASET:
            dataset = self.datasets[str(node.params["name"])]
            return {"dataset": str(node.params["name"]), "dataset_description": dataset.describe()}
        return {}

    # --- liveness and progress --------------------------------------------------

    def _heartbeat(self) -> None:
        while not self.stop_beating.wait(HEARTBEAT_INTERVAL):
            alive = [self.run_id] + [
                s.execution_id
                for s in self.states.values()
                if s.status == "running" and s.execution_id
            ]
            try:
                if self.run_id in self.store.heartbeat(alive):
                    self.fenced.set()
            except Exception:
                logger.exception("could not record the heartbeat of pipeline run %s", self.run_id)

    def _notify(self, node: str, state: str, **info: Any) -> None:
        if self.observer is not None:
            try:
                self.observer(node, state, info)
            except Exception:
                logger.exception("pipeline progress observer failed")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _param_text(value: Any) -> str:
    from loopml.core.hashing import canonical_json

    return value if isinstance(value, str) else canonical_json(value)


def _output_artifacts(ws: Workspace, execution_id: str) -> dict[str, Artifact]:
    return {
        event.name: ws.metadata.get_artifact(event.artifact_id)
        for event in ws.metadata.list_events(execution_id=execution_id)
        if event.kind == "output"
    }


def _previous_outputs(ws: Workspace, run_id: str) -> dict[str, tuple[str, str]]:
    """node -> (cache key, execution id) of the steps that finished in an earlier run."""
    found: dict[str, tuple[str, str]] = {}
    for execution in ws.metadata.list_executions(type=STEP_TYPE, parent_id=run_id, limit=None):
        if execution.status in (ExecutionStatus.COMPLETED, ExecutionStatus.CACHED):
            key = execution.properties.get("cache_key")
            node = execution.properties.get("node")
            # A cached step's outputs are recorded on the execution that made them.
            producer = execution.properties.get("cached_from") or execution.id
            if key and node:
                found[str(node)] = (str(key), str(producer))
    return found
