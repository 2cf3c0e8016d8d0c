"""The artifact store: immutable, content-addressed objects on a local folder, S3 or any fsspec URL.

Thin backends (:class:`LocalArtifactStore`, :class:`S3ArtifactStore`,
:class:`FsspecArtifactStore`, all :class:`ArtifactStore`, chosen by
:func:`artifact_store_from_uri`) only move bytes under keys confined to their
root. Above them, :class:`ContentStore` names every object by its sha256,
stores equal bytes once, keeps folders as manifests and verifies every read;
materializers (:func:`materializer_for`, :func:`get_materializer`) turn
DataFrames, arrays, JSON values, text, bytes and scikit-learn models into bytes
and back without pickle. Importing this package imports no backend or data
library; each is imported when first used.
"""

from __future__ import annotations

from loopml.artifacts.base import ArtifactStore
from loopml.artifacts.content import Blob, ContentStore, content_key
from loopml.artifacts.errors import (
    ArtifactBackendError,
    ArtifactConflictError,
    ArtifactError,
    ArtifactIntegrityError,
    ArtifactNotFoundError,
    InvalidKeyError,
    MaterializerError,
    MaterializerNotFoundError,
)
from loopml.artifacts.factory import artifact_store_from_uri
from loopml.artifacts.fsspec_store import FsspecArtifactStore
from loopml.artifacts.keys import normalize_key
from loopml.artifacts.local import LocalArtifactStore
from loopml.artifacts.materializers import (
    Materializer,
    get_materializer,
    materializer_for,
    qualified_type_name,
    register_materializer,
)
from loopml.artifacts.s3 import S3ArtifactStore

__all__ = [
    "ArtifactBackendError",
    "ArtifactConflictError",
    "ArtifactError",
    "ArtifactIntegrityError",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "Blob",
    "ContentStore",
    "FsspecArtifactStore",
    "InvalidKeyError",
    "LocalArtifactStore",
    "Materializer",
    "MaterializerError",
    "MaterializerNotFoundError",
    "S3ArtifactStore",
    "artifact_store_from_uri",
    "content_key",
    "get_materializer",
    "materializer_for",
    "normalize_key",
    "qualified_type_name",
    "register_materializer",
]
