"""The metadata store: the spine of lineage.

It records contexts (experiments, pipelines, pipeline runs), executions (runs,
steps, validations, deployments) with their params, metrics, tags, status,
timings and code version, artifacts known by their sha256, and the events
joining executions to the artifacts they consumed and produced. Every other
capability reads and writes through it. SQLite is the default; PostgreSQL is
the same code behind a ``postgresql://`` URL. The schema is migrated with
Alembic on first use or by ``loopml db upgrade``. The model registry's
records (:class:`RegisteredModel`, :class:`ModelVersion`, aliases, decisions,
checks, the hash-chained :class:`AuditEntry` log) live here too, written
through :class:`RegistryStore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.metadata.checks import new_id, validate_key, validate_metric_value
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
from loopml.metadata.registry_entities import (
    AliasMove,
    AuditEntry,
    AuditVerification,
    Check,
    Decision,
    ModelVersion,
    RegisteredModel,
)

if TYPE_CHECKING:
    from loopml.metadata.registry import RegistryStore
    from loopml.metadata.store import SqlMetadataStore

__all__ = [
    "AliasMove",
    "Artifact",
    "AuditEntry",
    "AuditVerification",
    "Check",
    "Context",
    "ContextType",
    "Decision",
    "Event",
    "EventKind",
    "Execution",
    "ExecutionStatus",
    "LineageGraph",
    "Metric",
    "ModelVersion",
    "RegisteredModel",
    "RegistryStore",
    "SqlMetadataStore",
    "metadata_store_from_uri",
    "new_id",
    "validate_key",
    "validate_metric_value",
]


def metadata_store_from_uri(uri: str) -> SqlMetadataStore:
    """Open the metadata store at ``uri`` (``sqlite:///...`` or ``postgresql://...``).

    Raises:
        ConfigError: for a malformed URI or an unsupported database.
    """
    from loopml.metadata.engine import parse_uri
    from loopml.metadata.store import SqlMetadataStore

    parse_uri(uri)
    return SqlMetadataStore(uri)


def __getattr__(name: str) -> Any:
    # SQLAlchemy is imported when the store is first needed, not with the entities.
    if name == "SqlMetadataStore":
        from loopml.metadata.store import SqlMetadataStore

        return SqlMetadataStore
    if name == "RegistryStore":
        from loopml.metadata.registry import RegistryStore

        return RegistryStore
    raise AttributeError(f"module 'loopml.metadata' has no attribute {name!r}")
