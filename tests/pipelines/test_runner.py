"""Running pipelines: lineage, caching, retries, failures, resume, timeouts (in-process executor).

The same behaviour on the process pool, Ray and Dask: executors/test_pipeline_on_executors.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from flows import calls, failing, flaky_pipeline, training, wrong

from loopml.metadata import ExecutionStatus
from loopml.pipelines import (
    StepFailedError,
    fail_stale_runs,
    pipeline,
    resume,
    run,
    step,
)
from loopml.pipelines.runner import PIPELINE_TYPE, STEP_TYPE
from loopml.workspace import Workspace


def test_a_run_records_every_step_with_lineage(
    local_workspace: Workspace, calls_file: Path
) -> None:
    result = run(training, {"rows": 120}, workspace=local_workspace, executor="local")
    assert result.status is ExecutionStatus.COMPLETED
    assert set(result.steps.values()) == {ExecutionStatus.COMPLETED}
    assert local_workspace.load(result.artifact("evaluate"))["accuracy"] > 0.5
    store = local_workspace.metadata
    record = store.get_execution(result.id)
    assert record.type == PIPELINE_TYPE
    assert record.params == {"rows": "120", "c": "1.0"}
    assert record.properties["started_by"] == "python"
    assert record.properties["reference"] == "flows:training"
    steps = store.list_executions(type=STEP_TYPE, parent_id=result.id, limit=None)
    assert len(steps) == 6
    assert all(s.properties["cache_key"] for s in steps)
    model = result.artifact("train")
    lineage = store.lineage(model)
    names = {e.name for e in lineage.executions.values()}
    assert names == {"make_data", "split", "featurize", "train"}
    assert result.artifact("make_data") in lineage.artifacts
    assert calls(calls_file) == [
        "make_data",
        "split",
        "featurize",
        "train",
        "featurize",
        "evaluate",
    ]


def test_a_second_run_is_served_from_cache(local_workspace: Workspace, calls_file: Path) -> None:
    first = run(training, workspace=local_workspace, executor="local")
    before = calls(calls_file)
    second = run(training, workspace=local_workspace, executor="local")
    assert calls(calls_file) == before, "no step ran again"
    assert set(second.steps.values()) == {ExecutionStatus.CACHED}
    assert second.outputs == first.outputs
    store = local_workspace.metadata
    cached = store.list_executions(type=STEP_TYPE, parent_id=second.id, limit=None)
    made = {
        e.name: e.id for e in store.list_executions(type=STEP_TYPE, parent_id=first.id, limit=None)
    }
    assert {e.name: e.properties["cached_from"] for e in cached} == made
    # An artifact keeps one producer: the execution that made it, not every reuse.
    producers = [
        e.execution_id
        for e in store.list_events(artifact_id=second.artifact("train"))
        if e.kind == "output"
    ]
    assert producers == [made["train"]]
    cached_train = next(e for e in cached if e.name == "train")
    assert {e.kind for e in store.list_events(execution_id=cached_train.id)} == {"input"}


def test_a_param_change_reruns_only_what_depends_on_it(
    local_workspace: Workspace, calls_file: Path
) -> None:
    run(training, workspace=local_workspace, executor="local")
    calls_file.unlink()
    third = run(training, {"c": 0.5}, workspace=local_workspace, executor="local")
    assert calls(calls_file) == ["train", "evaluate"]
    assert third.steps["make_data"] is ExecutionStatus.CACHED
    assert third.steps["train"] is ExecutionStatus.COMPLETED


def test_cache_off_steps_always_run(local_workspace: Workspace, calls_file: Path) -> None:
    from flows import make_data

    @pipeline
    def uncached():
        make_data.with_options(cache=False)(rows=10)

    run(uncached, workspace=local_workspace, executor="local")
    run(uncached, workspace=local_workspace, executor="local")
    assert calls(calls_file) == ["make_data", "make_data"]


def test_retries_with_backoff(local_workspace: Workspace, flaky_file: Path) -> None:
    result = run(flaky_pipeline, workspace=local_workspace, executor="local")
    assert result.status is ExecutionStatus.COMPLETED
    tries = [
        e
        for e in local_workspace.metadata.list_executions(
            type=STEP_TYPE, parent_id=result.id, limit=None
        )
        if e.name == "flaky"
    ]
    assert sorted((e.properties["attempt"], e.status) for e in tries) == [
        (1, ExecutionStatus.FAILED),
        (2, ExecutionStatus.FAILED),
        (3, ExecutionStatus.COMPLETED),
    ]
    assert "flaky failure 1" in (min(tries, key=lambda e: e.properties["attempt"]).error or "")
    for failed_try in (e for e in tries if e.status is ExecutionStatus.FAILED):
        assert local_workspace.metadata.list_events(execution_id=failed_try.id) == [], (
            "a failed try commits nothing"
        )


def test_a_failing_step_fails_the_run_with_its_traceback(local_workspace: Workspace) -> None:
    with pytest.raises(StepFailedError, match="step 'boom' failed") as caught:
        run(failing, workspace=local_workspace, executor="local")
    error = caught.value
    assert error.step == "boom"
    assert "ValueError: the step blew up" in error.traceback
    store = local_workspace.metadata
    record = store.get_execution(error.run_id)
    assert record.status is ExecutionStatus.FAILED
    assert "the step blew up" in (record.error or "")
    steps = {
        e.name: e for e in store.list_executions(type=STEP_TYPE, parent_id=error.run_id, limit=None)
    }
    assert steps["slow_square"].status is ExecutionStatus.COMPLETED
    assert steps["boom"].status is ExecutionStatus.FAILED
    assert "total" not in steps, "steps after a failure do not start"


def test_resume_reruns_only_what_did_not_finish(
    local_workspace: Workspace, calls_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows

    with pytest.raises(StepFailedError) as caught:
        run(failing, workspace=local_workspace, executor="local")
    assert calls(calls_file) == ["slow_square:4"]
    # "Fix" the step, then resume: the finished step is reused, the rest runs.
    monkeypatch.setattr(flows.boom, "fn", lambda x: x + 1)
    resumed = resume(caught.value.run_id, workspace=local_workspace, executor="local")
    assert calls(calls_file) == ["slow_square:4"]
    assert resumed.steps == {
        "slow_square": ExecutionStatus.CACHED,
        "boom": ExecutionStatus.COMPLETED,
        "total": ExecutionStatus.COMPLETED,
    }
    assert local_workspace.load(resumed.artifact("total")) == 16 + 17
    record = local_workspace.metadata.get_execution(resumed.id)
    assert record.properties["started_by"] == f"resume:{caught.value.run_id}"


def test_a_wrong_return_type_names_the_step_and_type(local_workspace: Workspace) -> None:
    with pytest.raises(StepFailedError, match="must be a int") as caught:
        run(wrong, workspace=local_workspace, executor="local")
    assert caught.value.step == "wrong_type"


@step(timeout=0.3)
def sleepy() -> int:
    time.sleep(3)
    return 1


def test_a_step_past_its_timeout_fails(local_workspace: Workspace) -> None:
    @pipeline
    def slow():
        sleepy()

    with pytest.raises(StepFailedError, match="timeout"):
        run(slow, workspace=local_workspace, executor="local")


_KILLED_ORCHESTRATOR = """
import sys, time
sys.path.insert(0, sys.argv[2])
from loopml.core import Settings
from loopml.pipelines import run
from loopml.workspace import Workspace
from flows import hanging

run(hanging, {"seconds": 600}, workspace=Workspace(Settings.load(sys.argv[1])), executor="local")
"""


@pytest.mark.slow
def test_a_killed_orchestrator_is_marked_failed_and_rerun_reuses_finished_steps(
    isolated_project: Path, calls_file: Path
) -> None:
    from loopml.core import Settings

    folder = str(Path(__file__).parent)
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_ORCHESTRATOR, str(isolated_project), folder]
    )
    deadline = time.time() + 60
    while time.time() < deadline and "slow_square:3" not in calls(calls_file):
        time.sleep(0.1)
    assert "slow_square:2" in calls(calls_file)
    process.kill()
    process.wait()
    workspace = Workspace(Settings.load(isolated_project))
    (stuck,) = workspace.metadata.list_executions(type=PIPELINE_TYPE, limit=None)
    assert stuck.status is ExecutionStatus.RUNNING
    # Nobody beats for it any more; with a 10 s beat, the next look after 30 s fails it.
    time.sleep(1.2)
    failed = fail_stale_runs(workspace, older_than=1.0)
    assert stuck.id in failed
    assert workspace.metadata.get_execution(stuck.id).status is ExecutionStatus.FAILED
    steps = workspace.metadata.list_executions(type=STEP_TYPE, parent_id=stuck.id, limit=None)
    assert {e.status for e in steps if e.name == "slow_square_2"} == {ExecutionStatus.FAILED}
    # Rerunning reuses the step that finished before the kill.
    from flows import hanging

    again = run(hanging, {"seconds": 0}, workspace=workspace, executor="local")
    assert again.steps["slow_square"] is ExecutionStatus.CACHED
    assert calls(calls_file).count("slow_square:2") == 1
    workspace.close()


def test_catalog_datasets_are_read_and_written_by_name(
    local_workspace: Workspace, isolated_project: Path
) -> None:
    import pandas as pd
    from flows import catalog_flow

    pd.DataFrame({"n": [1, 2, 3]}).to_csv(isolated_project / "numbers.csv", index=False)
    catalog = {
        "numbers": {"type": "csv", "path": str(isolated_project / "numbers.csv")},
        "doubled": {"type": "parquet", "path": str(isolated_project / "out" / "doubled.parquet")},
    }
    from loopml.pipelines.catalog import Catalog

    datasets = Catalog.from_config(catalog, base_dir=isolated_project)
    first = run(catalog_flow, workspace=local_workspace, executor="local", catalog=datasets)
    assert local_workspace.load(first.artifact("row_count")) == 3
    assert len(pd.read_parquet(isolated_project / "out" / "doubled.parquet")) == 6
    second = run(catalog_flow, workspace=local_workspace, executor="local", catalog=datasets)
    assert second.steps["load.numbers"] is ExecutionStatus.CACHED
    # New data under the same name: the load step and what follows run again.
    pd.DataFrame({"n": [1, 2, 3, 4]}).to_csv(isolated_project / "numbers.csv", index=False)
    third = run(catalog_flow, workspace=local_workspace, executor="local", catalog=datasets)
    assert third.steps["load.numbers"] is ExecutionStatus.COMPLETED
    assert local_workspace.load(third.artifact("row_count")) == 4


def test_catalog_mistakes_are_found_before_anything_runs(
    local_workspace: Workspace, isolated_project: Path
) -> None:
    from flows import catalog_flow

    from loopml.pipelines import PipelineDefinitionError

    with pytest.raises(PipelineDefinitionError, match="numbers"):
        run(catalog_flow, workspace=local_workspace, executor="local")
    assert local_workspace.metadata.list_executions(limit=None) == []
    (isolated_project / "loopml.yaml").write_text(
        "catalog:\n  numbers: {type: csv, path: missing.csv}\n"
        "  doubled: {type: parquet, path: out.parquet}\n"
    )
    from loopml.core import Settings
    from loopml.workspace import Workspace as WorkspaceClass

    ws = WorkspaceClass(Settings.load(isolated_project))
    with pytest.raises(PipelineDefinitionError, match="has no data yet"):
        run(catalog_flow, workspace=ws, executor="local")
    ws.close()


class _Marker:
    """A type only the regression test below stores."""


def test_the_cache_key_ignores_unrelated_materializers(local_workspace: Workspace) -> None:
    """Regression: registering any materializer changed every key in that process."""
    from loopml.artifacts import Materializer, register_materializer

    first = run(training, workspace=local_workspace, executor="local")

    class MarkerMaterializer(Materializer):
        name = f"marker-{id(first)}"
        types = (f"{__name__}._Marker",)

        def dump(self, obj: object) -> bytes:
            return b""

        def load(self, data: bytes, type_name: str, *, trusted: object = None) -> object:
            return _Marker()

    register_materializer(MarkerMaterializer())
    second = run(training, workspace=local_workspace, executor="local")
    assert set(second.steps.values()) == {ExecutionStatus.CACHED}


def test_equal_bytes_of_different_types_stay_apart(local_workspace: Workspace) -> None:
    """Regression: "1" and 1 shared one artifact record, so reruns loaded the wrong type."""
    from flows import same_bytes

    for _ in range(2):
        result = run(same_bytes, workspace=local_workspace, executor="local")
        assert local_workspace.load(result.artifact("double_it")) == "11"
        assert local_workspace.load(result.artifact("double_it_2")) == 2
        assert result.artifact("text_one") != result.artifact("int_one")
    assert set(result.steps.values()) == {ExecutionStatus.CACHED}


def test_a_step_keeps_its_outputs_and_settings_through_pickling() -> None:
    """Regression: an inline step lost its outputs on the way to a worker process."""
    import pickle

    from flows import pair

    copy = pickle.loads(pickle.dumps(pair))
    assert copy.outputs == ("n", "s")
    assert copy.settings.retries == 1
    assert copy.fn() == (1, "a")


def test_bad_resources_are_refused_when_the_step_is_defined() -> None:
    from loopml.pipelines import PipelineDefinitionError

    with pytest.raises(PipelineDefinitionError, match="cpus"):
        step(resources={"cpus": -1})(lambda: 1)


def test_a_run_declared_dead_elsewhere_stops_with_a_clear_error(
    local_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import fenced

    from loopml.pipelines import PipelineError

    monkeypatch.setenv("LOOPML_TEST_PROJECT", str(local_workspace.settings.project_dir))
    monkeypatch.setenv("LOOPML_METADATA_URI", local_workspace.settings.metadata_uri)
    with pytest.raises(PipelineError, match="marked failed by another process"):
        run(fenced, workspace=local_workspace, executor="local")
    (record,) = local_workspace.metadata.list_executions(type=PIPELINE_TYPE, limit=None)
    assert record.status is ExecutionStatus.FAILED


def test_a_try_the_executor_refuses_is_recorded_failed(local_workspace: Workspace) -> None:
    """A submit that raises (resources no worker offers) fails the try, not the orchestrator."""
    from concurrent.futures import Future

    from loopml.pipelines.executors import ExecutorError, LocalExecutor

    class Refusing(LocalExecutor):
        def submit(self, fn, arg, *, resources=None) -> Future:  # type: ignore[no-untyped-def]
            raise ExecutorError("no worker offers 8 GPUs")

    with Refusing() as executor, pytest.raises(StepFailedError, match="8 GPUs") as caught:
        run(training, workspace=local_workspace, executor=executor)
    (first,) = local_workspace.metadata.list_executions(
        type=STEP_TYPE, parent_id=caught.value.run_id, limit=None
    )
    assert first.status is ExecutionStatus.FAILED
    assert "8 GPUs" in (first.error or "")


def test_a_rejecting_step_stops_the_run_keeps_its_evidence_and_is_not_retried(
    local_workspace: Workspace, calls_file: Path
) -> None:
    from flows import gated

    with pytest.raises(StepFailedError, match="step 'gate' failed after 1 try") as caught:
        run(gated, workspace=local_workspace, executor="local")
    assert "StepRejectedError: 9 is odd" in str(caught.value)
    assert calls(calls_file).count("gate") == 1, "a rejection is final: no retry"
    store = local_workspace.metadata
    [rejected] = [
        e
        for e in store.list_executions(type=STEP_TYPE, parent_id=caught.value.run_id, limit=None)
        if e.name == "gate"
    ]
    assert rejected.status is ExecutionStatus.FAILED
    events = store.list_events(execution_id=rejected.id)
    [event] = [e for e in events if e.kind == "output"]
    assert event.name == "report"
    assert local_workspace.load(event.artifact_id) == {"value": 9, "odd": True}
    run_context = store.find_context("pipeline_run", caught.value.run_id)
    assert run_context is not None
    assert store.lineage(event.artifact_id).executions[rejected.id].name == "gate"


@pytest.mark.parametrize("timeout", [0.0, 30.0], ids=["inline", "in-a-timed-thread"])
def test_a_step_knows_its_run_inputs_and_stores(local_workspace: Workspace, timeout: float) -> None:
    from flows import introspecting

    from loopml.pipelines import PipelineError, current_step

    result = run(introspecting, {"timeout": timeout}, workspace=local_workspace, executor="local")
    seen = local_workspace.load(result.artifact("introspect"))
    [execution] = [
        e
        for e in local_workspace.metadata.list_executions(type=STEP_TYPE, parent_id=result.id)
        if e.name == "introspect"
    ]
    assert seen == {
        "run_id": result.id,
        "step": "introspect",
        "attempt": 1,
        "execution_id": execution.id,
        "inputs": {"data": result.artifact("slow_square")},
        "metadata_uri": local_workspace.settings.metadata_uri,
    }
    with pytest.raises(PipelineError, match="only available inside a step"):
        current_step()


def test_an_optional_output_may_be_none_but_not_another_type(local_workspace: Workspace) -> None:
    """Regression: a step annotated ``-> int | None`` that returned None was refused."""
    from flows import optional_pipeline

    for value, expected in (("", None), ("abc", 3)):
        result = run(
            optional_pipeline, {"value": value}, workspace=local_workspace, executor="local"
        )
        assert local_workspace.load(result.artifact("optional")) == expected
    with pytest.raises(StepFailedError, match=r"must be a int \| None"):
        run(optional_pipeline, {"value": "bad"}, workspace=local_workspace, executor="local")


def test_a_step_that_records_an_extra_output_is_still_served_from_cache(
    local_workspace: Workspace, calls_file: Path
) -> None:
    """Regression: an output event a step recorded itself made its cache entry unusable."""
    from flows import with_side_output

    first = run(with_side_output, workspace=local_workspace, executor="local")
    again = run(with_side_output, workspace=local_workspace, executor="local")
    assert again.steps["side_output"] is ExecutionStatus.CACHED
    assert calls(calls_file).count("side_output") == 1
    assert again.artifact("side_output") == first.artifact("side_output")


def test_step_workspace_is_the_runs_inside_a_step_and_none_outside(
    local_workspace: Workspace,
) -> None:
    from loopml.pipelines import step_workspace

    assert step_workspace() is None
    result = run(introspect_workspace_pipeline, workspace=local_workspace, executor="local")
    assert local_workspace.load(result.artifact("workspace_uri")) == str(
        local_workspace.settings.metadata_uri
    )


@step
def workspace_uri() -> str:
    from loopml.pipelines import step_workspace

    found = step_workspace()
    assert found is not None
    return str(found.settings.metadata_uri)


@pipeline
def introspect_workspace_pipeline():
    workspace_uri()
