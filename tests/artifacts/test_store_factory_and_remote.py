"""Choosing a store by URI, and what the fsspec and S3 backends do on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loopml.artifacts import (
    ArtifactBackendError,
    ArtifactNotFoundError,
    FsspecArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    artifact_store_from_uri,
)
from loopml.core.errors import BackendError, ConfigError


def test_plain_paths_and_file_urls_are_local(tmp_path: Path) -> None:
    by_path = artifact_store_from_uri(str(tmp_path / "a"))
    by_url = artifact_store_from_uri((tmp_path / "with space").as_uri())
    by_localhost = artifact_store_from_uri(f"file://localhost{tmp_path}/b")

    assert isinstance(by_path, LocalArtifactStore) and by_path.root == tmp_path / "a"
    assert isinstance(by_url, LocalArtifactStore) and by_url.root == tmp_path / "with space"
    assert isinstance(by_localhost, LocalArtifactStore) and by_localhost.root == tmp_path / "b"


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = artifact_store_from_uri("relative/store")

    assert isinstance(store, LocalArtifactStore)
    assert store.root == tmp_path / "relative" / "store"


def test_s3_and_other_schemes() -> None:
    s3 = artifact_store_from_uri("s3://bucket/prefix/", {"anon": True})
    memory = artifact_store_from_uri("memory://loopml/factory")

    assert isinstance(s3, S3ArtifactStore) and s3.uri == "s3://bucket/prefix"
    assert s3.storage_options == {"anon": True, "use_listings_cache": False}
    assert type(memory) is FsspecArtifactStore and memory.uri == "memory://loopml/factory"


@pytest.mark.parametrize(
    ("uri", "options"),
    [
        ("file://elsewhere/x", None),
        ("file://", None),
        ("/some/folder", {"key": "x"}),
        ("s3://", None),
        ("memory://", None),
    ],
)
def test_malformed_uris_are_config_errors(uri: str, options: dict[str, str] | None) -> None:
    with pytest.raises(ConfigError):
        artifact_store_from_uri(uri, options)


def test_unknown_protocol_fails_on_first_use_with_a_config_error() -> None:
    store = artifact_store_from_uri("nosuchprotocol://x/y")

    with pytest.raises(ConfigError):
        store.exists("a")


def test_building_stores_imports_no_backend_library() -> None:
    code = (
        "import sys\n"
        "from loopml.artifacts import artifact_store_from_uri\n"
        "artifact_store_from_uri('s3://bucket/p'); artifact_store_from_uri('memory://x')\n"
        "artifact_store_from_uri('/tmp/x')\n"
        "heavy = {'fsspec', 's3fs', 'botocore', 'boto3'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.s3
def test_s3_unreachable_endpoint_is_a_backend_error() -> None:
    store = S3ArtifactStore(
        "s3://bucket/p",
        endpoint_url="http://127.0.0.1:9",
        key="testing",
        secret="testing",
        config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 1},
        skip_instance_cache=True,
    )

    with pytest.raises(ArtifactBackendError) as caught:
        store.exists("a")  # must not answer False when it cannot tell
    assert isinstance(caught.value, BackendError)
    assert isinstance(caught.value.__cause__, Exception)
    with pytest.raises(ArtifactBackendError):
        store.put_bytes(b"x", "a")


@pytest.mark.s3
def test_s3_missing_bucket(s3_options: dict[str, str]) -> None:
    store = S3ArtifactStore("s3://no-such-bucket-here/p", **s3_options)

    assert not store.exists("a")
    with pytest.raises(ArtifactNotFoundError):
        store.get_bytes("a")
    with pytest.raises(ArtifactBackendError):
        store.put_bytes(b"x", "a")


@pytest.mark.s3
def test_s3_objects_are_visible_to_another_client(s3_options: dict[str, str]) -> None:
    writer = S3ArtifactStore("s3://loopml-tests/shared", **s3_options)
    reader = S3ArtifactStore("s3://loopml-tests/shared", **s3_options, skip_instance_cache=True)
    assert not reader.exists("fresh")

    writer.put_bytes(b"x", "fresh")

    assert reader.exists("fresh")
    assert "fresh" in set(reader.list())


def test_memory_stores_are_not_persistent() -> None:
    assert FsspecArtifactStore("memory://loopml/p").persistent is False
    assert FsspecArtifactStore("gs://bucket/p").persistent is True
