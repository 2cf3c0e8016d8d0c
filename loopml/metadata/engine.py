"""Database engines for the metadata store: SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, so readers never block the
writer and concurrent writers wait instead of failing. Write transactions
start with ``BEGIN IMMEDIATE``: they take the write lock up front, which
avoids the deadlock of two readers upgrading to writers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from loopml.core.errors import ConfigError

WRITE_OPTION = "loopml_write"
BUSY_TIMEOUT_MS = 60_000


def parse_uri(uri: str) -> URL:
    """Parse a metadata URI and pick loopml's driver for it.

    ``postgresql://`` uses psycopg 3; ``sqlite:///path`` uses the standard library.

    Raises:
        ConfigError: for a malformed URI or an unsupported database.
    """
    try:
        url = make_url(uri)
    except sa.exc.ArgumentError:
        raise ConfigError(
            "the metadata URI is not a database URL: use sqlite:///path or postgresql://host/db"
        ) from None
    backend = url.get_backend_name()
    shown = url.render_as_string(hide_password=True)
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        return url
    raise ConfigError(
        f"metadata URI {shown!r}: unsupported database {backend!r}; use sqlite:/// or postgresql://"
    )


def create_engine(uri: str) -> sa.Engine:
    """Create an engine for the metadata store at ``uri``."""
    url = parse_uri(uri)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    try:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except ImportError as exc:
        raise ConfigError(
            "PostgreSQL needs the psycopg driver: pip install 'loopml[postgres]'"
        ) from exc


def _sqlite_engine(url: URL) -> sa.Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 60}}
    if in_memory:
        kwargs["poolclass"] = sa.pool.StaticPool
    else:
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the folder of the SQLite store {str(folder)!r}: {exc.strerror}"
            ) from exc
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # LIKE is case-sensitive on PostgreSQL; make SQLite agree (ILIKE folds case on both).
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_sqlite(engine: sa.Engine) -> bool:
    """Tell whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"
