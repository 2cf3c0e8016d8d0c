"""What only the local folder store does: symlink confinement, lazy root, temp files, fsync."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from loopml.artifacts import (
    ArtifactConflictError,
    ArtifactError,
    InvalidKeyError,
    LocalArtifactStore,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"top secret")
    return folder


def test_root_is_created_on_first_write(root: Path) -> None:
    store = LocalArtifactStore(root)
    assert not root.exists()
    assert list(store.list()) == []
    assert not store.exists("a")

    store.put_bytes(b"x", "a/b")

    assert (root / "a" / "b").read_bytes() == b"x"


def test_symlinked_folder_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"x", "inside")
    (root / "link").symlink_to(outside, target_is_directory=True)

    for call in (
        lambda: store.put_bytes(b"evil", "link/planted"),
        lambda: store.open("link/secret"),
        lambda: store.exists("link/secret"),
        lambda: store.size("link/secret"),
        lambda: store.delete("link/secret"),
        lambda: list(store.list("link/")),
    ):
        with pytest.raises(InvalidKeyError):
            call()
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"top secret"
    assert list(store.list()) == ["inside"]


def test_symlinked_file_pointing_outside_is_refused(root: Path, outside: Path) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"x", "inside")
    (root / "leak").symlink_to(outside / "secret")
    (root / "relative").symlink_to(Path("..") / "outside" / "secret")

    for key in ("leak", "relative"):
        with pytest.raises(InvalidKeyError):
            store.get_bytes(key)
        with pytest.raises(InvalidKeyError):
            store.put_bytes(b"overwritten", key)
    assert (outside / "secret").read_bytes() == b"top secret"
    assert list(store.list()) == ["inside"]


def test_dangling_symlink_to_outside_cannot_be_written_through(root: Path, tmp_path: Path) -> None:
    store = LocalArtifactStore(root)
    root.mkdir()
    target = tmp_path / "not-yet"
    (root / "dangling").symlink_to(target)

    with pytest.raises(InvalidKeyError):
        store.put_bytes(b"x", "dangling")
    assert not target.exists()


def test_symlinks_that_stay_inside_are_followed(root: Path) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"real", "data/real")
    (root / "alias").symlink_to(root / "data", target_is_directory=True)
    (root / "data" / "same").symlink_to("real")

    assert store.get_bytes("alias/real") == b"real"
    assert store.get_bytes("data/same") == b"real"
    assert sorted(store.list()) == ["data/real", "data/same"]


def test_root_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real-root"
    real.mkdir()
    (tmp_path / "root-link").symlink_to(real, target_is_directory=True)
    store = LocalArtifactStore(tmp_path / "root-link")

    store.put_bytes(b"x", "a/b")

    assert (real / "a" / "b").read_bytes() == b"x"
    assert list(store.list()) == ["a/b"]


def test_object_and_folder_cannot_share_a_key(root: Path) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"x", "a")
    with pytest.raises(ArtifactConflictError):
        store.put_bytes(b"y", "a/b")

    store.put_bytes(b"x", "c/d")
    with pytest.raises(ArtifactConflictError):
        store.put_bytes(b"y", "c")

    assert sorted(store.list()) == ["a", "c/d"]
    assert os.listdir(root / ".tmp") == []


def test_root_that_is_a_file_gives_an_artifact_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    store = LocalArtifactStore(tmp_path / "file")

    with pytest.raises(ArtifactError):
        store.put_bytes(b"x", "a")


def test_failed_write_leaves_nothing(root: Path, tmp_path: Path, monkeypatch) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"old", "k")
    source = tmp_path / "src"
    source.write_bytes(b"new" * 1000)

    def broken_copy(src, dst, length=0):
        dst.write(b"partial")
        raise OSError("disk on fire")

    monkeypatch.setattr(shutil, "copyfileobj", broken_copy)
    with pytest.raises(ArtifactError):
        store.put_file(source, "k")

    assert store.get_bytes("k") == b"old"
    assert os.listdir(root / ".tmp") == []


def test_writes_are_fsynced(root: Path, monkeypatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])

    LocalArtifactStore(root).put_bytes(b"x", "a/b")

    assert len(synced) >= 2  # the file, then the folder that holds it


def test_temp_files_are_not_listed_and_can_be_purged(root: Path) -> None:
    store = LocalArtifactStore(root)
    store.put_bytes(b"x", "a")
    stale, fresh = root / ".tmp" / "stale.part", root / ".tmp" / "fresh.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"writing")
    long_ago = time.time() - 7 * 24 * 3600
    os.utime(stale, (long_ago, long_ago))

    assert list(store.list()) == ["a"]
    assert store.purge_temp(older_than=3600) == 1
    assert sorted(os.listdir(root / ".tmp")) == ["fresh.part"]


def test_uri_is_a_file_url(root: Path) -> None:
    store = LocalArtifactStore(root)

    assert store.uri == root.as_uri()
    assert store.uri_for("a b/c") == (root / "a b" / "c").as_uri()


def test_temp_folder_that_is_a_symlink_is_refused(root: Path, outside: Path) -> None:
    root.mkdir()
    (root / ".tmp").symlink_to(outside, target_is_directory=True)
    store = LocalArtifactStore(root)

    with pytest.raises(ArtifactError):
        store.put_bytes(b"x", "a")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert store.purge_temp(older_than=0) == 0
