"""One realistic pipeline on every executor: identical artifacts, parallelism, worker loss."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flows import crashing, fan, training

from loopml.core import Settings
from loopml.metadata import ExecutionStatus
from loopml.pipelines import StepFailedError, resume, run
from loopml.pipelines.runner import STEP_TYPE
from loopml.workspace import Workspace

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def fresh_workspace(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings.load(
        tmp_path / "project",
        metadata_uri=f"sqlite:///{tmp_path / 'meta.db'}",
        artifact_uri=str(tmp_path / "artifacts"),
    )
    workspace = Workspace(settings)
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def reference_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    folder = tmp_path_factory.mktemp("reference")
    workspace = Workspace(
        Settings.load(
            folder,
            metadata_uri=f"sqlite:///{folder / 'meta.db'}",
            artifact_uri=str(folder / "artifacts"),
        )
    )
    result = run(training, workspace=workspace, executor="local")
    workspace.close()
    return {node: dict(outputs) for node, outputs in result.outputs.items()}


def test_the_same_pipeline_gives_the_same_artifacts_everywhere(
    executor: object, fresh_workspace: Workspace, reference_outputs: dict[str, dict[str, str]]
) -> None:
    result = run(training, workspace=fresh_workspace, executor=executor)
    assert result.status is ExecutionStatus.COMPLETED
    assert {n: dict(o) for n, o in result.outputs.items()} == reference_outputs
    lineage = fresh_workspace.metadata.lineage(result.artifact("train"))
    assert {e.name for e in lineage.executions.values()} == {
        "make_data",
        "split",
        "featurize",
        "train",
    }
    again = run(training, workspace=fresh_workspace, executor=executor)
    assert set(again.steps.values()) == {ExecutionStatus.CACHED}


def test_independent_steps_run_at_once_on_parallel_executors(
    executor: object, fresh_workspace: Workspace
) -> None:
    if not getattr(executor, "parallel", False):
        pytest.skip("runs one step at a time by design")
    result = run(fan, {"seconds": 1.0}, workspace=fresh_workspace, executor=executor)
    assert fresh_workspace.load(result.artifact("total")) == 13
    squares = [
        e
        for e in fresh_workspace.metadata.list_executions(
            type=STEP_TYPE, parent_id=result.id, limit=None
        )
        if e.name.startswith("slow_square")
    ]
    (a, b) = sorted(squares, key=lambda e: e.properties["worker_started_at"])
    assert b.properties["worker_started_at"] < a.properties["worker_ended_at"], (
        "the two tries overlapped"
    )


def test_a_killed_worker_fails_the_step_and_resume_reuses_the_rest(
    executor: object, fresh_workspace: Workspace, tmp_path: Path
) -> None:
    if not getattr(executor, "isolated", False):
        pytest.skip("the in-process executor has no worker to kill")
    marker = tmp_path / "killed-once"
    with pytest.raises(StepFailedError, match="kill_me_once") as caught:
        run(crashing, {"marker": str(marker)}, workspace=fresh_workspace, executor=executor)
    assert marker.exists()
    store = fresh_workspace.metadata
    assert store.get_execution(caught.value.run_id).status is ExecutionStatus.FAILED
    resumed = resume(caught.value.run_id, workspace=fresh_workspace, executor=executor)
    assert resumed.status is ExecutionStatus.COMPLETED
    assert fresh_workspace.load(resumed.artifact("total")) == 10 + 25
    assert resumed.steps["kill_me_once"] is ExecutionStatus.COMPLETED
    assert resumed.steps["slow_square"] is ExecutionStatus.CACHED
    first_tries = store.list_executions(type=STEP_TYPE, parent_id=caught.value.run_id, limit=None)
    finished = {e.name for e in first_tries if e.status is ExecutionStatus.COMPLETED}
    reused = {n for n, status in resumed.steps.items() if status is ExecutionStatus.CACHED}
    assert finished <= reused, "every step that finished before the kill is reused"


def test_a_step_past_its_timeout_is_stopped(executor: object, fresh_workspace: Workspace) -> None:
    from flows import too_slow

    with pytest.raises(StepFailedError, match="timeout") as caught:
        run(too_slow, workspace=fresh_workspace, executor=executor)
    (try_,) = fresh_workspace.metadata.list_executions(
        type=STEP_TYPE, parent_id=caught.value.run_id, limit=None
    )
    assert try_.status is ExecutionStatus.FAILED
    assert "timeout of 0.5 s" in (try_.error or "")


def test_a_rejection_keeps_its_evidence_across_process_boundaries(
    executor: object, fresh_workspace: Workspace
) -> None:
    from flows import gated

    with pytest.raises(StepFailedError, match="9 is odd") as caught:
        run(gated, workspace=fresh_workspace, executor=executor)
    store = fresh_workspace.metadata
    [rejected] = [
        e
        for e in store.list_executions(type=STEP_TYPE, parent_id=caught.value.run_id, limit=None)
        if e.name == "gate"
    ]
    [event] = [e for e in store.list_events(execution_id=rejected.id) if e.kind == "output"]
    assert event.name == "report"
    assert fresh_workspace.load(event.artifact_id) == {"value": 9, "odd": True}


def test_a_step_knows_its_context_on_every_executor(
    executor: object, fresh_workspace: Workspace
) -> None:
    from flows import introspecting

    result = run(introspecting, workspace=fresh_workspace, executor=executor)
    seen = fresh_workspace.load(result.artifact("introspect"))
    assert (seen["run_id"], seen["step"]) == (result.id, "introspect")
    assert seen["inputs"] == {"data": result.artifact("slow_square")}
    assert seen["metadata_uri"] == fresh_workspace.settings.metadata_uri
