from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import loopml
from loopml.core.errors import ConflictError, InvalidInputError, NotFoundError
from loopml.metadata import ExecutionStatus
from loopml.workspace import Workspace


def test_a_run_records_params_metrics_tags_and_code_version(workspace: Workspace) -> None:
    with loopml.start_run(experiment="flights", name="baseline", workspace=workspace) as run:
        loopml.log_params({"model": "rf", "depth": 8})
        loopml.log_param("seed", 0)
        for step in range(5):
            loopml.log_metric("loss", 1 / (step + 1), step=step)
        loopml.log_metrics({"auc": 0.7, "acc": 0.8}, step=4)
        loopml.set_tag("team", "core")
    got = loopml.get_run(run.id, workspace=workspace)
    assert got.name == "baseline"
    assert got.status is ExecutionStatus.COMPLETED
    assert got.params == {"model": "rf", "depth": "8", "seed": "0"}
    assert got.metrics == {"loss": 0.2, "auc": 0.7, "acc": 0.8}
    assert got.tags == {"team": "core"}
    assert got.environment["python"].startswith("3.")
    assert "loopml" in got.environment["packages"]
    history = loopml.get_metric_history(run.id, "loss", workspace=workspace)
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    experiments = loopml.list_experiments(workspace=workspace)
    assert [e.name for e in experiments] == ["flights"]
    assert got.context_ids == (experiments[0].id,)


def test_code_version_is_recorded_in_a_git_repository(isolated_project: Path) -> None:
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=a@b",
            "-c",
            "user.name=a",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    from loopml.core.environment import code_version

    code_version.cache_clear()
    with loopml.start_run() as run:
        pass
    got = loopml.get_run(run.id)
    assert got.git_commit == commit
    assert got.git_dirty is False


def test_an_exception_fails_the_run_with_its_traceback(workspace: Workspace) -> None:
    with pytest.raises(ZeroDivisionError), loopml.start_run(workspace=workspace) as run:
        loopml.log_metric("before", 1.0)
        _ = 1 / 0
    got = loopml.get_run(run.id, workspace=workspace)
    assert got.status is ExecutionStatus.FAILED
    assert "ZeroDivisionError" in (got.error or "")
    assert got.metrics == {"before": 1.0}
    assert loopml.active_run() is None


def test_nested_runs(workspace: Workspace) -> None:
    with loopml.start_run(experiment="tune", workspace=workspace) as parent:
        with pytest.raises(ConflictError, match="nested=True"):
            loopml.start_run()
        for lr in (0.1, 0.01):
            with loopml.start_run(nested=True) as child:
                loopml.log_param("lr", lr)
                assert loopml.active_run() is child
        assert loopml.active_run() is parent
    children = loopml.search_runs("params.lr IS NOT NULL", workspace=workspace)
    assert {c.parent_id for c in children} == {parent.id}
    assert len(children) == 2


def test_search_runs_by_experiment_filter_and_order(workspace: Workspace) -> None:
    for experiment, model, rmse in [("a", "rf", 0.3), ("a", "lr", 0.6), ("b", "rf", 0.2)]:
        with loopml.start_run(experiment=experiment, workspace=workspace):
            loopml.log_param("model", model)
            loopml.log_metric("rmse", rmse)
    found = loopml.search_runs(
        "metrics.rmse < 0.5 and params.model = 'rf'", order_by="metrics.rmse", workspace=workspace
    )
    assert [r.metrics["rmse"] for r in found] == [0.2, 0.3]
    only_a = loopml.search_runs(
        experiments="a", order_by=["metrics.rmse DESC"], workspace=workspace
    )
    assert [r.metrics["rmse"] for r in only_a] == [0.6, 0.3]
    with pytest.raises(NotFoundError):
        loopml.search_runs(experiments="missing", workspace=workspace)
    with pytest.raises(InvalidInputError):
        loopml.search_runs("metrics.rmse <", workspace=workspace)


def test_bad_input_is_refused_before_anything_is_written(workspace: Workspace) -> None:
    with loopml.start_run(workspace=workspace) as run:
        with pytest.raises(InvalidInputError):
            loopml.log_metric("loss", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            loopml.log_metric("", 1.0)
        with pytest.raises(InvalidInputError):
            loopml.log_metric("loss", True)
        with pytest.raises(InvalidInputError):
            loopml.log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            loopml.log_metrics({"ok": 1.0, "bad": None})  # type: ignore[dict-item]
        loopml.log_metric("nan", math.nan)
    got = loopml.get_run(run.id, workspace=workspace)
    assert list(got.metrics) == ["nan"]
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("late", 1.0)
    with pytest.raises(InvalidInputError, match="no active run"):
        loopml.log_metric("x", 1.0)


def test_numpy_numbers_are_accepted(workspace: Workspace) -> None:
    import numpy as np

    with loopml.start_run(workspace=workspace) as run:
        loopml.log_metric("x", np.float32(0.5), step=np.int64(3))  # type: ignore[arg-type]
    assert loopml.get_metric_history(run.id, "x", workspace=workspace)[0].step == 3


_EXIT_WITHOUT_ENDING = """
import sys
import loopml
run = loopml.start_run(experiment="exit")
for i in range(500):
    loopml.log_metric("m", float(i), step=i)
print(run.id)
if sys.argv[1] == "raise":
    raise RuntimeError("boom")
"""


@pytest.mark.parametrize("how", ["normal", "raise"])
def test_points_are_written_at_process_exit(isolated_project: Path, how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _EXIT_WITHOUT_ENDING, how],
        capture_output=True,
        text=True,
        env={
            "LOOPML_PROJECT_DIR": str(isolated_project),
            "LOOPML_FLUSH_INTERVAL": "60",
            "PATH": "/usr/bin:/bin",
        },
        check=False,
    )
    assert done.returncode == (0 if how == "normal" else 1), done.stderr
    run_id = done.stdout.strip()
    assert len(loopml.get_metric_history(run_id, "m")) == 500
    run = loopml.get_run(run_id)
    assert run.metrics == {"m": 499.0}
    if how == "normal":
        assert run.status is ExecutionStatus.COMPLETED
    else:
        assert run.status is ExecutionStatus.FAILED
        assert "RuntimeError: boom" in (run.error or "")


def test_closing_the_workspace_stops_its_writer_thread(workspace: Workspace) -> None:
    """Regression: each workspace's metric thread lived on after close (found by the benchmark)."""
    import threading

    with loopml.start_run(workspace=workspace) as run:
        loopml.log_metric("m", 1.0)
    assert any(t.name == "loopml-metrics" for t in threading.enumerate())
    workspace.close()
    writers = [t for t in threading.enumerate() if t.name == "loopml-metrics"]
    assert writers == []
    assert loopml.get_run(run.id, workspace=workspace).metrics == {"m": 1.0}


def test_points_the_database_cannot_hold_are_refused_when_logged(workspace: Workspace) -> None:
    """Regression: a 2**63 step or a Decimal timestamp poisoned every later flush."""
    from decimal import Decimal

    with loopml.start_run(workspace=workspace) as run:
        with pytest.raises(InvalidInputError, match="64 bits"):
            loopml.log_metric("m", 1.0, step=2**63)
        with pytest.raises(InvalidInputError, match="epoch seconds"):
            loopml.log_metric("m", 1.0, timestamp="yesterday")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="finite"):
            loopml.log_metric("m", 1.0, timestamp=float("inf"))
        loopml.log_metric("m", 1.0, step=1, timestamp=Decimal("1700000000.5"))  # type: ignore[arg-type]
        import numpy as np

        loopml.log_metric("m", 2.0, step=2, timestamp=np.int64(1700000001))  # type: ignore[arg-type]
    got = loopml.get_run(run.id, workspace=workspace)
    assert got.status is ExecutionStatus.COMPLETED
    history = loopml.get_metric_history(run.id, "m", workspace=workspace)
    assert [(p.step, p.timestamp.timestamp()) for p in history] == [
        (1, 1700000000.5),
        (2, 1700000001.0),
    ]


_FORKING = """
import os, sys
import loopml
run = loopml.start_run(experiment="fork")
loopml.log_metric("parent_pending", 1.0)
pid = os.fork()
if pid == 0:
    loopml.log_metric("from_child", 1.0)
    loopml.flush()
    os._exit(0)
os.waitpid(pid, 0)
loopml.end_run()
print(run.id)
"""


def test_a_forked_child_neither_loses_nor_duplicates_points(isolated_project: Path) -> None:
    """Regression: a child inherited the parent's queue and wrote its points twice."""
    done = subprocess.run(
        [sys.executable, "-c", _FORKING],
        capture_output=True,
        text=True,
        env={"LOOPML_PROJECT_DIR": str(isolated_project), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert len(loopml.get_metric_history(run_id, "parent_pending")) == 1
    assert len(loopml.get_metric_history(run_id, "from_child")) == 1


def test_a_spill_file_is_replayed_once_by_processes_starting_together(
    isolated_project: Path,
) -> None:
    """Regression: every starting process replayed the same spill file."""
    import json

    from loopml.metadata import ExecutionStatus as Status

    with loopml.start_run() as run:
        pass
    home = isolated_project / ".loopml"
    spill = home / "unflushed-metrics-1-1.jsonl"
    spill.write_text(
        "".join(json.dumps([run.id, "late", float(i), i, 1.0 + i]) + "\n" for i in range(50))
    )
    code = "import loopml\nwith loopml.start_run():\n    pass\n"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={"LOOPML_PROJECT_DIR": str(isolated_project), "PATH": "/usr/bin:/bin"},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert len(loopml.get_metric_history(run.id, "late")) == 50
    assert not list(home.glob("unflushed-metrics-*"))
    assert loopml.get_run(run.id).status is Status.COMPLETED
