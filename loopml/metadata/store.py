"""The metadata store: contexts, executions, artifacts, events, params, tags and metrics.

One implementation, :class:`SqlMetadataStore`, serves every database
SQLAlchemy reaches; SQLite (the default) and PostgreSQL are tested with the
same contract suite. Database errors are translated to loopml errors in
:meth:`SqlMetadataStore._transaction`, the one boundary.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from loopml.core.errors import BackendError, ConflictError, InvalidInputError, NotFoundError
from loopml.core.hashing import is_digest
from loopml.metadata import filters, lineage, tables
from loopml.metadata.checks import (
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    new_id,
    validate_key,
)
from loopml.metadata.engine import WRITE_OPTION, create_engine, is_sqlite
from loopml.metadata.entities import (
    Artifact,
    Context,
    EventKind,
    Execution,
    ExecutionStatus,
    Metric,
)
from loopml.metadata.entities import Event as EventEntity
from loopml.metadata.migrate import ensure_schema
from loopml.metadata.rows import (
    artifact_from_row,
    context_from_row,
    event_from_row,
    execution_from_row,
)

logger = logging.getLogger(__name__)

_IN_CHUNK = 500

MetricRow = tuple[str, str, float, int, float]
"""A metric point as written: (execution_id, key, value, step, timestamp in epoch seconds)."""


class SqlMetadataStore:
    """The metadata store over a SQLAlchemy database URL.

    The schema is migrated on first use. The store is safe to share between
    threads; each process opens its own.

    Args:
        uri: ``sqlite:///path/metadata.db`` or ``postgresql://user@host/db``.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._engine: sa.Engine | None = None

    # --- connection management ---------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, created (and the schema migrated) on first use."""
        if self._engine is None:
            engine = create_engine(self.uri)
            try:
                ensure_schema(engine)
            except Exception:
                engine.dispose()
                raise
            self._engine = engine
        return self._engine

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __repr__(self) -> str:
        shown = sa.engine.make_url(self.uri).render_as_string(hide_password=True)
        return f"SqlMetadataStore({shown!r})"

    @contextlib.contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sa.Connection]:
        """One transaction; database errors leave it as loopml errors."""
        try:
            connection = self.engine.connect()
            if write:
                connection = connection.execution_options(**{WRITE_OPTION: True})
            with connection, connection.begin():
                yield connection
        except sa.exc.IntegrityError as exc:
            raise ConflictError(f"the write conflicts with stored metadata: {exc.orig}") from exc
        except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.InterfaceError) as exc:
            raise BackendError(f"metadata store {self!r} failed: {exc.orig}") from exc

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    # --- contexts -------------------------------------------------------------

    def get_or_create_context(
        self,
        type: str,
        name: str,
        *,
        properties: Mapping[str, Any] | None = None,
        parent_id: str | None = None,
    ) -> Context:
        """Return the context ``(type, name)``, creating it if it does not exist.

        Concurrent callers get the same context.
        """
        _check_name(type, "context type")
        _check_name(name, "context name")
        found = self.find_context(type, name)
        if found is not None:
            return found
        row = {
            "id": new_id(),
            "type": type,
            "name": name,
            "parent_id": parent_id,
            "properties": dict(properties or {}),
            "created_at": time.time(),
            "deleted_at": None,
        }
        try:
            with self._transaction(write=True) as db:
                db.execute(tables.contexts.insert(), row)
        except ConflictError:
            found = self.find_context(type, name)
            if found is None:
                raise
            return found
        return context_from_row(row)

    def find_context(self, type: str, name: str) -> Context | None:
        """Return the context ``(type, name)`` or ``None``."""
        c = tables.contexts.c
        with self._transaction() as db:
            row = db.execute(
                sa.select(tables.contexts).where(c.type == type, c.name == name)
            ).first()
        return None if row is None else context_from_row(row._mapping)

    def get_context(self, context_id: str) -> Context:
        """Return a context by id.

        Raises:
            NotFoundError: if there is none.
        """
        with self._transaction() as db:
            row = db.execute(
                sa.select(tables.contexts).where(tables.contexts.c.id == context_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no context with id {context_id!r}")
        return context_from_row(row._mapping)

    def list_contexts(self, type: str | None = None) -> list[Context]:
        """List contexts (of one type if given), oldest first."""
        query = sa.select(tables.contexts).where(tables.contexts.c.deleted_at.is_(None))
        if type is not None:
            query = query.where(tables.contexts.c.type == type)
        with self._transaction() as db:
            rows = db.execute(query.order_by(tables.contexts.c.created_at)).all()
        return [context_from_row(row._mapping) for row in rows]

    def associate(self, context_id: str, execution_id: str) -> None:
        """Record that an execution belongs to a context (idempotent)."""
        with self._transaction(write=True) as db:
            self._insert_ignore(
                db,
                tables.associations,
                [{"context_id": context_id, "execution_id": execution_id}],
            )

    def attribute(self, context_id: str, artifact_id: str) -> None:
        """Record that an artifact belongs to a context (idempotent)."""
        with self._transaction(write=True) as db:
            self._insert_ignore(
                db, tables.attributions, [{"context_id": context_id, "artifact_id": artifact_id}]
            )

    # --- executions -----------------------------------------------------------

    def create_execution(
        self,
        type: str,
        name: str | None = None,
        *,
        context_ids: Sequence[str] = (),
        parent_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        user: str | None = None,
        git_commit: str | None = None,
        git_dirty: bool | None = None,
        environment: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        status: ExecutionStatus = ExecutionStatus.RUNNING,
        execution_id: str | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> Execution:
        """Record a new execution with its params, tags, contexts and events, in one transaction.

        ``inputs`` and ``outputs`` map event names to ids of artifacts already recorded.
        """
        _check_name(type, "execution type")
        execution_id = execution_id or new_id()
        name = name or execution_id[:8]
        _check_name(name, "execution name")
        param_rows = _param_rows(execution_id, params or {})
        tag_rows = _tag_rows(execution_id, tags or {})
        now = time.time()
        row = {
            "id": execution_id,
            "type": type,
            "name": name,
            "status": ExecutionStatus(status).value,
            "parent_id": parent_id,
            "username": user,
            "started_at": now,
            "ended_at": None if status == ExecutionStatus.RUNNING else now,
            "heartbeat_at": now,
            "git_commit": git_commit,
            "git_dirty": git_dirty,
            "environment": dict(environment or {}),
            "properties": dict(properties or {}),
            "error": None,
            "deleted_at": None,
        }
        with self._transaction(write=True) as db:
            if parent_id is not None:
                self._require_execution(db, parent_id)
            db.execute(tables.executions.insert(), row)
            if context_ids:
                db.execute(
                    tables.associations.insert(),
                    [{"context_id": c, "execution_id": execution_id} for c in context_ids],
                )
            if param_rows:
                db.execute(tables.params.insert(), param_rows)
            if tag_rows:
                db.execute(tables.tags.insert(), tag_rows)
            self._insert_events(db, execution_id, inputs, outputs, now)
        return execution_from_row(
            row,
            params={r["key"]: r["value"] for r in param_rows},
            tags={r["key"]: r["value"] for r in tag_rows},
            context_ids=list(context_ids),
        )

    def get_execution(self, execution_id: str) -> Execution:
        """Return an execution with its params, latest metrics, tags and contexts.

        Raises:
            NotFoundError: if there is none.
        """
        found = self._load_executions(
            sa.select(tables.executions).where(tables.executions.c.id == execution_id)
        )
        if not found:
            raise NotFoundError(f"no execution with id {execution_id!r}")
        return found[0]

    def finish_execution(
        self,
        execution_id: str,
        status: ExecutionStatus = ExecutionStatus.COMPLETED,
        *,
        error: str | None = None,
        environment: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        outputs: Mapping[str, str] | None = None,
        artifacts: Sequence[Mapping[str, Any]] = (),
        attribute_to: str | None = None,
        cache_key: str | None = None,
    ) -> None:
        """Mark a running execution final (completed, failed, cached or killed).

        In the same transaction: record ``artifacts`` (as :meth:`put_artifacts`),
        merge ``properties``, record ``outputs`` (event name -> artifact id) and
        attribute them to the context ``attribute_to``,
        and point ``cache_key`` at this execution (step cache), so a step's
        results are committed all at once or not at all.

        ``environment``, if given, replaces the one recorded at the start (packages
        imported during the execution are known only at its end).

        Finishing an execution that is already final with the same status is a
        no-op; with another status it is a :class:`ConflictError`.
        """
        status = ExecutionStatus(status)
        if not status.is_final:
            raise InvalidInputError("finish an execution with a final status, not 'running'")
        e = tables.executions.c
        artifact_rows = _artifact_rows(artifacts, time.time())
        with self._transaction(write=True) as db:
            current = db.execute(sa.select(e.status).where(e.id == execution_id)).scalar()
            if current is None:
                raise NotFoundError(f"no execution with id {execution_id!r}")
            if current != ExecutionStatus.RUNNING:
                if current == status:
                    return
                raise ConflictError(f"execution {execution_id} is already {current}")
            now = time.time()
            values: dict[str, Any] = {"status": status.value, "ended_at": now, "error": error}
            if environment is not None:
                values["environment"] = dict(environment)
            if properties:
                stored = db.execute(sa.select(e.properties).where(e.id == execution_id)).scalar()
                values["properties"] = {**(stored or {}), **properties}
            db.execute(tables.executions.update().where(e.id == execution_id).values(**values))
            if artifact_rows:
                self._insert_ignore(db, tables.artifacts, artifact_rows)
            self._insert_events(db, execution_id, None, outputs, now)
            if attribute_to is not None and outputs:
                self._insert_ignore(
                    db,
                    tables.attributions,
                    [{"context_id": attribute_to, "artifact_id": a} for a in outputs.values()],
                )
            if cache_key is not None:
                _write_cache_entry(db, cache_key, execution_id, now)

    def heartbeat(self, execution_ids: Iterable[str]) -> list[str]:
        """Record that these running executions are alive.

        Returns:
            The ids among them that are no longer running (another process marked
            them failed for a missing heartbeat, or they were finished): their
            owner must stop working on them.
        """
        ids = list(execution_ids)
        if not ids:
            return []
        e = tables.executions.c
        with self._transaction(write=True) as db:
            db.execute(
                tables.executions.update()
                .where(e.id.in_(ids), e.status == ExecutionStatus.RUNNING.value)
                .values(heartbeat_at=time.time())
            )
            running = set(
                db.execute(
                    sa.select(e.id).where(e.id.in_(ids), e.status == ExecutionStatus.RUNNING.value)
                ).scalars()
            )
        return [i for i in ids if i not in running]

    def fail_stale(self, older_than: float, *, type: str | None = None) -> list[str]:
        """Mark failed every running execution whose last heartbeat is older than ``older_than`` s.

        Returns:
            The ids of the executions marked failed.
        """
        e = tables.executions.c
        cutoff = time.time() - older_than
        condition = sa.and_(e.status == ExecutionStatus.RUNNING.value, e.heartbeat_at < cutoff)
        if type is not None:
            condition = sa.and_(condition, e.type == type)
        with self._transaction(write=True) as db:
            ids = list(db.execute(sa.select(e.id).where(condition)).scalars())
            if ids:
                db.execute(
                    tables.executions.update()
                    .where(e.id.in_(ids), e.status == ExecutionStatus.RUNNING.value)
                    .values(
                        status=ExecutionStatus.FAILED.value,
                        ended_at=time.time(),
                        error=f"no heartbeat for {older_than:g} s: the process died",
                    )
                )
        return ids

    def delete_execution(self, execution_id: str) -> None:
        """Soft-delete an execution: it leaves searches but stays in lineage."""
        e = tables.executions.c
        with self._transaction(write=True) as db:
            self._require_execution(db, execution_id)
            db.execute(
                tables.executions.update()
                .where(e.id == execution_id)
                .values(deleted_at=time.time())
            )

    def list_executions(
        self,
        *,
        type: str | None = None,
        context_id: str | None = None,
        parent_id: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int | None = 100,
    ) -> list[Execution]:
        """List executions, newest first."""
        e = tables.executions.c
        query = sa.select(tables.executions).where(e.deleted_at.is_(None))
        if type is not None:
            query = query.where(e.type == type)
        if status is not None:
            query = query.where(e.status == ExecutionStatus(status).value)
        if parent_id is not None:
            query = query.where(e.parent_id == parent_id)
        if context_id is not None:
            a = tables.associations.c
            query = query.where(
                e.id.in_(sa.select(a.execution_id).where(a.context_id == context_id))
            )
        query = query.order_by(e.started_at.desc(), e.id)
        if limit is not None:
            query = query.limit(_check_limit(limit))
        return self._load_executions(query)

    def search_executions(
        self,
        filter: str = "",
        *,
        type: str | None = None,
        context_ids: Sequence[str] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = 1000,
        offset: int = 0,
    ) -> list[Execution]:
        """Search executions with the filter language of :mod:`loopml.metadata.filters`.

        Raises:
            InvalidInputError: for a malformed filter or order clause.
        """
        e = tables.executions.c
        query = sa.select(tables.executions).where(e.deleted_at.is_(None))
        node = filters.parse_filter(filter)
        if node is not None:
            query = query.where(filters.to_sql(node))
        if type is not None:
            query = query.where(e.type == type)
        if context_ids is not None:
            a = tables.associations.c
            query = query.where(
                e.id.in_(sa.select(a.execution_id).where(a.context_id.in_(list(context_ids))))
            )
        query = _apply_order(query, filters.parse_order_by(order_by))
        if limit is not None:
            query = query.limit(_check_limit(limit))
        if offset:
            query = query.offset(offset)
        return self._load_executions(query)

    # --- params, tags, metrics ---------------------------------------------

    def log_params(self, execution_id: str, params: Mapping[str, Any]) -> None:
        """Record params; a param is set once (logging the same value again is a no-op).

        Raises:
            ConflictError: if a param already holds another value.
        """
        rows = _param_rows(execution_id, params)
        if not rows:
            return
        p = tables.params.c
        with self._transaction(write=True) as db:
            self._require_execution(db, execution_id)
            keys = [row["key"] for row in rows]
            existing = dict(
                db.execute(
                    sa.select(p.key, p.value).where(p.execution_id == execution_id, p.key.in_(keys))
                ).all()
            )
            for row in rows:
                old = existing.get(row["key"])
                if old is not None and old != row["value"]:
                    raise ConflictError(
                        f"param {row['key']!r} is already {old!r}; params are set once per run "
                        "(log a metric or a tag for values that change)"
                    )
            new = [row for row in rows if row["key"] not in existing]
            if new:
                db.execute(tables.params.insert(), new)

    def set_tags(self, execution_id: str, tags: Mapping[str, Any]) -> None:
        """Set (or overwrite) tags of an execution."""
        rows = _tag_rows(execution_id, tags)
        if not rows:
            return
        t = tables.tags.c
        with self._transaction(write=True) as db:
            self._require_execution(db, execution_id)
            db.execute(
                tables.tags.delete().where(
                    t.execution_id == execution_id, t.key.in_([row["key"] for row in rows])
                )
            )
            db.execute(tables.tags.insert(), rows)

    def delete_tag(self, execution_id: str, key: str) -> None:
        """Remove a tag. Raises :class:`NotFoundError` if it is not set."""
        t = tables.tags.c
        with self._transaction(write=True) as db:
            done = db.execute(
                tables.tags.delete().where(t.execution_id == execution_id, t.key == key)
            )
            if done.rowcount == 0:
                raise NotFoundError(f"execution {execution_id} has no tag {key!r}")

    def log_metrics(self, rows: Sequence[MetricRow]) -> None:
        """Append metric points in one transaction and keep the latest point per series.

        Rows are ``(execution_id, key, value, step, timestamp)`` and must be
        validated by the caller (the tracking client is); ``NaN`` is kept.
        """
        if not rows:
            return
        # sqlite3 stores NaN as NULL by itself; other drivers are told explicitly.
        stored: Sequence[tuple[Any, ...]] = rows
        if not self.is_sqlite:
            stored = [(r[0], r[1], None if r[2] != r[2] else r[2], r[3], r[4]) for r in rows]
        latest: dict[tuple[str, str], tuple[Any, ...]] = {}
        for row in stored:
            series = (row[0], row[1])
            best = latest.get(series)
            if best is None or row[3] > best[3] or (row[3] == best[3] and row[4] >= best[4]):
                latest[series] = row
        try:
            with self._transaction(write=True) as db:
                db.exec_driver_sql(
                    "INSERT INTO metrics (execution_id, key, value, step, timestamp) VALUES "
                    + self._placeholders(5),
                    stored,
                )
                self._upsert_latest(db, list(latest.values()))
        except (OverflowError, TypeError, sa.exc.StatementError) as exc:
            if isinstance(exc, sa.exc.DBAPIError):
                raise
            raise InvalidInputError(
                f"a metric point cannot be stored ({exc}): steps are 64-bit integers, "
                "values and timestamps real numbers"
            ) from exc

    def _placeholders(self, count: int) -> str:
        mark = "?" if self.is_sqlite else "%s"
        return "(" + ", ".join([mark] * count) + ")"

    def _upsert_latest(self, db: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
        # Only a later point (higher step, or same step and later time) replaces the latest.
        db.exec_driver_sql(
            "INSERT INTO latest_metrics (execution_id, key, value, step, timestamp) VALUES "
            + self._placeholders(5)
            + " ON CONFLICT (execution_id, key) DO UPDATE SET value = excluded.value, "
            "step = excluded.step, timestamp = excluded.timestamp "
            "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
            "AND excluded.timestamp >= latest_metrics.timestamp)",
            rows,
        )

    def get_metric_history(self, execution_id: str, key: str) -> list[Metric]:
        """Return every point of one metric, by step then time."""
        m = tables.metrics.c
        with self._transaction() as db:
            self._require_execution(db, execution_id)
            rows = db.execute(
                sa.select(m.key, m.value, m.step, m.timestamp)
                .where(m.execution_id == execution_id, m.key == key)
                .order_by(m.step, m.timestamp)
            ).all()
        from loopml.metadata.rows import metric_from_row

        return [metric_from_row(row) for row in rows]

    # --- artifacts and events -------------------------------------------------

    def put_artifact(
        self,
        digest: str,
        uri: str,
        size: int,
        type: str,
        properties: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Record an artifact whose bytes are already durable in the artifact store.

        Recording the same digest again returns the stored record unchanged.
        """
        record = {"digest": digest, "uri": uri, "size": size, "type": type}
        return self.put_artifacts([{**record, "properties": properties}])[0]

    def put_artifacts(self, records: Sequence[Mapping[str, Any]]) -> list[Artifact]:
        """Record several artifacts in one transaction (see :meth:`put_artifact`).

        Each record has ``digest``, ``uri``, ``size``, ``type`` and optional ``properties``.
        """
        rows = _artifact_rows(records, time.time())
        if not rows:
            return []
        a = tables.artifacts.c
        with self._transaction(write=True) as db:
            self._insert_ignore(db, tables.artifacts, rows)
            stored = db.execute(
                sa.select(tables.artifacts).where(a.id.in_([row["id"] for row in rows]))
            ).all()
        by_id = {row.id: artifact_from_row(row._mapping) for row in stored}
        return [by_id[row["id"]] for row in rows]

    def get_artifact(self, artifact_id: str) -> Artifact:
        """Return an artifact by its digest or a unique prefix of at least 6 characters.

        Raises:
            NotFoundError: if no artifact matches; InvalidInputError if the prefix is ambiguous.
        """
        with self._transaction() as db:
            return self._resolve_artifact(db, artifact_id)

    @staticmethod
    def _resolve_artifact(db: sa.Connection, artifact_id: object) -> Artifact:
        if not isinstance(artifact_id, str):
            raise InvalidInputError(f"an artifact id is a hex string, not {artifact_id!r}")
        artifact_id = artifact_id.strip().lower()
        a = tables.artifacts.c
        if len(artifact_id) < 6 or not all(ch in "0123456789abcdef" for ch in artifact_id):
            raise InvalidInputError(
                f"{artifact_id!r} is not an artifact id (hex, 6 characters or more)"
            )
        query = sa.select(tables.artifacts)
        if len(artifact_id) == 64:
            query = query.where(a.id == artifact_id)
        else:
            query = query.where(a.id.like(artifact_id + "%")).limit(2)
        rows = db.execute(query).all()
        if not rows:
            raise NotFoundError(f"no artifact with id {artifact_id!r}")
        if len(rows) > 1:
            raise InvalidInputError(
                f"artifact id prefix {artifact_id!r} is ambiguous: give more characters"
            )
        return artifact_from_row(rows[0]._mapping)

    def list_artifacts(self, *, type: str | None = None, limit: int = 100) -> list[Artifact]:
        """List artifacts, newest first."""
        query = sa.select(tables.artifacts)
        if type is not None:
            query = query.where(tables.artifacts.c.type == type)
        query = query.order_by(tables.artifacts.c.created_at.desc()).limit(_check_limit(limit))
        with self._transaction() as db:
            return [artifact_from_row(row._mapping) for row in db.execute(query).all()]

    def add_events(
        self,
        execution_id: str,
        *,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        """Record that an execution consumed ``inputs`` and produced ``outputs``.

        Both map an event name (the artifact's role: ``train``, ``model``) to an
        artifact id. Recording the same event twice is a no-op.
        """
        if not inputs and not outputs:
            return
        with self._transaction(write=True) as db:
            self._require_execution(db, execution_id)
            self._insert_events(db, execution_id, inputs, outputs, time.time())

    def _insert_events(
        self,
        db: sa.Connection,
        execution_id: str,
        inputs: Mapping[str, str] | None,
        outputs: Mapping[str, str] | None,
        now: float,
    ) -> None:
        rows = [
            {
                "execution_id": execution_id,
                "artifact_id": artifact_id,
                "kind": kind.value,
                "name": name,
                "created_at": now,
            }
            for kind, named in ((EventKind.INPUT, inputs or {}), (EventKind.OUTPUT, outputs or {}))
            for name, artifact_id in named.items()
        ]
        if not rows:
            return
        for row in rows:
            _check_name(row["name"], "event name")
        ids = {str(row["artifact_id"]) for row in rows}
        known = set(
            db.execute(
                sa.select(tables.artifacts.c.id).where(tables.artifacts.c.id.in_(ids))
            ).scalars()
        )
        if missing := ids - known:
            raise NotFoundError(f"unknown artifact(s): {', '.join(sorted(missing))}")
        self._insert_ignore(db, tables.events, rows)

    def list_events(
        self, *, execution_id: str | None = None, artifact_id: str | None = None
    ) -> list[EventEntity]:
        """List events of an execution or of an artifact."""
        if execution_id is None and artifact_id is None:
            raise InvalidInputError("list events of an execution or of an artifact")
        ev = tables.events.c
        query = sa.select(tables.events)
        if execution_id is not None:
            query = query.where(ev.execution_id == execution_id)
        if artifact_id is not None:
            query = query.where(ev.artifact_id == artifact_id)
        with self._transaction() as db:
            rows = db.execute(query.order_by(ev.created_at, ev.kind, ev.name)).all()
        return [event_from_row(row._mapping) for row in rows]

    # --- step cache -------------------------------------------------------------

    def cached_outputs(self, cache_key: str) -> tuple[str, dict[str, Artifact]] | None:
        """The completed execution cached under ``cache_key`` and its outputs, in one query."""
        c, e, ev, a = (
            tables.cache_entries.c,
            tables.executions.c,
            tables.events.c,
            tables.artifacts.c,
        )
        query = (
            sa.select(c.execution_id, ev.name, tables.artifacts)
            .join(tables.executions, e.id == c.execution_id)
            .outerjoin(
                tables.events,
                sa.and_(ev.execution_id == c.execution_id, ev.kind == EventKind.OUTPUT.value),
            )
            .outerjoin(tables.artifacts, a.id == ev.artifact_id)
            .where(c.cache_key == cache_key, e.status == ExecutionStatus.COMPLETED.value)
        )
        with self._transaction() as db:
            rows = db.execute(query).all()
        if not rows:
            return None
        outputs = {
            row.name: artifact_from_row(row._mapping) for row in rows if row.name is not None
        }
        return str(rows[0].execution_id), outputs

    def delete_cache_entry(self, cache_key: str) -> None:
        """Forget a cache entry (its outputs were found missing or corrupt)."""
        with self._transaction(write=True) as db:
            db.execute(
                tables.cache_entries.delete().where(tables.cache_entries.c.cache_key == cache_key)
            )

    # --- lineage ----------------------------------------------------------------

    def lineage(
        self, node_id: str, *, direction: str = "upstream", depth: int | None = None
    ) -> lineage.LineageGraph:
        """Return what an artifact or execution came from (upstream) or led to (downstream).

        Args:
            node_id: an artifact digest (or unique prefix) or an execution id.
            direction: ``upstream`` or ``downstream``.
            depth: how many execution hops to follow; ``None`` follows to the end.
        """
        if direction not in ("upstream", "downstream"):
            raise InvalidInputError("direction is 'upstream' or 'downstream'")
        if depth is not None and depth < 0:
            raise InvalidInputError("depth is a non-negative number of hops")
        with self._transaction() as db:
            if isinstance(node_id, str) and self._exists(db, tables.executions, node_id):
                root = node_id
            else:
                root = self._resolve_artifact(db, node_id).id
            graph = lineage.walk(db, root, direction=direction, depth=depth)
        executions = (
            {
                e.id: e
                for e in self._load_executions(
                    sa.select(tables.executions).where(
                        tables.executions.c.id.in_(list(graph.execution_ids))
                    )
                )
            }
            if graph.execution_ids
            else {}
        )
        return lineage.LineageGraph(
            root_id=root,
            direction=direction,
            executions=executions,
            artifacts=graph.artifacts,
            events=graph.events,
        )

    # --- helpers ------------------------------------------------------------------

    def _load_executions(self, query: sa.Select[Any]) -> list[Execution]:
        with self._transaction() as db:
            rows = [row._mapping for row in db.execute(query).all()]
            ids = [row["id"] for row in rows]
            extras = _load_extras(db, ids)
        return [
            execution_from_row(row, **{k: v.get(row["id"], {}) for k, v in extras.items()})
            for row in rows
        ]

    @staticmethod
    def _exists(db: sa.Connection, table: sa.Table, row_id: str) -> bool:
        return db.execute(sa.select(table.c.id).where(table.c.id == row_id)).first() is not None

    def _require_execution(self, db: sa.Connection, execution_id: str) -> None:
        if not self._exists(db, tables.executions, execution_id):
            raise NotFoundError(f"no execution with id {execution_id!r}")

    def _insert_ignore(
        self, db: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]
    ) -> None:
        if is_sqlite(db.engine):
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        db.execute(insert(table).on_conflict_do_nothing(), rows)


def _artifact_rows(records: Sequence[Mapping[str, Any]], now: float) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        digest, size = record["digest"], record["size"]
        if not is_digest(digest):
            raise InvalidInputError(f"{digest!r} is not a sha256 hex digest")
        if not isinstance(size, int) or size < 0:
            raise InvalidInputError("an artifact size is a non-negative integer")
        _check_name(record["type"], "artifact type")
        rows.append(
            {
                "id": digest,
                "uri": record["uri"],
                "size": size,
                "type": record["type"],
                "properties": dict(record.get("properties") or {}),
                "created_at": now,
            }
        )
    return rows


def _write_cache_entry(db: sa.Connection, cache_key: str, execution_id: str, now: float) -> None:
    c = tables.cache_entries.c
    db.execute(tables.cache_entries.delete().where(c.cache_key == cache_key))
    db.execute(
        tables.cache_entries.insert(),
        {"cache_key": cache_key, "execution_id": execution_id, "created_at": now},
    )


def _load_extras(db: sa.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Params, latest metrics, tags and contexts of many executions, in a few queries."""
    extras: dict[str, dict[str, Any]] = {"params": {}, "metrics": {}, "tags": {}, "context_ids": {}}
    sources = {
        "params": (tables.params.c.execution_id, tables.params.c.key, tables.params.c.value),
        "metrics": (
            tables.latest_metrics.c.execution_id,
            tables.latest_metrics.c.key,
            tables.latest_metrics.c.value,
        ),
        "tags": (tables.tags.c.execution_id, tables.tags.c.key, tables.tags.c.value),
    }
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        for name, (owner, key, value) in sources.items():
            query = sa.select(owner, key, value).where(owner.in_(chunk))
            for execution_id, k, v in db.execute(query):
                stored = math.nan if name == "metrics" and v is None else v
                extras[name].setdefault(execution_id, {})[k] = stored
        a = tables.associations.c
        for execution_id, context_id in db.execute(
            sa.select(a.execution_id, a.context_id).where(a.execution_id.in_(chunk))
        ):
            extras["context_ids"].setdefault(execution_id, []).append(context_id)
    return extras


def _apply_order(query: sa.Select[Any], order: list[tuple[filters.Field, bool]]) -> sa.Select[Any]:
    e = tables.executions.c
    for index, (field, descending) in enumerate(order):
        if field.entity == "attributes":
            column: Any = e[field.key]
        else:
            table = {
                "metrics": tables.latest_metrics,
                "params": tables.params,
                "tags": tables.tags,
            }[field.entity]
            alias = table.alias(f"order_{index}")
            query = query.outerjoin(
                alias, sa.and_(alias.c.execution_id == e.id, alias.c.key == field.key)
            )
            column = alias.c.value
        query = query.order_by(
            column.desc().nulls_last() if descending else column.asc().nulls_last()
        )
    return query.order_by(e.started_at.desc(), e.id)


def _stringify(value: Any, what: str, key: str) -> str:
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (bool, int, float)):
        text = str(value)
    else:
        text = repr(value) if not hasattr(value, "__str__") else str(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInputError(f"{what} {key!r} is longer than {MAX_VALUE_LENGTH} characters")
    return text


def _param_rows(execution_id: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(params, Mapping):
        raise InvalidInputError("params must be a mapping of names to values")
    return [
        {
            "execution_id": execution_id,
            "key": validate_key(k, "param name"),
            "value": _stringify(v, "param", k),
        }
        for k, v in params.items()
    ]


def _tag_rows(execution_id: str, tags: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(tags, Mapping):
        raise InvalidInputError("tags must be a mapping of names to values")
    return [
        {
            "execution_id": execution_id,
            "key": validate_key(k, "tag name"),
            "value": _stringify(v, "tag", k),
        }
        for k, v in tags.items()
    ]


def _check_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{what} must be a non-empty string of at most {MAX_NAME_LENGTH} characters"
        )


def _check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise InvalidInputError("limit is a non-negative integer")
    return limit
