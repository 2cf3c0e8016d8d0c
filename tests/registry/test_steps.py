"""The registry's pipeline steps: package, find production, register; the policy promotes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lifecycle_flows import lifecycle

from loopml.core import Settings
from loopml.metadata import ExecutionStatus
from loopml.pipelines import PipelineError, StepFailedError, run
from loopml.registry import ModelRegistry
from loopml.registry import steps as reg
from loopml.workspace import Workspace

POLICY = """\
required_checks: [blessing]
auto_promote: {alias: production}
"""


@pytest.fixture
def project(tmp_path: Path) -> Workspace:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "cancer.yaml").write_text(POLICY)
    settings = Settings.load(
        tmp_path,
        metadata_uri=f"sqlite:///{tmp_path / 'meta.db'}",
        artifact_uri=str(tmp_path / "artifacts"),
    )
    return Workspace(settings)


def test_a_blessed_model_is_registered_and_promoted_once(project: Workspace) -> None:
    first = run(lifecycle, workspace=project, executor="local")
    outcome = project.load(first.artifact("register_version"))
    assert outcome == {"model": "cancer", "version": 1, "aliases": ["production"], "blessed": True}
    registry = ModelRegistry(project)
    version = registry.resolve("cancer@production")
    package = project.metadata.get_artifact(version.artifact_id)
    assert package.type == "loopml.model"
    assert "fit" in {e.name for e in project.metadata.lineage(package.id).executions.values()}
    assert registry.checks("cancer", 1)["blessing"].passed
    again = run(lifecycle, workspace=project, executor="local")
    assert again.steps["package_model"] is ExecutionStatus.CACHED
    assert [v.version for v in registry.list_versions("cancer")] == [1]


def test_a_worse_model_is_not_blessed_and_production_stays(project: Workspace) -> None:
    run(lifecycle, workspace=project, executor="local")
    with pytest.raises(StepFailedError, match="bless_model"):
        run(lifecycle, {"noise": 1.0}, workspace=project, executor="local")
    registry = ModelRegistry(project)
    assert [v.version for v in registry.list_versions("cancer")] == [1]
    assert registry.resolve("cancer@production").version == 1


def test_the_registry_steps_need_a_pipeline() -> None:
    with pytest.raises(PipelineError, match="only available inside a step"):
        reg.register_version("cancer", "abc", None)


def test_the_card_names_the_training_step_its_data_and_the_blessed_metrics(
    project: Workspace,
) -> None:
    run(lifecycle, workspace=project, executor="local")
    card = ModelRegistry(project).model_card("cancer", 1)
    assert card.run is not None and card.run["name"] == "fit"
    assert [d["name"] for d in card.training_data] == ["train"]
    assert card.metrics["roc_auc"] > 0.7
    assert "roc_auc" in card.markdown()


def test_a_pickled_version_loads_only_after_someone_opts_in(project: Workspace) -> None:
    """The gate holds through the registry: the opt-in is per version, and audited."""
    import pandas as pd
    from lifecycle_flows import Threshold

    from loopml.core.errors import UnsafeLoadError
    from loopml.models import log_model

    example = pd.DataFrame({"x": [0.2, 0.8]})
    package = log_model(
        Threshold("x", 0.5),
        example=example,
        workspace=project,
        allow_pickle=True,
        task="regression",
    )
    registry = ModelRegistry(project)
    registry.register_model("handmade", package)
    with pytest.raises(UnsafeLoadError):
        registry.load_model("handmade:1")
    registry.trust_pickle("handmade", 1, "our own class, reviewed")
    assert registry.load_model("handmade:1").predict(example).tolist() == [0, 1]
    assert registry.audit_log(model="handmade")[0].action == "trust_pickle"
