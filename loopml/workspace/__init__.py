"""A workspace binds one project's settings, metadata store and artifact store.

It is the one place that writes an artifact's bytes and then records it in
the metadata store, in that order, so that metadata never points at bytes
that are not durable. Tracking, pipelines, registry and serving all save and
load artifacts through it. ``get_workspace()`` returns the process-wide
workspace of the current settings.
"""

from __future__ import annotations

from loopml.workspace.workspace import (
    Workspace,
    blob_digest,
    get_workspace,
    object_artifact_id,
    reset_workspace,
)

__all__ = ["Workspace", "blob_digest", "get_workspace", "object_artifact_id", "reset_workspace"]
