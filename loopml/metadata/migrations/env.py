"""Alembic environment of the metadata store.

loopml runs migrations itself (``loopml.metadata.migrate``), always on a
connection it already holds under a lock, handed over in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from loopml.metadata.tables import metadata_obj

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through loopml: `loopml db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata_obj,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
