"""The training-set step: a pipeline builds its training set from a feature service."""

from __future__ import annotations

import pandas as pd

from loopml.features import FeatureStore, training_set
from loopml.features.lineage import RETRIEVAL_TYPE
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
