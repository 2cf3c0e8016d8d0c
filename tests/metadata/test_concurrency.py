"""Many processes writing metrics into one store at once lose nothing and fail nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from loopml.metadata import SqlMetadataStore

_WRITER = """
import sys
import loopml
from loopml.core import Settings
from loopml.workspace import Workspace

settings = Settings.load(sys.argv[2], metadata_uri=sys.argv[1], flush_interval=0.05)
with loopml.start_run(experiment="load", workspace=Workspace(settings)):
    for i in range(2000):
        loopml.log_metric("m", float(i), step=i)
"""


@pytest.mark.slow
def test_eight_processes_log_2000_metrics_each(metadata_uri: str, tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, metadata_uri, str(tmp_path)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    assert not any("Error" in e for e in errors), errors
    store = SqlMetadataStore(metadata_uri)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT COUNT(*) FROM metrics")).scalar()
        per_run = (
            connection.execute(sa.text("SELECT COUNT(*) FROM metrics GROUP BY execution_id"))
            .scalars()
            .all()
        )
    runs = store.search_executions("status = 'completed'", type="run")
    store.close()
    assert rows == 16_000
    assert sorted(per_run) == [2000] * 8
    assert len(runs) == 8
    assert all(run.metrics["m"] == 1999.0 for run in runs)
