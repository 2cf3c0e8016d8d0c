from __future__ import annotations

from collections.abc import Iterator

import pytest

import loopml
from loopml.metadata import EventKind
from loopml.workspace import Workspace


@pytest.fixture
def autologging() -> Iterator[None]:
    loopml.autolog()
    yield
    loopml.autolog(disable=True)


def test_fit_logs_params_metrics_model_and_data(autologging: None, workspace: Workspace) -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    with loopml.start_run(experiment="auto", workspace=workspace) as run:
        model = LogisticRegression(max_iter=200, C=0.5).fit(X, y)
    got = loopml.get_run(run.id, workspace=workspace)
    assert got.params["C"] == "0.5"
    assert got.params["max_iter"] == "200"
    assert 0.9 < got.metrics["training_accuracy"] <= 1.0
    assert 0.9 < got.metrics["training_roc_auc"] <= 1.0
    assert "training_log_loss" in got.metrics
    assert got.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    events = {e.name: e for e in workspace.metadata.list_events(execution_id=run.id)}
    assert events["model"].kind is EventKind.OUTPUT
    assert events["training_data"].kind is EventKind.INPUT
    restored = workspace.load(events["model"].artifact_id)
    assert (restored.predict(X) == model.predict(X)).all()
    lineage = workspace.metadata.lineage(events["model"].artifact_id)
    assert events["training_data"].artifact_id in lineage.artifacts


def test_fit_without_a_run_starts_and_ends_one(autologging: None) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    X, y = load_diabetes(return_X_y=True)
    make_pipeline(StandardScaler(), DecisionTreeRegressor(max_depth=3)).fit(X, y)
    assert loopml.active_run() is None
    runs = loopml.search_runs()
    assert len(runs) == 1, "a pipeline fitting its steps logs once"
    assert runs[0].status == "completed"
    assert {"training_rmse", "training_r2", "training_mae"} <= set(runs[0].metrics)
    assert runs[0].params["decisiontreeregressor__max_depth"] == "3"


def test_a_failing_fit_fails_its_run(autologging: None) -> None:
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError):
        LinearRegression().fit([[1.0], [float("nan")]], [1.0, 2.0])
    (run,) = loopml.search_runs()
    assert run.status == "failed"
    assert "ValueError" in (run.error or "")


def test_inherited_fits_are_logged_once(autologging: None) -> None:
    from sklearn.datasets import load_iris
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.preprocessing import LabelEncoder

    X, y = load_iris(return_X_y=True)
    HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    (run,) = loopml.search_runs()
    assert run.params["max_iter"] == "5"
    assert run.metrics["training_accuracy"] > 0.8
    # fit(self, y) signatures pass through untouched.
    LabelEncoder().fit(["a", "b"])
    assert len(loopml.search_runs()) == 2


def test_disable_restores_fit() -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression

    original = LinearRegression.fit
    loopml.autolog(log_models=False, log_datasets=False)
    assert LinearRegression.fit is not original
    assert "fit" in RandomForestClassifier.__dict__
    loopml.autolog(disable=True)
    assert LinearRegression.fit is original
    assert "fit" not in RandomForestClassifier.__dict__
    LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert loopml.search_runs() == []
