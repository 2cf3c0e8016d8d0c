"""Entities of the metadata store: what it takes and returns (never ORM rows).

Timestamps are timezone-aware UTC datetimes; ids are strings. An execution id
is 32 hex characters (a UUID); an artifact id is the 64-hex sha256 digest of
its bytes, so the same bytes are one artifact, whoever logged them.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

EXECUTION_ID_LENGTH = 32


class ContextType(enum.StrEnum):
    """Well-known kinds of context; any other string is allowed too."""

    EXPERIMENT = "experiment"
    PIPELINE = "pipeline"
    RUN = "run"


class ExecutionStatus(enum.StrEnum):
    """Life cycle of an execution. Only ``RUNNING`` is not final."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CACHED = "cached"
    KILLED = "killed"

    @property
    def is_final(self) -> bool:
        return self is not ExecutionStatus.RUNNING


class EventKind(enum.StrEnum):
    """Whether an execution consumed or produced an artifact."""

    INPUT = "input"
    OUTPUT = "output"


def to_datetime(epoch: float | None) -> datetime | None:
    """Turn stored epoch seconds into an aware UTC datetime."""
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


@dataclasses.dataclass(frozen=True)
class Context:
    """A named group of executions and artifacts: an experiment, a pipeline, a pipeline run."""

    id: str
    type: str
    name: str
    created_at: datetime
    parent_id: str | None = None
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Execution:
    """Something that ran: a tracked run, a pipeline step, a validation, a deployment.

    ``params``, ``metrics`` (the latest value of each key) and ``tags`` are
    loaded with the execution.
    """

    id: str
    type: str
    name: str
    status: ExecutionStatus
    started_at: datetime
    ended_at: datetime | None = None
    heartbeat_at: datetime | None = None
    parent_id: str | None = None
    user: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    environment: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    error: str | None = None
    context_ids: tuple[str, ...] = ()
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or ``None`` while running."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclasses.dataclass(frozen=True)
class Artifact:
    """An immutable object in the artifact store, known by the sha256 of its bytes."""

    id: str
    uri: str
    size: int
    type: str
    created_at: datetime
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def digest(self) -> str:
        """The hex sha256 of the artifact's bytes (its id)."""
        return self.id


@dataclasses.dataclass(frozen=True)
class Event:
    """An execution consumed (input) or produced (output) an artifact under a name."""

    execution_id: str
    artifact_id: str
    kind: EventKind
    name: str
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class Metric:
    """One point of a metric's time series."""

    key: str
    value: float
    step: int
    timestamp: datetime

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metric):
            return NotImplemented
        same_value = self.value == other.value or (
            math.isnan(self.value) and math.isnan(other.value)
        )
        return (self.key, self.step, self.timestamp) == (
            other.key,
            other.step,
            other.timestamp,
        ) and same_value

    def __hash__(self) -> int:
        return hash((self.key, self.step, self.timestamp))


@dataclasses.dataclass(frozen=True)
class LineageGraph:
    """Executions and artifacts reachable from a start node, joined by events."""

    root_id: str
    direction: str
    executions: Mapping[str, Execution]
    artifacts: Mapping[str, Artifact]
    events: tuple[Event, ...]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.executions or node_id in self.artifacts
