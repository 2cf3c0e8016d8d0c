"""The metadata store: the spine of lineage.

It records contexts (experiments, pipelines, pipeline runs), executions (runs,
steps, validations, deployments) with their params, metrics, tags, status,
timings and code version, artifacts known by their sha256, and the events
joining executions to the artifacts they consumed and produced. Every other
capability reads and writes through it. SQLite is the default; PostgreSQL is
the same code behind a ``postgresql://`` URL. The schema is migrated with
Alembic on first use or by ``loopml db upgrade``.
"""

from __future__ import annotations

from loopml.metadata.entities import (
    Artifact,
    Context,
    ContextType,
    Event,
    EventKind,
    Execution,
    ExecutionStatus,
    LineageGraph,
    Metric,
)
from loopml.metadata.store import SqlMetadataStore, new_id, validate_key, validate_metric_value

__all__ = [
    "Artifact",
    "Context",
    "ContextType",
    "Event",
    "EventKind",
    "Execution",
    "ExecutionStatus",
    "LineageGraph",
    "Metric",
    "SqlMetadataStore",
    "metadata_store_from_uri",
    "new_id",
    "validate_key",
    "validate_metric_value",
]


def metadata_store_from_uri(uri: str) -> SqlMetadataStore:
    """Open the metadata store at ``uri`` (``sqlite:///...`` or ``postgresql://...``)."""
    from loopml.metadata.engine import parse_uri

    parse_uri(uri)
    return SqlMetadataStore(uri)
