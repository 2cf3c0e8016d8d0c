"""The FeatureStore: materialize, online lookup = historical at now, push, lineage, the step."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from loopml.features import (
    FeatureInputError,
    FeatureStore,
    FileSource,
)
from loopml.features.lineage import MATERIALIZE_TYPE, RETRIEVAL_TYPE

NOW = pd.Timestamp.now(tz="UTC").floor("s")


@pytest.fixture
def fresh(definitions, isolated_project, online_uri):
    """A store over readings of the last hours (within the 90-minute ttl), on each online store."""
    frame = pd.DataFrame(
        {
            "origin": ["JFK", "JFK", "LGA", "EWR", "JFK"],
            "time_hour": [NOW - pd.Timedelta(h, "h") for h in (3, 1, 0.5, 2, -5)],
            "temp": [1.0, 2.0, 3.0, 4.0, 99.0],  # the last one is in the future
            "humid": [0.1, 0.2, 0.3, 0.4, 0.9],
        }
    )
    frame.to_parquet(isolated_project / "weather.parquet", index=False)
    store = FeatureStore(definitions, online_store=online_uri)
    yield store
    store.online_store.delete("weather")
    store.close()


def test_online_lookup_gives_what_historical_retrieval_gives_now(fresh) -> None:
    done = fresh.materialize(until=NOW.to_pydatetime())
    assert [(r.view, r.rows, r.written) for r in done] == [("weather", 3, 3)]
    keys = ["JFK", "LGA", "EWR", "SFO"]
    online = fresh.get_online_features("delays", [{"origin": k} for k in keys])
    offline = fresh.get_historical_features(
        pd.DataFrame({"origin": keys, "event_timestamp": [NOW] * 4}), "delays"
    )
    assert online["origin"] == keys
    for column in ("temp", "humid", "temp_f"):
        expected = [None if np.isnan(v) else v for v in offline[column]]
        assert online[column] == expected
    assert online["temp"] == [2.0, 3.0, None, None]  # EWR's value is older than the ttl


def test_incremental_materialization_takes_only_new_rows(fresh) -> None:
    fresh.materialize(until=(NOW - pd.Timedelta(hours=1.5)).to_pydatetime())
    assert fresh.get_online_features(["weather:temp"], {"origin": ["JFK"]})["temp"] == [None]
    later = fresh.materialize(incremental=True, until=NOW.to_pydatetime())
    assert later[0].start is not None and later[0].rows == 2  # JFK at -1 h, LGA at -0.5 h
    assert fresh.get_online_features(["weather:temp"], {"origin": ["JFK"]})["temp"] == [2.0]
    executions = fresh.workspace.metadata.list_executions(type=MATERIALIZE_TYPE)
    assert len(executions) == 2
    assert executions[0].metrics["rows"] == 2.0


def test_push_writes_fresh_values_that_older_ones_cannot_undo(fresh) -> None:
    pushed = {"origin": "SFO", "time_hour": NOW.to_pydatetime(), "temp": 7.5, "humid": 0.5}
    assert fresh.push("weather", [pushed]) == 1
    fresh.materialize(until=NOW.to_pydatetime())
    assert fresh.get_online_features("delays", [{"origin": "SFO"}])["temp_f"] == [7.5 * 9 / 5 + 32]
    stale = dict(pushed, time_hour=(NOW - pd.Timedelta(minutes=5)).to_pydatetime(), temp=0.0)
    assert fresh.push("weather", pd.DataFrame([stale])) == 0
    assert fresh.get_online_features(["weather:temp"], [{"origin": "SFO"}])["temp"] == [7.5]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ({"time_hour": NOW, "temp": 1.0, "humid": 1.0}, "origin"),
        ({"origin": "JFK", "temp": 1.0, "humid": 1.0}, "time_hour"),
        ({"origin": "JFK", "time_hour": NOW, "temp": 1.0}, "humid"),
        ({"origin": "JFK", "time_hour": NOW, "temp": "hot", "humid": 1.0}, "temp"),
        ({"origin": "JFK", "time_hour": "today", "temp": 1.0, "humid": 1.0}, "time_hour"),
    ],
)
def test_bad_pushes_name_the_view_and_the_column_and_write_nothing(fresh, row, column) -> None:
    with pytest.raises(FeatureInputError) as caught:
        fresh.push("weather", [row])
    assert caught.value.view == "weather" and caught.value.column == column
    assert fresh.get_online_features(["weather:temp"], [{"origin": "JFK"}])["temp"] == [None]


def test_online_lookup_without_a_join_key(fresh) -> None:
    with pytest.raises(FeatureInputError, match=r"'weather', column 'origin'"):
        fresh.get_online_features("delays", [{"airport": "JFK"}])


def test_offline_push_appends_to_a_parquet_folder(definitions, isolated_project) -> None:
    view = dataclasses.replace(definitions.views[0], source=FileSource("weather/", "time_hour"))
    repo = dataclasses.replace(definitions, views=(view,))
    store = FeatureStore(repo, online_store="memory://")
    row = {"origin": "JFK", "time_hour": NOW, "temp": 5.0, "humid": 0.5}
    assert store.push("weather", [row], to="both") == 1
    out = store.get_historical_features(
        pd.DataFrame({"origin": ["JFK"], "event_timestamp": [NOW]}), ["weather:temp"]
    )
    assert out["temp"].tolist() == [5.0]
    with pytest.raises(FeatureInputError, match="folder of Parquet"):
        FeatureStore(definitions, online_store="memory://").push("weather", [row], to="offline")


def test_recorded_retrieval_links_the_training_set_to_its_sources(definitions, workspace) -> None:
    store = FeatureStore(definitions, workspace=workspace, online_store="memory://")
    frame = pd.DataFrame(
        {"origin": ["JFK"], "event_timestamp": [datetime(2024, 1, 1, 1, tzinfo=UTC)]}
    )
    store.get_historical_features(frame, "delays", record=True)
    [execution] = workspace.metadata.list_executions(type=RETRIEVAL_TYPE)
    events = {e.name: e for e in workspace.metadata.list_events(execution_id=execution.id)}
    assert set(events) == {"definitions", "source.weather", "training_set"}
    source = workspace.load(events["source.weather"].artifact_id)
    assert source["view"] == "weather" and len(source["fingerprint"]) == 64
    training = workspace.load(events["training_set"].artifact_id)
    assert training["temp"].tolist() == [11.0]


def test_materialize_refuses_an_empty_window(fresh) -> None:
    with pytest.raises(FeatureInputError, match="empty"):
        fresh.materialize(
            since=NOW.to_pydatetime(), until=(NOW - timedelta(hours=1)).to_pydatetime()
        )


def test_online_and_offline_break_ties_the_same_way_in_any_row_order(
    definitions, isolated_project
) -> None:
    # Regression (undefined ties): rows of one key and event time without a created
    # timestamp gave whichever row DuckDB met first, offline and online alike.
    at = NOW - pd.Timedelta(minutes=30)
    rows = pd.DataFrame(
        {
            "origin": ["JFK"] * 6 + ["LGA"] * 2,
            "time_hour": [at] * 8,
            "temp": [1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0],
            "humid": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        }
    )
    entity = pd.DataFrame({"origin": ["JFK", "LGA"], "event_timestamp": [NOW] * 2})
    seen = set()
    for seed in range(4):
        rows.sample(frac=1, random_state=seed).to_parquet(
            isolated_project / "weather.parquet", index=False
        )
        with FeatureStore(definitions, online_store="memory://") as store:
            offline = store.get_historical_features(entity, "delays")
            store.materialize(until=NOW.to_pydatetime())
            online = store.get_online_features("delays", entity[["origin"]].to_dict("records"))
        pairs = list(zip(offline["temp"], offline["humid"], strict=True))
        assert [(t, h) for t, h in zip(online["temp"], online["humid"], strict=True)] == pairs
        seen.add(tuple(pairs))
    assert len(seen) == 1
