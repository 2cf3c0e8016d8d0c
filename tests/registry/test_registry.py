"""Registry: versions, aliases (compare-and-set), rollback, soft delete, search; both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from loopml.core.errors import InvalidInputError, NotFoundError
from loopml.registry import GovernanceError, ModelRegistry, RegistryConflictError
from loopml.workspace import Workspace


def _blessed(registry: ModelRegistry, artifact: str, name: str = "flights") -> int:
    version = registry.register_model(name, artifact).version
    registry.record_check(name, version, "blessing", True)
    return version


def test_register_numbers_versions_and_finds_the_run_through_lineage(
    registry: ModelRegistry, workspace: Workspace, model_artifact: Callable[[], str]
) -> None:
    artifact = model_artifact()
    run = workspace.metadata.create_execution("run", name="train")
    workspace.record_events(run.id, outputs={"model": artifact})
    first = registry.register_model("flights", artifact, description="first", tags={"team": "x"})
    second = registry.register_model("flights", model_artifact(), author="bob")
    assert (first.version, second.version) == (1, 2)
    assert first.run_id == run.id and first.author == "alice" and first.tags == {"team": "x"}
    assert second.author == "bob" and second.run_id is None
    model = registry.get_model("flights")
    assert model.latest_version == 2 and model.created_by == "alice"
    assert [m.name for m in registry.search_models("FLI")] == ["flights"]
    assert registry.search_models("nothing") == []
    assert [v.version for v in registry.search_versions(tags={"team": "x"})] == [1]


def test_register_refuses_bad_input(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    with pytest.raises(InvalidInputError, match="model name"):
        registry.register_model("bad name!", model_artifact())
    with pytest.raises(NotFoundError):
        registry.register_model("flights", "ab" * 32)
    with pytest.raises(NotFoundError):
        registry.register_model("flights", model_artifact(), run_id="f" * 32)
    assert registry.list_models() == []


def test_aliases_move_freely_unless_protected(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    version = registry.register_model("flights", model_artifact()).version
    moved = registry.set_alias("flights", "staging", version, expected=None)
    assert moved.aliases == ("staging",)
    with pytest.raises(GovernanceError, match="is not blessed: run the blessing step") as caught:
        registry.promote("flights", version, "production", reason="ship it")
    assert caught.value.rule == "required_check:blessing"
    assert registry.get_model("flights").aliases == {"staging": 1}
    refusal = registry.audit_log(limit=1)[0]
    assert refusal.action == "refused" and refusal.details["rule"] == "required_check:blessing"
    assert refusal.reason == "ship it" and refusal.actor == "alice"
    registry.record_check("flights", version, "blessing", True)
    assert registry.promote("flights", version).aliases == ("production", "staging")
    assert registry.resolve("flights@production").version == version
    assert registry.resolve("flights:1").version == 1
    assert registry.resolve("flights").version == 1


def test_a_failed_blessing_is_refused_with_its_evidence(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    version = registry.register_model("flights", model_artifact()).version
    evidence = model_artifact()
    registry.record_check("flights", version, "blessing", False, evidence)
    with pytest.raises(GovernanceError, match=f"failed its blessing \\(evidence {evidence}"):
        registry.promote("flights", version)


def test_bad_alias_and_missing_version_are_refused_and_audited(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    registry.register_model("flights", model_artifact())
    with pytest.raises(InvalidInputError, match="an alias matches"):
        registry.set_alias("flights", "Prod!", 1)
    with pytest.raises(InvalidInputError):
        registry.set_alias("flights", "latest", 1)
    with pytest.raises(NotFoundError, match="has no version 7"):
        registry.set_alias("flights", "staging", 7)
    assert registry.audit_log(limit=1)[0].details["rule"] == "not_found"
    with pytest.raises(NotFoundError):
        registry.promote("nope", 1)


@pytest.mark.timeout(60)
def test_two_concurrent_promotions_cannot_both_win(
    as_user: Callable[[str], ModelRegistry], model_artifact: Callable[[], str]
) -> None:
    ci = as_user("ci")
    versions = [_blessed(ci, model_artifact()) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def promote(version: int) -> None:
        registry = as_user(f"user{version}")
        barrier.wait()
        try:
            registry.set_alias("flights", "production", version, expected=None)
            outcomes[version] = "won"
        except RegistryConflictError:
            outcomes[version] = "lost"

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(v for v, outcome in outcomes.items() if outcome == "won")
    assert ci.get_model("flights").aliases == {"production": winner}
    assert len(ci.alias_history("flights", "production")) == 1
    assert ci.verify_audit().ok


def test_compare_and_set_with_a_stale_expectation_is_refused(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    one, two, three = (_blessed(registry, model_artifact()) for _ in range(3))
    registry.set_alias("flights", "production", one, expected=None)
    registry.set_alias("flights", "production", two, expected=one)
    with pytest.raises(RegistryConflictError, match="points at version 2, not version 1"):
        registry.set_alias("flights", "production", three, expected=one)
    assert registry.get_model("flights").aliases == {"production": two}


def test_rollback_walks_the_alias_history_back(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    one, two, three = (_blessed(registry, model_artifact()) for _ in range(3))
    for version in (one, two, three):
        registry.promote("flights", version, reason=f"v{version}")
    assert registry.rollback("flights", "production", reason="v3 is slow").version == two
    assert registry.rollback("flights", "production").version == one
    with pytest.raises(RegistryConflictError, match="no earlier version"):
        registry.rollback("flights", "production")
    moves = registry.alias_history("flights", "production")
    assert [(m.kind, m.previous_version, m.version) for m in moves] == [
        ("set", None, 1),
        ("set", 1, 2),
        ("set", 2, 3),
        ("rollback", 3, 2),
        ("rollback", 2, 1),
    ]
    assert moves[3].reason == "v3 is slow"


def test_soft_deleted_versions_are_hidden_and_cannot_be_promoted(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    one, two = (_blessed(registry, model_artifact()) for _ in range(2))
    registry.promote("flights", one)
    with pytest.raises(RegistryConflictError, match="move the alias"):
        registry.delete_version("flights", one)
    registry.delete_version("flights", two, reason="leaky feature")
    assert [v.version for v in registry.list_versions("flights")] == [1]
    assert [v.deleted for v in registry.list_versions("flights", include_deleted=True)] == [
        False,
        True,
    ]
    with pytest.raises(GovernanceError, match="deleted") as caught:
        registry.set_alias("flights", "staging", two)
    assert caught.value.rule == "deleted"


def test_tags_descriptions_and_the_pickle_opt_in_are_audited(
    registry: ModelRegistry, model_artifact: Callable[[], str]
) -> None:
    registry.register_model("flights", model_artifact())
    registry.set_tags("flights", {"team": "core", "tier": "1"})
    registry.delete_tag("flights", "tier")
    registry.set_tags("flights", {"stage": "candidate"}, version=1)
    registry.describe("flights", description="delay model", intended_use="ops", license="mit")
    registry.describe("flights", version=1, description="hgb")
    assert not registry.is_pickle_trusted("flights", 1)
    with pytest.raises(InvalidInputError, match="reason"):
        registry.trust_pickle("flights", 1, " ")
    registry.trust_pickle("flights", 1, "legacy sklearn model, reviewed by security")
    assert registry.is_pickle_trusted("flights", 1)
    model, version = registry.get_model("flights"), registry.get_version("flights", 1)
    assert model.tags == {"team": "core"} and model.description == "delay model"
    assert model.properties == {"intended_use": "ops", "license": "mit"}
    assert version.tags == {"stage": "candidate"} and version.description == "hgb"
    actions = [e.action for e in reversed(registry.audit_log(model="flights"))]
    assert actions == [
        "create_model",
        "policy_change",
        "register",
        "tags",
        "tags",
        "tags",
        "describe",
        "describe",
        "trust_pickle",
    ]
    assert registry.verify_audit().ok


def test_record_blessing_reads_the_verdict_from_the_evidence(
    registry: ModelRegistry, workspace: Workspace, model_artifact: Callable[[], str]
) -> None:
    version = registry.register_model("flights", model_artifact()).version
    failed = workspace.save({"blessed": False, "reasons": ["auc 0.60 < 0.65"]}).id
    registry.record_blessing("flights", version, failed)
    assert not registry.checks("flights", version)["blessing"].passed
    passed = workspace.save({"blessed": True, "reasons": []}).id
    registry.record_blessing("flights", version, passed)
    assert registry.promote("flights", version).aliases == ("production",)
    with pytest.raises(InvalidInputError, match="not a blessing"):
        registry.record_blessing("flights", version, workspace.save({"weights": [1]}).id)
