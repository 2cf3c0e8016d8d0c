"""The :class:`Workspace`: settings + metadata store + content-addressed artifact store."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.config import Settings
from loopml.core.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from loopml.artifacts import ContentStore
    from loopml.metadata import Artifact, SqlMetadataStore

FILE_TYPE = "file"
DIRECTORY_TYPE = "directory"


class Workspace:
    """One project's stores, opened lazily.

    Args:
        settings: resolved settings; :meth:`Settings.load` if omitted.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()
        self._metadata: SqlMetadataStore | None = None
        self._artifacts: ContentStore | None = None
        self._lock = threading.Lock()
        self._on_close: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"Workspace(project_dir={str(self.settings.project_dir)!r})"

    @property
    def metadata(self) -> SqlMetadataStore:
        """The metadata store (schema migrated on first use)."""
        with self._lock:
            if self._metadata is None:
                from loopml.metadata import SqlMetadataStore

                self._metadata = SqlMetadataStore(self.settings.metadata_uri)
            return self._metadata

    @property
    def artifacts(self) -> ContentStore:
        """The content-addressed artifact store."""
        with self._lock:
            if self._artifacts is None:
                from loopml.artifacts import ContentStore, artifact_store_from_uri

                store = artifact_store_from_uri(
                    self.settings.artifact_uri, dict(self.settings.artifact_options)
                )
                self._artifacts = ContentStore(store)
            return self._artifacts

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the workspace closes (capabilities flush their buffers)."""
        with self._lock:
            self._on_close.append(callback)

    def close(self) -> None:
        """Run the close callbacks, then release database connections."""
        with self._lock:
            callbacks, self._on_close = self._on_close, []
        for callback in reversed(callbacks):
            callback()
        with self._lock:
            if self._metadata is not None:
                self._metadata.close()
                self._metadata = None

    # --- saving ---------------------------------------------------------------

    def save(
        self,
        obj: Any,
        *,
        properties: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Store a Python object with its materializer and record it.

        Raises:
            InvalidInputError: if no materializer handles the object's type.
        """
        from loopml.artifacts import materializer_for

        materializer = materializer_for(obj)
        type_name = materializer.type_name(obj)
        blob = self.artifacts.put_bytes(materializer.dump(obj))
        props = {
            "materializer": materializer.name,
            "materializer_version": materializer.version,
            "python_type": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "blob": blob.digest,
            **(properties or {}),
        }
        artifact_id = object_artifact_id(blob.digest, materializer.name, type_name)
        return self.metadata.put_artifact(artifact_id, blob.uri, blob.size, type_name, props)

    def save_path(
        self,
        path: str | os.PathLike[str],
        *,
        properties: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Store a local file or folder as it is and record it.

        Raises:
            NotFoundError: if the path does not exist.
        """
        local = Path(path)
        if local.is_dir():
            blob = self.artifacts.put_dir(local)
            kind = DIRECTORY_TYPE
        elif local.is_file():
            blob = self.artifacts.put_file(local)
            kind = FILE_TYPE
        else:
            raise NotFoundError(f"no file or folder at {str(local)!r}")
        props = {"filename": local.name, **(properties or {})}
        return self.metadata.put_artifact(blob.digest, blob.uri, blob.size, kind, props)

    def record_events(
        self,
        execution_id: str,
        *,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        """Link artifacts to an execution as its inputs and outputs."""
        self.metadata.add_events(execution_id, inputs=inputs, outputs=outputs)

    # --- loading ----------------------------------------------------------------

    def load(self, artifact_id: str, *, trusted: Sequence[str] | None = None) -> Any:
        """Load an artifact saved with :meth:`save` back into a Python object.

        Args:
            artifact_id: the digest, or a unique prefix of it.
            trusted: extra type names the caller trusts (for model formats that check types).

        Raises:
            NotFoundError: if there is no such artifact.
            IntegrityError: if its bytes do not match its digest.
            UnsafeLoadError: if loading would run untrusted code.
        """
        from loopml.artifacts import get_materializer

        artifact = self.metadata.get_artifact(artifact_id)
        name = artifact.properties.get("materializer")
        if name is None:
            raise InvalidInputError(
                f"artifact {artifact.id[:12]} is a {artifact.type}, not a saved object: "
                "use Workspace.export() to copy it to a local path"
            )
        materializer = get_materializer(str(name))
        data = self.artifacts.get_bytes(blob_digest(artifact))
        return materializer.load(data, artifact.type, trusted=trusted)

    def export(self, artifact_id: str, destination: str | os.PathLike[str]) -> Path:
        """Copy an artifact's bytes (file or folder) to a local path, verified."""
        artifact = self.metadata.get_artifact(artifact_id)
        target = Path(destination)
        if artifact.type == DIRECTORY_TYPE:
            self.artifacts.get_dir(blob_digest(artifact), target)
        else:
            self.artifacts.get_file(blob_digest(artifact), target)
        return target


def object_artifact_id(blob: str, materializer: str, type_name: str) -> str:
    """The id of a saved object: its bytes *and* how to read them.

    ``"1"`` as text, ``1`` as JSON and ``b"1"`` are the same bytes but three
    objects; their blob is stored once, their artifacts (and so the cache keys
    of steps consuming them) differ.
    """
    from loopml.core.hashing import sha256_bytes

    return sha256_bytes(f"{materializer}\0{type_name}\0{blob}".encode())


def blob_digest(artifact: Artifact) -> str:
    """The sha256 of an artifact's stored bytes (its id, for files and folders)."""
    return str(artifact.properties.get("blob") or artifact.id)


_default: Workspace | None = None
_default_lock = threading.Lock()


def get_workspace(settings: Settings | None = None) -> Workspace:
    """Return the process-wide workspace; with ``settings``, a workspace for those."""
    global _default
    if settings is not None:
        return Workspace(settings)
    with _default_lock:
        if _default is None:
            _default = Workspace()
        return _default


def reset_workspace() -> None:
    """Forget the process-wide workspace (settings are read again on next use)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = None
