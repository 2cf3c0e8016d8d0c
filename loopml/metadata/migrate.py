"""Schema migrations of the metadata store, applied on first use and by ``loopml db upgrade``.

Alembic holds the migration scripts. loopml runs them on a connection it owns,
under a database-wide lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on
PostgreSQL) and re-reads the version after taking the lock, so that two
processes starting at once never both migrate. A store already at the head
revision is recognised with one query, without importing Alembic.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from loopml.core.errors import MigrationError
from loopml.metadata.engine import WRITE_OPTION, is_sqlite

logger = logging.getLogger(__name__)

HEAD_REVISION = "0003"
"""The revision this loopml needs; a test checks it is the head of the scripts."""

VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x6C6F6F706D6C  # "loopml"
_SCRIPTS = Path(__file__).parent / "migrations"


def current_revision(connection: sa.Connection) -> str | None:
    """Return the schema revision of the database, ``None`` if it has no schema yet."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").first()
    return None if row is None else str(row[0])


def ensure_schema(engine: sa.Engine) -> None:
    """Bring the schema to :data:`HEAD_REVISION` unless it is there already.

    An empty database gets the tables of :mod:`loopml.metadata.tables` and the
    head revision stamp directly (a test proves them equal to what the
    migrations build): a new store is ready in milliseconds, without importing
    Alembic. An older schema is migrated by Alembic.
    """
    with engine.connect() as connection:
        revision = current_revision(connection)
        connection.rollback()
    if revision == HEAD_REVISION:
        return
    if revision is None and _create_fresh(engine):
        return
    upgrade(engine)


def _create_fresh(engine: sa.Engine) -> bool:
    """Create the head schema in an empty database; False if it was not empty after all."""
    from loopml.metadata.tables import metadata_obj

    try:
        connection = engine.connect().execution_options(**{WRITE_OPTION: True})
        with connection, connection.begin():
            _lock(connection)
            if current_revision(connection) is not None:
                return False
            metadata_obj.create_all(connection)
            version = sa.Table(
                VERSION_TABLE,
                sa.MetaData(),
                sa.Column("version_num", sa.String(32), primary_key=True),
            )
            version.create(connection)
            connection.execute(version.insert().values(version_num=HEAD_REVISION))
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise MigrationError(f"could not create the metadata schema: {exc}") from exc
    logger.info("created metadata schema at revision %s", HEAD_REVISION)
    return True


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Migrate the schema to ``revision`` under the database-wide migration lock.

    Returns:
        The revision the database is at afterwards.

    Raises:
        MigrationError: if the database is newer than this loopml or a migration fails.
    """
    from alembic import command
    from alembic.config import Config

    try:
        connection = engine.connect().execution_options(**{WRITE_OPTION: True})
        with connection, connection.begin():
            _lock(connection)
            before = current_revision(connection)
            _refuse_unknown(before)
            if before != HEAD_REVISION or revision != "head":
                logger.info("migrating metadata schema from %s to %s", before, revision)
                config = Config()
                config.set_main_option("script_location", str(_SCRIPTS))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            after = current_revision(connection)
    except MigrationError:
        raise
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise MigrationError(f"could not migrate the metadata schema: {exc}") from exc
    return after


def _lock(connection: sa.Connection) -> None:
    if is_sqlite(connection.engine):
        return  # BEGIN IMMEDIATE already holds the database's write lock.
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    known = {path.name.split("_", 1)[0] for path in (_SCRIPTS / "versions").glob("[0-9]*.py")}
    if revision not in known:
        raise MigrationError(
            f"the metadata store is at schema revision {revision!r}, which this loopml does "
            "not know: upgrade loopml, or point LOOPML_METADATA_URI at another store"
        )
