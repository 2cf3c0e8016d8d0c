from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopml.core.errors import MigrationError
from loopml.metadata import SqlMetadataStore
from loopml.metadata.engine import create_engine
from loopml.metadata.migrate import HEAD_REVISION, current_revision, upgrade
from loopml.metadata.tables import metadata_obj


def test_head_constant_is_the_head_of_the_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location",
        str(
            Path(__import__("loopml.metadata.migrate").metadata.migrate.__file__).parent
            / "migrations"
        ),
    )
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrated_schema_matches_the_tables(metadata_uri: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(metadata_uri)
    assert upgrade(engine) == HEAD_REVISION
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata_obj)
    engine.dispose()
    assert diffs == []


def test_a_fresh_store_equals_a_migrated_one(metadata_uri: str, tmp_path: Path) -> None:
    """Fresh stores are created from tables.py; Alembic then sees nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = SqlMetadataStore(metadata_uri)
    store.create_execution("run")
    with store.engine.connect() as connection:
        assert current_revision(connection) == HEAD_REVISION
        diffs = compare_metadata(MigrationContext.configure(connection), metadata_obj)
        version_type = sa.inspect(connection).get_columns("alembic_version")[0]["type"]
    assert diffs == []
    assert isinstance(version_type, sa.String)
    assert upgrade(store.engine) == HEAD_REVISION
    store.close()


def test_store_migrates_on_first_use_and_upgrade_is_idempotent(metadata_uri: str) -> None:
    store = SqlMetadataStore(metadata_uri)
    store.create_execution("run")
    with store.engine.connect() as connection:
        assert current_revision(connection) == HEAD_REVISION
    assert upgrade(store.engine) == HEAD_REVISION
    store.close()


def test_a_newer_schema_is_refused(sqlite_uri: str) -> None:
    engine = create_engine(sqlite_uri)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(MigrationError, match="upgrade loopml"):
        SqlMetadataStore(sqlite_uri).create_execution("run")


_RACE = """
import sys, time
from loopml.metadata import SqlMetadataStore
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
store = SqlMetadataStore(sys.argv[1])
store.create_execution("run")
store.close()
"""


@pytest.mark.slow
def test_processes_starting_at_once_migrate_once(metadata_uri: str) -> None:
    import time

    start = str(time.time() + 2.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, metadata_uri, start], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    store = SqlMetadataStore(metadata_uri)
    assert len(store.list_executions(type="run")) == 4
    store.close()
