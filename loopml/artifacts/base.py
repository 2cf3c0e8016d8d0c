"""The artifact store interface: a thin backend that moves bytes under keys.

Backends know nothing of digests, manifests or Python objects; that is the
job of :class:`~loopml.artifacts.content.ContentStore` and the materializers,
written once above every backend.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from loopml.artifacts.errors import InvalidKeyError
from loopml.artifacts.keys import TEMP_DIR, normalize_key
from loopml.core.errors import InvalidInputError

logger = logging.getLogger(__name__)

Data = bytes | bytearray | memoryview
"""What ``put_bytes`` accepts."""


class ArtifactStore(ABC):
    """Immutable-minded byte storage under keys relative to one root.

    Every method validates its key with
    :func:`~loopml.artifacts.keys.normalize_key` first and raises
    :class:`~loopml.artifacts.errors.InvalidKeyError` (nothing read or
    written) if it is refused. Backend failures surface as
    :class:`~loopml.artifacts.errors.ArtifactBackendError`. A key names an
    *object*; "folders" are only shared key prefixes and are never objects.

    Attributes:
        uri: the root of the store as a URI (``file:///...``, ``s3://bucket/prefix``).
        atomic_writes: readers of a key see a whole object or nothing, never a part,
            even if the writer dies mid-way.
        persistent: objects outlive the process (``False`` for ``memory://``).
    """

    uri: str
    atomic_writes: bool = True
    persistent: bool = True

    @abstractmethod
    def put_bytes(self, data: Data, key: str) -> None:
        """Store ``data`` under ``key``, replacing any object stored there.

        Atomic: a concurrent or later reader sees the previous object (or none)
        until the new one is complete, then all of it.

        Raises:
            InvalidKeyError: if ``key`` is refused.
            ArtifactConflictError: if ``key`` is taken by a folder or lies below an object
                (on backends with real folders).
            ArtifactBackendError: if the backend fails.
        """

    @abstractmethod
    def put_file(self, local_path: str | os.PathLike[str], key: str) -> None:
        """Store a copy of the local file ``local_path`` under ``key``, atomically.

        Same contract as :meth:`put_bytes`; the file is streamed, not loaded.

        Raises:
            InvalidInputError: if ``local_path`` is not a readable regular file.
        """

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open the object under ``key`` for reading, as a binary stream the caller closes.

        The stream never returns a mix of two versions: if the object is
        replaced while it is read, reading goes on with the old bytes or raises
        :class:`~loopml.artifacts.errors.ArtifactConflictError`.

        Raises:
            ArtifactNotFoundError: if no object is stored under ``key``.
        """

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under ``key`` (a folder is not an object).

        Raises:
            ArtifactBackendError: if the backend cannot tell (never answers ``False`` instead).
        """

    @abstractmethod
    def size(self, key: str) -> int:
        """Return the size in bytes of the object under ``key``.

        Raises:
            ArtifactNotFoundError: if no object is stored under ``key``.
        """

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Iterate over the keys of all objects whose key starts with ``prefix``.

        ``prefix`` is a plain string prefix, as on S3 (``"runs/4"`` matches
        ``runs/4/a`` and ``runs/42/b``). The prefix is validated when this is
        called, before iteration. Order is unspecified. Temporary files of
        writes in progress are never listed.

        Raises:
            InvalidKeyError: if ``prefix`` is neither ``""`` nor a valid key with an
                optional trailing ``/``.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object under ``key``. Deleting a missing key does nothing."""

    def uri_for(self, key: str) -> str:
        """Return the URI of the object under ``key`` (it need not exist)."""
        return f"{self.uri.rstrip('/')}/{normalize_key(key)}"

    def get_bytes(self, key: str) -> bytes:
        """Read the whole object under ``key``, as one version even while it is being replaced.

        Raises:
            ArtifactNotFoundError: if no object is stored under ``key``.
        """
        with self.open(key) as stream:
            return stream.read()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


def check_local_file(local_path: str | os.PathLike[str]) -> str:
    """Return ``local_path`` as a string if it is a regular file, else refuse it.

    Raises:
        InvalidInputError: if it is missing or not a regular file.
    """
    path = os.fspath(local_path)
    if not os.path.isfile(path):
        raise InvalidInputError(f"{path!r} is not a regular file")
    return path


def listable_keys(candidates: Iterable[str], prefix: str) -> Iterator[str]:
    """Keep the candidate keys that match ``prefix``, skipping temp files and invalid names.

    Objects written by other tools may have names loopml would refuse as keys;
    they are skipped (and logged) rather than returned as keys nobody can open.
    """
    for key in candidates:
        if not key.startswith(prefix) or key.split("/", 1)[0] == TEMP_DIR:
            continue
        try:
            valid = normalize_key(key) == key
        except InvalidKeyError:
            valid = False
        if valid:
            yield key
        else:
            logger.debug("skipping object %r: its name is not a valid artifact key", key)
