"""Where a dataset's bytes live: a local path or an fsspec URL, written atomically.

A :class:`Location` is an absolute local path (a relative one is resolved
against the project folder) or any fsspec URL (``s3://``, ``memory://``,
``gs://``...). It writes atomically:

- a file: locally, into a fresh temporary folder beside the target, flushed,
  fsynced, then renamed over it (the temporary file keeps the target's name, so
  pandas infers the same compression); on object stores, one upload of the
  finished file (a single PUT, or a multipart upload that completes at once);
  on other fsspec file systems, an upload to a temporary name then a move;
- a folder: locally, built beside the target and swapped in by two renames, so
  readers see the old folder or the new one (or, between the renames, none),
  never a mix; on object stores, which have no folders, file by file, then the
  files the new version lacks are removed.

Fingerprints identify content cheaply. A file's is its sha256 when asked
(``fingerprint: content``), or by default (``auto``) when it is in memory or
a local file of at most :data:`CONTENT_HASH_LIMIT` bytes; otherwise
(``metadata``) it is its path, size and version marker: locally the mtime in
ns, the inode and a hash of the first and last 64 KiB; on object stores a field
derived from the bytes (S3's ETag, GCS's md5) if there is one, else the
version id or modification time. A folder's is the sorted list of its files'
names and fingerprints.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from loopml.artifacts.fsspec_store import OBJECT_STORE_PROTOCOLS
from loopml.core.durable import fsync_dir
from loopml.core.hashing import sha256_bytes, sha256_file, sha256_stream
from loopml.pipelines.catalog.config import FingerprintMode
from loopml.pipelines.catalog.errors import (
    DatasetConfigError,
    DatasetIOError,
    DatasetMissingError,
    io_errors,
)

CONTENT_HASH_LIMIT = 16 << 20
"""Local files up to this size are fingerprinted by content in ``auto`` mode (~10 ms)."""

SAMPLE_BYTES = 64 << 10
"""Bytes hashed at each end of a large local file by a ``metadata`` fingerprint."""

TEMP_PREFIX = ".loopml-tmp-"
"""Prefix of the temporary files and folders of atomic writes; never listed."""

_CONTENT_BY_DEFAULT = frozenset({"memory"})
_CONTENT_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "content_md5")
"""Info fields derived from the bytes: when one is there, it identifies the content alone."""
_VERSION_KEYS: tuple[str, ...] = ("VersionId", "version_id", "generation", "LastModified")
_VERSION_KEYS += ("last_modified", "mtime", "updated", "created")
"""Info fields that change on every write, used when no content-derived field is there."""


def is_url(path: str) -> bool:
    """Tell whether ``path`` is an fsspec URL (``proto://...`` or a chain ``a::b://...``)."""
    return "://" in path or "::" in path


class Location:
    """A local path or an fsspec URL, with atomic writes, listings and fingerprints.

    No I/O happens until a method needs it; fsspec is imported on first use.

    Args:
        path: a local path (relative to ``base_dir``), a ``file://`` URL, or an fsspec URL.
        base_dir: the folder relative local paths are resolved against.
        storage_options: fsspec options for URLs (credentials, endpoint...); ignored for
            local paths, so one configuration can switch between both with ``${VAR}``.
    """

    def __init__(
        self, path: str, *, base_dir: Path, storage_options: Mapping[str, Any] | None = None
    ) -> None:
        if path.startswith("file://"):
            from urllib.parse import urlsplit
            from urllib.request import url2pathname

            path = url2pathname(urlsplit(path).path)
        self.local = not is_url(path)
        if self.local:
            self.url = os.path.abspath(os.path.join(base_dir, os.path.expanduser(path)))
            self.storage_options: dict[str, Any] = {}
        else:
            _check_protocols(path)
            self.url = path.rstrip("/")
            self.storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._path = ""

    def __repr__(self) -> str:
        return f"Location({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Datasets travel to worker processes: send the address, not an open file system.
        return {**self.__dict__, "_fs": None, "_path": ""}

    @property
    def name(self) -> str:
        """The last component of the path: a file name keeps its extensions."""
        return self.url.rstrip("/").rpartition("/")[2] or "data"

    def filesystem(self) -> tuple[Any, str]:
        """The fsspec file system and the path inside it, created on first use."""
        if self._fs is None:
            with io_errors(self.url, reading=True):
                import fsspec

                if self.local:
                    self._fs, self._path = fsspec.filesystem("file"), self.url
                else:
                    self._fs, self._path = fsspec.core.url_to_fs(self.url, **self.storage_options)
        return self._fs, self._path

    @property
    def protocol(self) -> str:
        """The file system's main protocol: ``file``, ``s3``, ``memory``..."""
        if self.local:
            return "file"
        protocol = self.filesystem()[0].protocol
        return str(protocol if isinstance(protocol, str) else protocol[0])

    def pandas_target(self) -> tuple[str, dict[str, Any] | None]:
        """What pandas readers take: the path or URL, and storage options (``None`` if local)."""
        return self.url, None if self.local else self.storage_options

    def join(self, relative: str) -> str:
        """The path (local) or URL of ``relative`` below this location."""
        return f"{self.url}/{relative}" if not self.local else os.path.join(self.url, relative)

    def kind(self) -> Literal["file", "directory"] | None:
        """What is stored here now: a file, a folder holding something, or nothing."""
        with io_errors(self.url, reading=True):
            if self.local:
                if os.path.isfile(self.url):
                    return "file"
                return "directory" if os.path.isdir(self.url) else None
            fs, path = self.filesystem()
            fs.invalidate_cache(path)
            try:
                info = fs.info(path)
            except FileNotFoundError:
                return None
            kind = info.get("type")
            return kind if kind in ("file", "directory") else None

    def list_files(self) -> dict[str, Any]:
        """The files below this folder: relative ``/``-separated name -> local path or info.

        Temporary files of writes in progress are skipped. A missing folder has no files.
        """
        with io_errors(self.url, reading=True):
            return self._local_files() if self.local else self._remote_files()

    def _local_files(self) -> dict[str, Any]:
        files: dict[str, Any] = {}
        for folder, dirs, names in os.walk(self.url):
            dirs[:] = sorted(d for d in dirs if not d.startswith(TEMP_PREFIX))
            rel = os.path.relpath(folder, self.url).replace(os.sep, "/")
            for name in sorted(names):
                if not name.startswith(TEMP_PREFIX):
                    files[name if rel == "." else f"{rel}/{name}"] = os.path.join(folder, name)
        return dict(sorted(files.items()))

    def _remote_files(self) -> dict[str, Any]:
        fs, path = self.filesystem()
        fs.invalidate_cache(path)
        try:
            found = fs.find(path, detail=True)
        except FileNotFoundError:
            return {}
        prefix = path.rstrip("/") + "/"
        files = {}
        for full, info in sorted(found.items()):
            rel = str(full)[len(prefix) :] if str(full).startswith(prefix) else ""
            if rel and TEMP_PREFIX not in rel and info.get("type", "file") == "file":
                files[rel] = info
        return files

    def fingerprint_data(self, mode: FingerprintMode) -> Any:
        """A JSON-able identity of what is stored here now (see the module docstring).

        Raises:
            DatasetMissingError: if nothing is stored here.
        """
        kind = self.kind()
        if kind is None:
            raise DatasetMissingError(f"no data at {self.url}")
        with io_errors(self.url, reading=True):
            if kind == "file":
                return self.file_identity(self._path_info(), mode)
            files = self.list_files()
            return [[rel, self.file_identity(info, mode)] for rel, info in files.items()]

    def _path_info(self) -> Any:
        if self.local:
            return self.url
        fs, path = self.filesystem()
        return fs.info(path)

    def file_identity(self, info: Any, mode: FingerprintMode) -> dict[str, Any]:
        """The identity of one file of this location, given its local path or its fsspec info."""
        if self.local:
            stat = os.stat(info)
            if mode == "content" or (mode == "auto" and stat.st_size <= CONTENT_HASH_LIMIT):
                return {"sha256": sha256_file(info)[0]}
            return {
                "path": info,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "inode": stat.st_ino,
                "sample": _sample_hash(info, stat.st_size),
            }
        fs, _ = self.filesystem()
        if mode == "content" or (mode == "auto" and self.protocol in _CONTENT_BY_DEFAULT):
            with fs.open(info["name"], "rb") as stream:
                return {"sha256": sha256_stream(stream)[0]}
        identity = {"path": str(info["name"]), "size": int(info.get("size") or 0)}
        keys = [key for key in _CONTENT_KEYS if info.get(key) is not None]
        for key in keys or [key for key in _VERSION_KEYS if info.get(key) is not None]:
            value = info[key]
            identity[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return identity

    def write_file(self, fill: Callable[[str], object]) -> None:
        """Write this file atomically: ``fill`` writes a local temporary file of the same name."""
        with io_errors(self.url, reading=False):
            if self.local:
                self._write_local_file(fill)
                return
            with tempfile.TemporaryDirectory(prefix="loopml-") as stage:
                temp = os.path.join(stage, self.name)
                fill(temp)
                fs, path = self.filesystem()
                self._upload(fs, temp, path)

    def _write_local_file(self, fill: Callable[[str], object]) -> None:
        parent = os.path.dirname(self.url)
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent)
        try:
            temp = os.path.join(stage, self.name)
            fill(temp)
            _fsync_file(temp)
            os.replace(temp, self.url)
            fsync_dir(parent)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def write_folder(self, fill: Callable[[str], object]) -> None:
        """Replace this folder: ``fill`` writes the new content into an empty local folder."""
        with io_errors(self.url, reading=False):
            if self.local:
                self._write_local_folder(fill)
                return
            with tempfile.TemporaryDirectory(prefix="loopml-") as stage:
                fill(stage)
                fs, path = self.filesystem()
                new = set(_local_tree(stage))
                for rel in sorted(new):
                    self._upload(fs, os.path.join(stage, *rel.split("/")), f"{path}/{rel}")
                for rel in self._remote_files():
                    if rel not in new:
                        fs.rm_file(f"{path}/{rel}")

    def _write_local_folder(self, fill: Callable[[str], object]) -> None:
        parent = os.path.dirname(self.url)
        os.makedirs(parent, exist_ok=True)
        if os.path.lexists(self.url) and not os.path.isdir(self.url):
            raise DatasetIOError(f"cannot write the folder {self.url}: a file is in the way")
        stage_root = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent)
        try:
            stage = os.path.join(stage_root, "new")
            os.mkdir(stage)
            fill(stage)
            for rel in _local_tree(stage):
                _fsync_file(os.path.join(stage, *rel.split("/")))
            _swap_folder(stage, self.url, os.path.join(stage_root, "old"))
            fsync_dir(parent)
        finally:
            shutil.rmtree(stage_root, ignore_errors=True)

    def _upload(self, fs: Any, local: str, path: str) -> None:
        if self.protocol in OBJECT_STORE_PROTOCOLS:
            fs.put_file(local, path)
            return
        parent = path.rpartition("/")[0]
        temp = f"{parent}/{TEMP_PREFIX}{secrets.token_hex(8)}"
        fs.makedirs(parent, exist_ok=True)
        try:
            fs.put_file(local, temp)
            fs.mv(temp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                fs.rm_file(temp)
            raise


def _check_protocols(url: str) -> None:
    """Refuse a URL whose protocol fsspec does not know, when the dataset is built."""
    import difflib

    import fsspec

    known = set(fsspec.available_protocols())
    for segment in url.split("::"):
        protocol = segment.split("://", 1)[0] if "://" in segment else segment
        if protocol.lower() not in known:
            hint = difflib.get_close_matches(protocol.lower(), sorted(known), n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise DatasetConfigError(
                f"field 'path': fsspec knows no protocol {protocol!r}{did_you_mean}",
                field="path",
            )


def _sample_hash(path: str, size: int) -> str:
    """sha256 of a file's first and last :data:`SAMPLE_BYTES`: catches most edits that keep
    the size and land within one tick of a coarse file-system clock."""
    with open(path, "rb") as stream:
        head = stream.read(SAMPLE_BYTES)
        if size > 2 * SAMPLE_BYTES:
            stream.seek(-SAMPLE_BYTES, os.SEEK_END)
        return sha256_bytes(head + stream.read(SAMPLE_BYTES))


def _swap_folder(new: str, target: str, old: str) -> None:
    """Put the folder ``new`` in place of ``target``, moving a previous one to ``old``."""
    if not os.path.isdir(target):
        os.replace(new, target)
        return
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise


def _local_tree(folder: str) -> list[str]:
    return [
        os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
        for root, _, names in os.walk(folder)
        for name in names
    ]


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())
