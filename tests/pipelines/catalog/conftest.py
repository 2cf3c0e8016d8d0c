"""Fixtures of the catalog tests: a place to store datasets on each backend.

``where`` is parametrised over a local folder (relative to the project, as
YAML paths are), fsspec's in-memory file system and S3 (a moto server over
HTTP on 127.0.0.1, started once per session), so a test that asks for it is a
contract test of all three.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BUCKET = "loopml-catalog-tests"
CREDENTIALS = {"key": "testing", "secret": "testing"}


@dataclass
class Where:
    """A root under which a test puts its datasets, and the options to reach it."""

    kind: str
    root: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> str:
        return f"{self.root}/{name}"


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: Any) -> str:
    """The session's moto S3 server with the bucket ``loopml-catalog-tests``; its endpoint URL."""
    s3_server.create_bucket(Bucket=BUCKET)
    return str(s3_server.meta.endpoint_url)


@pytest.fixture
def s3_options(s3_endpoint: str) -> dict[str, Any]:
    """s3fs storage options for the moto server (no listing cache, as the datasets need)."""
    return {"endpoint_url": s3_endpoint, **CREDENTIALS}


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh ``memory://`` folder, removed afterwards (the memory file system is global)."""
    import fsspec

    root = f"memory://catalog-tests/{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("memory", id="memory"),
    pytest.param("s3", id="s3", marks=pytest.mark.s3),
]


@pytest.fixture(params=BACKENDS)
def where(request: pytest.FixtureRequest, isolated_project: Path) -> Where:
    """Where to put datasets: a folder of the project, ``memory://`` or S3."""
    if request.param == "local":
        return Where("local", "data")
    if request.param == "memory":
        return Where("memory", request.getfixturevalue("memory_root"))
    options = request.getfixturevalue("s3_options")
    return Where("s3", f"s3://{BUCKET}/{uuid.uuid4().hex}", dict(options))


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore away from the developer's real AWS configuration."""
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def frame() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "flight": [1, 2, 3, 4],
            "carrier": ["UA", "AA", "UA", "DL"],
            "arr_delay": [5.0, 20.5, -3.0, 40.0],
        }
    )
