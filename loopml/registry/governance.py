"""The rules of governance as pure functions: may a version take an alias, may a user approve.

They read a snapshot (the version, its checks, its decisions) taken inside
the registry's write transaction and return :class:`Refusal` values; the
registry audits a refusal and raises it as a
:class:`~loopml.registry.errors.GovernanceError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from loopml.metadata import Check, Decision, ModelVersion
from loopml.registry.policy import BLESSING, Policy

APPROVED = "approved"
REJECTED = "rejected"


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A rule that refuses an action, and a message saying how to satisfy it."""

    rule: str
    message: str


def latest_decisions(decisions: Sequence[Decision]) -> dict[str, Decision]:
    """Each reviewer's latest decision (decisions are in time order)."""
    return {decision.actor: decision for decision in decisions}


def counted_approvals(
    policy: Policy, version: ModelVersion, decisions: Sequence[Decision]
) -> list[Decision]:
    """The approvals that count: latest per reviewer, with a required role, not by the author."""
    counted = []
    for decision in latest_decisions(decisions).values():
        if decision.decision != APPROVED:
            continue
        if policy.approver_roles and not set(policy.approver_roles) & set(decision.roles):
            continue
        if policy.four_eyes and decision.actor in authors(version):
            continue
        counted.append(decision)
    return counted


def authors(version: ModelVersion) -> set[str]:
    """Who authored the version: its author and whoever registered it."""
    registered_by = version.properties.get("registered_by")
    return {version.author, *([str(registered_by)] if registered_by else [])}


def promotion_refusals(
    policy: Policy,
    version: ModelVersion,
    alias: str,
    checks: Mapping[str, Check],
    decisions: Sequence[Decision],
) -> list[Refusal]:
    """Every rule that keeps ``alias`` from pointing at ``version``, most basic first."""
    name = f"version {version.version} of {version.model}"
    if version.deleted:
        return [Refusal("deleted", f"{name} is deleted and cannot be promoted: promote another")]
    refusals = [_check_refusal(name, version, check, checks) for check in policy.checks_for(alias)]
    found = [refusal for refusal in refusals if refusal is not None]
    if alias not in policy.protected_aliases:
        return found
    for decision in latest_decisions(decisions).values():
        if decision.decision == REJECTED:
            found.append(
                Refusal(
                    "rejected",
                    f"{name} was rejected by {decision.actor} ({decision.reason or 'no reason'}): "
                    f"{decision.actor} can approve it instead, or promote another version",
                )
            )
    have = len(counted_approvals(policy, version, decisions))
    if have < policy.approvals:
        found.append(Refusal("approvals", _approvals_message(name, policy, version, have)))
    return found


def _check_refusal(
    name: str, version: ModelVersion, check: str, checks: Mapping[str, Check]
) -> Refusal | None:
    result = checks.get(check)
    if result is not None and result.passed:
        return None
    how = (
        f"record_check({version.model!r}, {version.version}, {check!r}, passed=True, "
        "evidence_artifact_id=...)"
    )
    if check == BLESSING:
        if result is None:
            text = f"{name} is not blessed: run the blessing step and {how}"
        else:
            text = (
                f"{name} failed its blessing (evidence {result.evidence_artifact_id or 'none'}): "
                "it cannot be promoted; register and bless a better model"
            )
        return Refusal(f"required_check:{check}", text)
    state = "has no" if result is None else "failed its"
    return Refusal(
        f"required_check:{check}",
        f"{name} {state} {check!r} check, which the policy requires: run it and {how}",
    )


def _approvals_message(name: str, policy: Policy, version: ModelVersion, have: int) -> str:
    roles = (
        f" by a user with role {' or '.join(policy.approver_roles)}"
        if policy.approver_roles
        else ""
    )
    four = f" (not {', '.join(sorted(authors(version)))}: four-eyes)" if policy.four_eyes else ""
    return (
        f"{name} has {have} of {policy.approvals} required approvals: ask for "
        f"`loopml models approve {version.model} {version.version}`{roles}{four}"
    )


def review_refusal(
    policy: Policy, version: ModelVersion, actor: str, roles: Sequence[str]
) -> Refusal | None:
    """Why ``actor`` (holding ``roles``) may not approve or reject ``version``, if they may not."""
    name = f"version {version.version} of {version.model}"
    if version.deleted:
        return Refusal("deleted", f"{name} is deleted: there is nothing to review")
    if policy.four_eyes and actor in authors(version):
        return Refusal(
            "four_eyes",
            f"four-eyes rule: {actor} authored {name} and cannot review it: ask another reviewer",
        )
    if policy.approver_roles and not set(policy.approver_roles) & set(roles):
        return Refusal(
            "roles",
            f"{actor} holds none of the roles {', '.join(policy.approver_roles)} that review "
            f"{version.model}: a reviewer needs one, given under registry.roles in loopml.yaml",
        )
    return None
