"""The embedded artifact store: a folder on the local disk.

Writes are atomic and durable: bytes go to a temporary file in the root's
``.tmp/`` folder (same file system as the target), are flushed and fsynced,
renamed over the target with :func:`os.replace`, and the target's folder is
fsynced. A writer killed at any moment leaves either the old object or the new
one under the key, plus at worst an orphan in ``.tmp/`` that
:meth:`LocalArtifactStore.purge_temp` removes.

Symbolic links inside the root are followed only while they stay inside it:
every key is resolved to its real path and refused if that leaves the root.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from loopml.artifacts.base import ArtifactStore, Data, check_local_file, listable_keys
from loopml.artifacts.errors import (
    ArtifactBackendError,
    ArtifactConflictError,
    ArtifactNotFoundError,
)
from loopml.artifacts.keys import TEMP_DIR, normalize_key, normalize_prefix, resolve_inside
from loopml.core.durable import fsync_dir

logger = logging.getLogger(__name__)

_COPY_BUFFER = 1 << 20


class LocalArtifactStore(ArtifactStore):
    """Artifact store in a local folder, created on the first write.

    Args:
        root: the folder; relative paths are made absolute now, from the current folder.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()
        self.uri = self.root.as_uri()

    def put_bytes(self, data: Data, key: str) -> None:
        self._write(key, lambda stream: stream.write(data))

    def put_file(self, local_path: str | os.PathLike[str], key: str) -> None:
        source = check_local_file(local_path)

        def copy(stream: BinaryIO) -> None:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, stream, _COPY_BUFFER)

        self._write(key, copy)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        with self._errors(key):
            return open(path, "rb")

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def size(self, key: str) -> int:
        path = self._path(key)
        with self._errors(key):
            if not os.path.isfile(path):
                raise FileNotFoundError(path)
            return os.stat(path).st_size

    def list(self, prefix: str = "") -> Iterator[str]:
        prefix = normalize_prefix(prefix)
        return listable_keys(self._walk(prefix), prefix)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._errors(key, writing=True):
            if not os.path.isfile(path):
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            fsync_dir(os.path.dirname(path))

    def uri_for(self, key: str) -> str:
        return (self.root / normalize_key(key)).as_uri()

    def purge_temp(self, older_than: float = 24 * 3600) -> int:
        """Remove temporary files left by writers that died, if older than ``older_than`` s.

        Returns:
            The number of files removed.
        """
        folder = self.root / TEMP_DIR
        if not folder.is_dir() or folder.is_symlink():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        with self._errors(TEMP_DIR, writing=True), os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        if removed:
            logger.info("removed %d stale temporary files from %s", removed, folder)
        return removed

    def _path(self, key: str) -> str:
        return resolve_inside(self.root, normalize_key(key))

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        target = self._path(key)
        with self._errors(key, writing=True):
            fd, temp = self._temp_file()
            try:
                with os.fdopen(fd, "wb") as stream:
                    fill(stream)
                    stream.flush()
                    os.fsync(stream.fileno())
                _makedirs(os.path.dirname(target))
                os.replace(temp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            fsync_dir(os.path.dirname(target))

    def _temp_file(self) -> tuple[int, str]:
        """Create a new empty temp file; return its open descriptor and its path."""
        folder = os.path.join(os.path.realpath(self.root), TEMP_DIR)
        _makedirs(folder)
        if os.path.realpath(folder) != folder:
            raise ArtifactBackendError(f"{folder} must be a folder, not a symbolic link")
        path = os.path.join(folder, f"{secrets.token_hex(12)}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        return os.open(path, flags, 0o666), path

    def _walk(self, prefix: str) -> Iterator[str]:
        real_root = os.path.realpath(self.root)
        start = prefix.rpartition("/")[0]
        top = resolve_inside(real_root, start) if start else real_root

        def raise_error(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError):
                raise exc

        with self._errors(prefix):
            for folder, dirs, files in os.walk(top, onerror=raise_error):
                rel_folder = os.path.relpath(folder, real_root).replace(os.sep, "/")
                base = "" if rel_folder == "." else rel_folder + "/"
                dirs[:] = sorted(d for d in dirs if _may_hold(base + d + "/", prefix))
                for name in sorted(files):
                    key = base + name
                    if key.startswith(prefix) and self._is_object(real_root, key):
                        yield key

    @staticmethod
    def _is_object(real_root: str, key: str) -> bool:
        path = os.path.join(real_root, key)
        if not os.path.islink(path):
            return True
        real = os.path.realpath(path)
        inside = os.path.commonpath([real_root, real]) == real_root
        return inside and os.path.isfile(real)

    @contextlib.contextmanager
    def _errors(self, key: str, *, writing: bool = False) -> Iterator[None]:
        """The one place where OS errors become artifact errors."""
        try:
            yield
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            if writing and not isinstance(exc, FileNotFoundError):
                raise ArtifactConflictError(
                    f"cannot store {key!r} in {self.uri}: a folder or an object is in the way"
                ) from exc
            if writing:
                raise ArtifactBackendError(f"writing {key!r} to {self.uri} failed: {exc}") from exc
            raise ArtifactNotFoundError(f"no artifact {key!r} in {self.uri}") from exc
        except FileExistsError as exc:
            raise ArtifactConflictError(
                f"cannot store {key!r} in {self.uri}: an object is where a folder must go"
            ) from exc
        except OSError as exc:
            raise ArtifactBackendError(
                f"artifact store {self.uri} failed on {key!r}: {exc}"
            ) from exc


def _may_hold(folder: str, prefix: str) -> bool:
    """Tell whether keys under ``folder`` (ending in ``/``) can start with ``prefix``."""
    return (folder.startswith(prefix) or prefix.startswith(folder)) and folder != TEMP_DIR + "/"


def _makedirs(path: str) -> None:
    """Create ``path`` and missing parents, fsyncing each new folder's parent."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise
            continue
        fsync_dir(os.path.dirname(folder))
