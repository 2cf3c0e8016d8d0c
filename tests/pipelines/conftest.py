"""Pipeline test fixtures: the ``flows`` module is importable by every worker process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = str(Path(__file__).parent)
# Workers (spawned processes, Ray, Dask) import the steps of flows.py by name.
if HERE not in sys.path:
    sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [HERE, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != HERE]]
)


@pytest.fixture
def calls_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file each test step appends its name to when it really runs."""
    path = tmp_path / "calls.txt"
    monkeypatch.setenv("LOOPML_TEST_CALLS", str(path))
    return path


@pytest.fixture
def flaky_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "flaky.txt"
    monkeypatch.setenv("LOOPML_TEST_FLAKY", str(path))
    return path


@pytest.fixture
def local_workspace(sqlite_uri: str, tmp_path: Path) -> Iterator[object]:
    """A workspace on SQLite and a local folder (pipelines are backend-agnostic above it)."""
    from loopml.core import Settings
    from loopml.workspace import Workspace

    settings = Settings.load(
        tmp_path / "project", metadata_uri=sqlite_uri, artifact_uri=str(tmp_path / "artifacts")
    )
    opened = Workspace(settings)
    yield opened
    opened.close()
