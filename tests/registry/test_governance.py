"""Governance: YAML policies, approvals by role, four-eyes, auto-promotion, audited refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopml.core.errors import ConfigError
from loopml.registry import DEFAULT_POLICY, GovernanceError, ModelRegistry
from loopml.registry.policy import parse_policy
from loopml.workspace import Workspace

POLICY = """
required_checks: [blessing, data_validation]
approvals: {count: 1, roles: [ml-lead]}
four_eyes: true
protected_aliases: [production]
"""


@pytest.fixture
def governed(
    workspace: Workspace, configure: Callable[[dict[str, Any]], None]
) -> Callable[[str], None]:
    """Write ``policies/flights.yaml`` and give bob the ml-lead role."""
    configure({"roles": {"bob": ["ml-lead"], "alice": ["data-scientist"]}})

    def write(text: str) -> None:
        folder = workspace.settings.project_dir / "policies"
        folder.mkdir(exist_ok=True)
        (folder / "flights.yaml").write_text(text)

    write(POLICY)
    return write


def _checked(registry: ModelRegistry, artifact: str) -> int:
    version = registry.register_model("flights", artifact).version
    registry.record_check("flights", version, "blessing", True)
    registry.record_check("flights", version, "data_validation", True)
    return version


def test_a_policy_needs_its_checks_and_an_approval_by_role(
    governed: Callable[[str], None],
    as_user: Callable[[str], ModelRegistry],
    model_artifact: Callable[[], str],
) -> None:
    alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
    version = alice.register_model("flights", model_artifact()).version
    alice.record_check("flights", version, "blessing", True)
    with pytest.raises(GovernanceError) as caught:
        alice.promote("flights", version)
    message = caught.value.message
    assert caught.value.rule == "required_check:data_validation"
    assert "'data_validation' check" in message and "0 of 1 required approvals" in message
    assert "role ml-lead" in message and "four-eyes" in message
    alice.record_check("flights", version, "data_validation", True)
    with pytest.raises(GovernanceError, match="four-eyes rule: alice authored") as four:
        alice.approve("flights", version, reason="looks fine")
    assert four.value.rule == "four_eyes"
    with pytest.raises(GovernanceError, match="carol holds none of the roles ml-lead") as roles:
        carol.approve("flights", version)
    assert roles.value.rule == "roles"
    assert alice.decisions("flights") == []
    bob.approve("flights", version, reason="metrics hold on every slice")
    promoted = alice.promote("flights", version, reason="weekly retrain")
    assert promoted.aliases == ("production",)
    refusals = [e for e in alice.audit_log(model="flights") if e.action == "refused"]
    assert {e.details["rule"] for e in refusals} == {
        "required_check:data_validation",
        "four_eyes",
        "roles",
    }
    assert {e.actor for e in refusals} == {"alice", "carol"}


def test_a_rejection_blocks_until_the_reviewer_approves(
    governed: Callable[[str], None],
    as_user: Callable[[str], ModelRegistry],
    model_artifact: Callable[[], str],
) -> None:
    alice, bob = as_user("alice"), as_user("bob")
    version = _checked(alice, model_artifact())
    bob.reject("flights", version, reason="slice JFK is worse")
    with pytest.raises(GovernanceError, match="rejected by bob \\(slice JFK is worse\\)") as caught:
        alice.promote("flights", version)
    assert caught.value.rule == "rejected"
    bob.approve("flights", version, reason="JFK fixed upstream")
    assert alice.promote("flights", version).aliases == ("production",)


def test_auto_promote_moves_the_alias_once_the_policy_allows_and_only_forward(
    governed: Callable[[str], None],
    as_user: Callable[[str], ModelRegistry],
    model_artifact: Callable[[], str],
) -> None:
    governed(POLICY + "auto_promote: {alias: production}\n")
    alice, bob = as_user("alice"), as_user("bob")
    one = _checked(alice, model_artifact())
    assert alice.get_model("flights").aliases == {}
    bob.approve("flights", one)
    assert alice.get_model("flights").aliases == {"production": one}
    two = alice.register_model("flights", model_artifact()).version
    bob.approve("flights", two)
    alice.record_check("flights", two, "blessing", True)
    alice.record_check("flights", two, "data_validation", True)
    assert alice.get_model("flights").aliases == {"production": two}
    alice.record_check("flights", one, "blessing", True)  # a late check of an older version
    assert alice.get_model("flights").aliases == {"production": two}
    auto = [e for e in alice.audit_log(model="flights") if e.details.get("auto")]
    assert [e.version for e in reversed(auto)] == [one, two]


def test_a_policy_change_is_audited(
    governed: Callable[[str], None], registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    registry.register_model("flights", model_artifact())
    registry.record_check("flights", 1, "blessing", True)
    governed(POLICY.replace("count: 1", "count: 2"))
    registry.record_check("flights", 1, "data_validation", True)
    changes = [e for e in registry.audit_log(model="flights") if e.action == "policy_change"]
    assert [c.details["policy"]["approvals"]["count"] for c in reversed(changes)] == [1, 2]
    assert registry.verify_audit().ok


def test_policies_come_from_loopml_yaml_too(
    configure: Callable[[dict[str, Any]], None], registry: ModelRegistry, tmp_path: Path
) -> None:
    configure({"policies": {"flights": {"approvals": 2, "protected_aliases": ["prod"]}}})
    assert registry.policy("flights").approvals == 2
    assert registry.policy("other") == DEFAULT_POLICY
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("four_eyes: true\n")
    configure({"policies": {"*": str(policy_file)}})
    assert registry.policy("anything").four_eyes


def test_without_a_policy_production_still_needs_a_blessing(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    registry.register_model("flights", model_artifact())
    assert DEFAULT_POLICY.checks_for("production") == ("blessing",)
    assert DEFAULT_POLICY.checks_for("staging") == ()
    with pytest.raises(GovernanceError, match="not blessed"):
        registry.promote("flights", 1)
    registry.approve("flights", 1)  # no roles, no four-eyes: anyone may review


def test_a_policy_naming_blessing_optional_still_requires_it() -> None:
    policy = parse_policy({"required_checks": ["data_validation"]}, source="test")
    assert policy.checks_for("production") == ("blessing", "data_validation")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"aprovals": 1}, "did you mean 'approvals'"),
        ({"approvals": {"count": -1}}, "approvals.count"),
        ({"required_checks": [1]}, "required_checks is a list of names"),
    ],
)
def test_bad_policies_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_policy(data, source="policies/flights.yaml")
