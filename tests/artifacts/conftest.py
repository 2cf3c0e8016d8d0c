"""Fixtures of the artifact store tests: one ``store`` fixture over every backend.

S3 runs against a real moto server (server mode, over HTTP on 127.0.0.1),
started once per session.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from loopml.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
)

BUCKET = "loopml-tests"
CREDENTIALS = {"key": "testing", "secret": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: Any) -> str:
    """The session's moto S3 server with the bucket ``loopml-tests``; its endpoint URL."""
    s3_server.create_bucket(Bucket=BUCKET)
    return str(s3_server.meta.endpoint_url)


@pytest.fixture
def s3_options(s3_endpoint: str) -> dict[str, str]:
    """s3fs storage options for the moto server."""
    return {"endpoint_url": s3_endpoint, **CREDENTIALS}


def _make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ArtifactStore:
    unique = uuid.uuid4().hex
    if kind == "local":
        return LocalArtifactStore(tmp_path / "store")
    if kind == "fsspec-file":
        # file:// through the generic fsspec store: exercises its write-then-rename path.
        return FsspecArtifactStore((tmp_path / "fsspec-store").as_uri())
    if kind == "memory":
        return FsspecArtifactStore(f"memory://loopml-tests/{unique}")
    options = request.getfixturevalue("s3_options")
    return S3ArtifactStore(f"s3://{BUCKET}/{unique}", **options)


BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("fsspec-file", id="fsspec-file"),
    pytest.param("memory", id="memory"),
    pytest.param("s3", id="s3", marks=pytest.mark.s3),
]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """An empty artifact store of each backend kind."""
    return _make_store(request.param, tmp_path, request)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore away from the developer's real AWS configuration."""
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
