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

# --- model registry and governance (loopml.registry) ---------------------------------
# Registry writes are serialised (BEGIN IMMEDIATE on SQLite, an advisory lock on
# PostgreSQL), so version numbers, alias moves and the audit chain never race.

registered_models = sa.Table(
    "registered_models",
    metadata_obj,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    # intended_use, limitations, license: the user-written parts of the model card.
    sa.Column("properties", sa.JSON, nullable=False),
    # The stable hash of the governance policy last applied, to audit its changes.
    sa.Column("policy_hash", sa.String(64), nullable=True),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("created_at", EPOCH, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata_obj,
    sa.Column("model", sa.String(256), sa.ForeignKey("registered_models.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("artifact_id", ID, sa.ForeignKey("artifacts.id"), nullable=False),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Column("author", sa.String(256), nullable=False),
    sa.Column("created_at", EPOCH, nullable=False),
    sa.Column("deleted_at", EPOCH, nullable=True),
    sa.Index(None, "artifact_id"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata_obj,
    sa.Column("model", sa.String(256), sa.ForeignKey("registered_models.name"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(256), nullable=False),
    sa.Column("updated_at", EPOCH, nullable=False),
)

# Every move of an alias, in order: what rollback and the model card read.
alias_moves = sa.Table(
    "alias_moves",
    metadata_obj,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("previous_version", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("at", EPOCH, nullable=False),
)

# Approvals and rejections, appended; a reviewer's latest decision counts.
model_decisions = sa.Table(
    "model_decisions",
    metadata_obj,
    sa.Column("id", ID, primary_key=True),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("at", EPOCH, nullable=False),
    sa.Index(None, "model", "version"),
)

# The latest result of each named check of a version (the audit log keeps them all).
model_checks = sa.Table(
    "model_checks",
    metadata_obj,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("evidence_artifact_id", ID, sa.ForeignKey("artifacts.id"), nullable=True),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("at", EPOCH, nullable=False),
)

# Append-only and hash-chained: hash = sha256(canonical JSON of the entry + prev_hash).
audit_log = sa.Table(
    "audit_log",
    metadata_obj,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", EPOCH, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("model", sa.String(256), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index(None, "model", "seq"),
)
