"""The server's state and the one prediction path every protocol goes through.

:class:`ModelServer` holds the deployments, options, metrics and request log.
:meth:`ModelServer.infer` takes request columns, picks the version (A/B,
canary), completes features, validates against the signature, predicts
through the micro-batcher under the per-request timeout, mirrors to a shadow,
logs, counts, and returns an :class:`Answer` naming the version that served.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.core.errors import LoopMLError, NotFoundError
from loopml.serving.codec import to_frame
from loopml.serving.deployment import Deployment, Route
from loopml.serving.errors import ModelInputError, PredictionError, RequestTimeoutError, http_status
from loopml.serving.metrics import ServerMetrics
from loopml.serving.requestlog import FEEDBACK_LOG, PREDICTION_LOG, RequestLog
from loopml.serving.served import ServedVersion
from loopml.serving.spec import DeploymentSpec, ServingOptions, load_deployments

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Answer:
    """The result of one prediction request."""

    request_id: str
    deployment: str
    model: str
    version: int
    arm: str
    predictions: Any
    probabilities: Any = None
    classes: tuple[Any, ...] = ()


class ModelServer:
    """Everything a running server holds; the app's routes call into it.

    Args:
        deployments: the deployments to serve (already built, not started).
        options: limits, batching, logging.
        workspace: for the request log (``None``: no log).
        metrics: the Prometheus metrics.
        deployment_file: a file to re-read when it changes (or on ``/admin/reload``).
        make_deployment: builds a :class:`Deployment` from a spec (for reloads).
    """

    def __init__(
        self,
        deployments: list[Deployment],
        options: ServingOptions,
        *,
        workspace: Any = None,
        metrics: ServerMetrics | None = None,
        deployment_file: str | os.PathLike[str] | None = None,
        make_deployment: Any = None,
    ) -> None:
        self.deployments = {d.name: d for d in deployments}
        self.options = options
        self.workspace = workspace
        self.metrics = metrics or ServerMetrics()
        self.deployment_file = Path(deployment_file) if deployment_file else None
        self._mtime = self._file_mtime()
        self._make = make_deployment
        self.log: RequestLog | None = None
        self._shadows: set[asyncio.Task[None]] = set()
        self._stop = threading.Event()
        self._file_thread: threading.Thread | None = None
        self._reload_lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------

    def start(self, wait: float = 120.0) -> None:
        """Open the request log, start following the registry, wait (bounded) for the models."""
        if self.options.log_requests and self.workspace is not None and self.log is None:
            self.log = RequestLog(
                self.workspace,
                max_queue=self.options.log_queue_size,
                flush_rows=self.options.log_flush_rows,
                flush_seconds=self.options.log_flush_seconds,
                on_drop=self.metrics.log_dropped.inc,
            )
        for deployment in self.deployments.values():
            deployment.start()
        deadline = time.monotonic() + wait
        for deployment in self.deployments.values():
            deployment.wait_ready(max(0.0, deadline - time.monotonic()))
        if self.deployment_file is not None and self._file_thread is None:
            self._file_thread = threading.Thread(
                target=self._watch_file, name="loopml-deployment-file", daemon=True
            )
            self._file_thread.start()

    async def stop(self) -> None:
        """Finish shadow calls, stop the deployments, write the rest of the log."""
        self._stop.set()
        if self._shadows:
            await asyncio.wait(list(self._shadows), timeout=self.options.timeout)
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        for deployment in self.deployments.values():
            deployment.close()
        if self.log is not None:
            self.log.close()

    @property
    def ready(self) -> bool:
        """Whether every deployment has its model(s) loaded."""
        return all(d.ready for d in self.deployments.values())

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every deployment is ready or ``timeout``."""
        deadline = time.monotonic() + timeout
        return all(
            d.wait_ready(max(0.0, deadline - time.monotonic())) for d in self.deployments.values()
        )

    # --- deployments ------------------------------------------------------------------

    def deployment(self, name: str) -> Deployment:
        """The deployment serving ``name``.

        Raises:
            NotFoundError: if there is none.
        """
        found = self.deployments.get(name)
        if found is None:
            known = ", ".join(sorted(self.deployments)) or "none"
            raise NotFoundError(f"no model {name!r} is served here (served: {known})")
        return found

    def reload(self) -> list[str]:
        """Re-read the deployment file and apply it; return the deployment names now served.

        Raises:
            ConfigError: if the file is malformed (nothing changes).
        """
        if self.deployment_file is None or self._make is None:
            return sorted(self.deployments)
        with self._reload_lock:
            self._mtime = self._file_mtime()
            self.apply(load_deployments(self.deployment_file))
            return sorted(self.deployments)

    def apply(self, specs: list[DeploymentSpec]) -> None:
        """Serve exactly ``specs``: update those known, start new ones, stop the others."""
        current = dict(self.deployments)
        new: dict[str, Deployment] = {}
        for spec in specs:
            if spec.name in current:
                current[spec.name].update(spec)
                new[spec.name] = current.pop(spec.name)
            else:
                deployment = self._make(spec)
                deployment.start()
                new[spec.name] = deployment
        self.deployments = new
        for gone in current.values():
            gone.close()

    def _file_mtime(self) -> float | None:
        try:
            return self.deployment_file.stat().st_mtime if self.deployment_file else None
        except OSError:
            return None

    def _watch_file(self) -> None:
        while not self._stop.wait(min(self.options.poll_interval, 2.0)):
            if self._file_mtime() != self._mtime:
                try:
                    self.reload()
                    logger.info("deployment file reloaded: %s", sorted(self.deployments))
                except LoopMLError as exc:
                    self._mtime = self._file_mtime()
                    logger.error("deployment file not applied: %s", exc)

    # --- the prediction path ----------------------------------------------------------

    async def infer(
        self,
        name: str,
        columns: dict[str, Any],
        rows: int,
        *,
        key: str | None = None,
        proba: bool = False,
        request_id: str | None = None,
        pin: ServedVersion | None = None,
        protocol: str = "native",
    ) -> Answer:
        """Answer one request (see the module docstring).

        Raises:
            LoopMLError: bad input (4xx), not ready (503), timeout (504), model failure (500).
        """
        start = time.perf_counter()
        request_id = request_id or uuid.uuid4().hex
        deployment = self.deployment(name)
        served: ServedVersion | None = None
        frame = None
        try:
            if deployment.spec.features is not None:
                columns = await asyncio.to_thread(deployment.enrich, columns, rows)
            ab = deployment.spec.ab
            if ab is not None and ab.key is not None and key is None and ab.key in columns:
                key = str(_first(columns[ab.key]))
            route = Route(pin, "pinned") if pin is not None else deployment.route(key)
            served = route.served
            frame = to_frame(columns, rows, served.signature, self.options.max_rows)
            kind = "proba" if proba and served.is_classifier else "predict"
            result = await self._predict(served, frame, kind)
        except LoopMLError as exc:
            self._count(deployment, served, http_status(exc), start, request_id, frame, exc)
            raise
        answer = _answer(request_id, deployment.name, served, route.arm, result, kind)
        self._count(deployment, served, 200, start, request_id, frame, answer)
        if route.shadow is not None and route.shadow is not served:
            self._mirror(deployment, route.shadow, frame, request_id)
        return answer

    async def _predict(self, served: ServedVersion, frame: Any, kind: str) -> Any:
        try:
            async with asyncio.timeout(self.options.timeout):
                return await served.predict(frame, kind)
        except TimeoutError:
            raise RequestTimeoutError(
                f"{served.model}:{served.version} did not answer within {self.options.timeout:g} s"
            ) from None
        except LoopMLError:
            raise
        except (ValueError, TypeError) as exc:  # scikit-learn's way of refusing input
            raise ModelInputError(
                f"{served.model}:{served.version} refused the input: {exc}"
            ) from exc
        except Exception as exc:
            logger.exception("%s:%s failed on valid input", served.model, served.version)
            raise PredictionError(
                f"{served.model}:{served.version} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _mirror(self, deployment: Deployment, shadow: ServedVersion, frame: Any, rid: str) -> None:
        async def run() -> None:
            start = time.perf_counter()
            try:
                result = await self._predict(shadow, frame, "predict")
                answer = _answer(rid, deployment.name, shadow, "shadow", result, "predict")
                self._log(deployment, shadow, 200, start, rid, frame, answer, shadow=True)
            except LoopMLError as exc:
                self._log(deployment, shadow, http_status(exc), start, rid, frame, exc, True)

        task = asyncio.get_running_loop().create_task(run())
        self._shadows.add(task)
        task.add_done_callback(self._shadows.discard)

    def _count(
        self,
        deployment: Deployment,
        served: ServedVersion | None,
        status: int,
        start: float,
        request_id: str,
        frame: Any,
        outcome: Any,
    ) -> None:
        model = served.model if served else deployment.spec.model.partition("@")[0]
        version = served.version if served else ""
        self.metrics.observe(model, version, status, time.perf_counter() - start)
        self._log(deployment, served, status, start, request_id, frame, outcome)

    def _log(
        self,
        deployment: Deployment,
        served: ServedVersion | None,
        status: int,
        start: float,
        request_id: str,
        frame: Any,
        outcome: Any,
        shadow: bool = False,
    ) -> None:
        if self.log is None:
            return
        ok = isinstance(outcome, Answer)
        self.log.record(
            PREDICTION_LOG,
            {
                "request_id": request_id,
                "timestamp": datetime.now(UTC),
                "deployment": deployment.name,
                "model": served.model if served else None,
                "version": served.version if served else None,
                "artifact_id": served.artifact_id if served else None,
                "arm": outcome.arm if ok else None,
                "shadow": shadow,
                "status": status,
                "latency_ms": (time.perf_counter() - start) * 1000,
                "inputs": frame,
                "predictions": outcome.predictions if ok else None,
                "probabilities": outcome.probabilities if ok else None,
                "classes": outcome.classes if ok else (),
                "error": None if ok else f"{outcome.error_code}: {outcome.message}",
            },
        )

    def feedback(self, items: list[dict[str, Any]]) -> int:
        """Queue ground truth for request ids; return how many were accepted."""
        if self.log is None:
            return 0
        now = datetime.now(UTC)
        accepted = 0
        for item in items:
            entry = {"request_id": item["request_id"], "timestamp": now}
            entry["ground_truth"] = item["ground_truth"]
            accepted += self.log.record(FEEDBACK_LOG, entry)
        return accepted


def _answer(rid: str, name: str, served: ServedVersion, arm: str, result: Any, kind: str) -> Answer:
    import numpy as np

    if kind != "proba":
        return Answer(rid, name, served.model, served.version, arm, result)
    classes = np.asarray(served.classes, dtype=object)
    predictions = classes[np.asarray(result).argmax(axis=1)] if len(classes) else None
    if predictions is not None:
        predictions = np.asarray(predictions.tolist())
    return Answer(
        rid, name, served.model, served.version, arm, predictions, result, tuple(served.classes)
    )


def _first(values: Any) -> Any:
    value = values[0]
    return value.item() if hasattr(value, "item") else value
