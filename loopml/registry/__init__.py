"""The model registry and its governance: versions, aliases, policies, approvals, cards, audit.

:class:`ModelRegistry` registers model artifacts as numbered versions of a
named model, moves aliases (``production``, ``staging``, any
``[a-z][a-z0-9_-]*``) by compare-and-set, rolls them back, and soft-deletes
versions. A per-model :class:`Policy` (YAML) decides which versions protected
aliases may point at: required checks (always a passing ``blessing``),
approvals by role, four-eyes, automatic promotion. Refusals raise
:class:`GovernanceError` naming the rule and how to satisfy it. Every action,
refusals included, is appended to a hash-chained audit log
(:meth:`ModelRegistry.verify_audit`). :class:`ModelCard` tells a version's
story as Markdown (Hugging Face front matter) and HTML. Everything is stored
in the metadata store; the module-level functions act on the default
workspace as ``LOOPML_USER``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.metadata import (
    AliasMove,
    AuditEntry,
    AuditVerification,
    Check,
    Decision,
    ModelVersion,
    RegisteredModel,
)
from loopml.registry.errors import GovernanceError, RegistryConflictError
from loopml.registry.policy import DEFAULT_POLICY, Policy, load_policy

if TYPE_CHECKING:
    from loopml.registry.actions import ModelRegistry
    from loopml.registry.card import ModelCard

__all__ = [
    "DEFAULT_POLICY",
    "AliasMove",
    "AuditEntry",
    "AuditVerification",
    "Check",
    "Decision",
    "GovernanceError",
    "ModelCard",
    "ModelRegistry",
    "ModelVersion",
    "Policy",
    "RegisteredModel",
    "RegistryConflictError",
    "approve",
    "load_policy",
    "model_card",
    "promote",
    "record_check",
    "register_model",
    "reject",
    "rollback",
    "set_alias",
    "trust_pickle",
    "verify_audit",
]


def _registry() -> ModelRegistry:
    from loopml.registry.actions import ModelRegistry

    return ModelRegistry()


def register_model(name: str, artifact_id: str, **kwargs: Any) -> ModelVersion:
    """:meth:`ModelRegistry.register_model` on the default workspace."""
    return _registry().register_model(name, artifact_id, **kwargs)


def record_check(
    name: str, version: int, check: str, passed: bool, evidence_artifact_id: str | None = None
) -> ModelVersion:
    """:meth:`ModelRegistry.record_check` on the default workspace."""
    return _registry().record_check(name, version, check, passed, evidence_artifact_id)


def approve(name: str, version: int, *, reason: str = "") -> ModelVersion:
    """:meth:`ModelRegistry.approve` on the default workspace."""
    return _registry().approve(name, version, reason=reason)


def reject(name: str, version: int, *, reason: str = "") -> ModelVersion:
    """:meth:`ModelRegistry.reject` on the default workspace."""
    return _registry().reject(name, version, reason=reason)


def promote(
    name: str, version: int, alias: str = "production", *, reason: str | None = None
) -> ModelVersion:
    """:meth:`ModelRegistry.promote` on the default workspace."""
    return _registry().promote(name, version, alias, reason=reason)


def set_alias(name: str, alias: str, version: int, **kwargs: Any) -> ModelVersion:
    """:meth:`ModelRegistry.set_alias` (compare-and-set) on the default workspace."""
    return _registry().set_alias(name, alias, version, **kwargs)


def rollback(name: str, alias: str, *, reason: str | None = None) -> ModelVersion:
    """:meth:`ModelRegistry.rollback` on the default workspace."""
    return _registry().rollback(name, alias, reason=reason)


def trust_pickle(name: str, version: int, reason: str) -> ModelVersion:
    """:meth:`ModelRegistry.trust_pickle` on the default workspace."""
    return _registry().trust_pickle(name, version, reason)


def model_card(name: str, version: int) -> ModelCard:
    """:meth:`ModelRegistry.model_card` on the default workspace."""
    return _registry().model_card(name, version)


def verify_audit() -> AuditVerification:
    """:meth:`ModelRegistry.verify_audit` on the default workspace."""
    return _registry().verify_audit()


def __getattr__(name: str) -> Any:
    # SQLAlchemy and the card renderers load with the first registry call, not with this package.
    if name == "ModelRegistry":
        from loopml.registry.actions import ModelRegistry

        return ModelRegistry
    if name == "ModelCard":
        from loopml.registry.card import ModelCard

        return ModelCard
    raise AttributeError(f"module 'loopml.registry' has no attribute {name!r}")
