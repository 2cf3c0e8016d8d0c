"""SQLAlchemy Core tables of the metadata store.

The Alembic migrations under ``migrations/versions`` create exactly these
tables; a test compares the two. Timestamps are stored as UTC epoch seconds
(a double), which sorts, indexes and compares the same on every database.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata_obj = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(64)
EPOCH = sa.Float(precision=53)

contexts = sa.Table(
    "contexts",
    metadata_obj,
    sa.Column("id", ID, primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("parent_id", ID, sa.ForeignKey("contexts.id"), nullable=True),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("created_at", EPOCH, nullable=False),
    sa.Column("deleted_at", EPOCH, nullable=True),
    sa.UniqueConstraint("type", "name"),
)

executions = sa.Table(
    "executions",
    metadata_obj,
    sa.Column("id", ID, primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("parent_id", ID, sa.ForeignKey("executions.id"), nullable=True),
    sa.Column("username", sa.String(256), nullable=True),
    sa.Column("started_at", EPOCH, nullable=False),
    sa.Column("ended_at", EPOCH, nullable=True),
    sa.Column("heartbeat_at", EPOCH, nullable=True),
    sa.Column("git_commit", sa.String(64), nullable=True),
    sa.Column("git_dirty", sa.Boolean, nullable=True),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("deleted_at", EPOCH, nullable=True),
    sa.Index(None, "type", "started_at"),
    sa.Index(None, "status", "heartbeat_at"),
    sa.Index(None, "parent_id"),
)

associations = sa.Table(
    "associations",
    metadata_obj,
    sa.Column("context_id", ID, sa.ForeignKey("contexts.id"), primary_key=True),
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Index(None, "execution_id"),
)

artifacts = sa.Table(
    "artifacts",
    metadata_obj,
    sa.Column("id", ID, primary_key=True),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("created_at", EPOCH, nullable=False),
)

attributions = sa.Table(
    "attributions",
    metadata_obj,
    sa.Column("context_id", ID, sa.ForeignKey("contexts.id"), primary_key=True),
    sa.Column("artifact_id", ID, sa.ForeignKey("artifacts.id"), primary_key=True),
    sa.Index(None, "artifact_id"),
)

events = sa.Table(
    "events",
    metadata_obj,
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Column("artifact_id", ID, sa.ForeignKey("artifacts.id"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("created_at", EPOCH, nullable=False),
    sa.Index(None, "artifact_id", "kind"),
)

params = sa.Table(
    "params",
    metadata_obj,
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

tags = sa.Table(
    "tags",
    metadata_obj,
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The time series. No surrogate key: rows are only appended and read by
# (execution, key), which the index serves. NaN is stored as NULL.
metrics = sa.Table(
    "metrics",
    metadata_obj,
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("key", sa.String(256), nullable=False),
    sa.Column("value", sa.Float(precision=53), nullable=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", EPOCH, nullable=False),
    sa.Index(None, "execution_id", "key", "step"),
)

# The last point (highest step, then latest timestamp) of every series, kept
# on write so that searching runs by a metric is one indexed lookup.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata_obj,
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", EPOCH, nullable=False),
    sa.Index(None, "key", "value"),
)

# Pipeline step cache: a key (hash of code, params, input digests, materializer
# versions) -> the successful step execution whose outputs can be reused.
# Written only after the step succeeded and its outputs were verified.
cache_entries = sa.Table(
    "cache_entries",
    metadata_obj,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("execution_id", ID, sa.ForeignKey("executions.id"), nullable=False),
    sa.Column("created_at", EPOCH, nullable=False),
)
