"""Artifact store on any fsspec file system: ``memory://``, ``gs://``, ``az://``, ``sftp://``...

fsspec is imported on first use, not on import. On object stores (S3, GCS,
Azure, memory) a single upload is atomic, so objects are written in place; on
file-system-like backends (SFTP, HDFS, ...) they are written to a temporary
key under ``.tmp/`` and renamed into place.

Note that every ``memory://`` store in a process shares one in-memory file
system: give each its own path.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, cast

from loopml.artifacts.base import ArtifactStore, Data, check_local_file, listable_keys
from loopml.artifacts.errors import (
    ArtifactBackendError,
    ArtifactConflictError,
    ArtifactNotFoundError,
)
from loopml.artifacts.keys import TEMP_DIR, normalize_key, normalize_prefix
from loopml.core.errors import ConfigError, LoopMLError

logger = logging.getLogger(__name__)

OBJECT_STORE_PROTOCOLS = frozenset(
    {"memory", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci", "oss"}
)
"""Protocols on which one upload is atomic, so objects are written in place."""

VOLATILE_PROTOCOLS = frozenset({"memory"})


class FsspecArtifactStore(ArtifactStore):
    """Artifact store under any fsspec URL.

    Args:
        url: the root, ``protocol://path`` (``memory://tests/run1``, ``gs://bucket/prefix``).
        **storage_options: passed to the fsspec file system (credentials, endpoints...).

    Raises:
        ConfigError: if ``url`` is not ``protocol://path`` with a non-empty path.
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        protocol, sep, path = url.partition("://")
        if not sep or not protocol or not path.strip("/"):
            raise ConfigError(f"{url!r} is not an artifact store URL of the form protocol://path")
        self.protocol = protocol.lower()
        self.uri = f"{protocol}://{path.rstrip('/')}"
        self.storage_options = dict(storage_options)
        self.persistent = self.protocol not in VOLATILE_PROTOCOLS
        self._in_place = self.protocol in OBJECT_STORE_PROTOCOLS
        self._fs: Any = None
        self._root = ""

    @property
    def fs(self) -> Any:
        """The fsspec file system, created on first use."""
        if self._fs is None:
            self._connect()
        return self._fs

    def put_bytes(self, data: Data, key: str) -> None:
        payload = bytes(data)
        self._write(key, lambda fs, path: fs.pipe_file(path, payload))

    def put_file(self, local_path: str | os.PathLike[str], key: str) -> None:
        source = check_local_file(local_path)
        self._write(key, lambda fs, path: fs.put_file(source, path))

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        with self._errors(key):
            if self.protocol in VOLATILE_PROTOCOLS:
                # fsspec's memory file system hands every reader the same file object,
                # position included; give each reader its own copy instead.
                return io.BytesIO(self.fs.cat_file(path))
            if not self._is_file(path):
                raise FileNotFoundError(path)
            raw = self.fs.open(path, "rb")
        return cast(BinaryIO, io.BufferedReader(_TranslatedStream(raw, self, key)))

    def get_bytes(self, key: str) -> bytes:
        # One GET: a concurrent overwrite cannot fail a read between HEAD and GET.
        path = self._path(key)
        with self._errors(key):
            return bytes(self.fs.cat_file(path))

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with self._errors(key):
            return self._is_file(path)

    def size(self, key: str) -> int:
        path = self._path(key)
        with self._errors(key):
            info = self.fs.info(path)
            if info.get("type") != "file":
                raise FileNotFoundError(path)
            return int(info["size"])

    def list(self, prefix: str = "") -> Iterator[str]:
        prefix = normalize_prefix(prefix)
        return listable_keys(self._find(prefix), prefix)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._errors(key, writing=True):
            if self._is_file(path):
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(path)

    def _connect(self) -> None:
        with self._errors(""):
            import fsspec

            fs, root = fsspec.core.url_to_fs(self.uri, **self.storage_options)
        self._root = cast(str, root).rstrip("/")
        self._fs = fs

    def _root_path(self) -> str:
        """The root's path inside the file system (which this creates if needed)."""
        if self._fs is None:
            self._connect()
        return self._root

    def _path(self, key: str) -> str:
        key = normalize_key(key)
        return f"{self._root_path()}/{key}"

    def _is_file(self, path: str) -> bool:
        # Not fs.isfile(): it answers False on *any* error, such as a network failure.
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return False
        return bool(info.get("type") == "file")

    def _write(self, key: str, upload: Callable[[Any, str], object]) -> None:
        path = self._path(key)
        with self._errors(key, writing=True):
            if self._in_place:
                upload(self.fs, path)
                return
            temp = f"{self._root}/{TEMP_DIR}/{secrets.token_hex(12)}.part"
            self.fs.makedirs(temp.rpartition("/")[0], exist_ok=True)
            self.fs.makedirs(path.rpartition("/")[0], exist_ok=True)
            try:
                upload(self.fs, temp)
                self.fs.mv(temp, path)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.fs.rm_file(temp)
                raise

    def _find(self, prefix: str) -> Iterator[str]:
        start = prefix.rpartition("/")[0]
        top = self._path(start) if start else self._root_path()
        with self._errors(prefix):
            try:
                paths = self.fs.find(top, withdirs=False)
            except FileNotFoundError:
                paths = []
        root = self._root + "/"
        for path in sorted(paths):
            if path.startswith(root):
                yield path[len(root) :]

    @contextlib.contextmanager
    def _errors(self, key: str, *, writing: bool = False) -> Iterator[None]:
        """The one boundary where this backend's exceptions become loopml errors."""
        try:
            yield
        except LoopMLError:
            raise
        except Exception as exc:
            error = self._translate(exc, key, writing=writing)
            if error is None:
                raise
            raise error from exc

    def _translate(self, exc: Exception, key: str, *, writing: bool) -> LoopMLError | None:
        """Map a backend exception to the loopml error to raise, or ``None`` to let it through."""
        where = f"{key!r} in {self.uri}"
        if self._fs is None and isinstance(exc, (ImportError, ValueError)):
            return ConfigError(f"cannot open the artifact store {self.uri}: {exc}")
        if isinstance(exc, FileNotFoundError) and not writing:
            return ArtifactNotFoundError(f"no artifact {where}")
        if isinstance(exc, (IsADirectoryError, NotADirectoryError, FileExistsError)):
            if not writing:
                return ArtifactNotFoundError(f"no artifact {where}")
            return ArtifactConflictError(f"cannot store {where}: a folder or object is in the way")
        if isinstance(exc, (OSError, NotImplementedError)):
            return ArtifactBackendError(f"artifact store failed on {where}: {exc!r}")
        return None


class _TranslatedStream(io.RawIOBase):
    """A backend file whose read errors go through its store's error boundary too."""

    def __init__(self, raw: Any, store: FsspecArtifactStore, key: str) -> None:
        super().__init__()
        self._raw = raw
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._raw.seekable())

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._store._errors(self._key):
            chunk = self._raw.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._store._errors(self._key):
            return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
