"""The prediction log: requests, responses and feedback, written in the background as Parquet.

:meth:`RequestLog.record` only appends a dict to a bounded deque (never
blocks, wakes no thread: when the deque is full the record is dropped and
counted). A writer thread wakes every ``flush_seconds`` (or as soon as
``flush_rows`` records wait), turns what is queued into Parquet segments of
at most ``flush_rows`` rows, and stores each as an artifact
(``loopml.prediction_log`` or ``loopml.feedback_log``) with an execution
``serving_log`` linking it to the model versions' artifacts (lineage).
:meth:`RequestLog.close` writes everything still queued.
"""

from __future__ import annotations

import collections
import json
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PREDICTION_LOG = "loopml.prediction_log"
"""Artifact type of request segments."""
FEEDBACK_LOG = "loopml.feedback_log"
"""Artifact type of feedback segments."""

META = (
    "request_id", "row", "timestamp", "deployment", "model", "version", "arm", "shadow",
    "status", "latency_ms", "error",
)  # fmt: skip
"""The columns every prediction log row has; then ``input.<column>`` for each input column
the model saw, ``prediction``, and ``probability.<class>`` for classifiers."""


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
        self.max_queue = max(1, max_queue)
        self.flush_rows = max(1, flush_rows)
        self.flush_seconds = flush_seconds
        self.dropped = 0
        self.written = 0
        self._on_drop = on_drop
        # deque.append and popleft are atomic: the request path takes no lock and
        # wakes no thread (a per-record wake-up costs the server its GIL, measured).
        self._queue: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="loopml-request-log", daemon=True)
        self._thread.start()

    def record(self, kind: str, entry: dict[str, Any]) -> bool:
        """Queue one record (``kind``: :data:`PREDICTION_LOG` or :data:`FEEDBACK_LOG`).

        Returns:
            whether it was queued (``False``: the queue was full or the log closed).
        """
        queued = len(self._queue)
        if not self._closed and queued < self.max_queue:
            self._queue.append((kind, entry))
            if queued + 1 == self.flush_rows:
                self._wake.set()
            return True
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop()
        return False

    def close(self, timeout: float = 60.0) -> None:
        """Write every queued record, then stop the writer."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            closing = self._closed
            self._drain()
            if closing:
                return
            self._wake.wait(self.flush_seconds)
            self._wake.clear()

    def _drain(self) -> None:
        buffers: dict[str, list[dict[str, Any]]] = {PREDICTION_LOG: [], FEEDBACK_LOG: []}
        for _ in range(len(self._queue)):
            kind, entry = self._queue.popleft()
            rows = buffers[kind]
            rows.append(entry)
            if len(rows) >= self.flush_rows:
                self._write(kind, rows)
                buffers[kind] = []
        for kind, rows in buffers.items():
            if rows:
                self._write(kind, rows)

    def _write(self, kind: str, rows: list[dict[str, Any]]) -> None:
        try:
            write_segment(self.workspace, kind, rows)
            self.written += len(rows)
        except Exception:  # the disk or the database is away: say so, keep serving
            logger.exception("could not write %d %s records", len(rows), kind)


def write_segment(workspace: Any, kind: str, rows: list[dict[str, Any]]) -> str:
    """Write ``rows`` as one Parquet segment artifact with its lineage; return the artifact id."""
    import pyarrow.parquet as pq

    from loopml.metadata import ExecutionStatus

    table = prediction_table(rows) if kind == PREDICTION_LOG else feedback_table(rows)
    with tempfile.TemporaryDirectory(prefix="loopml-log-") as temp:
        path = Path(temp) / "segment.parquet"
        pq.write_table(table, path)
        blob = workspace.artifacts.put_file(path)
    models = sorted({str(row["artifact_id"]) for row in rows if row.get("artifact_id")})
    properties = {
        "filename": "segment.parquet",
        "requests": len(rows),
        "rows": table.num_rows,
        "first": rows[0]["timestamp"].isoformat(),
        "last": rows[-1]["timestamp"].isoformat(),
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


def prediction_table(records: list[dict[str, Any]]) -> Any:
    """One row per input row: request metadata, ``input.*``, ``prediction``, ``probability.*``.

    Records are grouped by shape (input columns, outputs) and each group is
    concatenated at once, so a record costs the writer a few microseconds of
    array work, never per-value Python work or a DataFrame of its own.
    """
    import pyarrow as pa

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(_shape(record), []).append(record)
    tables = [_group_table(group) for group in groups.values()]
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.cast(_schema(table.schema))


def _shape(record: dict[str, Any]) -> tuple[Any, ...]:
    frame = record.get("inputs")
    columns = None if frame is None or len(frame) == 0 else tuple(frame.columns)
    outputs = record.get("predictions") is not None
    return columns, outputs, tuple(record.get("classes") or ()) if outputs else ()


def _group_table(records: list[dict[str, Any]]) -> Any:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    columns, outputs, classes = _shape(records[0])
    counts = np.array([1 if columns is None else len(r["inputs"]) for r in records])
    data: dict[str, Any] = {
        name: np.repeat(_objects([r.get(name) for r in records]), counts) for name in META
    }
    data["row"] = np.concatenate([np.arange(n) for n in counts])
    if columns is not None:
        inputs = pd.concat([r["inputs"] for r in records], ignore_index=True)
        data.update({f"input.{name}": inputs[name] for name in columns})
    if outputs:
        predictions = np.concatenate([np.asarray(r["predictions"]) for r in records])
        data["prediction"] = predictions if predictions.ndim == 1 else list(predictions)
    if classes:
        probabilities = np.concatenate([np.asarray(r["probabilities"]) for r in records])
        for i, label in enumerate(classes):
            data[f"probability.{label}"] = probabilities[:, i]
    return pa.Table.from_pandas(pd.DataFrame(data), preserve_index=False)


def _objects(values: list[Any]) -> Any:
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _schema(schema: Any) -> Any:
    import pyarrow as pa

    fixed = {
        "request_id": pa.string(), "row": pa.int32(), "timestamp": pa.timestamp("us", "UTC"),
        "deployment": pa.string(), "model": pa.string(), "version": pa.int64(),
        "arm": pa.string(), "shadow": pa.bool_(), "status": pa.int32(),
        "latency_ms": pa.float64(), "error": pa.string(),
    }  # fmt: skip
    fields = []
    for field in schema:
        kind = fixed.get(field.name, field.type)
        if pa.types.is_null(kind):
            kind = pa.string()
        fields.append(pa.field(field.name, kind))
    return pa.schema(fields)


def feedback_table(records: list[dict[str, Any]]) -> Any:
    """One row per feedback: request id, time, ground truth (as JSON text)."""
    import pyarrow as pa

    return pa.table(
        {
            "request_id": pa.array([r["request_id"] for r in records], pa.string()),
            "timestamp": pa.array([r["timestamp"] for r in records], pa.timestamp("us", "UTC")),
            "ground_truth": pa.array(
                [json.dumps(r["ground_truth"], separators=(",", ":")) for r in records],
                pa.string(),
            ),
        }
    )


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
        names = META if kind == PREDICTION_LOG else ("request_id", "timestamp", "ground_truth")
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return pa.concat_tables(tables, promote_options="permissive")
