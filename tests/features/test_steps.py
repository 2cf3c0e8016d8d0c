"""The training-set step: a pipeline builds its training set from a feature service."""

from __future__ import annotations

import dataclasses

import pandas as pd

from loopml.features import FeatureStore, feature_snapshot, training_set
from loopml.features.lineage import RETRIEVAL_TYPE
from loopml.features.repository import load_current
from loopml.pipelines import pipeline, run, step
from loopml.workspace import get_workspace


@step
def flights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin": ["JFK", "LGA", "JFK"],
            "event_timestamp": pd.to_datetime(
                ["2024-01-01 00:30", "2024-01-01 01:10", "2024-01-01 02:00"], utc=True
            ),
            "delayed": [0, 1, 0],
        }
    )


@step
def positives(train: pd.DataFrame) -> int:
    return int(train["delayed"].sum())


@pipeline
def training() -> None:
    positives(training_set(flights(), service="delays"))


def test_a_pipeline_builds_its_training_set_from_a_service(definitions) -> None:
    FeatureStore(definitions).apply()
    done = run(training)
    artifact = done.artifact("training_set")
    frame = get_workspace().load(artifact)
    assert frame["temp"].tolist() == [10.0, 20.0, 12.0]
    assert frame["temp_f"].tolist() == [50.0, 68.0, 53.6]
    lineage = get_workspace().metadata.lineage(artifact, direction="upstream")
    types = {e.type for e in lineage.executions.values()}
    assert RETRIEVAL_TYPE in types
    kinds = {a.properties.get("kind") for a in lineage.artifacts.values()}
    assert {"feature_definitions", "feature_source"} <= kinds


def _status(done, node: str) -> str:
    return str(getattr(done.steps[node], "value", done.steps[node]))


def test_stale_cache_a_changed_source_file_rebuilds_the_training_set(
    definitions, weather_file
) -> None:
    # Regression (stale cache in pipelines): the step read the sources itself, so its
    # cache key did not change with them and a rerun served the old training set.
    FeatureStore(definitions).apply()
    first = run(training)
    again = run(training)
    assert _status(again, "training_set") == "cached"
    assert again.artifact("training_set") == first.artifact("training_set")
    frame = pd.read_parquet(weather_file)
    frame.assign(temp=frame["temp"] + 100).to_parquet(weather_file, index=False)
    changed = run(training)
    assert _status(changed, "training_set") == "completed"
    assert changed.artifact("training_set") != first.artifact("training_set")
    assert get_workspace().load(changed.artifact("training_set"))["temp"].tolist() == [
        110.0,
        120.0,
        112.0,
    ]


def test_stale_cache_newly_applied_definitions_rebuild_the_training_set(definitions) -> None:
    # Regression (stale cache in pipelines): after `apply` the rerun was served from cache.
    store = FeatureStore(definitions)
    store.apply()
    first = run(training)
    view = definitions.views[0]
    store.apply(dataclasses.replace(definitions, views=(dataclasses.replace(view, ttl="10m"),)))
    changed = run(training)
    assert _status(changed, "training_set") == "completed"
    assert changed.artifact("training_set") != first.artifact("training_set")
    frame = get_workspace().load(changed.artifact("training_set"))
    assert frame["temp"].isna().tolist() == [True, False, False]  # 30 minutes old: too old
    assert _status(run(training), "training_set") == "cached"


def test_the_snapshot_is_deterministic_and_names_what_the_service_reads(definitions) -> None:
    FeatureStore(definitions).apply()
    snapshot = feature_snapshot("delays")
    assert snapshot == feature_snapshot("delays")
    assert set(snapshot["sources"]) == {"weather"}
    assert set(snapshot["on_demand"]) == {"converted"}
    assert snapshot["definitions"] == load_current(get_workspace())[1].artifact_id
    first, second = (run(training).artifact("feature_snapshot") for _ in range(2))
    assert first == second
