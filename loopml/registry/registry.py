"""The model registry: versions, aliases, checks, reviews and their audit, over the metadata store.

Every write runs in one registry write transaction (see
:class:`~loopml.metadata.RegistryStore`): the governance rules read their
snapshot, the change is made and the audit entry appended, all under one
lock. A refusal writes only its audit entry, then raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from loopml.core.errors import InvalidInputError, LoopMLError, NotFoundError
from loopml.metadata import (
    AliasMove,
    AuditEntry,
    AuditVerification,
    Check,
    Decision,
    ModelVersion,
    RegisteredModel,
)
from loopml.registry import governance
from loopml.registry.errors import GovernanceError, RegistryConflictError
from loopml.registry.policy import Policy, load_policy, roles_of

if TYPE_CHECKING:
    from loopml.metadata import RegistryStore
    from loopml.metadata.registry import RegistryTransaction
    from loopml.registry.card import ModelCard
    from loopml.workspace import Workspace

logger = logging.getLogger(__name__)
T = TypeVar("T")

MODEL_ARTIFACT_TYPE = "loopml.model"
LATEST = "latest"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")
_CHECK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_UNSET: Any = object()


class Refused:
    """What a write transaction returns instead of raising, so its audit entry commits."""

    def __init__(self, error: LoopMLError) -> None:
        self.error = error


class RegistryCore:
    """Reads, registration and the shared write machinery; :class:`ModelRegistry` adds the rest.

    Args:
        workspace: the project's workspace; :func:`loopml.get_workspace` if omitted.
        user: who acts (recorded in the audit log); ``LOOPML_USER`` by default.
    """

    def __init__(self, workspace: Workspace | None = None, *, user: str | None = None) -> None:
        if workspace is None:
            from loopml.workspace import get_workspace

            workspace = get_workspace()
        self.workspace = workspace
        self.user = user or workspace.settings.user
        self._store: RegistryStore | None = None

    @property
    def store(self) -> RegistryStore:
        if self._store is None:
            from loopml.metadata import RegistryStore

            self._store = RegistryStore(self.workspace.metadata.engine)
        return self._store

    def policy(self, model: str) -> Policy:
        """The governance policy of ``model`` (see :mod:`loopml.registry.policy`)."""
        return load_policy(self.workspace.settings, model)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles of the acting user."""
        return roles_of(self.workspace.settings, self.user)

    # --- registering and reading ---------------------------------------------------

    def register_model(
        self,
        name: str,
        artifact_id: str,
        *,
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        author: str | None = None,
    ) -> ModelVersion:
        """Register a model artifact as the next version of ``name`` (created if new).

        Args:
            name: the registered model's name (letters, digits, ``_ . -``).
            artifact_id: the model artifact (digest or unique prefix).
            run_id: the execution that produced it; found through lineage if omitted.
            description: what this version is.
            tags: string tags of the version.
            author: who authored the version (four-eyes); the acting user by default.

        Raises:
            NotFoundError: if the artifact or the run does not exist.
            InvalidInputError: for a bad name or tags.
        """
        _check_name(name)
        metadata = self.workspace.metadata
        artifact = metadata.get_artifact(artifact_id)
        if run_id is not None:
            metadata.get_execution(run_id)
        else:
            producers = [
                e for e in metadata.list_events(artifact_id=artifact.id) if e.kind == "output"
            ]
            run_id = producers[0].execution_id if producers else None
        if artifact.type != MODEL_ARTIFACT_TYPE:
            logger.info("registering %s artifact %s as a model", artifact.type, artifact.id[:12])
        author = author or self.user
        props = {"artifact_type": artifact.type, "registered_by": self.user}
        with self.store.write() as tx:
            if tx.get_model(name) is None:
                tx.create_model(name, self.user)
                tx.append_audit(self.user, "create_model", model=name)
            self._sync_policy(tx, name)
            version = tx.next_version(name)
            tx.insert_version(
                {
                    "model": name,
                    "version": version,
                    "artifact_id": artifact.id,
                    "run_id": run_id,
                    "description": description,
                    "tags": _tags(tags),
                    "properties": props,
                    "author": author,
                },
            )
            details = {"artifact_id": artifact.id, "run_id": run_id, "author": author}
            tx.append_audit(self.user, "register", model=name, version=version, details=details)
            return _found(tx.get_version(name, version))

    def get_model(self, name: str) -> RegisteredModel:
        """A registered model with its aliases and latest version number.

        Raises:
            NotFoundError: if there is no such model.
        """
        with self.store.read() as tx:
            return self._model(tx, name)

    def search_models(
        self, query: str | None = None, *, tags: Mapping[str, str] | None = None
    ) -> list[RegisteredModel]:
        """Models whose name contains ``query`` (any case) and that carry all ``tags``, by name."""
        with self.store.read() as tx:
            found = tx.list_models(query)
        wanted = _tags(tags)
        return [m for m in found if all(m.tags.get(k) == v for k, v in wanted.items())]

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        return self.search_models()

    def get_version(self, name: str, version: int) -> ModelVersion:
        """One version (deleted ones too).

        Raises:
            NotFoundError: if there is no such version.
        """
        with self.store.read() as tx:
            self._model(tx, name)
            return self._version(tx, name, version)

    def list_versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        """The versions of ``name``, oldest first; deleted ones only if asked."""
        with self.store.read() as tx:
            self._model(tx, name)
            return tx.list_versions(name, include_deleted=include_deleted)

    def search_versions(
        self, name: str | None = None, *, tags: Mapping[str, str] | None = None
    ) -> list[ModelVersion]:
        """Live versions (of ``name``, or of every model) that carry all ``tags``."""
        names = [name] if name else [m.name for m in self.list_models()]
        wanted = _tags(tags)
        return [
            v
            for model in names
            for v in self.list_versions(model)
            if all(v.tags.get(k) == val for k, val in wanted.items())
        ]

    def resolve(self, ref: str) -> ModelVersion:
        """The version a reference names: ``NAME`` (latest), ``NAME@ALIAS``, ``NAME:VERSION``.

        Raises:
            NotFoundError: if the model, alias or version does not exist.
            InvalidInputError: if the reference is malformed.
        """
        name, _, alias = ref.partition("@")
        name, _, number = name.partition(":")
        if alias and number:
            raise InvalidInputError(f"{ref!r}: give NAME@ALIAS or NAME:VERSION, not both")
        if number:
            return self.get_version(name, _version_number(number))
        with self.store.read() as tx:
            model = self._model(tx, name)
            if alias and alias != LATEST:
                if alias not in model.aliases:
                    known = ", ".join(sorted(model.aliases)) or "none"
                    raise NotFoundError(f"{name} has no alias {alias!r} (aliases: {known})")
                return self._version(tx, name, model.aliases[alias])
            live = tx.list_versions(name)
            if not live:
                raise NotFoundError(f"{name} has no live version")
            return live[-1]

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of the aliases of ``name`` (or of one alias), oldest first."""
        with self.store.read() as tx:
            self._model(tx, name)
            return tx.alias_moves(name, alias)

    def checks(self, name: str, version: int) -> dict[str, Check]:
        """The latest result of each check recorded on a version."""
        with self.store.read() as tx:
            self._version(tx, name, version)
            return tx.checks(name, version)

    def decisions(self, name: str, version: int | None = None) -> list[Decision]:
        """Approvals and rejections (of one version, or all), oldest first."""
        with self.store.read() as tx:
            self._model(tx, name)
            return tx.decisions(name, version)

    def audit_log(self, *, model: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Audit entries (of one model, or all), newest first."""
        if limit is not None and limit < 1:
            raise InvalidInputError("limit is a number of entries, 1 or more")
        with self.store.read() as tx:
            return tx.audit_entries(model=model, limit=limit)

    def verify_audit(self) -> AuditVerification:
        """Check the whole audit chain; the result names the first broken entry."""
        return self.store.verify_audit()

    def model_card(self, name: str, version: int) -> ModelCard:
        """The model card of a version (see :mod:`loopml.registry.card`)."""
        from loopml.registry.card import build_card

        return build_card(self, name, version)

    # --- helpers shared with the write operations ----------------------------------

    def _model(self, tx: RegistryTransaction, name: str) -> RegisteredModel:
        return _found(tx.get_model(name), f"no registered model {name!r}")

    def _version(self, tx: RegistryTransaction, name: str, version: int) -> ModelVersion:
        return _found(tx.get_version(name, version), f"{name} has no version {version}")

    def _sync_policy(self, tx: RegistryTransaction, name: str) -> Policy:
        """Load the model's policy; audit it when it differs from the one last applied."""
        policy = self.policy(name)
        if tx.policy_hash(name) != policy.hash:
            tx.update_model(name, policy_hash=policy.hash)
            details = {"policy": policy.to_dict(), "source": policy.source, "hash": policy.hash}
            tx.append_audit(self.user, "policy_change", model=name, details=details)
        return policy

    def _refuse(
        self,
        tx: RegistryTransaction,
        error: LoopMLError,
        *,
        action: str,
        model: str,
        version: int | None,
        details: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> Refused:
        rule = getattr(error, "rule", error.error_code)
        tx.append_audit(
            self.user,
            "refused",
            model=model,
            version=version,
            reason=reason,
            details={"action": action, "rule": rule, "message": error.message, **(details or {})},
        )
        return Refused(error)

    def _write(self, body: Callable[[RegistryTransaction], T | Refused]) -> T:
        with self.store.write() as tx:
            result = body(tx)
        if isinstance(result, Refused):
            raise result.error
        return result


def governance_error(refusals: list[governance.Refusal]) -> GovernanceError:
    """One error naming every rule that refused, the first one as its ``rule``."""
    message = "; ".join(refusal.message for refusal in refusals)
    return GovernanceError(message, rule=refusals[0].rule)


def conflict(message: str) -> RegistryConflictError:
    return RegistryConflictError(message)


def _found(value: T | None, message: str = "not found") -> T:
    if value is None:
        raise NotFoundError(message)
    return value


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInputError(
            f"a model name is 1-128 letters, digits, '_', '.', '-' starting with a letter or "
            f"digit, not {name!r}"
        )


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == LATEST:
        raise InvalidInputError(
            f"an alias matches [a-z][a-z0-9_-]* (at most 64 characters, not 'latest'), "
            f"not {alias!r}"
        )
    return alias


def check_check_name(name: object) -> str:
    if not isinstance(name, str) or not _CHECK.match(name):
        raise InvalidInputError(f"a check name is letters, digits, '_', '.', '-', not {name!r}")
    return name


def _version_number(value: object) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise InvalidInputError(f"a version is a number, 1 or more, not {value!r}") from None
    if number < 1:
        raise InvalidInputError(f"a version is a number, 1 or more, not {value!r}")
    return number


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    from loopml.metadata import validate_key

    return {validate_key(str(k), "tag key"): str(v) for k, v in (tags or {}).items()}
