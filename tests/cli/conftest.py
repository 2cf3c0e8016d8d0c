"""Fixtures of the CLI tests: a runner and a project holding a few runs with lineage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

import loopml
from loopml.cli.main import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner):
    """Run ``loopml ARGS...`` in-process; returns the click ``Result``."""

    def run(*args: str, **env: str):
        return runner.invoke(app, list(args), env=env or None)

    return run


@dataclasses.dataclass(frozen=True)
class Project:
    """Ids of what :func:`project` recorded."""

    prepare: str
    good: str
    bad: str
    failed: str
    raw: str
    table: str
    model: str


@pytest.fixture
def project(isolated_project: Path) -> Project:
    """Runs in two experiments: prepare -> table -> two trainings -> a model; one failed run.

    Written with the public tracking API, in the project folder the CLI reads.
    """
    raw_file = isolated_project / "raw.csv"
    raw_file.write_text("a,b\n1,2\n")
    with loopml.start_run("flights", name="prepare", params={"source": "raw.csv"}) as run:
        raw = run.log_input(str(raw_file), "raw")
        table = run.log_object({"rows": [1, 2, 3]}, "table")
        prepare = run.id
    with loopml.start_run("flights", name="good", params={"model": "hgb", "lr": "0.1"}) as run:
        run.use_artifact(table.id, "train")
        for step, value in enumerate([0.61, 0.69, 0.74]):
            run.log_metric("auc", value, step=step)
        run.log_metric("loss", 0.42)
        run.set_tag("team", "core")
        model = run.log_object({"weights": [0.5, 0.25]}, "model")
        good = run.id
    with loopml.start_run("flights", name="bad", params={"model": "lr", "lr": "0.1"}) as run:
        run.use_artifact(table.id, "train")
        run.log_metric("auc", 0.55)
        run.log_metric("loss", 0.42)
        bad = run.id
    with pytest.raises(RuntimeError), loopml.start_run("scratch", name="crash") as run:
        failed = run.id
        raise RuntimeError("the data was empty")
    return Project(prepare, good, bad, failed, raw.id, table.id, model.id)


FLOWS_DIR = Path(__file__).parent.parent / "pipelines"


@pytest.fixture
def flows(monkeypatch: pytest.MonkeyPatch):
    """The sample pipelines of ``tests/pipelines/flows.py``, importable as ``flows``.

    ``sys.path`` is restored afterwards: loading a pipeline puts the project folder on it.
    """
    import sys

    monkeypatch.setattr(sys, "path", [str(FLOWS_DIR), *sys.path])
    import flows as module

    return module


@pytest.fixture
def calls_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the steps of ``flows`` append their names to when they really run."""
    path = tmp_path / "calls.txt"
    monkeypatch.setenv("LOOPML_TEST_CALLS", str(path))
    return path
