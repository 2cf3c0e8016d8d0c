"""``loopml runs list|show`` on pipeline runs and steps, and the live view of the steps."""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console

import loopml
from loopml.cli.progress import StepProgress
from loopml.metadata import ExecutionStatus
from loopml.workspace import get_workspace


@pytest.fixture
def mixed(invoke, flows, calls_file) -> dict[str, str]:
    """A tracked run, a completed pipeline run and a failed one; their ids."""
    with loopml.start_run("flights", name="by-hand") as run:
        run.log_metric("auc", 0.7)
    assert invoke("run", "flows:training").exit_code == 0
    assert invoke("run", "flows:failing").exit_code == 1
    store = get_workspace().metadata
    failed, training = store.list_executions(type="pipeline", limit=None)
    return {"run": run.id, "training": training.id, "failing": failed.id}


def test_list_shows_both_kinds_with_a_kind_column(invoke, mixed) -> None:
    result = invoke("runs", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 runs; tracked runs in flights" in out
    assert "kind" in out and "pipeline" in out
    for run_id in mixed.values():
        assert run_id[:8] in out
    assert out.index(mixed["failing"][:8]) < out.index(mixed["training"][:8])


@pytest.mark.parametrize(
    ("args", "shown", "hidden"),
    [
        (["--kind", "pipeline"], ("training", "failing"), ("run",)),
        (["--kind", "run"], ("run",), ("training", "failing")),
        (["--pipeline", "failing"], ("failing",), ("run", "training")),
        (["-k", "pipeline", "-f", "status = 'failed'"], ("failing",), ("run", "training")),
        (["-e", "flights"], ("run",), ("training", "failing")),
    ],
)
def test_list_narrows_by_kind_pipeline_and_filter(invoke, mixed, args, shown, hidden) -> None:
    result = invoke("runs", "list", *args)
    assert result.exit_code == 0, result.output
    for key in shown:
        assert mixed[key][:8] in result.stdout
    for key in hidden:
        assert mixed[key][:8] not in result.stdout
    assert "kind" not in result.stdout  # one kind: no column


def test_list_bad_kind_or_pipeline_is_exit_2(invoke, mixed) -> None:
    assert invoke("runs", "list", "--kind", "model").exit_code == 2
    unknown = invoke("runs", "list", "--pipeline", "nope")
    assert unknown.exit_code == 2
    assert "pipeline 'nope' has no runs" in unknown.stderr
    bad = invoke("runs", "list", "-f", "metrics.auc >")
    assert bad.exit_code == 2
    assert "bad filter" in bad.stderr


def test_list_marks_a_dead_run_failed(invoke, flows) -> None:
    import sqlalchemy as sa

    store = get_workspace().metadata
    ghost = store.create_execution("pipeline", "ghost")
    with store.engine.begin() as db:  # its orchestrator stopped beating a minute ago
        db.execute(
            sa.text("UPDATE executions SET heartbeat_at = heartbeat_at - 60 WHERE id = :id"),
            {"id": ghost.id},
        )
    result = invoke("runs", "list", "--kind", "pipeline")
    assert result.exit_code == 0
    assert "failed" in result.stdout
    assert store.get_execution(ghost.id).status is ExecutionStatus.FAILED


def test_show_a_pipeline_run_lists_its_steps(invoke, mixed) -> None:
    result = invoke("runs", "show", mixed["training"][:8])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "pipeline" in out and "training" in out and mixed["training"] in out
    assert "flows:training" in out and "started by  cli" in out
    assert "Steps" in out and "Outputs" in out
    for node in ("make_data", "split", "featurize_2", "evaluate"):
        assert node in out
    assert "split.train" in out and "split.test" in out  # outputs by step and name
    assert "resume" not in out


def test_show_a_failed_pipeline_run_has_the_traceback_and_resume(invoke, mixed) -> None:
    result = invoke("runs", "show", mixed["failing"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "failed" in out
    assert "not run" in out  # total never started
    assert "step boom failed" in out and "ValueError: the step blew up" in out
    assert f"runs resume {mixed['failing'][:8]}" in out


def test_show_a_cached_step_points_at_the_try_that_ran(invoke, mixed) -> None:
    assert invoke("run", "flows:training").exit_code == 0
    store = get_workspace().metadata
    latest = store.list_executions(type="pipeline", limit=1)[0]
    cached = next(
        e for e in store.list_executions(type="step", parent_id=latest.id) if e.name == "train"
    )
    shown = invoke("runs", "show", latest.id[:8])
    assert str(cached.properties["cached_from"])[:8] in shown.stdout
    step = invoke("runs", "show", cached.id[:8])
    assert step.exit_code == 0, step.output
    assert "cached" in step.stdout and "reused from" in step.stdout
    assert "Inputs" in step.stdout and "data" in step.stdout


def test_show_a_failed_step_has_its_error(invoke, mixed) -> None:
    store = get_workspace().metadata
    boom = next(
        e
        for e in store.list_executions(type="step", parent_id=mixed["failing"])
        if e.name == "boom"
    )
    result = invoke("runs", "show", boom.id)
    assert result.exit_code == 0, result.output
    assert "pipeline run" in result.stdout and mixed["failing"][:8] in result.stdout
    assert "flows:boom" in result.stdout
    assert "ValueError: the step blew up" in result.stdout


# --- the live view -------------------------------------------------------------------

EVENTS = [
    ("load", "pending", {}),
    ("fit", "pending", {}),
    ("score", "pending", {}),
    ("load", "cached", {"cached_from": "0123456789abcdef"}),
    ("fit", "running", {"attempt": 1}),
    ("fit", "retrying", {"attempt": 1, "delay": 0.5, "error": "flaky disk"}),
    ("fit", "running", {"attempt": 2}),
    ("fit", "failed", {"error": "ValueError: no rows\nmore text"}),
    ("score", "skipped", {}),
]


def test_the_view_prints_one_line_per_change_off_a_terminal() -> None:
    buffer = io.StringIO()
    view = StepProgress(Console(file=buffer, width=100), "pipeline demo")
    with view:
        for event in EVENTS:
            view(*event)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "pipeline demo"
    assert "↺ load  cached  from 01234567" in lines
    assert "▸ fit  running" in lines
    assert any("↻ fit  retrying  try 1 failed: flaky disk; again in 0.50s" in x for x in lines)
    assert any("try 2" in line for line in lines)
    assert "✗ fit  failed  ValueError: no rows more text" in lines
    assert "- score  skipped  an upstream step failed" in lines
    assert not any("pending" in line for line in lines)
    assert view.counts() == {"cached": 1, "failed": 1, "skipped": 1}


def test_the_live_view_redraws_in_place_on_a_terminal() -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, width=100, force_terminal=True, color_system=None)
    view = StepProgress(terminal, "pipeline demo")
    assert view.live
    with view:
        # The runner calls the observer from its own thread while Live redraws.
        worker = threading.Thread(target=lambda: [view(*event) for event in EVENTS])
        worker.start()
        worker.join()
        view("extra", "running", {"attempt": 1})
        view("extra", "done", {"seconds": 1.5})
    text = buffer.getvalue()
    assert "pipeline demo" in text and "steps" in text
    final = text.rsplit("pipeline demo", 1)[-1]  # the last frame stays on screen
    assert "load" in final and "cached" in final and "from 01234567" in final
    assert "fit" in final and "failed" in final and "ValueError: no rows" in final
    assert "skipped" in final
    assert "extra" in final and "done" in final and "1.50s" in final
    assert "2/4 steps" in final
