"""The request log: Parquet segments with lineage, complete after shutdown; feedback; drops."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from serving_flows import ROW

from loopml.registry import ModelRegistry
from loopml.serving import read_log
from loopml.serving.requestlog import FEEDBACK_LOG, PREDICTION_LOG, RequestLog
from loopml.workspace import Workspace
from loopml.workspace.workspace import blob_digest


def test_every_request_is_in_the_log_after_shutdown(
    iris: int, make_app: Any, project: Workspace, tmp_path: Path
) -> None:
    app = make_app(["iris@live"], log_flush_seconds=30, log_flush_rows=7)
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = [
            client.post("/v1/models/iris/predict", json=[ROW, ROW]).json()["request_id"]
            for _ in range(20)
        ]
        bad = client.post("/v1/models/iris/predict", json=[{"x": 1}])
        feedback = [{"request_id": rid, "ground_truth": 0} for rid in ids[:5]]
        assert client.post("/v1/feedback", json=feedback).json() == {"accepted": 5}
        assert client.post("/v1/feedback", json=feedback[0]).status_code == 202
    log = read_log(project)
    rows = log.to_pylist()
    assert len(rows) == 41  # one per input row: 20 requests of 2 rows, and the failed one
    ok = [r for r in rows if r["status"] == 200]
    assert [r["request_id"] for r in ok] == [rid for rid in ids for _ in range(2)]
    assert [r["row"] for r in ok[:2]] == [0, 1]
    first = rows[0]
    assert first["model"] == "iris" and first["version"] == 1 and first["deployment"] == "iris"
    assert first["input.sepal_length"] == 5.1 and first["prediction"] == 0
    assert first["latency_ms"] > 0 and first["timestamp"] is not None
    failed = rows[-1]
    assert failed["status"] == 422 and failed["error"].startswith("signature_mismatch")
    assert failed["request_id"] == bad.headers.get("loopml-request-id", failed["request_id"])
    segments = project.metadata.list_artifacts(type=PREDICTION_LOG, limit=100)
    assert len(segments) >= 3  # 21 rows, 7 per segment
    # a segment is plain Parquet, and its lineage names the model version's package
    segment = segments[0]
    path = project.artifacts.get_file(blob_digest(segment), tmp_path / "one.parquet")
    table = pq.read_table(path)
    assert table.num_rows == segment.properties["rows"]
    assert str(table.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    lineage = project.metadata.lineage(segment.id)
    assert ModelRegistry(project).resolve("iris:1").artifact_id in lineage.artifacts
    truth = read_log(project, FEEDBACK_LOG).to_pylist()
    assert [t["request_id"] for t in truth] == ids[:5] + ids[:1]


class _BlockingWorkspace:
    """A workspace whose artifact store blocks until released (to fill the queue)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.artifacts = self
        self.metadata = self
        self.rows = 0

    def put_file(self, path: Any) -> Any:
        self.release.wait(10)
        self.rows += pq.read_table(path).num_rows
        return type("Blob", (), {"digest": "d" * 64, "uri": "mem://", "size": 1})()

    def put_artifact(self, *args: Any) -> Any:
        return type("Artifact", (), {"id": "a"})()

    def create_execution(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    workspace = _BlockingWorkspace()
    dropped: list[int] = []
    log = RequestLog(
        workspace, max_queue=2, flush_rows=1, flush_seconds=0.01, on_drop=lambda: dropped.append(1)
    )
    entry = {"request_id": "r", "timestamp": None, "deployment": "d"}
    accepted = sum(log.record(PREDICTION_LOG, dict(entry)) for _ in range(50))
    assert log.dropped == len(dropped) == 50 - accepted and accepted <= 3
    workspace.release.set()
    log.close()
    assert workspace.rows == accepted
    assert not log.record(PREDICTION_LOG, dict(entry))  # closed: counted, not queued


def test_probabilities_are_logged_per_class(iris: int, make_app: Any, project: Workspace) -> None:
    with TestClient(make_app(["iris@live"])) as client:
        body = client.post("/v1/models/iris/predict?probabilities=true", json=[ROW]).json()
    (row,) = read_log(project).to_pylist()
    assert [row[f"probability.{c}"] for c in (0, 1, 2)] == body["probabilities"][0]
    assert row["prediction"] == body["predictions"][0] and row["arm"] == "primary"
