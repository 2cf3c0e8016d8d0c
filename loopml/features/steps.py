"""Pipeline steps of the feature store.

A training set depends on more than its step's code, parameters and input
artifacts: on the applied definitions and on the content of the sources. So
it is built in two steps. :func:`feature_snapshot` runs every time (it is not
cached) and returns a small dict naming the definitions (their content
address), the fingerprint of each source the service reads and of each
on-demand function; equal content gives an equal dict, hence the same
artifact. :func:`build_training_set` takes that snapshot as an input
artifact, so its cache key changes exactly when the definitions, a source or
an on-demand function does. :func:`training_set` chains the two.

The training set is the step's output artifact; a ``features_retrieval``
execution records that the same artifact (content addressing makes them one)
came from the definitions and the source versions, so the lineage of a model
reaches the files its features came from.
"""

from __future__ import annotations

import time
from typing import Any

from loopml.pipelines import step

SNAPSHOT_FORMAT = 1


@step(cache=False)
def feature_snapshot(service: str) -> dict[str, Any]:
    """What the training set of ``service`` would be built from now.

    Args:
        service: the name of a feature service of the applied definitions.

    Returns:
        ``{"format", "repository", "service", "definitions", "sources", "on_demand"}``:
        the definitions artifact id (a content address), view -> source fingerprint,
        on-demand view -> fingerprint of its function's code. A source that cannot
        be fingerprinted (an HTTP URL, an odd file system) gets a value unique to
        this run, so the training set is built again each time.

    Raises:
        FeatureNotFoundError: if nothing is applied, or there is no such service.
    """
    from loopml.features import lineage
    from loopml.features.repository import load_current
    from loopml.features.selection import select
    from loopml.features.store import FeatureStore

    store = FeatureStore()
    definitions, version = load_current(store.workspace, store.config.repository)
    selection = select(definitions, service)
    sources = {}
    for part in selection.views:
        found = lineage.source_fingerprint(part.view, store.base_dir)
        sources[part.view.name] = found if found != "unknown" else f"unknown@{time.time_ns()}"
    return {
        "format": SNAPSHOT_FORMAT,
        "repository": version.repository,
        "service": service,
        "definitions": version.artifact_id,
        "sources": sources,
        "on_demand": _on_demand_code(selection),
    }


def _on_demand_code(selection: Any) -> dict[str, str]:
    from loopml.pipelines.cache import code_fingerprint

    return {part.view.name: code_fingerprint(part.view.resolve()) for part in selection.on_demand}


@step(name="training_set")
def build_training_set(
    entities: Any,
    snapshot: dict[str, Any],
    timestamp_column: str = "event_timestamp",
    full_names: bool = False,
) -> Any:
    """The entity frame joined point-in-time with the features of a snapshot's service.

    Args:
        entities: a pandas DataFrame of join keys, timestamps and (usually) labels.
        snapshot: the output of :func:`feature_snapshot`; the definitions it names are used.
        timestamp_column: the entity frame's timestamp column.
        full_names: name the columns ``view__feature``.

    Raises:
        FeatureInputError: if a source changed while the training set was built
            (its content would not be the one the snapshot names; run again).
    """
    from loopml.features import lineage
    from loopml.features.errors import FeatureInputError
    from loopml.features.serialize import definitions_from_dict
    from loopml.features.store import FeatureStore
    from loopml.workspace import get_workspace

    workspace = get_workspace()
    definitions = definitions_from_dict(workspace.load(snapshot["definitions"]))
    with FeatureStore(definitions, workspace=workspace) as store:
        result = store.get_historical_features(
            entities,
            snapshot["service"],
            timestamp_column=timestamp_column,
            full_names=full_names,
            record=True,
        )
        for name, fingerprint in snapshot["sources"].items():
            now = lineage.source_fingerprint(store.feature_view(name), store.base_dir)
            if not fingerprint.startswith("unknown@") and now != fingerprint:
                raise FeatureInputError(
                    "the source changed while the training set was built; run the pipeline again",
                    view=name,
                )
    return result


def training_set(
    entities: Any,
    service: str,
    timestamp_column: str = "event_timestamp",
    full_names: bool = False,
) -> Any:
    """:func:`feature_snapshot` then :func:`build_training_set`: the usual way to call them.

    In a ``@pipeline`` it adds the two steps (the second is named ``training_set``)
    and returns the reference to the training set; elsewhere it returns the frame.

    Args:
        entities: a pandas DataFrame (or a step's output) of join keys and timestamps.
        service: the name of a feature service of the applied definitions.
        timestamp_column: the entity frame's timestamp column.
        full_names: name the columns ``view__feature``.
    """
    snapshot = feature_snapshot(service)
    return build_training_set(
        entities, snapshot, timestamp_column=timestamp_column, full_names=full_names
    )
