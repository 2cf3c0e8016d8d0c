""":class:`ModelRegistry`: the registry's governed writes on top of :class:`RegistryCore`.

Alias moves (``set_alias``, ``promote``, ``rollback``), reviews (``approve``,
``reject``), checks (``record_check``, which may promote automatically),
soft delete, tags and descriptions, and the pickle opt-in. Each is one write
transaction that audits what it did, or audits the refusal and raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidInputError
from loopml.metadata import ModelVersion
from loopml.registry import governance
from loopml.registry.policy import Policy
from loopml.registry.registry import (
    _UNSET,
    Refused,
    RegistryCore,
    _check_name,
    _tags,
    check_alias,
    check_check_name,
    conflict,
    governance_error,
)

if TYPE_CHECKING:
    from loopml.metadata.registry import RegistryTransaction

_CARD_FIELDS = ("intended_use", "limitations", "license")


class ModelRegistry(RegistryCore):
    """The model registry of one workspace, acting as ``user`` (default ``Settings.user``).

    Args:
        workspace: the project's workspace; :func:`loopml.get_workspace` if omitted.
        user: who acts (recorded in the audit log); ``LOOPML_USER`` by default.
    """

    # --- aliases -----------------------------------------------------------------------

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected: int | None = _UNSET,
        reason: str | None = None,
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` if it points at ``expected`` now (compare-and-set).

        Protected aliases need the policy to allow the version (see :meth:`promote`).

        Args:
            name: the registered model.
            alias: the alias (``[a-z][a-z0-9_-]*``).
            version: the version to point at.
            expected: the version the alias points at now, ``None`` if unset; when
                omitted, whatever it points at (no compare).
            reason: why, for the audit log.

        Raises:
            RegistryConflictError: if the alias points elsewhere than ``expected``.
            GovernanceError: if the policy refuses (audited).
            NotFoundError: if the model or version does not exist (audited).
        """
        check_alias(alias)

        def move(tx: RegistryTransaction) -> ModelVersion | Refused:
            self._model(tx, name)
            policy = self._sync_policy(tx, name)
            target = tx.get_version(name, version)
            details = {"alias": alias}
            if target is None:
                from loopml.core.errors import NotFoundError

                missing = NotFoundError(
                    f"{name} has no version {version}: an alias can only point at a registered "
                    f"version (see `loopml models versions {name}`)"
                )
                return self._refuse(
                    tx,
                    missing,
                    action="set_alias",
                    model=name,
                    version=version,
                    details=details,
                    reason=reason,
                )
            current = tx.aliases(name).get(alias)
            if expected is not _UNSET and current != expected:
                error = conflict(
                    f"alias {alias!r} of {name} points at {_show(current)}, not "
                    f"{_show(expected)}: someone moved it; read it again and retry"
                )
                return self._refuse(
                    tx,
                    error,
                    action="set_alias",
                    model=name,
                    version=version,
                    details={**details, "current": current},
                    reason=reason,
                )
            refusals = governance.promotion_refusals(
                policy, target, alias, tx.checks(name, version), tx.decisions(name, version)
            )
            if refusals:
                return self._refuse(
                    tx,
                    governance_error(refusals),
                    action="set_alias",
                    model=name,
                    version=version,
                    details=details,
                    reason=reason,
                )
            if current != version:
                tx.move_alias(
                    name, alias, version, expected=current, actor=self.user, reason=reason
                )
                tx.append_audit(
                    self.user,
                    "alias_move",
                    model=name,
                    version=version,
                    reason=reason,
                    details={"alias": alias, "previous": current},
                )
            return self._version(tx, name, version)

        return self._write(move)

    def promote(
        self, name: str, version: int, alias: str = "production", *, reason: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` if the model's policy allows it.

        For a protected alias the version needs a passing ``blessing`` check,
        the policy's other required checks, its approvals, and no standing
        rejection. A deleted version is never promoted.

        Raises:
            GovernanceError: naming the rule and how to satisfy it (the refusal is audited).
        """
        return self.set_alias(name, alias, version, reason=reason)

    def rollback(self, name: str, alias: str, *, reason: str | None = None) -> ModelVersion:
        """Move ``alias`` back to the version it pointed at before its current one.

        Repeated rollbacks walk further back. The earlier version took the
        alias under the policy once, so only the deleted rule is checked again.

        Raises:
            RegistryConflictError: if the alias has no earlier version.
        """
        check_alias(alias)

        def back(tx: RegistryTransaction) -> ModelVersion | Refused:
            self._model(tx, name)
            stack: list[int] = []
            for move in tx.alias_moves(name, alias):
                if move.kind == "rollback":
                    stack.pop()
                else:
                    stack.append(move.version)
            current = tx.aliases(name).get(alias)
            if len(stack) < 2:
                error = conflict(
                    f"alias {alias!r} of {name} has no earlier version to roll back to"
                )
                return self._refuse(
                    tx,
                    error,
                    action="rollback",
                    model=name,
                    version=current,
                    details={"alias": alias},
                    reason=reason,
                )
            target = self._version(tx, name, stack[-2])
            if target.deleted:
                error = governance_error(
                    [
                        governance.Refusal(
                            "deleted",
                            f"version {target.version} of {name} was deleted: promote another",
                        )
                    ]
                )
                return self._refuse(
                    tx,
                    error,
                    action="rollback",
                    model=name,
                    version=target.version,
                    details={"alias": alias},
                    reason=reason,
                )
            tx.move_alias(
                name,
                alias,
                target.version,
                expected=current,
                actor=self.user,
                reason=reason,
                kind="rollback",
            )
            tx.append_audit(
                self.user,
                "rollback",
                model=name,
                version=target.version,
                reason=reason,
                details={"alias": alias, "previous": current},
            )
            return self._version(tx, name, target.version)

        return self._write(back)

    # --- checks and reviews ---------------------------------------------------------

    def record_check(
        self,
        name: str,
        version: int,
        check: str,
        passed: bool,
        evidence_artifact_id: str | None = None,
    ) -> ModelVersion:
        """Record the result of a check (``blessing``, ``data_validation``, ...) on a version.

        The latest result of a check counts. If the policy promotes automatically
        and now allows it, the alias moves (only forward, to a newer version).

        Raises:
            NotFoundError: if the version or the evidence artifact does not exist.
        """
        check_check_name(check)
        evidence = None
        if evidence_artifact_id is not None:
            evidence = self.workspace.metadata.get_artifact(evidence_artifact_id).id

        def record(tx: RegistryTransaction) -> ModelVersion:
            self._version(tx, name, version)
            policy = self._sync_policy(tx, name)
            tx.put_check(name, version, check, bool(passed), evidence, self.user)
            tx.append_audit(
                self.user,
                "check",
                model=name,
                version=version,
                details={"check": check, "passed": bool(passed), "evidence": evidence},
            )
            self._auto_promote(tx, name, version, policy)
            return self._version(tx, name, version)

        return self._write(record)

    def record_blessing(self, name: str, version: int, blessing_artifact_id: str) -> ModelVersion:
        """Record the ``blessing`` check from a stored blessing artifact: passed = its ``blessed``.

        The result is read from the evidence itself (an object with ``.blessed``,
        or a mapping with ``"blessed"``), so the check cannot disagree with it.

        Raises:
            InvalidInputError: if the artifact does not say whether the model is blessed.
        """
        evidence = self.workspace.load(blessing_artifact_id)
        blessed = getattr(evidence, "blessed", None)
        if blessed is None and isinstance(evidence, Mapping):
            blessed = evidence.get("blessed")
        if not isinstance(blessed, bool):
            raise InvalidInputError(
                f"artifact {blessing_artifact_id} is not a blessing (it has no boolean 'blessed')"
            )
        return self.record_check(name, version, "blessing", blessed, blessing_artifact_id)

    def approve(self, name: str, version: int, *, reason: str = "") -> ModelVersion:
        """Approve a version as the acting user (with the roles ``registry.roles`` gives them).

        Raises:
            GovernanceError: four-eyes (the author cannot approve) or a missing role (audited).
        """
        return self._review(name, version, governance.APPROVED, reason)

    def reject(self, name: str, version: int, *, reason: str = "") -> ModelVersion:
        """Reject a version: no protected alias while this is the reviewer's latest word."""
        return self._review(name, version, governance.REJECTED, reason)

    def _review(self, name: str, version: int, decision: str, reason: str) -> ModelVersion:
        roles = list(self.roles)
        action = "approve" if decision == governance.APPROVED else "reject"

        def review(tx: RegistryTransaction) -> ModelVersion | Refused:
            target = self._version(tx, name, version)
            policy = self._sync_policy(tx, name)
            refusal = governance.review_refusal(policy, target, self.user, roles)
            if refusal is not None:
                return self._refuse(
                    tx,
                    governance_error([refusal]),
                    action=action,
                    model=name,
                    version=version,
                    reason=reason,
                )
            tx.add_decision(name, version, self.user, decision, roles, reason)
            tx.append_audit(
                self.user,
                action,
                model=name,
                version=version,
                reason=reason,
                details={"roles": roles},
            )
            self._auto_promote(tx, name, version, policy)
            return self._version(tx, name, version)

        return self._write(review)

    def _auto_promote(
        self, tx: RegistryTransaction, name: str, version: int, policy: Policy
    ) -> None:
        alias = policy.auto_promote
        if alias is None:
            return
        target = self._version(tx, name, version)
        current = tx.aliases(name).get(alias)
        if current is not None and current >= version:
            return  # Never backwards: an old version's late check does not demote production.
        checks, decisions = tx.checks(name, version), tx.decisions(name, version)
        if governance.promotion_refusals(policy, target, alias, checks, decisions):
            return
        reason = f"auto_promote: the policy of {name} allows version {version}"
        tx.move_alias(name, alias, version, expected=current, actor=self.user, reason=reason)
        tx.append_audit(
            self.user,
            "alias_move",
            model=name,
            version=version,
            reason=reason,
            details={"alias": alias, "previous": current, "auto": True},
        )

    # --- the rest -----------------------------------------------------------------

    def delete_version(self, name: str, version: int, *, reason: str | None = None) -> ModelVersion:
        """Soft-delete a version: it stays listed with ``--all``, and cannot be promoted.

        Raises:
            RegistryConflictError: if an alias points at it (move the alias first).
        """

        def delete(tx: RegistryTransaction) -> ModelVersion | Refused:
            target = self._version(tx, name, version)
            if target.aliases:
                error = conflict(
                    f"version {version} of {name} is {', '.join(target.aliases)}: move "
                    "the alias to another version before deleting it"
                )
                return self._refuse(
                    tx, error, action="delete", model=name, version=version, reason=reason
                )
            if not target.deleted:
                tx.update_version(name, version, deleted_at=tx.now)
                tx.append_audit(self.user, "delete", model=name, version=version, reason=reason)
            return self._version(tx, name, version)

        return self._write(delete)

    def set_tags(self, name: str, tags: Mapping[str, Any], *, version: int | None = None) -> None:
        """Add or replace tags of a model, or of one of its versions."""
        self._update_map(name, version, "tags", _tags(tags), remove=())

    def delete_tag(self, name: str, key: str, *, version: int | None = None) -> None:
        """Remove a tag of a model or version (no error if absent)."""
        self._update_map(name, version, "tags", {}, remove=(key,))

    def describe(
        self,
        name: str,
        *,
        version: int | None = None,
        description: str | None = None,
        intended_use: str | None = None,
        limitations: str | None = None,
        license: str | None = None,
    ) -> None:
        """Set the description (of the model or a version) and the card's user-written parts."""
        card = {
            k: v
            for k, v in zip(_CARD_FIELDS, (intended_use, limitations, license), strict=True)
            if v is not None
        }
        if card and version is not None:
            raise InvalidInputError(
                "intended_use, limitations and license describe the model, not a version"
            )

        def update(tx: RegistryTransaction) -> None:
            self._version(tx, name, version) if version else self._model(tx, name)
            if description is not None:
                if version is None:
                    tx.update_model(name, description=description)
                else:
                    tx.update_version(name, version, description=description)
            if card:
                props = {**self._model(tx, name).properties, **card}
                tx.update_model(name, properties=props)
            changed = {**card, **({"description": description} if description is not None else {})}
            tx.append_audit(self.user, "describe", model=name, version=version, details=changed)

        self._write(update)

    def trust_pickle(self, name: str, version: int, reason: str) -> ModelVersion:
        """Opt in to loading this version from a pickle-based format, and audit who did and why."""
        if not reason or not reason.strip():
            raise InvalidInputError("trusting a pickle needs a reason, for the audit log")

        def trust(tx: RegistryTransaction) -> ModelVersion:
            target = self._version(tx, name, version)
            tx.update_version(name, version, properties={**target.properties, "trust_pickle": True})
            tx.append_audit(
                self.user,
                "trust_pickle",
                model=name,
                version=version,
                reason=reason,
                details={"artifact_id": target.artifact_id},
            )
            return self._version(tx, name, version)

        return self._write(trust)

    def is_pickle_trusted(self, name: str, version: int) -> bool:
        """Whether someone opted in (:meth:`trust_pickle`) to pickle for this version."""
        return bool(self.get_version(name, version).properties.get("trust_pickle"))

    def load_model(self, ref: str) -> Any:
        """Load the model package a reference names (``NAME@ALIAS``, ``NAME:VERSION``, ``NAME``).

        A pickled model loads only if someone opted in for that version
        (:meth:`trust_pickle`, audited); any other is refused with
        :class:`~loopml.core.errors.UnsafeLoadError`, whatever the caller wants.

        Returns:
            A :class:`loopml.models.LoadedModel`.
        """
        from loopml.models import load_model

        version = self.resolve(ref)
        trusted = self.is_pickle_trusted(version.model, version.version)
        return load_model(version.artifact_id, allow_pickle=trusted, workspace=self.workspace)

    def _update_map(
        self,
        name: str,
        version: int | None,
        field: str,
        add: dict[str, str],
        remove: tuple[str, ...],
    ) -> None:
        _check_name(name)

        def update(tx: RegistryTransaction) -> None:
            target = self._version(tx, name, version) if version else self._model(tx, name)
            values = {k: v for k, v in {**target.tags, **add}.items() if k not in remove}
            if version:
                tx.update_version(name, version, tags=values)
            else:
                tx.update_model(name, tags=values)
            tx.append_audit(
                self.user,
                "tags",
                model=name,
                version=version,
                details={"set": add, "removed": list(remove)},
            )

        self._write(update)


def _show(version: int | None) -> str:
    return "no version" if version is None else f"version {version}"
