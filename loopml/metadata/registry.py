"""Registry storage in the metadata store: models, versions, aliases, decisions, checks, audit.

:class:`RegistryStore` shares the :class:`~loopml.metadata.SqlMetadataStore`'s
engine. Reads run in :meth:`RegistryStore.read`; writes in
:meth:`RegistryStore.write`, which serialises every registry writer (``BEGIN
IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL): a
version number is allocated once, a compare-and-set of an alias sees the
value it compares with, and the audit chain never forks. Governance decides
*inside* that transaction, with the :class:`RegistryTransaction` it is given,
so nothing it read can change before it writes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from loopml.core.errors import BackendError, ConflictError
from loopml.metadata import tables
from loopml.metadata.audit import entry_hash, verify_rows
from loopml.metadata.checks import new_id
from loopml.metadata.engine import WRITE_OPTION, is_sqlite
from loopml.metadata.entities import to_datetime
from loopml.metadata.registry_entities import (
    GENESIS_HASH,
    AliasMove,
    AuditEntry,
    AuditVerification,
    Check,
    Decision,
    ModelVersion,
    RegisteredModel,
)

_PG_REGISTRY_LOCK = 0x6C6F6F70726567  # "loopreg"
_M, _V, _A = tables.registered_models, tables.model_versions, tables.model_aliases


class RegistryStore:
    """Registry tables of the metadata store.

    Args:
        engine: the metadata store's engine (``SqlMetadataStore.engine``), schema at head.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextlib.contextmanager
    def read(self) -> Iterator[RegistryTransaction]:
        """A read-only transaction."""
        with self._connect(write=False) as db:
            yield RegistryTransaction(db)

    @contextlib.contextmanager
    def write(self) -> Iterator[RegistryTransaction]:
        """A write transaction holding the registry's write lock until it commits."""
        with self._connect(write=True) as db:
            if not is_sqlite(self.engine):
                db.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_REGISTRY_LOCK})
            yield RegistryTransaction(db)

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[sa.Connection]:
        try:
            connection = self.engine.connect()
            if write:
                connection = connection.execution_options(**{WRITE_OPTION: True})
            with connection, connection.begin():
                yield connection
        except sa.exc.IntegrityError as exc:
            raise ConflictError(f"the write conflicts with the registry: {exc.orig}") from exc
        except (sa.exc.OperationalError, sa.exc.DatabaseError, sa.exc.InterfaceError) as exc:
            raise BackendError(f"the registry's metadata store failed: {exc.orig}") from exc

    def verify_audit(self) -> AuditVerification:
        """Check the audit chain from the first entry to the last."""
        query = sa.select(tables.audit_log).order_by(tables.audit_log.c.seq)
        with self._connect(write=False) as db:
            return verify_rows(row._mapping for row in db.execute(query))


class RegistryTransaction:
    """Registry reads and writes on one open transaction (see :class:`RegistryStore`)."""

    def __init__(self, db: sa.Connection) -> None:
        self.db = db
        self.now = time.time()

    # --- registered models -----------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel | None:
        row = self.db.execute(sa.select(_M).where(_M.c.name == name)).first()
        return None if row is None else self._model(row._mapping)

    def list_models(self, query: str | None = None) -> list[RegisteredModel]:
        select = sa.select(_M).order_by(_M.c.name)
        if query:
            select = select.where(_M.c.name.ilike(f"%{_escape_like(query)}%", escape="\\"))
        return [self._model(row._mapping) for row in self.db.execute(select)]

    def create_model(self, name: str, actor: str) -> None:
        row = {"name": name, "tags": {}, "properties": {}, "created_by": actor}
        self.db.execute(_M.insert(), {**row, "created_at": self.now})

    def update_model(self, name: str, **values: Any) -> None:
        self.db.execute(_M.update().where(_M.c.name == name).values(**values))

    def _model(self, row: Mapping[Any, Any]) -> RegisteredModel:
        name = row["name"]
        latest = self.db.execute(
            sa.select(sa.func.max(_V.c.version)).where(_V.c.model == name)
        ).scalar()
        return RegisteredModel(
            name=name,
            description=row["description"],
            tags=dict(row["tags"] or {}),
            properties=dict(row["properties"] or {}),
            created_by=row["created_by"],
            created_at=_when(row["created_at"]),
            aliases=self.aliases(name),
            latest_version=None if latest is None else int(latest),
        )

    def policy_hash(self, name: str) -> str | None:
        found = self.db.execute(sa.select(_M.c.policy_hash).where(_M.c.name == name)).scalar()
        return None if found is None else str(found)

    # --- versions ----------------------------------------------------------------------

    def next_version(self, model: str) -> int:
        latest = self.db.execute(
            sa.select(sa.func.max(_V.c.version)).where(_V.c.model == model)
        ).scalar()
        return 1 if latest is None else int(latest) + 1

    def insert_version(self, row: Mapping[str, Any]) -> None:
        values = {"tags": {}, "properties": {}, "description": None, "run_id": None, **row}
        self.db.execute(_V.insert(), {**values, "created_at": self.now, "deleted_at": None})

    def update_version(self, model: str, version: int, **values: Any) -> None:
        where = sa.and_(_V.c.model == model, _V.c.version == version)
        self.db.execute(_V.update().where(where).values(**values))

    def get_version(self, model: str, version: int) -> ModelVersion | None:
        where = sa.and_(_V.c.model == model, _V.c.version == version)
        row = self.db.execute(sa.select(_V).where(where)).first()
        return None if row is None else self._versions([row._mapping])[0]

    def list_versions(self, model: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        query = sa.select(_V).where(_V.c.model == model).order_by(_V.c.version)
        if not include_deleted:
            query = query.where(_V.c.deleted_at.is_(None))
        return self._versions([row._mapping for row in self.db.execute(query)])

    def versions_of_artifact(self, artifact_id: str) -> list[ModelVersion]:
        query = sa.select(_V).where(_V.c.artifact_id == artifact_id).order_by(_V.c.model)
        return self._versions([row._mapping for row in self.db.execute(query)])

    def _versions(self, rows: list[Mapping[Any, Any]]) -> list[ModelVersion]:
        aliases: dict[tuple[str, int], list[str]] = {}
        for model in {row["model"] for row in rows}:
            for alias, version in self.aliases(model).items():
                aliases.setdefault((model, version), []).append(alias)
        return [
            ModelVersion(
                model=row["model"],
                version=int(row["version"]),
                artifact_id=row["artifact_id"],
                run_id=row["run_id"],
                description=row["description"],
                tags=dict(row["tags"] or {}),
                properties=dict(row["properties"] or {}),
                author=row["author"],
                created_at=_when(row["created_at"]),
                deleted_at=to_datetime(row["deleted_at"]),
                aliases=tuple(sorted(aliases.get((row["model"], int(row["version"])), ()))),
            )
            for row in rows
        ]

    # --- aliases ---------------------------------------------------------------------

    def aliases(self, model: str) -> dict[str, int]:
        rows = self.db.execute(sa.select(_A.c.alias, _A.c.version).where(_A.c.model == model))
        return {str(alias): int(version) for alias, version in rows}

    def move_alias(
        self,
        model: str,
        alias: str,
        version: int,
        *,
        expected: int | None,
        actor: str,
        reason: str | None,
        kind: str = "set",
    ) -> None:
        """Point ``alias`` at ``version`` if it points at ``expected`` now (compare-and-set).

        Raises:
            ConflictError: if the alias points elsewhere (a concurrent move won).
        """
        values = {"version": version, "updated_by": actor, "updated_at": self.now}
        if expected is None:
            self.db.execute(_A.insert(), {"model": model, "alias": alias, **values})
        else:
            where = sa.and_(_A.c.model == model, _A.c.alias == alias, _A.c.version == expected)
            if self.db.execute(_A.update().where(where).values(**values)).rowcount != 1:
                raise ConflictError(
                    f"alias {alias!r} of {model} no longer points at version {expected}"
                )
        moves = tables.alias_moves
        position = self.db.execute(
            sa.select(sa.func.count()).where(moves.c.model == model, moves.c.alias == alias)
        ).scalar_one()
        self.db.execute(
            moves.insert(),
            {"model": model, "alias": alias, "position": int(position) + 1, "kind": kind,
             "version": version, "previous_version": expected, "actor": actor,
             "reason": reason, "at": self.now},
        )  # fmt: skip

    def alias_moves(self, model: str, alias: str | None = None) -> list[AliasMove]:
        c = tables.alias_moves.c
        query = sa.select(tables.alias_moves).where(c.model == model)
        if alias is not None:
            query = query.where(c.alias == alias)
        rows = self.db.execute(query.order_by(c.at, c.alias, c.position))
        return [AliasMove(**{**row._mapping, "at": _when(row._mapping["at"])}) for row in rows]

    # --- decisions and checks --------------------------------------------------------

    def add_decision(
        self, model: str, version: int, actor: str, decision: str, roles: list[str], reason: str
    ) -> None:
        self.db.execute(
            tables.model_decisions.insert(),
            {"id": new_id(), "model": model, "version": version, "actor": actor,
             "decision": decision, "roles": roles, "reason": reason, "at": self.now},
        )  # fmt: skip

    def decisions(self, model: str, version: int | None = None) -> list[Decision]:
        c = tables.model_decisions.c
        query = sa.select(tables.model_decisions).where(c.model == model)
        if version is not None:
            query = query.where(c.version == version)
        rows = [row._mapping for row in self.db.execute(query.order_by(c.at))]
        return [
            Decision(
                model=row["model"],
                version=int(row["version"]),
                actor=row["actor"],
                decision=row["decision"],
                roles=tuple(row["roles"] or ()),
                reason=row["reason"],
                at=_when(row["at"]),
            )
            for row in rows
        ]

    def put_check(
        self, model: str, version: int, name: str, passed: bool, evidence: str | None, actor: str
    ) -> None:
        c = tables.model_checks.c
        key = sa.and_(c.model == model, c.version == version, c.name == name)
        self.db.execute(tables.model_checks.delete().where(key))
        self.db.execute(
            tables.model_checks.insert(),
            {"model": model, "version": version, "name": name, "passed": passed,
             "evidence_artifact_id": evidence, "actor": actor, "at": self.now},
        )  # fmt: skip

    def checks(self, model: str, version: int) -> dict[str, Check]:
        c = tables.model_checks.c
        query = sa.select(tables.model_checks).where(c.model == model, c.version == version)
        found = {}
        for row in self.db.execute(query.order_by(c.name)):
            values = dict(row._mapping)
            found[values["name"]] = Check(**{**values, "at": _when(values["at"])})
        return found

    # --- audit log --------------------------------------------------------------------

    def append_audit(
        self,
        actor: str,
        action: str,
        *,
        model: str | None = None,
        version: int | None = None,
        details: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> AuditEntry:
        """Append an entry chained to the last one (the write lock keeps the chain single)."""
        log = tables.audit_log
        last = self.db.execute(
            sa.select(log.c.seq, log.c.hash).order_by(log.c.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (1, GENESIS_HASH) if last is None else (int(last.seq) + 1, last.hash)
        row: dict[str, Any] = {"seq": seq, "at": self.now, "actor": actor, "action": action,
                               "model": model, "version": version,
                               "details": dict(details or {}), "reason": reason}  # fmt: skip
        row["prev_hash"] = prev_hash
        row["hash"] = entry_hash(row, prev_hash)
        self.db.execute(log.insert(), row)
        return _audit_entry(row)

    def audit_entries(
        self, *, model: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Audit entries, newest first."""
        log = tables.audit_log
        query = sa.select(log).order_by(log.c.seq.desc())
        if model is not None:
            query = query.where(log.c.model == model)
        if limit is not None:
            query = query.limit(limit)
        return [_audit_entry(row._mapping) for row in self.db.execute(query)]


def _audit_entry(row: Mapping[Any, Any]) -> AuditEntry:
    values = dict(row)
    return AuditEntry(**{**values, "at": _when(values["at"]), "details": values["details"] or {}})


def _when(epoch: float) -> Any:
    return to_datetime(epoch)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
