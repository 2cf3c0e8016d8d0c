"""``loopml models`` and ``loopml audit``: the registry from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import loopml


@pytest.fixture
def artifacts(isolated_project: Path) -> list[str]:
    """Two model artifacts in the project the CLI reads."""
    workspace = loopml.get_workspace()
    ids = [workspace.save({"weights": [i, 0.5]}).id for i in range(2)]
    (isolated_project / "policies").mkdir()
    (isolated_project / "policies" / "flights.yaml").write_text(
        "approvals: {count: 1}\nfour_eyes: true\n"
    )
    return ids


def test_register_promote_approve_rollback_and_audit(invoke, artifacts: list[str]) -> None:
    alice = {"LOOPML_USER": "alice"}
    for artifact in artifacts:
        result = invoke("models", "register", "flights", artifact[:12], **alice)
        assert result.exit_code == 0, result.output
    assert "registered flights version 2" in result.output
    refused = invoke("models", "promote", "flights", "1", "production", **alice)
    assert refused.exit_code == 2
    assert "not blessed: run the blessing step" in refused.output
    for version in ("1", "2"):
        loopml_registry().record_check("flights", int(version), "blessing", True)
    own = invoke("models", "approve", "flights", "1", "--reason", "mine", **alice)
    assert own.exit_code == 2 and "four-eyes rule" in own.output
    for version in ("1", "2"):
        assert invoke("models", "approve", "flights", version, LOOPML_USER="bob").exit_code == 0
    for version in ("1", "2"):
        ok = invoke("models", "promote", "flights", version, "production", "-r", "ship", **alice)
        assert ok.exit_code == 0, ok.output
    shown = invoke("models", "show", "flights@production")
    assert shown.exit_code == 0 and "production" in shown.output and "passed" in shown.output
    back = invoke("models", "rollback", "flights", "production", **alice)
    assert back.exit_code == 0 and "rolled back to version 1" in back.output
    listed = invoke("models", "list")
    assert "flights" in listed.output and "production=1" in listed.output
    assert invoke("models", "delete", "flights", "2", **alice).exit_code == 0
    assert "deleted" not in invoke("models", "versions", "flights").output
    assert "deleted" in invoke("models", "versions", "flights", "--all").output
    log = invoke("audit", "log", "--model", "flights", "-n", "100", COLUMNS="250")
    assert log.exit_code == 0
    for action in ("register", "refused", "approve", "alias_move", "rollback", "delete"):
        assert action in log.output, action
    verified = invoke("audit", "verify")
    assert verified.exit_code == 0 and "audit log intact" in verified.output


def loopml_registry():
    from loopml.registry import ModelRegistry

    return ModelRegistry(user="ci")


def test_card_is_printed_or_written(invoke, artifacts: list[str], tmp_path: Path) -> None:
    assert invoke("models", "register", "flights", artifacts[0]).exit_code == 0
    printed = invoke("models", "card", "flights", "1")
    assert printed.exit_code == 0 and printed.output.startswith("---\nlibrary_name: loopml")
    html, markdown = tmp_path / "card.html", tmp_path / "card.md"
    written = invoke(
        "models", "card", "flights", "1", "--html", str(html), "--markdown", str(markdown)
    )
    assert written.exit_code == 0, written.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert "# Model card: flights version 1" in markdown.read_text()


def test_audit_verify_fails_on_a_tampered_log(invoke, artifacts: list[str]) -> None:
    assert invoke("models", "register", "flights", artifacts[0]).exit_code == 0
    engine = loopml.get_workspace().metadata.engine
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET reason = 'forged' WHERE seq = 1"))
    result = invoke("audit", "verify")
    assert result.exit_code == 1 and "broken at entry 1" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "show", "nope"), "no registered model 'nope'"),
        (("models", "register", "bad name", "abcdef"), "model name"),
        (("models", "register", "flights", "zz"), "not an artifact id"),
        (("models", "promote", "flights", "1", "Bad!"), "an alias matches"),
        (("models", "rollback", "flights", "production"), "no registered model"),
        (("models", "show", "flights:x"), "a version is a number"),
    ],
)
def test_bad_input_is_one_red_line_and_exit_2(invoke, args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
