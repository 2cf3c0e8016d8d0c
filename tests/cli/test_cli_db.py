"""``loopml db upgrade``."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_upgrade_creates_the_schema_then_reports_up_to_date(invoke, isolated_project: Path) -> None:
    from loopml.metadata.migrate import HEAD_REVISION

    first = invoke("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert f"upgraded from revision none to {HEAD_REVISION}" in first.stdout
    assert (isolated_project / ".loopml" / "metadata.db").is_file()
    again = invoke("db", "upgrade")
    assert again.exit_code == 0
    assert f"at revision {HEAD_REVISION} (up to date)" in again.stdout


def test_upgrade_uses_the_configured_store(invoke, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "meta.db"
    result = invoke("db", "upgrade", LOOPML_METADATA_URI=f"sqlite:///{target}")
    assert result.exit_code == 0
    assert str(target) in result.stdout
    assert target.is_file()


def test_unreachable_store_is_exit_1_and_hides_the_password(invoke) -> None:
    pytest.importorskip("psycopg")
    uri = "postgresql://me:s3cret@127.0.0.1:1/loopml?connect_timeout=2"
    result = invoke("db", "upgrade", LOOPML_METADATA_URI=uri)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the metadata store")
    assert "s3cret" not in result.output


def test_upgrade_of_a_newer_schema_is_exit_1(invoke, isolated_project: Path) -> None:
    import sqlite3

    home = isolated_project / ".loopml"
    home.mkdir()
    with sqlite3.connect(home / "metadata.db") as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    result = invoke("db", "upgrade")
    assert result.exit_code == 1
    assert "9999" in result.stderr
    assert "Traceback" not in result.output
