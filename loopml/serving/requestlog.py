"""The prediction log: requests, responses and feedback, written in the background as Parquet.

:meth:`RequestLog.record` only puts a dict on a bounded queue (never blocks:
when the queue is full the record is dropped and counted). A writer thread
turns queued records into Parquet segments of at most ``flush_rows`` rows,
at least every ``flush_seconds``, and stores each as an artifact
(``loopml.prediction_log`` or ``loopml.feedback_log``) with an execution
``serving_log`` linking it to the model versions' artifacts (lineage).
:meth:`RequestLog.close` writes everything still queued.
"""

from __future__ import annotations

import json
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PREDICTION_LOG = "loopml.prediction_log"
"""Artifact type of request segments."""
FEEDBACK_LOG = "loopml.feedback_log"
"""Artifact type of feedback segments."""

_COLUMNS = {
    PREDICTION_LOG: (
        "request_id", "timestamp", "deployment", "model", "version", "arm", "shadow",
        "status", "latency_ms", "inputs", "outputs", "error",
    ),
    FEEDBACK_LOG: ("request_id", "timestamp", "ground_truth"),
}  # fmt: skip


class RequestLog:
    """Queues log records and writes them as Parquet segments from one thread.

    Args:
        workspace: where segments are stored (artifact store + metadata).
        max_queue: records held before new ones are dropped.
        flush_rows: most records per segment.
        flush_seconds: longest a record waits in memory.
        on_drop: called once per dropped record (a metric).
    """

    def __init__(
        self,
        workspace: Any,
        *,
        max_queue: int = 100_000,
        flush_rows: int = 5_000,
        flush_seconds: float = 1.0,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.flush_rows = max(1, flush_rows)
        self.flush_seconds = flush_seconds
        self.dropped = 0
        self.written = 0
        self._on_drop = on_drop
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue(max_queue)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="loopml-request-log", daemon=True)
        self._thread.start()

    def record(self, kind: str, entry: dict[str, Any]) -> bool:
        """Queue one record (``kind``: :data:`PREDICTION_LOG` or :data:`FEEDBACK_LOG`).

        Returns:
            whether it was queued (``False``: the queue was full or the log closed).
        """
        if not self._closed:
            try:
                self._queue.put_nowait((kind, entry))
                return True
            except queue.Full:
                pass
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop()
        return False

    def close(self, timeout: float = 60.0) -> None:
        """Write every queued record, then stop the writer."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        buffers: dict[str, list[dict[str, Any]]] = {PREDICTION_LOG: [], FEEDBACK_LOG: []}
        deadline = time.monotonic() + self.flush_seconds
        running = True
        while running:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = ("", {})
            if item is None:
                running = False
            elif item[0]:
                buffers[item[0]].append(item[1])
            full = any(len(b) >= self.flush_rows for b in buffers.values())
            if not running or full or time.monotonic() >= deadline:
                for kind, rows in buffers.items():
                    if rows:
                        self._write(kind, rows)
                        buffers[kind] = []
                deadline = time.monotonic() + self.flush_seconds

    def _write(self, kind: str, rows: list[dict[str, Any]]) -> None:
        try:
            write_segment(self.workspace, kind, rows)
            self.written += len(rows)
        except Exception:  # the disk or the database is away: say so, keep serving
            logger.exception("could not write %d %s records", len(rows), kind)


def write_segment(workspace: Any, kind: str, rows: list[dict[str, Any]]) -> str:
    """Write ``rows`` as one Parquet segment artifact with its lineage; return the artifact id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from loopml.metadata import ExecutionStatus

    columns = _COLUMNS[kind]
    data = {name: [_cell(row.get(name)) for row in rows] for name in columns}
    table = pa.table(data)
    with tempfile.TemporaryDirectory(prefix="loopml-log-") as temp:
        path = Path(temp) / "segment.parquet"
        pq.write_table(table, path)
        blob = workspace.artifacts.put_file(path)
    models = sorted({str(row["artifact_id"]) for row in rows if row.get("artifact_id")})
    properties = {
        "filename": "segment.parquet",
        "rows": len(rows),
        "first": str(data["timestamp"][0]),
        "last": str(data["timestamp"][-1]),
        "deployments": sorted({str(r.get("deployment")) for r in rows if r.get("deployment")}),
    }
    artifact = workspace.metadata.put_artifact(blob.digest, blob.uri, blob.size, kind, properties)
    workspace.metadata.create_execution(
        "serving_log",
        "request_log" if kind == PREDICTION_LOG else "feedback_log",
        status=ExecutionStatus.COMPLETED,
        inputs={f"model_{i}": artifact_id for i, artifact_id in enumerate(models)},
        outputs={"segment": artifact.id},
    )
    return str(artifact.id)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, datetime)):
        return value
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def read_log(workspace: Any, kind: str = PREDICTION_LOG, limit: int = 100_000) -> Any:
    """Read every segment of ``kind`` into one ``pyarrow.Table`` (oldest first)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from loopml.workspace.workspace import blob_digest

    tables = []
    for artifact in reversed(workspace.metadata.list_artifacts(type=kind, limit=limit)):
        with tempfile.TemporaryDirectory(prefix="loopml-log-") as temp:
            path = Path(temp) / "segment.parquet"
            workspace.artifacts.get_file(blob_digest(artifact), path)
            tables.append(pq.read_table(path))
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in _COLUMNS[kind]})
    return pa.concat_tables(tables, promote_options="permissive")
