"""Model packages in the workspace: log one as an artifact, load one by artifact id.

A package is stored as a folder artifact (content-addressed: its id is the
sha256 of the folder manifest) recorded with the type :data:`ARTIFACT_TYPE`.
Loading by id rebuilds the folder once in ``<home>/cache/models/<id>``,
verified against the stored digests, and reuses it afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import NotFoundError
from loopml.models.errors import ModelPackageError
from loopml.models.manifest import Lineage, ModelManifest
from loopml.models.package import LoadedModel, read_package, save_model
from loopml.models.signature import Signature

if TYPE_CHECKING:
    from loopml.workspace import Workspace

ARTIFACT_TYPE = "loopml.model"
"""The artifact type of model packages in the metadata store."""

_FOLDER_TYPES = (ARTIFACT_TYPE, "directory")

Source = str | os.PathLike[str]


def log_model(
    model: Any,
    *,
    example: Any,
    workspace: Workspace | None = None,
    signature: Signature | None = None,
    flavor: str | None = None,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    lineage: Lineage | Mapping[str, Any] | None = None,
    task: str | None = None,
    allow_pickle: bool = False,
) -> str:
    """Package ``model`` (see :func:`save_model`) and store it as a workspace artifact.

    Returns:
        the artifact id (equal models and inputs give the same id).

    Raises:
        as :func:`save_model`.
    """
    ws = _workspace(workspace)
    with tempfile.TemporaryDirectory(prefix="loopml-model-") as temp:
        folder = save_model(
            model,
            Path(temp) / "model",
            example=example,
            signature=signature,
            flavor=flavor,
            metrics=metrics,
            params=params,
            lineage=lineage,
            task=task,
            allow_pickle=allow_pickle,
        )
        manifest = ModelManifest.read(folder)
        blob = ws.artifacts.put_dir(folder)
    properties = {
        "filename": "model",
        "flavor": manifest.flavor,
        "safe": manifest.safe,
        "task": manifest.task,
        "format_version": manifest.format_version,
    }
    artifact = ws.metadata.put_artifact(blob.digest, blob.uri, blob.size, ARTIFACT_TYPE, properties)
    return artifact.id


def load_model(
    source: Source,
    *,
    allow_pickle: bool = False,
    workspace: Workspace | None = None,
) -> LoadedModel:
    """Load a model package from a folder, or from the workspace by artifact id.

    Loading never runs code from the package: every flavor but ``pickle`` reads
    data only, and ``pickle`` is refused unless ``allow_pickle=True``.

    Args:
        source: a package folder, or an artifact id (or a unique prefix of one).
        allow_pickle: load a package stored with the unsafe ``pickle`` flavor.
        workspace: where artifact ids are looked up; the process's workspace if omitted.

    Raises:
        UnsafeLoadError: if loading would run code and ``allow_pickle`` is false.
        ModelPackageError: if the source is not a valid model package.
        NotFoundError: if there is no such folder or artifact.
    """
    folder, artifact_id = resolve_source(source, workspace=workspace)
    return read_package(folder, allow_pickle=allow_pickle, artifact_id=artifact_id)


def resolve_source(
    source: Source, *, workspace: Workspace | None = None
) -> tuple[Path, str | None]:
    """Return the local package folder of ``source`` and its artifact id (``None`` for a folder).

    Raises:
        NotFoundError: if ``source`` is neither a folder nor a known artifact.
        ModelPackageError: if the artifact is not a folder.
    """
    if not isinstance(source, str) or Path(source).is_dir():
        folder = Path(source)
        if not folder.is_dir():
            raise NotFoundError(f"no model package folder at {str(folder)!r}")
        return folder, None
    if not source.strip() or any(sep in source for sep in ("/", os.sep)):
        raise NotFoundError(f"no model package folder at {source!r}")
    return export_model(source, workspace=workspace)


def export_model(artifact_id: str, *, workspace: Workspace | None = None) -> tuple[Path, str]:
    """Rebuild a model artifact's folder in the workspace cache (once) and return it.

    Raises:
        NotFoundError: if there is no such artifact.
        ModelPackageError: if the artifact is not a folder.
    """
    from loopml.artifacts import ArtifactConflictError
    from loopml.workspace import blob_digest

    ws = _workspace(workspace)
    artifact = ws.metadata.get_artifact(artifact_id)
    if artifact.type not in _FOLDER_TYPES:
        raise ModelPackageError(f"artifact {artifact.id[:12]} is a {artifact.type}, not a model")
    digest = blob_digest(artifact)
    target = ws.settings.home / "cache" / "models" / artifact.id
    expected = ws.artifacts.get_manifest(digest)
    if target.is_dir() and _intact(target, expected):
        return target, artifact.id
    shutil.rmtree(target, ignore_errors=True)
    try:
        ws.artifacts.get_dir(digest, target)
    except ArtifactConflictError:
        # Another process rebuilt it first; its copy is used if whole.
        if not _intact(target, expected):
            raise
    return target, artifact.id


def _intact(folder: Path, expected: Mapping[str, Any]) -> bool:
    """Whether ``folder`` holds exactly the expected files with their digests."""
    from loopml.core.hashing import sha256_file

    found = {
        path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()
    }
    if set(found) != set(expected):
        return False
    return all(sha256_file(found[rel])[0] == blob.digest for rel, blob in expected.items())


def _workspace(workspace: Workspace | None) -> Workspace:
    if workspace is not None:
        return workspace
    from loopml.workspace import get_workspace

    return get_workspace()
