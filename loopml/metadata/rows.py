"""Turn database rows into metadata entities."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from loopml.metadata.entities import (
    Artifact,
    Context,
    Event,
    EventKind,
    Execution,
    ExecutionStatus,
    Metric,
    to_datetime,
)


def _when(value: float) -> Any:
    return to_datetime(value)


def context_from_row(row: Mapping[Any, Any]) -> Context:
    return Context(
        id=row["id"],
        type=row["type"],
        name=row["name"],
        parent_id=row["parent_id"],
        properties=row["properties"] or {},
        created_at=_when(row["created_at"]),
    )


def execution_from_row(
    row: Mapping[Any, Any],
    *,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    context_ids: list[str] | None = None,
) -> Execution:
    return Execution(
        id=row["id"],
        type=row["type"],
        name=row["name"],
        status=ExecutionStatus(row["status"]),
        started_at=_when(row["started_at"]),
        ended_at=to_datetime(row["ended_at"]),
        heartbeat_at=to_datetime(row["heartbeat_at"]),
        parent_id=row["parent_id"],
        user=row["username"],
        git_commit=row["git_commit"],
        git_dirty=row["git_dirty"],
        environment=row["environment"] or {},
        properties=row["properties"] or {},
        error=row["error"],
        context_ids=tuple(sorted(context_ids or ())),
        params=dict(params or {}),
        metrics=dict(metrics or {}),
        tags=dict(tags or {}),
    )


def artifact_from_row(row: Mapping[Any, Any]) -> Artifact:
    return Artifact(
        id=row["id"],
        uri=row["uri"],
        size=row["size"],
        type=row["type"],
        properties=row["properties"] or {},
        created_at=_when(row["created_at"]),
    )


def event_from_row(row: Mapping[Any, Any]) -> Event:
    return Event(
        execution_id=row["execution_id"],
        artifact_id=row["artifact_id"],
        kind=EventKind(row["kind"]),
        name=row["name"],
        created_at=_when(row["created_at"]),
    )


def metric_from_row(row: Any) -> Metric:
    key, value, step, timestamp = row
    return Metric(
        key=key,
        value=math.nan if value is None else float(value),
        step=int(step),
        timestamp=_when(timestamp),
    )
