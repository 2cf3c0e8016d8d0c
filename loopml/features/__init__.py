"""The feature store: features defined once, trained on with no leakage, served the same.

Definitions (:class:`Entity`, :class:`FileSource`/:class:`SqlSource`,
:class:`FeatureView`, :class:`OnDemandFeatureView`, :class:`FeatureService`,
bundled in :class:`Definitions`, written in Python or YAML) are applied as
versions in the metadata store. :class:`FeatureStore` gives point-in-time
correct historical retrieval (one DuckDB ASOF JOIN query over the sources
where they lie), materialization to an online store (:class:`OnlineStore`:
SQLite by default, Redis to scale out, chosen by
:func:`online_store_from_uri`), online lookup that returns what historical
retrieval gives at "now", and a push API for streaming values. Retrievals and
materializations are recorded with the definitions and source versions they
used; :func:`training_set` builds a training set in a pipeline (the steps
:func:`feature_snapshot` and :func:`build_training_set`, whose cache key
follows the applied definitions and the sources' content). Importing this package
imports no data library, DuckDB or redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.features.definitions import (
    DTYPES,
    Definitions,
    Entity,
    Feature,
    FeatureService,
    FeatureView,
    FileSource,
    OnDemandFeatureView,
    SqlSource,
)
from loopml.features.errors import (
    FeatureConflictError,
    FeatureDefinitionError,
    FeatureInputError,
    FeatureNotFoundError,
    OnlineStoreError,
)
from loopml.features.loading import load_definitions
from loopml.features.online import OnlineRecord, OnlineStore, online_store_from_uri
from loopml.features.repository import AppliedVersion
from loopml.features.serialize import definitions_from_dict
from loopml.features.store import FeatureStore

if TYPE_CHECKING:
    from loopml.features.steps import build_training_set, feature_snapshot, training_set

__all__ = [
    "DTYPES",
    "AppliedVersion",
    "Definitions",
    "Entity",
    "Feature",
    "FeatureConflictError",
    "FeatureDefinitionError",
    "FeatureInputError",
    "FeatureNotFoundError",
    "FeatureService",
    "FeatureStore",
    "FeatureView",
    "FileSource",
    "OnDemandFeatureView",
    "OnlineRecord",
    "OnlineStore",
    "OnlineStoreError",
    "SqlSource",
    "build_training_set",
    "definitions_from_dict",
    "feature_snapshot",
    "load_definitions",
    "online_store_from_uri",
    "training_set",
]


_STEPS = ("build_training_set", "feature_snapshot", "training_set")


def __getattr__(name: str) -> Any:
    # The pipeline steps import the pipelines package; only those who use them pay for it.
    if name in _STEPS:
        from loopml.features import steps

        return getattr(steps, name)
    raise AttributeError(f"module 'loopml.features' has no attribute {name!r}")
