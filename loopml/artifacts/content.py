"""Content-addressed storage, written once above every artifact store backend.

An object's id is the sha256 of its bytes, stored under
``sha256/<first two hex digits>/<digest>``. Writing the same bytes twice stores
them once. Every read is verified against the digest: corrupted bytes raise
:class:`~loopml.artifacts.errors.ArtifactIntegrityError`, never load silently.

A folder is stored as its files (each content-addressed) plus a canonical JSON
manifest naming them; the folder's digest is the manifest's::

    {"files": {"data/train.csv": {"digest": "ab12...", "size": 1024}, ...},
     "kind": "loopml.folder", "version": 1}
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from loopml.artifacts.base import ArtifactStore, Data, check_local_file
from loopml.artifacts.errors import (
    ArtifactConflictError,
    ArtifactIntegrityError,
    ArtifactNotFoundError,
    InvalidKeyError,
)
from loopml.artifacts.keys import normalize_path, resolve_inside
from loopml.core.errors import InvalidInputError
from loopml.core.hashing import CHUNK_SIZE, canonical_json, is_digest, sha256_bytes, sha256_file

logger = logging.getLogger(__name__)

KEY_PREFIX = "sha256"
MANIFEST_KIND = "loopml.folder"
MANIFEST_VERSION = 1

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Blob:
    """A stored, content-addressed object.

    Attributes:
        digest: hex sha256 of the object's bytes (for a folder: of its manifest).
        size: the object's size in bytes (for a folder: its manifest's).
        uri: where the object lives, for people and for tools outside loopml.
    """

    digest: str
    size: int
    uri: str


def content_key(digest: str) -> str:
    """Return the store key of the object with sha256 ``digest``.

    Raises:
        InvalidInputError: if ``digest`` is not a lowercase hex sha256 digest.
    """
    if not isinstance(digest, str) or not is_digest(digest):
        raise InvalidInputError(f"{digest!r} is not a sha256 digest (64 lowercase hex digits)")
    return f"{KEY_PREFIX}/{digest[:2]}/{digest}"


class ContentStore:
    """Content-addressed, verified storage of bytes, files and folders on an artifact store.

    Args:
        store: the backend that moves the bytes.
        workers: threads used to store or fetch the files of a folder.
    """

    def __init__(self, store: ArtifactStore, *, workers: int = 8) -> None:
        self.store = store
        self.workers = max(1, workers)

    def put_bytes(self, data: Data) -> Blob:
        """Store ``data`` unless already present; return its blob."""
        digest = sha256_bytes(data)
        size = memoryview(data).nbytes
        key = content_key(digest)
        if not self._present(key, size):
            self.store.put_bytes(data, key)
            logger.debug("stored %s (%d bytes)", digest, size)
        return self._blob(digest, size)

    def put_file(self, path: str | os.PathLike[str]) -> Blob:
        """Store a local file (hashed by streaming) unless its bytes are already present.

        Raises:
            InvalidInputError: if ``path`` is not a regular file.
            ArtifactConflictError: if the file changed while it was being stored.
        """
        source = check_local_file(path)
        return self._put_hashed(source, *_hash_file(source))

    def put_dir(self, path: str | os.PathLike[str]) -> Blob:
        """Store every file under a local folder, then its manifest; return the manifest's blob.

        Symbolic links are followed only to files inside the folder. Empty
        folders are not recorded.

        Raises:
            InvalidInputError: if ``path`` is not a folder, holds a link leading outside it,
                a link to a folder, a special file, or a file name that is not a valid key.
        """
        root = Path(path)
        if not root.is_dir():
            raise InvalidInputError(f"{os.fspath(path)!r} is not a folder")
        files = _folder_files(root)
        paths = [str(root / rel) for rel in files]
        hashes = self._map(_hash_file, paths)
        first_of_digest: dict[str, int] = {}
        for index, (_, digest, _) in enumerate(hashes):
            first_of_digest.setdefault(digest, index)  # equal files are uploaded once
        self._map(lambda i: self._put_hashed(paths[i], *hashes[i]), first_of_digest.values())
        entries = {
            rel: {"digest": digest, "size": size}
            for rel, (_, digest, size) in zip(files, hashes, strict=True)
        }
        manifest = {"files": entries, "kind": MANIFEST_KIND, "version": MANIFEST_VERSION}
        return self.put_bytes(canonical_json(manifest).encode())

    def get_bytes(self, digest: str) -> bytes:
        """Return the verified bytes of the object ``digest``.

        Raises:
            InvalidInputError: if ``digest`` is malformed.
            ArtifactNotFoundError: if no such object is stored.
            ArtifactIntegrityError: if the stored bytes do not hash to ``digest``.
        """
        data = self.store.get_bytes(content_key(digest))
        if sha256_bytes(data) != digest:
            raise self._corrupt(digest)
        return data

    def open(self, digest: str) -> BinaryIO:
        """Open the object ``digest`` as a sequential binary stream, verified at its end.

        Reading to the end raises :class:`ArtifactIntegrityError` instead of
        returning end-of-file if the bytes do not match; a stream closed
        before its end has not been verified.

        Raises:
            InvalidInputError: if ``digest`` is malformed.
            ArtifactNotFoundError: if no such object is stored.
        """
        raw = self.store.open(content_key(digest))
        return io.BufferedReader(_VerifyingReader(raw, digest, self._corrupt), CHUNK_SIZE)

    def get_file(self, digest: str, dest: str | os.PathLike[str]) -> Path:
        """Write the verified object ``digest`` to the local file ``dest``, atomically.

        ``dest`` appears only once complete and verified; its parent folders are created.

        Returns:
            ``dest`` as a path.

        Raises:
            ArtifactNotFoundError, ArtifactIntegrityError: as :meth:`get_bytes`.
        """
        source = self.open(digest)
        target = Path(dest)
        with source:
            target.parent.mkdir(parents=True, exist_ok=True)
            with _staged(target, is_dir=False) as temp, open(temp, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_SIZE)
                out.flush()
                os.fsync(out.fileno())
        return target

    def get_dir(self, digest: str, dest: str | os.PathLike[str]) -> Path:
        """Rebuild the folder artifact ``digest`` at ``dest``, all or nothing.

        Returns:
            ``dest`` as a path.

        Raises:
            ArtifactConflictError: if ``dest`` exists and is not an empty folder.
            InvalidInputError: if ``digest`` is not a folder artifact.
            ArtifactNotFoundError, ArtifactIntegrityError: as :meth:`get_bytes`.
        """
        files = self.get_manifest(digest)
        target = Path(dest)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ArtifactConflictError(f"{os.fspath(dest)!r} exists and is not an empty folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        with _staged(target, is_dir=True) as staging:
            jobs = [(blob.digest, resolve_inside(staging, rel)) for rel, blob in files.items()]
            self._map(lambda job: self.get_file(*job), jobs)
            if target.is_dir():
                target.rmdir()
        return target

    def get_manifest(self, digest: str) -> dict[str, Blob]:
        """Return the files of the folder artifact ``digest``: relative path -> blob.

        Raises:
            InvalidInputError: if the object is not a folder manifest.
            InvalidKeyError: if the manifest names a path that would leave the folder.
            ArtifactNotFoundError, ArtifactIntegrityError: as :meth:`get_bytes`.
        """
        data = self.get_bytes(digest)
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None
        if not isinstance(document, dict) or document.get("kind") != MANIFEST_KIND:
            raise InvalidInputError(f"artifact {digest} is not a folder")
        if document.get("version") != MANIFEST_VERSION:
            raise InvalidInputError(f"folder artifact {digest} has an unknown manifest version")
        files = _parse_entries(document.get("files"), digest)
        return {rel: self._blob(d, size) for rel, (d, size) in files.items()}

    def exists(self, digest: str) -> bool:
        """Tell whether the object ``digest`` is stored (without verifying it)."""
        return self.store.exists(content_key(digest))

    def uri(self, digest: str) -> str:
        """Return the URI of the object ``digest`` (it need not exist)."""
        return self.store.uri_for(content_key(digest))

    def _blob(self, digest: str, size: int) -> Blob:
        return Blob(digest=digest, size=size, uri=self.uri(digest))

    def _put_hashed(self, source: str, before: tuple[int, ...], digest: str, size: int) -> Blob:
        """Store ``source``, hashed to ``digest`` when its fingerprint was ``before``."""
        key = content_key(digest)
        wrote = not self._present(key, size)
        if wrote:
            self.store.put_file(source, key)
            logger.debug("stored %s from %s (%d bytes)", digest, source, size)
        if _fingerprint(source) != before:
            if wrote:
                self._discard_if_corrupt(key, digest)
            raise ArtifactConflictError(f"{source!r} changed while it was being stored")
        return self._blob(digest, size)

    def _present(self, key: str, size: int) -> bool:
        """Tell whether ``key`` holds an object of ``size`` bytes; a wrong size gets rewritten."""
        try:
            stored = self.store.size(key)
        except ArtifactNotFoundError:
            return False
        if stored != size:
            logger.warning("%s has %d bytes instead of %d; storing it again", key, stored, size)
        return stored == size

    def _discard_if_corrupt(self, key: str, digest: str) -> None:
        with self.store.open(key) as stream:
            stored = hashlib.file_digest(stream, "sha256").hexdigest()  # type: ignore[arg-type]
        if stored != digest:
            self.store.delete(key)

    def _corrupt(self, digest: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(
            f"artifact {digest} at {self.uri(digest)} is corrupted: its bytes hash differently"
        )

    def _map(self, function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        jobs = list(items)
        if self.workers == 1 or len(jobs) < 2:
            return [function(job) for job in jobs]
        with ThreadPoolExecutor(min(self.workers, len(jobs))) as pool:
            return list(pool.map(function, jobs))


class _VerifyingReader(io.RawIOBase):
    """Pass a stream through while hashing it; raise at its end if the digest is wrong."""

    def __init__(
        self, raw: BinaryIO, digest: str, error: Callable[[str], ArtifactIntegrityError]
    ) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._error = error
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._raw.read(len(view))
        if not chunk and len(view):
            if self._hash.hexdigest() != self._digest:
                raise self._error(self._digest)
            return 0
        view[: len(chunk)] = chunk
        self._hash.update(chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _hash_file(path: str) -> tuple[tuple[int, ...], str, int]:
    """Hash a file by streaming; return its fingerprint from before, its digest and size."""
    before = _fingerprint(path)
    digest, size = sha256_file(path)
    return before, digest, size


def _fingerprint(path: str) -> tuple[int, ...]:
    info = os.stat(path)
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _folder_files(root: Path) -> list[str]:
    """Return the sorted relative paths of the files to store from ``root``, checked."""
    real_root = os.path.realpath(root)
    found: dict[str, str] = {}
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in [*dirs, *names]:
            path = os.path.join(folder, name)
            if name in dirs and not os.path.islink(path):
                continue
            _check_entry(path, real_root)
            rel = normalize_path(os.path.relpath(path, root).replace(os.sep, "/"))
            if rel in found:
                raise InvalidInputError(f"{found[rel]!r} and {path!r} have the same normal name")
            found[rel] = path
    return sorted(found)


def _check_entry(path: str, real_root: str) -> None:
    real = os.path.realpath(path)
    if os.path.islink(path) and os.path.commonpath([real_root, real]) != real_root:
        raise InvalidInputError(f"{path!r} is a link to outside the folder being stored")
    if os.path.isdir(real):
        raise InvalidInputError(f"{path!r} is a link to a folder; store its target instead")
    if not os.path.isfile(real):
        raise InvalidInputError(f"{path!r} is not a regular file")


def _parse_entries(files: object, digest: str) -> dict[str, tuple[str, int]]:
    if not isinstance(files, Mapping):
        raise InvalidInputError(f"folder artifact {digest} has a malformed manifest")
    parsed: dict[str, tuple[str, int]] = {}
    for rel, entry in files.items():
        if normalize_path(rel) != rel:
            raise InvalidKeyError(f"folder artifact {digest} names a non-normal path {rel!r}")
        if not isinstance(entry, Mapping):
            raise InvalidInputError(f"folder artifact {digest} has a malformed entry {rel!r}")
        file_digest, size = entry.get("digest"), entry.get("size")
        if not isinstance(file_digest, str) or not is_digest(file_digest):
            raise InvalidInputError(f"folder artifact {digest} has a bad digest for {rel!r}")
        if type(size) is not int or size < 0:
            raise InvalidInputError(f"folder artifact {digest} has a bad size for {rel!r}")
        parsed[rel] = (file_digest, size)
    for rel in parsed:
        parent = rel.rpartition("/")[0]
        while parent:
            if parent in parsed:
                raise InvalidInputError(
                    f"folder artifact {digest} uses {parent!r} as file and folder"
                )
            parent = parent.rpartition("/")[0]
    return parsed


@contextlib.contextmanager
def _staged(target: Path, *, is_dir: bool) -> Iterator[str]:
    """Yield a fresh temp path beside ``target``; move it onto ``target`` if the block succeeds."""
    temp = os.path.join(target.parent, f".{target.name}.{secrets.token_hex(8)}.part")
    if is_dir:
        os.mkdir(temp)
    else:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        if is_dir:
            shutil.rmtree(temp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
