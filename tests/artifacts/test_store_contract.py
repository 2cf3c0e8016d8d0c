"""The contract every ArtifactStore backend keeps, run over each of them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from loopml.artifacts import (
    ArtifactNotFoundError,
    ArtifactStore,
    FsspecArtifactStore,
    InvalidKeyError,
)
from loopml.core.errors import InvalidInputError, NotFoundError


def test_put_bytes_then_read_back(store: ArtifactStore) -> None:
    store.put_bytes(b"hello", "runs/1/greeting.txt")

    assert store.exists("runs/1/greeting.txt")
    assert store.size("runs/1/greeting.txt") == 5
    assert store.get_bytes("runs/1/greeting.txt") == b"hello"
    with store.open("runs/1/greeting.txt") as stream:
        assert stream.read() == b"hello"


def test_put_file_copies_a_local_file(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(bytes(range(256)) * 1000)

    store.put_file(source, "models/m.bin")

    assert store.get_bytes("models/m.bin") == source.read_bytes()
    assert store.size("models/m.bin") == 256_000


def test_put_accepts_bytes_like_values(store: ArtifactStore) -> None:
    store.put_bytes(bytearray(b"abc"), "a")
    store.put_bytes(memoryview(b"xyz"), "b")

    assert store.get_bytes("a") == b"abc"
    assert store.get_bytes("b") == b"xyz"


def test_empty_object(store: ArtifactStore) -> None:
    store.put_bytes(b"", "empty")

    assert store.exists("empty")
    assert store.size("empty") == 0
    assert store.get_bytes("empty") == b""


def test_a_larger_object(store: ArtifactStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * 4096 + 7)
    source = tmp_path / "big"
    source.write_bytes(data)

    store.put_file(source, "big/file")
    store.put_bytes(data, "big/bytes")

    assert store.get_bytes("big/file") == data
    assert store.get_bytes("big/bytes") == data


def test_put_replaces_an_existing_object(store: ArtifactStore) -> None:
    store.put_bytes(b"first version", "k")
    store.put_bytes(b"second", "k")

    assert store.get_bytes("k") == b"second"
    assert list(store.list()) == ["k"]


def test_put_file_refuses_what_is_not_a_file(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        store.put_file(tmp_path / "missing", "k")
    with pytest.raises(InvalidInputError):
        store.put_file(tmp_path, "k")
    assert not store.exists("k")


def test_missing_object(store: ArtifactStore) -> None:
    assert not store.exists("nope")
    with pytest.raises(ArtifactNotFoundError):
        store.open("nope")
    with pytest.raises(ArtifactNotFoundError):
        store.size("nope/deeper")
    with pytest.raises(NotFoundError):
        store.get_bytes("nope")
    with pytest.raises(LookupError):
        store.get_bytes("nope")


def test_a_folder_is_not_an_object(store: ArtifactStore) -> None:
    store.put_bytes(b"x", "folder/object")

    assert not store.exists("folder")
    assert list(store.list("folder")) == ["folder/object"]
    with pytest.raises(ArtifactNotFoundError):
        store.open("folder")
    with pytest.raises(ArtifactNotFoundError):
        store.get_bytes("folder")
    with pytest.raises(ArtifactNotFoundError):
        store.size("folder")


def test_list_all_and_by_prefix(store: ArtifactStore) -> None:
    keys = ["runs/4/a", "runs/4/sub/b", "runs/42/c", "runs/5/d", "top"]
    for key in keys:
        store.put_bytes(key.encode(), key)

    assert sorted(store.list()) == keys
    assert sorted(store.list("runs/4")) == ["runs/4/a", "runs/4/sub/b", "runs/42/c"]
    assert sorted(store.list("runs/4/")) == ["runs/4/a", "runs/4/sub/b"]
    assert sorted(store.list("runs/4/s")) == ["runs/4/sub/b"]
    assert list(store.list("runs/6")) == []
    assert list(store.list("nothing/here/")) == []


def test_list_of_an_empty_store(store: ArtifactStore) -> None:
    assert list(store.list()) == []


def test_list_validates_the_prefix_before_iterating(store: ArtifactStore) -> None:
    with pytest.raises(InvalidKeyError):
        store.list("../")
    with pytest.raises(InvalidKeyError):
        store.list("/abs")


def test_open_streams_are_independent(store: ArtifactStore) -> None:
    # Regression: fsspec's memory file system gave both readers one shared file
    # object, so interleaved reads split the bytes between them.
    data = bytes(range(256)) * 64
    store.put_bytes(data, "shared")

    with store.open("shared") as first, store.open("shared") as second:
        halves = [first.read(1000), second.read(1000), first.read(), second.read()]

    assert halves[0] + halves[2] == data
    assert halves[1] + halves[3] == data


def test_delete(store: ArtifactStore) -> None:
    store.put_bytes(b"1", "a/one")
    store.put_bytes(b"2", "a/two")

    store.delete("a/one")
    store.delete("a/one")  # deleting a missing key does nothing
    store.delete("never/was")

    assert not store.exists("a/one")
    assert store.get_bytes("a/two") == b"2"
    assert list(store.list()) == ["a/two"]


def test_uri_for(store: ArtifactStore) -> None:
    uri = store.uri_for("sha256/ab/abc")

    assert uri.startswith(store.uri.rstrip("/") + "/")
    assert uri.endswith("/sha256/ab/abc")


def test_unicode_keys_are_normalized_to_nfc(store: ArtifactStore) -> None:
    decomposed = "donne\u0301es/re\u0301sume\u0301.txt"
    store.put_bytes(b"ok", decomposed)

    assert store.get_bytes("donn\u00e9es/r\u00e9sum\u00e9.txt") == b"ok"
    assert list(store.list()) == ["donn\u00e9es/r\u00e9sum\u00e9.txt"]


BAD_KEYS = ["", "/etc/passwd", "../up", "a/../../b", "a//b", "a\\b", "%2e%2e%2fx", ".tmp/x"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_method_refuses_bad_keys(store: ArtifactStore, key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    calls = [
        lambda: store.put_bytes(b"x", key),
        lambda: store.put_file(source, key),
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.uri_for(key),
    ]
    for call in calls:
        with pytest.raises(InvalidKeyError) as caught:
            call()
        assert isinstance(caught.value, InvalidInputError)
        assert isinstance(caught.value, ValueError)
    assert list(store.list()) == []


def test_flags(store: ArtifactStore) -> None:
    assert store.atomic_writes is True
    is_memory = isinstance(store, FsspecArtifactStore) and store.protocol == "memory"
    assert store.persistent is not is_memory


def test_concurrent_writers_and_readers_see_whole_objects(store: ArtifactStore) -> None:
    payloads = [bytes([n]) * 200_000 for n in range(6)]
    store.put_bytes(payloads[0], "contended")
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            for _ in range(3):
                store.put_bytes(data, "contended")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(10):
                seen.append(store.get_bytes("contended"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(data in payloads for data in seen)
    assert store.get_bytes("contended") in payloads
    assert list(store.list()) == ["contended"]
