"""Entities of the model registry as the metadata store records them (never ORM rows).

Versions are numbered from 1 per registered model; timestamps are aware UTC
datetimes. :class:`AuditEntry` is one link of the hash-chained audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first audit entry."""


@dataclasses.dataclass(frozen=True)
class RegisteredModel:
    """A named model: its versions share the name; aliases point at one of them."""

    name: str
    created_by: str
    created_at: datetime
    description: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    aliases: Mapping[str, int] = dataclasses.field(default_factory=dict)
    latest_version: int | None = None


@dataclasses.dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model: its model artifact, the run that made it, its author."""

    model: str
    version: int
    artifact_id: str
    author: str
    created_at: datetime
    run_id: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    deleted_at: datetime | None = None
    aliases: tuple[str, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def ref(self) -> str:
        """``name:version``, as the CLI spells it."""
        return f"{self.model}:{self.version}"


@dataclasses.dataclass(frozen=True)
class AliasMove:
    """One move of an alias: ``kind`` is ``set`` or ``rollback``."""

    model: str
    alias: str
    position: int
    kind: str
    version: int
    previous_version: int | None
    actor: str
    at: datetime
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """An approval or a rejection of a version by a reviewer (with the roles they held)."""

    model: str
    version: int
    actor: str
    decision: str
    at: datetime
    roles: tuple[str, ...] = ()
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Check:
    """The latest result of a named check of a version, with the artifact that proves it."""

    model: str
    version: int
    name: str
    passed: bool
    actor: str
    at: datetime
    evidence_artifact_id: str | None = None


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log; ``hash`` covers the entry and ``prev_hash``."""

    seq: int
    at: datetime
    actor: str
    action: str
    model: str | None
    version: int | None
    details: Mapping[str, Any]
    reason: str | None
    prev_hash: str
    hash: str


@dataclasses.dataclass(frozen=True)
class AuditVerification:
    """What :meth:`RegistryStore.verify_audit` found.

    ``first_broken_seq`` is the sequence number of the first entry that is
    edited, missing before it, or out of order (``None`` when the chain holds);
    ``head_hash`` is the hash of the last entry: keep it elsewhere to detect
    the removal of entries from the end, which no chain can see by itself.
    """

    ok: bool
    entries: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
