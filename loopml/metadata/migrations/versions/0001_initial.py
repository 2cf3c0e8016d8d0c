"""The initial metadata schema: contexts, executions, artifacts, events, params, tags, metrics.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
EPOCH = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "contexts",
        sa.Column("id", ID, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("created_at", EPOCH, nullable=False),
        sa.Column("deleted_at", EPOCH, nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["contexts.id"], name="fk_contexts_parent_id_contexts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contexts"),
        sa.UniqueConstraint("type", "name", name="uq_contexts_type_name"),
    )
    op.create_table(
        "executions",
        sa.Column("id", ID, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
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
        sa.ForeignKeyConstraint(
            ["parent_id"], ["executions.id"], name="fk_executions_parent_id_executions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    op.create_index("ix_executions_type_started_at", "executions", ["type", "started_at"])
    op.create_index("ix_executions_status_heartbeat_at", "executions", ["status", "heartbeat_at"])
    op.create_index("ix_executions_parent_id", "executions", ["parent_id"])
    _link_table("associations", "execution_id", "executions")
    op.create_table(
        "artifacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("created_at", EPOCH, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
    )
    _link_table("attributions", "artifact_id", "artifacts")
    op.create_table(
        "events",
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_events_execution_id_executions"
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_events_artifact_id_artifacts"
        ),
        sa.PrimaryKeyConstraint("execution_id", "artifact_id", "kind", "name", name="pk_events"),
    )
    op.create_index("ix_events_artifact_id_kind", "events", ["artifact_id", "kind"])
    for table in ("params", "tags"):
        op.create_table(
            table,
            sa.Column("execution_id", ID, nullable=False),
            sa.Column("key", sa.String(256), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.ForeignKeyConstraint(
                ["execution_id"], ["executions.id"], name=f"fk_{table}_execution_id_executions"
            ),
            sa.PrimaryKeyConstraint("execution_id", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "metrics",
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_metrics_execution_id_executions"
        ),
    )
    op.create_index("ix_metrics_execution_id_key_step", "metrics", ["execution_id", "key", "step"])
    op.create_table(
        "latest_metrics",
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_latest_metrics_execution_id_executions"
        ),
        sa.PrimaryKeyConstraint("execution_id", "key", name="pk_latest_metrics"),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])


def _link_table(name: str, member: str, member_table: str) -> None:
    op.create_table(
        name,
        sa.Column("context_id", ID, nullable=False),
        sa.Column(member, ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=f"fk_{name}_context_id_contexts"
        ),
        sa.ForeignKeyConstraint(
            [member], [f"{member_table}.id"], name=f"fk_{name}_{member}_{member_table}"
        ),
        sa.PrimaryKeyConstraint("context_id", member, name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_{member}", name, [member])


def downgrade() -> None:
    for table in (
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "events",
        "attributions",
        "artifacts",
        "associations",
        "executions",
        "contexts",
    ):
        op.drop_table(table)
