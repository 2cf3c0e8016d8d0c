"""The content-addressed store: dedup, verified reads, folders and manifests, on every backend."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from loopml.artifacts import (
    ArtifactConflictError,
    ArtifactIntegrityError,
    ArtifactNotFoundError,
    ArtifactStore,
    Blob,
    ContentStore,
    InvalidKeyError,
    content_key,
)
from loopml.artifacts import content as content_module
from loopml.core.errors import IntegrityError, InvalidInputError, NotFoundError
from loopml.core.hashing import canonical_json, sha256_bytes


class CountingStore(ArtifactStore):
    """A fake that delegates to a real store and counts the writes reaching it."""

    def __init__(self, inner: ArtifactStore) -> None:
        self.inner = inner
        self.uri = inner.uri
        self.writes: list[str] = []

    def put_bytes(self, data, key: str) -> None:
        self.writes.append(key)
        self.inner.put_bytes(data, key)

    def put_file(self, local_path, key: str) -> None:
        self.writes.append(key)
        self.inner.put_file(local_path, key)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def size(self, key: str) -> int:
        return self.inner.size(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


@pytest.fixture
def counting(store: ArtifactStore) -> CountingStore:
    return CountingStore(store)


@pytest.fixture
def content(counting: CountingStore) -> ContentStore:
    return ContentStore(counting)


def corrupt(store: ArtifactStore, digest: str, *, at: int = 0) -> None:
    """Flip one bit of a stored object, as a failing disk would."""
    key = content_key(digest)
    data = bytearray(store.get_bytes(key))
    data[at] ^= 0x01
    store.put_bytes(bytes(data), key)


def make_tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (root / "sub" / "deeper" / "\u00e9t\u00e9.csv").write_text("x,y\n1,2\n")
    (root / "empty").write_bytes(b"")
    (root / "same-as-a.txt").write_text("alpha")
    return root


# --- bytes ---------------------------------------------------------------------------


def test_put_bytes_returns_a_blob_named_by_sha256(content: ContentStore) -> None:
    blob = content.put_bytes(b"hello")

    assert blob == Blob(sha256_bytes(b"hello"), 5, content.uri(blob.digest))
    assert content.exists(blob.digest)
    assert content.get_bytes(blob.digest) == b"hello"
    assert content_key(blob.digest) == f"sha256/{blob.digest[:2]}/{blob.digest}"
    assert list(content.store.list()) == [content_key(blob.digest)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        blob.size = 1  # type: ignore[misc]


def test_same_bytes_are_stored_once(content: ContentStore, counting: CountingStore) -> None:
    first = content.put_bytes(b"same")
    second = content.put_bytes(bytearray(b"same"))

    assert first == second
    assert counting.writes == [content_key(first.digest)]


def test_same_file_is_stored_once(
    content: ContentStore, counting: CountingStore, tmp_path: Path
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"payload" * 1000)

    blob = content.put_file(path)
    again = content.put_file(path)
    from_bytes = content.put_bytes(path.read_bytes())

    assert blob == again == from_bytes
    assert counting.writes == [content_key(blob.digest)]


def test_a_truncated_object_is_rewritten(content: ContentStore, counting: CountingStore) -> None:
    blob = content.put_bytes(b"0123456789")
    counting.inner.put_bytes(b"01234", content_key(blob.digest))

    content.put_bytes(b"0123456789")

    assert content.get_bytes(blob.digest) == b"0123456789"
    assert len(counting.writes) == 2


def test_missing_digest(content: ContentStore, tmp_path: Path) -> None:
    digest = sha256_bytes(b"never stored")

    assert not content.exists(digest)
    for call in (
        lambda: content.get_bytes(digest),
        lambda: content.open(digest),
        lambda: content.get_file(digest, tmp_path / "out"),
        lambda: content.get_dir(digest, tmp_path / "dir"),
    ):
        with pytest.raises(ArtifactNotFoundError) as caught:
            call()
        assert isinstance(caught.value, NotFoundError)
    assert not (tmp_path / "out").exists() and not (tmp_path / "dir").exists()


@pytest.mark.parametrize(
    "digest", ["", "abc", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "../" + "a" * 61, None, 42]
)
def test_malformed_digests_are_refused(content: ContentStore, digest: object) -> None:
    for call in (content.get_bytes, content.open, content.exists, content.uri):
        with pytest.raises(InvalidInputError):
            call(digest)  # type: ignore[operator]


# --- integrity -----------------------------------------------------------------------


def test_flipped_byte_is_detected_by_get_bytes(content: ContentStore) -> None:
    blob = content.put_bytes(b"important model weights")
    corrupt(content.store, blob.digest, at=5)

    with pytest.raises(ArtifactIntegrityError) as caught:
        content.get_bytes(blob.digest)
    assert isinstance(caught.value, IntegrityError)
    assert blob.digest in str(caught.value)


def test_flipped_byte_is_detected_by_open(content: ContentStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 11)
    blob = content.put_bytes(data)
    corrupt(content.store, blob.digest, at=len(data) - 1)

    with content.open(blob.digest) as stream, pytest.raises(ArtifactIntegrityError):
        stream.read()
    with content.open(blob.digest) as stream, pytest.raises(ArtifactIntegrityError):
        while stream.read(64 * 1024):
            pass


def test_open_streams_verified_bytes(content: ContentStore) -> None:
    data = os.urandom(2 * 1024 * 1024 + 3)
    blob = content.put_bytes(data)

    with content.open(blob.digest) as stream:
        chunks = []
        while chunk := stream.read(100_000):
            chunks.append(chunk)
    assert b"".join(chunks) == data


def test_get_file_is_verified_and_atomic(content: ContentStore, tmp_path: Path) -> None:
    blob = content.put_bytes(b"file contents")
    dest = tmp_path / "out" / "nested" / "file.bin"

    assert content.get_file(blob.digest, dest) == dest
    assert dest.read_bytes() == b"file contents"

    corrupt(content.store, blob.digest)
    bad_dest = tmp_path / "bad" / "file.bin"
    with pytest.raises(ArtifactIntegrityError):
        content.get_file(blob.digest, bad_dest)
    assert os.listdir(tmp_path / "bad") == []


def test_file_changing_while_stored_is_refused(
    content: ContentStore, tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "growing.log"
    path.write_bytes(b"line 1\n")
    real_hash = content_module.sha256_file

    def hash_then_append(source):
        result = real_hash(source)
        with open(source, "ab") as stream:
            stream.write(b"line 2\n")
        return result

    monkeypatch.setattr(content_module, "sha256_file", hash_then_append)
    with pytest.raises(ArtifactConflictError):
        content.put_file(path)
    assert list(content.store.list()) == []  # the mismatched object was not kept


# --- folders -------------------------------------------------------------------------


def test_folder_round_trip(content: ContentStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")

    blob = content.put_dir(source)
    dest = content.get_dir(blob.digest, tmp_path / "dest")

    expected = {p.relative_to(source): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    got = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert got == expected
    manifest = content.get_manifest(blob.digest)
    assert sorted(manifest) == [
        "a.txt",
        "empty",
        "same-as-a.txt",
        "sub/b.bin",
        "sub/deeper/\u00e9t\u00e9.csv",
    ]
    assert manifest["a.txt"] == manifest["same-as-a.txt"]
    assert manifest["sub/b.bin"].size == 256


def test_folder_digest_depends_only_on_contents(content: ContentStore, tmp_path: Path) -> None:
    first = tmp_path / "one"
    first.mkdir()
    (first / "b").write_text("B")
    (first / "a").write_text("A")
    second = tmp_path / "two"
    second.mkdir()
    (second / "a").write_text("A")
    (second / "b").write_text("B")

    assert content.put_dir(first) == content.put_dir(second)
    (second / "b").write_text("changed")
    assert content.put_dir(first).digest != content.put_dir(second).digest


def test_same_folder_is_stored_once(
    content: ContentStore, counting: CountingStore, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src")

    content.put_dir(source)
    writes = len(counting.writes)
    content.put_dir(source)

    assert writes == 5  # four distinct files and the manifest
    assert len(counting.writes) == writes


def test_empty_folder(content: ContentStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    blob = content.put_dir(tmp_path / "empty")

    assert content.get_manifest(blob.digest) == {}
    assert list(content.get_dir(blob.digest, tmp_path / "out").iterdir()) == []


def test_get_dir_is_all_or_nothing(content: ContentStore, tmp_path: Path) -> None:
    blob = content.put_dir(make_tree(tmp_path / "src"))
    corrupt(content.store, content.get_manifest(blob.digest)["sub/b.bin"].digest)
    work = tmp_path / "work"
    work.mkdir()

    with pytest.raises(ArtifactIntegrityError):
        content.get_dir(blob.digest, work / "dest")
    assert list(work.iterdir()) == []


def test_get_dir_refuses_a_non_empty_destination(content: ContentStore, tmp_path: Path) -> None:
    blob = content.put_dir(make_tree(tmp_path / "src"))
    (tmp_path / "empty-dest").mkdir()
    (tmp_path / "full-dest").mkdir()
    (tmp_path / "full-dest" / "keep").write_text("mine")

    content.get_dir(blob.digest, tmp_path / "empty-dest")
    with pytest.raises(ArtifactConflictError):
        content.get_dir(blob.digest, tmp_path / "full-dest")
    assert os.listdir(tmp_path / "full-dest") == ["keep"]


def test_get_dir_of_a_plain_object_is_refused(content: ContentStore, tmp_path: Path) -> None:
    for data in (b"not json", b'{"kind": "something else"}', b"[1, 2]"):
        blob = content.put_bytes(data)
        with pytest.raises(InvalidInputError):
            content.get_dir(blob.digest, tmp_path / "dest")


def _manifest(files: object) -> bytes:
    return canonical_json({"files": files, "kind": "loopml.folder", "version": 1}).encode()


@pytest.mark.parametrize(
    "path", ["../escaped", "/etc/escaped", "a/../../escaped", "a\\..\\escaped", "%2e%2e/escaped"]
)
def test_manifest_paths_are_confined(content: ContentStore, tmp_path: Path, path: str) -> None:
    payload = content.put_bytes(b"planted")
    evil = content.put_bytes(_manifest({path: {"digest": payload.digest, "size": 7}}))
    work = tmp_path / "work"
    work.mkdir()

    with pytest.raises(InvalidKeyError):
        content.get_dir(evil.digest, work / "dest")
    assert list(tmp_path.rglob("escaped")) == []
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    "files",
    [
        {"a": {"digest": "0" * 64, "size": 1}, "a/b": {"digest": "0" * 64, "size": 1}},
        {"a": {"digest": "nope", "size": 1}},
        {"a": {"digest": "0" * 64, "size": True}},
        {"a": {"digest": "0" * 64, "size": -1}},
        {"a": "0" * 64},
        ["a"],
    ],
)
def test_malformed_manifests_are_refused(content: ContentStore, tmp_path: Path, files) -> None:
    blob = content.put_bytes(_manifest(files))

    with pytest.raises(InvalidInputError):
        content.get_dir(blob.digest, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_put_dir_follows_links_only_to_files_inside(content: ContentStore, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "real").write_text("r")
    (source / "alias").symlink_to("real")
    blob = content.put_dir(source)
    assert sorted(content.get_manifest(blob.digest)) == ["alias", "real"]

    (tmp_path / "secret").write_text("s")
    (source / "leak").symlink_to(tmp_path / "secret")
    with pytest.raises(InvalidInputError):
        content.put_dir(source)
    (source / "leak").unlink()

    (source / "folder-link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InvalidInputError):
        content.put_dir(source)


def test_put_dir_refuses_special_files_and_bad_names(content: ContentStore, tmp_path: Path) -> None:
    fifo_dir = tmp_path / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "pipe")
    with pytest.raises(InvalidInputError):
        content.put_dir(fifo_dir)

    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    (bad_dir / "a\\b").write_text("backslash is a legal POSIX file name, not a legal key")
    with pytest.raises(InvalidKeyError):
        content.put_dir(bad_dir)

    with pytest.raises(InvalidInputError):
        content.put_dir(tmp_path / "missing")


def test_parallel_and_serial_put_dir_agree(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")

    parallel = ContentStore(store, workers=8).put_dir(source)
    serial = ContentStore(store, workers=1).put_dir(source)

    assert parallel == serial


def test_manifest_is_canonical_json(content: ContentStore, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "x").write_text("x")

    blob = content.put_dir(source)
    document = json.loads(content.get_bytes(blob.digest))

    assert document == {
        "files": {"x": {"digest": sha256_bytes(b"x"), "size": 1}},
        "kind": "loopml.folder",
        "version": 1,
    }
    assert content.get_bytes(blob.digest) == canonical_json(document).encode()
