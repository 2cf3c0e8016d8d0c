"""Model registry and governance: models, versions, aliases, decisions, checks, audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(64)
EPOCH = sa.Float(precision=53)
NAME = sa.String(256)


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=True),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", EPOCH, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_registered_models"),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", NAME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("author", NAME, nullable=False),
        sa.Column("created_at", EPOCH, nullable=False),
        sa.Column("deleted_at", EPOCH, nullable=True),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_model_versions_model_registered_models"
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_model_versions_artifact_id_artifacts"
        ),
        sa.PrimaryKeyConstraint("model", "version", name="pk_model_versions"),
    )
    op.create_index("ix_model_versions_artifact_id", "model_versions", ["artifact_id"])
    op.create_table(
        "model_aliases",
        sa.Column("model", NAME, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", NAME, nullable=False),
        sa.Column("updated_at", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["model"], ["registered_models.name"], name="fk_model_aliases_model_registered_models"
        ),
        sa.PrimaryKeyConstraint("model", "alias", name="pk_model_aliases"),
    )
    op.create_table(
        "alias_moves",
        sa.Column("model", NAME, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("previous_version", sa.Integer, nullable=True),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("at", EPOCH, nullable=False),
        sa.PrimaryKeyConstraint("model", "alias", "position", name="pk_alias_moves"),
    )
    op.create_table(
        "model_decisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("at", EPOCH, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_decisions"),
    )
    op.create_index("ix_model_decisions_model_version", "model_decisions", ["model", "version"])
    op.create_table(
        "model_checks",
        sa.Column("model", NAME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("evidence_artifact_id", ID, nullable=True),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("at", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_artifact_id"],
            ["artifacts.id"],
            name="fk_model_checks_evidence_artifact_id_artifacts",
        ),
        sa.PrimaryKeyConstraint("model", "version", "name", name="pk_model_checks"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("at", EPOCH, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("model", NAME, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_model_seq", "audit_log", ["model", "seq"])


def downgrade() -> None:
    for name in ("audit_log", "model_checks", "model_decisions", "alias_moves"):
        op.drop_table(name)
    op.drop_table("model_aliases")
    op.drop_table("model_versions")
    op.drop_table("registered_models")
