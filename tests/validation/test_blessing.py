"""Blessing: every rule kind passes and fails with its message; the step stops a pipeline."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.core import Settings
from loopml.core.errors import InvalidInputError
from loopml.metadata import ExecutionStatus
from loopml.pipelines import StepFailedError, pipeline, run, step
from loopml.pipelines.runner import STEP_TYPE
from loopml.validation import (
    Blessing,
    BlessingPolicy,
    Evaluation,
    ModelNotBlessedError,
    SliceMetrics,
    bless,
)
from loopml.validation import steps as mv
from loopml.validation.materializers import ValidationMaterializer
from loopml.workspace import Workspace


def evaluation(
    task: str = "binary",
    slices: tuple[SliceMetrics, ...] = (),
    name: str = "candidate",
    **metrics: Any,
) -> Evaluation:
    base: dict[str, float | None] = (
        {"rmse": 1.0, "mae": 0.8, "r2": 0.9, "mape": 0.1}
        if task == "regression"
        else {"accuracy": 0.8, "f1": 0.6, "roc_auc": 0.85, "log_loss": 0.45, "positive_rate": 0.25}
    )
    base.update(metrics)
    notes = {k: "only one class in the target" for k, v in base.items() if v is None}
    return Evaluation(task, "delayed", 1000, base, notes, slices, name=name, data_fingerprint="f")


def group(value: str, rows: int = 300, **metrics: float | None) -> SliceMetrics:
    status = "ok" if rows >= 30 else "insufficient_data"
    return SliceMetrics("origin", value, rows, status, metrics)


def checks(blessing: Blessing) -> dict[str, tuple[bool, str]]:
    return {check.name: (check.passed, check.message) for check in blessing.checks}


def test_absolute_thresholds_pass_and_fail_with_the_value_and_threshold() -> None:
    policy = {"roc_auc": {">=": 0.80}, "log_loss": {"<": 0.5}}
    assert bless(evaluation(), policy).blessed
    blessing = bless(evaluation(roc_auc=0.7612), policy)
    assert not blessing.blessed
    [failed] = blessing.failed
    assert failed.name == "roc_auc >= 0.8" and (failed.value, failed.threshold) == (0.7612, 0.8)
    assert failed.message == "roc_auc = 0.7612, missing the threshold >= 0.8"
    undefined = bless(evaluation(roc_auc=None), policy)
    assert checks(undefined)["roc_auc >= 0.8"] == (
        False,
        "roc_auc is undefined for the candidate: only one class in the target",
    )


def test_relative_rules_compare_with_production() -> None:
    policy = {"f1": {"max_drop": 0.005}, "log_loss": {"max_increase_ratio": 0.02}}
    production = evaluation(name="production", f1=0.6, log_loss=0.45)
    within = bless(evaluation(f1=0.597, log_loss=0.458), policy, baseline=production)
    assert within.blessed, within.failed
    assert checks(within)["f1 max_drop 0.005"][1] == (
        "f1 0.6 in production -> 0.597: a drop of 0.003, within max_drop 0.005"
    )
    worse = bless(evaluation(f1=0.59, log_loss=0.47), policy, baseline=production)
    assert [c.name for c in worse.failed] == [
        "f1 max_drop 0.005",
        "log_loss max_increase_ratio 0.02",
    ]
    messages = checks(worse)
    assert messages["f1 max_drop 0.005"][1] == (
        "f1 0.6 in production -> 0.59: a drop of 0.01, more than max_drop 0.005 allows"
    )
    assert (
        "an increase of 4.44%, more than max_increase_ratio 2.00% allows"
        in (messages["log_loss max_increase_ratio 0.02"][1])
    )
    assert worse.baseline is not None and worse.baseline["name"] == "production"
    better = bless(evaluation(f1=0.7, log_loss=0.3), policy, baseline=production)
    assert better.blessed and "no drop" in checks(better)["f1 max_drop 0.005"][1]


def test_without_production_relative_checks_pass_and_say_so() -> None:
    policy = {
        "f1": {"max_drop": 0.005},
        "slices": {"metric": "f1", "max_drop": 0.1, "against": "baseline"},
    }
    first = bless(evaluation(f1=0.1), policy)
    assert first.blessed and first.baseline is None
    assert {message for _, message in checks(first).values()} == {
        "no production version to compare with"
    }


def test_regression_increase_bounds() -> None:
    policy = {"rmse": {"max_increase_ratio": 0.02}, "r2": {">=": 0.5}}
    production = evaluation("regression", rmse=1.0)
    assert bless(evaluation("regression", rmse=1.019), policy, baseline=production).blessed
    failed = bless(evaluation("regression", rmse=1.05), policy, baseline=production)
    [check] = failed.failed
    assert check.value == pytest.approx(0.05) and check.threshold == 0.02


def test_an_evaluation_of_another_task_cannot_serve_as_baseline() -> None:
    blessing = bless(evaluation(), {"f1": {"max_drop": 0.01}}, baseline=evaluation("regression"))
    assert not blessing.blessed
    assert "relative checks cannot compare" in checks(blessing)["comparable"][1]
    rules = checks(bless(evaluation(), {"rmse": {"<=": 1}}))
    assert rules["rmse <= 1"] == (
        False,
        "rmse is not a metric of a binary evaluation (the candidate)",
    )


def test_slices_against_the_overall_value_skip_small_and_undefined_groups() -> None:
    slices = (
        group("EWR", roc_auc=0.84),
        group("JFK", roc_auc=0.78),
        group("LGA", rows=12, roc_auc=0.5),  # too few rows: skipped
        group("SWF", roc_auc=None),  # one class only: skipped
    )
    policy = {"slices": {"metric": "roc_auc", "max_drop": 0.05}}
    blessing = bless(evaluation(slices=slices), policy)
    [check] = blessing.checks
    assert not check.passed and check.value == pytest.approx(0.07)
    assert check.message == (
        "1 of 2 groups fall behind the overall value by more than max_drop 0.05: "
        "origin=JFK: roc_auc 0.78 vs 0.85 (skipped: 1 insufficient data, 1 roc_auc undefined)"
    )
    fine = bless(evaluation(slices=slices[:1] + slices[2:]), policy)
    assert fine.blessed and fine.checks[0].message.startswith("1 groups within max_drop 0.05")


def test_slices_against_the_same_production_slice() -> None:
    policy = {"slices": [{"metric": "roc_auc", "max_drop": 0.02, "against": "baseline"}]}
    production = evaluation(slices=(group("EWR", roc_auc=0.9), group("JFK", roc_auc=0.7)))
    candidate = evaluation(
        slices=(group("EWR", roc_auc=0.85), group("JFK", roc_auc=0.75), group("HPN", roc_auc=0.1))
    )
    blessing = bless(candidate, policy, baseline=production)
    [check] = blessing.failed
    assert "origin=EWR: roc_auc 0.85 vs 0.9" in check.message
    assert "JFK" not in check.message and "1 not in production" in check.message


def test_infra_check_required_given_passed_or_failed() -> None:
    @dataclasses.dataclass(frozen=True)
    class Infra:
        passed: bool
        seconds: float
        error: str | None

    policy = {"require_infra_check": True}
    missing = bless(evaluation(), policy)
    assert checks(missing)["infra"] == (
        False,
        "the policy requires an infrastructure check and none ran (give the model)",
    )
    ok = bless(evaluation(), policy, infra=Infra(True, 1.25, None))
    assert ok.blessed and ok.infra == {"passed": True, "seconds": 1.25, "error": None}
    broken = bless(evaluation(), {}, infra=Infra(False, 0.5, "ModuleNotFoundError: xgboost"))
    assert checks(broken)["infra"] == (
        False,
        "the infrastructure check failed: ModuleNotFoundError: xgboost",
    )


def test_policies_are_read_from_dicts_and_yaml_and_mistakes_are_refused(tmp_path: Path) -> None:
    text = (
        "roc_auc: {'>=': 0.8, max_drop: 0.01}\n"
        "rmse: {max_increase_ratio: 0.02}\n"
        "slices: {metric: roc_auc, max_drop: 0.05}\n"
        "require_infra_check: true\n"
    )
    (tmp_path / "policy.yaml").write_text(text)
    policy = BlessingPolicy.load(tmp_path / "policy.yaml")
    assert [str(rule) for rule in policy.rules] == [
        "roc_auc >= 0.8", "roc_auc max_drop 0.01", "rmse max_increase_ratio 0.02",
    ]  # fmt: skip
    assert policy.require_infra_check and len(policy.slice_rules) == 1
    assert BlessingPolicy.from_dict(policy.to_dict()) == policy
    bad = [
        ({"auc": {">=": 0.8}}, "unknown metric 'auc'"),
        ({"f1": {"at_least": 0.8}}, "unknown rule 'at_least'"),
        ({"rmse": {"max_drop": 0.1}}, "rmse is better lower: bound it with max_increase"),
        ({"f1": {"max_increase": 0.1}}, "f1 is better higher"),
        ({"f1": {"max_drop": -0.1}}, "must be >= 0"),
        ({"f1": {">=": "high"}}, "finite number"),
        ({"f1": 0.8}, "rules are a mapping"),
        ({"slices": {"metric": "f1", ">=": 0.5}}, "a slice rule bounds a change"),
        ({"slices": {"metric": "f1", "max_drop": 0.1, "against": "x"}}, "against must be"),
        ({"require_infra_check": "yes"}, "true or false"),
    ]
    for data, message in bad:
        with pytest.raises(InvalidInputError, match=message):
            BlessingPolicy.from_dict(data)


def test_blessing_round_trips_and_renders() -> None:
    production = evaluation(name="production")
    blessing = bless(
        evaluation(f1=0.5, slices=(group("<b>JFK</b>", roc_auc=0.6),)),
        {"f1": {"max_drop": 0.01}, "slices": {"metric": "roc_auc", "max_drop": 0.05}},
        baseline=production,
    )
    assert Blessing.from_dict(json.loads(blessing.to_json())) == blessing
    materializer = ValidationMaterializer()
    loaded = materializer.load(materializer.dump(blessing), "loopml.validation.blessing.Blessing")
    assert loaded == blessing
    document = blessing.to_html()
    parser = HTMLParser()
    parser.feed(document)
    assert "<b>JFK" not in document and "&lt;b&gt;JFK" in document
    assert document.count('class="pill status-bad"') == 2  # the two failed checks
    assert 'class="badge status-bad"' in document  # the verdict
    with pytest.raises(
        ModelNotBlessedError, match="candidate is not blessed: 2 failed checks"
    ) as caught:
        blessing.raise_if_not_blessed()
    assert caught.value.evidence == {"blessing": blessing}
    with pytest.raises(ValueError, match="not a blessing"):
        Blessing.from_dict({"blessed": True})


# --- the steps in a pipeline ---------------------------------------------------------------


def frame(seed: int, rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {"distance": rng.integers(100, 3000, rows), "origin": rng.choice(["EWR", "JFK"], rows)}
    )
    data["delayed"] = (data["distance"] / 3000 + rng.normal(0, 0.3, rows) > 0.5).astype(int)
    return data


@step
def train(seed: int = 0, noise: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    data = frame(seed)
    target = np.random.default_rng(1).integers(0, 2, len(data)) if noise else data["delayed"]
    return LogisticRegression().fit(data[["distance"]], target)


@step
def load_test() -> pd.DataFrame:
    return frame(seed=7)


SLICES = [
    {"kind": "values", "column": "origin"},
    {"kind": "ranges", "column": "distance", "edges": [0, 1000, 2000, None]},
]


@pipeline
def gated(noise: bool = False, fail: bool = True):
    test = load_test()
    production = mv.evaluate_model.with_options(name="evaluate_production")(
        train(), test, "delayed", slices=SLICES, name="production", features=["distance"]
    )
    candidate = mv.evaluate_model(
        train.with_options(name="train_candidate")(noise=noise), test, "delayed",
        slices=SLICES, name="candidate", features=["distance"],
    )  # fmt: skip
    policy = {
        "roc_auc": {">=": 0.6, "max_drop": 0.01},
        "slices": {"metric": "roc_auc", "max_drop": 0.02, "against": "baseline"},
    }
    mv.bless_model(candidate, policy, baseline=production, fail=fail)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    settings = Settings.load(
        tmp_path / "project",
        metadata_uri=f"sqlite:///{tmp_path / 'meta.db'}",
        artifact_uri=str(tmp_path / "artifacts"),
    )
    return Workspace(settings)


def test_a_blessed_candidate_lets_the_run_finish_with_its_artifacts(workspace: Workspace) -> None:
    result = run(gated, workspace=workspace, executor="local")
    assert result.status is ExecutionStatus.COMPLETED
    blessing = workspace.load(result.artifact("bless_model"))
    assert isinstance(blessing, Blessing) and blessing.blessed
    candidate = workspace.load(result.artifact("evaluate_model"))
    assert isinstance(candidate, Evaluation) and candidate.metric("roc_auc") > 0.6
    assert {g.key for g in candidate.slices} >= {"origin=EWR", "distance=[2000, inf)"}


def test_an_unblessed_candidate_stops_the_run_and_keeps_the_blessing(workspace: Workspace) -> None:
    with pytest.raises(StepFailedError, match="candidate is not blessed") as caught:
        run(gated, {"noise": True}, workspace=workspace, executor="local")
    store = workspace.metadata
    steps = store.list_executions(type=STEP_TYPE, parent_id=caught.value.run_id, limit=None)
    by_name = {e.name: e for e in steps}
    assert by_name["bless_model"].status is ExecutionStatus.FAILED
    [output] = [
        e for e in store.list_events(execution_id=by_name["bless_model"].id) if e.kind == "output"
    ]
    blessing = workspace.load(output.artifact_id)
    assert isinstance(blessing, Blessing) and not blessing.blessed
    assert "roc_auc >= 0.6" in {check.name for check in blessing.failed}
    kept = run(gated, {"noise": True, "fail": False}, workspace=workspace, executor="local")
    assert not workspace.load(kept.artifact("bless_model")).blessed


def test_the_step_runs_the_infra_check_on_the_model_artifact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import loopml.models

    @dataclasses.dataclass(frozen=True)
    class Infra:
        passed: bool
        seconds: float
        error: str | None

    seen: list[str] = []

    def fake_infra_check(source: str, **options: Any) -> Infra:
        seen.append(source)
        return Infra(False, 0.3, "predict failed: column 'distance' missing")

    monkeypatch.setattr(loopml.models, "infra_check", fake_infra_check)
    policy = {"require_infra_check": True}
    with pytest.raises(ModelNotBlessedError, match="infra: the infrastructure check failed"):
        mv.bless_model(evaluation(), policy, model_artifact="abc123")
    assert seen == ["abc123"]
    blessing = mv.bless_model(evaluation(), {}, model_artifact="abc123", fail=False)
    assert blessing.blessed and seen == ["abc123"], "no check when the policy does not ask"
