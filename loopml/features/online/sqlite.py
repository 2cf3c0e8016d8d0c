"""The default online store: one SQLite table, read with one prepared ``SELECT`` per call.

Each thread keeps its own connection (opened on first use, in WAL mode), so a
lookup pays for no connection setup; a lookup of many keys is one
``SELECT ... WHERE entity_key IN (...)``.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Literal

from loopml.features.errors import OnlineStoreError
from loopml.features.online.base import (
    OnlineRecord,
    OnlineStore,
    Row,
    check_time,
    dump_values,
    load_many,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS online_features (
    view TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    event_time REAL NOT NULL,
    created REAL NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (view, entity_key)
) WITHOUT ROWID
"""
UPSERT = """
INSERT INTO online_features (view, entity_key, event_time, created, value)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (view, entity_key) DO UPDATE SET
    event_time = excluded.event_time, created = excluded.created,
    value = excluded.value
WHERE excluded.event_time > online_features.event_time
   OR (excluded.event_time = online_features.event_time
       AND excluded.created >= online_features.created)
"""
SELECT_ONE = (
    "SELECT entity_key, event_time, created, value FROM online_features "
    "WHERE view = ? AND entity_key = ?"
)
SELECT_MANY = (
    "SELECT entity_key, event_time, created, value FROM online_features "
    "WHERE view = ? AND entity_key IN ({marks})"
)
_CHUNK = 900


@dataclasses.dataclass(frozen=True)
class SqliteOnlineStoreConfig:
    """Configuration of a :class:`SqliteOnlineStore`: the database file."""

    path: str
    type: Literal["sqlite"] = "sqlite"


class SqliteOnlineStore(OnlineStore):
    """Records in one table of a SQLite file.

    Args:
        path: the database file (created with its folder on first use).
    """

    type: ClassVar[str] = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteOnlineStore({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(SCHEMA)
            connection.commit()
        except (sqlite3.Error, OSError) as exc:
            raise OnlineStoreError(f"cannot open the online store {self.path}: {exc}") from exc
        with self._lock:
            self._connections.append(connection)
        return connection

    def put(self, view: str, rows: Iterable[Row]) -> int:
        params = (
            (view, key, check_time(r.event_time), check_time(r.created), dump_values(r.values))
            for key, r in rows
        )
        connection = self._connection()
        try:
            before = connection.total_changes
            with connection:
                connection.executemany(UPSERT, params)
            return connection.total_changes - before
        except sqlite3.Error as exc:
            raise OnlineStoreError(f"online store {self.path}: {exc}") from exc

    def get(self, view: str, keys: Sequence[str]) -> list[OnlineRecord | None]:
        connection = self._connection()
        try:
            if len(keys) == 1:
                rows = connection.execute(SELECT_ONE, (view, keys[0])).fetchall()
            else:
                rows = list(self._select_many(connection, view, keys))
        except sqlite3.Error as exc:
            raise OnlineStoreError(f"online store {self.path}: {exc}") from exc
        values = load_many([row[3] for row in rows])
        found = {
            row[0]: OnlineRecord(row[1], v, row[2]) for row, v in zip(rows, values, strict=True)
        }
        return [found.get(key) for key in keys]

    @staticmethod
    def _select_many(
        connection: sqlite3.Connection, view: str, keys: Sequence[str]
    ) -> Iterator[tuple[str, float, float, str]]:
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            query = SELECT_MANY.format(marks=",".join("?" * len(chunk)))
            yield from connection.execute(query, (view, *chunk))

    def delete(self, view: str, keys: Sequence[str] | None = None) -> int:
        connection = self._connection()
        try:
            with connection:
                if keys is None:
                    done = connection.execute("DELETE FROM online_features WHERE view = ?", (view,))
                    return done.rowcount
                removed = 0
                for key in keys:
                    removed += connection.execute(
                        "DELETE FROM online_features WHERE view = ? AND entity_key = ?",
                        (view, key),
                    ).rowcount
                return removed
        except sqlite3.Error as exc:
            raise OnlineStoreError(f"online store {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
