"""Validation in pipelines: infer, validate, stop on schema skew, record drift, with lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
from dvflows import checked, curated

from loopml.core import Settings
from loopml.metadata import ExecutionStatus
from loopml.pipelines import StepFailedError, run
from loopml.pipelines.runner import STEP_TYPE
from loopml.validation import DriftReport, Schema, ValidationReport, infer_schema
from loopml.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    settings = Settings.load(
        tmp_path / "project",
        metadata_uri=f"sqlite:///{tmp_path / 'meta.db'}",
        artifact_uri=str(tmp_path / "artifacts"),
    )
    return Workspace(settings)


def test_a_clean_batch_passes_and_its_drift_is_recorded_with_lineage(workspace: Workspace) -> None:
    result = run(checked, workspace=workspace, executor="local")
    assert result.status is ExecutionStatus.COMPLETED
    report = workspace.load(result.artifact("validate_data"))
    assert isinstance(report, ValidationReport) and report.status == "passed"
    drift = workspace.load(result.artifact("detect_drift"))
    assert isinstance(drift, DriftReport) and not drift.dataset_drift
    schema = workspace.load(result.artifact("infer_schema"))
    assert isinstance(schema, Schema) and "carrier" in schema
    lineage = workspace.metadata.lineage(result.artifact("detect_drift"))
    assert {e.name for e in lineage.executions.values()} == {"load", "load_batch", "detect_drift"}
    again = run(checked, workspace=workspace, executor="local")
    assert set(again.steps.values()) == {ExecutionStatus.CACHED}, "validation objects cache"


def test_schema_skew_stops_the_run_and_keeps_the_report(workspace: Workspace) -> None:
    with pytest.raises(StepFailedError, match="origin: missing_column") as caught:
        run(checked, {"drop": "origin"}, workspace=workspace, executor="local")
    store = workspace.metadata
    steps = store.list_executions(type=STEP_TYPE, parent_id=caught.value.run_id, limit=None)
    by_name = {e.name: e for e in steps}
    assert by_name["validate_data"].status is ExecutionStatus.FAILED
    [output] = [
        e for e in store.list_events(execution_id=by_name["validate_data"].id) if e.kind == "output"
    ]
    report = workspace.load(output.artifact_id)
    assert isinstance(report, ValidationReport)
    assert [(a.feature, a.kind) for a in report.errors] == [("origin", "missing_column")]


def test_drift_between_batches_is_found(workspace: Workspace) -> None:
    result = run(checked, {"shift": 5.0}, workspace=workspace, executor="local")
    drift = workspace.load(result.artifact("detect_drift"))
    assert drift.drifted == ("temp",)


def test_a_curated_schema_file_is_read_from_the_catalog_and_edits_rerun_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    from samples import flights

    from loopml.pipelines.catalog import Catalog
    from loopml.validation.catalog import SchemaDataset

    path = tmp_path / "schema.yaml"
    infer_schema(flights()).save(path)
    catalog = Catalog({"flights_schema": SchemaDataset(str(path))})
    first = run(curated, workspace=workspace, executor="local", catalog=catalog)
    assert workspace.load(first.artifact("validate_data")).status == "passed"
    edited = Schema.load(path).with_feature("carrier", domain=("AA",))
    edited.save(path)
    with pytest.raises(StepFailedError, match="carrier: out_of_domain"):
        run(curated, workspace=workspace, executor="local", catalog=catalog)


def test_steps_run_in_worker_processes(workspace: Workspace) -> None:
    result = run(checked, {"shift": 5.0}, workspace=workspace, executor="process")
    assert workspace.load(result.artifact("detect_drift")).drifted == ("temp",)
