"""Pipeline steps of the feature store.

:func:`training_set` builds a training set from a feature service inside a
pipeline: its output DataFrame becomes the step's artifact, and a
``features_retrieval`` execution records that the same artifact (content
addressing makes them one) came from the applied definitions and the source
versions, so the lineage of a model reaches the files its features came from.
"""

from __future__ import annotations

from typing import Any

from loopml.pipelines import step


@step
def training_set(
    entities: Any,
    service: str,
    timestamp_column: str = "event_timestamp",
    full_names: bool = False,
) -> Any:
    """The entity frame joined point-in-time with the features of ``service``.

    Args:
        entities: a pandas DataFrame of join keys, timestamps and (usually) labels.
        service: the name of a feature service of the applied definitions.
        timestamp_column: the entity frame's timestamp column.
        full_names: name the columns ``view__feature``.
    """
    from loopml.features.store import FeatureStore

    store = FeatureStore()
    try:
        return store.get_historical_features(
            entities,
            service,
            timestamp_column=timestamp_column,
            full_names=full_names,
            record=True,
        )
    finally:
        store.close()
