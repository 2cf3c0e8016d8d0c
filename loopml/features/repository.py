"""Applied definitions, versioned in the metadata store.

Each :func:`apply` that changes something is an execution of type
``features_apply``, in the context ``(feature_repository, <name>)``, whose
output ``definitions`` is a content-addressed JSON artifact of the whole
repository; the latest completed one is the current version. Applying the
same definitions again records nothing. A change that would break what the
current version promises (a view, feature, entity or service removed, a type
or a join key changed) is refused unless forced. Concurrent applies cannot
claim one version number: the execution that records a version has an id
derived from it, so the database accepts one claim and the other apply
compares again with the version that won (and then records the next number,
returns the winner if it applied the same, or refuses a breaking change).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from loopml.features.definitions import Definitions, FeatureView
from loopml.features.errors import FeatureConflictError, FeatureNotFoundError
from loopml.features.serialize import definitions_from_dict

APPLY_TYPE = "features_apply"
CONTEXT_TYPE = "feature_repository"
DEFINITIONS_EVENT = "definitions"
CLAIM_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True)
class AppliedVersion:
    """One applied version of a feature repository."""

    repository: str
    version: int
    artifact_id: str
    execution_id: str
    applied_at: datetime
    changes: tuple[str, ...] = ()
    user: str | None = None


def apply(
    workspace: Any,
    definitions: Definitions,
    *,
    repository: str = "default",
    force: bool = False,
) -> AppliedVersion:
    """Record ``definitions`` as the repository's new current version.

    Returns:
        The new version, or the current one if nothing changed.

    Raises:
        FeatureConflictError: listing the breaking changes, unless ``force``.
    """
    attempted = 0
    for _ in range(CLAIM_ATTEMPTS):
        current = current_version(workspace, repository)
        old = None if current is None else load_version(workspace, current)
        breaking, changes = compare(old, definitions)
        if breaking and not force:
            raise FeatureConflictError(
                f"apply would break version {current.version if current else 0} of feature "
                f"repository {repository!r}: {'; '.join(breaking)} "
                "(apply with force to do it anyway)"
            )
        artifact = workspace.save(
            definitions.to_dict(),
            properties={"kind": "feature_definitions", "repository": repository},
        )
        if current is not None and current.artifact_id == artifact.id:
            return current
        base = 0 if current is None else current.version
        # A number tried before and still not current was taken by an execution that
        # is not a completed apply (deleted): go past it.
        version = base + 1 if attempted <= base else attempted + 1
        recorded = _record(workspace, repository, artifact.id, version, changes, force)
        if recorded is not None:
            return recorded
        attempted = version
    raise FeatureConflictError(
        f"feature repository {repository!r} kept changing while applying "
        f"({CLAIM_ATTEMPTS} tries): apply again"
    )


def _record(
    workspace: Any,
    repository: str,
    artifact_id: str,
    version: int,
    changes: list[str],
    force: bool,
) -> AppliedVersion | None:
    """Record version ``version``, or return ``None`` if another apply claimed it first.

    The execution's id is derived from the repository and the version number, so
    the insert that records a version is also its claim: of two applies racing for
    one number, the database keeps one and refuses the other, which tries again
    against the new current version.
    """
    from loopml.core.errors import ConflictError
    from loopml.core.hashing import stable_hash
    from loopml.metadata import ExecutionStatus

    store = workspace.metadata
    context = store.get_or_create_context(CONTEXT_TYPE, repository)
    try:
        execution = store.create_execution(
            APPLY_TYPE,
            f"{repository} v{version}",
            execution_id=stable_hash([APPLY_TYPE, context.id, version])[:32],
            context_ids=[context.id],
            params={"version": version, "force": force},
            user=workspace.settings.user,
            properties={"repository": repository, "version": version, "changes": changes},
            status=ExecutionStatus.COMPLETED,
            outputs={DEFINITIONS_EVENT: artifact_id},
        )
    except ConflictError:
        return None
    store.attribute(context.id, artifact_id)
    return _version(execution, artifact_id)


def _version(execution: Any, artifact_id: str) -> AppliedVersion:
    props = execution.properties
    return AppliedVersion(
        repository=str(props.get("repository")),
        version=int(props.get("version", 0)),
        artifact_id=artifact_id,
        execution_id=execution.id,
        applied_at=execution.started_at,
        changes=tuple(props.get("changes") or ()),
        user=execution.user,
    )


def history(workspace: Any, repository: str = "default", limit: int = 100) -> list[AppliedVersion]:
    """Applied versions, newest first (empty if nothing was ever applied)."""
    from loopml.metadata import ExecutionStatus

    store = workspace.metadata
    context = store.find_context(CONTEXT_TYPE, repository)
    if context is None:
        return []
    executions = store.list_executions(
        type=APPLY_TYPE, context_id=context.id, status=ExecutionStatus.COMPLETED, limit=limit
    )
    versions = []
    for execution in executions:
        outputs = [
            e.artifact_id
            for e in store.list_events(execution_id=execution.id)
            if e.kind == "output" and e.name == DEFINITIONS_EVENT
        ]
        if outputs:
            versions.append(_version(execution, outputs[0]))
    return sorted(versions, key=lambda v: v.version, reverse=True)


def current_version(workspace: Any, repository: str = "default") -> AppliedVersion | None:
    """The latest applied version, or ``None``."""
    found = history(workspace, repository, limit=1)
    return found[0] if found else None


def load_version(workspace: Any, version: AppliedVersion) -> Definitions:
    """The definitions of one applied version."""
    return definitions_from_dict(workspace.load(version.artifact_id))


def load_current(workspace: Any, repository: str = "default") -> tuple[Definitions, AppliedVersion]:
    """The current definitions and their version.

    Raises:
        FeatureNotFoundError: if nothing was applied yet.
    """
    current = current_version(workspace, repository)
    if current is None:
        raise FeatureNotFoundError(
            f"no feature definitions applied to repository {repository!r}: "
            "run `loopml features apply` first"
        )
    return load_version(workspace, current), current


def compare(old: Definitions | None, new: Definitions) -> tuple[list[str], list[str]]:
    """(breaking changes, all changes) from ``old`` to ``new``."""
    if old is None:
        return [], ["first version"]
    breaking: list[str] = []
    changes: list[str] = []
    _compare_named("entity", old.entities, new.entities, breaking, changes, _entity_diff)
    _compare_named("feature view", old.views, new.views, breaking, changes, _view_diff)
    _compare_named("on-demand view", old.on_demand, new.on_demand, breaking, changes, _odfv_diff)
    _compare_named("feature service", old.services, new.services, breaking, changes, _service_diff)
    return breaking, changes


def _compare_named(
    what: str, old: Any, new: Any, breaking: list[str], changes: list[str], diff: Any
) -> None:
    before = {item.name: item for item in old}
    after = {item.name: item for item in new}
    for name in before.keys() - after.keys():
        breaking.append(f"{what} {name!r} removed")
        changes.append(f"{what} {name!r} removed")
    for name in after.keys() - before.keys():
        changes.append(f"{what} {name!r} added")
    for name in sorted(before.keys() & after.keys()):
        if before[name] != after[name]:
            hard = diff(before[name], after[name])
            breaking += hard
            changes += hard or [f"{what} {name!r} changed"]


def _entity_diff(old: Any, new: Any) -> list[str]:
    if old.join_keys != new.join_keys:
        return [f"entity {old.name!r} join keys {list(old.join_keys)} -> {list(new.join_keys)}"]
    return []


def _view_diff(old: FeatureView, new: FeatureView) -> list[str]:
    found = []
    if old.entities != new.entities:
        found.append(
            f"feature view {old.name!r} entities {list(old.entities)} -> {list(new.entities)}"
        )
    after = {f.name: f.dtype for f in new.features}
    for feature in old.features:
        if feature.name not in after:
            found.append(f"feature {old.name}:{feature.name} removed")
        elif after[feature.name] != feature.dtype:
            found.append(
                f"feature {old.name}:{feature.name} type {feature.dtype} -> {after[feature.name]}"
            )
    return found


def _odfv_diff(old: Any, new: Any) -> list[str]:
    removed = {f.name for f in old.features} - {f.name for f in new.features}
    return [f"feature {old.name}:{name} removed" for name in sorted(removed)]


def _service_diff(old: Any, new: Any) -> list[str]:
    removed = [ref for ref in old.features if ref not in new.features]
    return [f"feature service {old.name!r} no longer has {ref!r}" for ref in removed]
