"""What the feature store records in the metadata store: which definitions and sources fed what.

A *source version* is a small JSON artifact naming a view's source and the
fingerprint of its content at the time (see the data catalog's
``fingerprint()``): two retrievals over unchanged files share it, and a
changed file makes a new one. A retrieval (``features_retrieval``) consumes
the definitions and the source versions and produces the training set; a
materialization (``features_materialize``) consumes the same and produces
nothing in the artifact store (it writes the online store), its window and
row counts recorded as properties and metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from loopml.features.definitions import Definitions, FeatureView
from loopml.features.serialize import source_to_dict
from loopml.features.sources import source_dataset

logger = logging.getLogger(__name__)

RETRIEVAL_TYPE = "features_retrieval"
MATERIALIZE_TYPE = "features_materialize"


def definitions_artifact(workspace: Any, definitions: Definitions) -> str:
    """Save the definitions (deduplicated by content); return the artifact id."""
    artifact = workspace.save(definitions.to_dict(), properties={"kind": "feature_definitions"})
    return str(artifact.id)


def source_fingerprint(view: FeatureView, base_dir: Path) -> str:
    """The fingerprint of a view's source content, or ``unknown`` if it cannot be taken."""
    try:
        return str(source_dataset(view.source, base_dir).fingerprint())
    except Exception as exc:  # globs, HTTP, odd file systems: recorded, never fatal
        logger.warning("cannot fingerprint the source of feature view %r: %s", view.name, exc)
        return "unknown"


def source_versions(workspace: Any, views: Iterable[FeatureView], base_dir: Path) -> dict[str, str]:
    """Save one source-version artifact per view; event name -> artifact id."""
    inputs = {}
    for view in views:
        fingerprint = source_fingerprint(view, base_dir)
        record = {
            "view": view.name,
            "source": source_to_dict(view.source),
            "fingerprint": fingerprint,
        }
        artifact = workspace.save(
            record,
            properties={"kind": "feature_source", "view": view.name, "fingerprint": fingerprint},
        )
        inputs[f"source.{view.name}"] = str(artifact.id)
    return inputs


def record(
    workspace: Any,
    type: str,
    name: str,
    *,
    inputs: Mapping[str, str],
    outputs: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    properties: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
) -> str:
    """Record one completed feature-store execution with its events; return its id."""
    import time

    from loopml.metadata import ExecutionStatus

    store = workspace.metadata
    execution = store.create_execution(
        type,
        name,
        params=dict(params or {}),
        user=workspace.settings.user,
        properties=dict(properties or {}),
        status=ExecutionStatus.COMPLETED,
        inputs=dict(inputs),
        outputs=dict(outputs or {}),
    )
    if metrics:
        now = time.time()
        store.log_metrics([(execution.id, k, float(v), 0, now) for k, v in metrics.items()])
    return str(execution.id)
