"""Fixtures shared by the whole suite: an isolated project per test, metadata backends, HTML checks.

Every test runs in its own project folder with no ``LOOPML_*`` variable from
the outside. ``metadata_uri`` is parametrised over SQLite and PostgreSQL (a
fresh schema per test in one database per session), so a test that asks for
it is a contract test of both.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

PG_ADMIN_URI = os.environ.get("LOOPML_TEST_PG", "postgresql://root@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def isolated_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test in an empty project folder with a clean loopml environment."""
    for name in list(os.environ):
        if name.startswith("LOOPML_"):
            monkeypatch.delenv(name)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    from loopml.workspace import reset_workspace

    reset_workspace()
    yield project
    from loopml.tracking import end_run

    end_run()
    reset_workspace()


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URI, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database for this test session, dropped at the end."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URI}; run scripts/services.sh")
        pytest.skip("PostgreSQL is not reachable; `make services` starts it")
    import psycopg

    name = f"loopml_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URI, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URI.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URI, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_uri(pg_database: str) -> Iterator[str]:
    """A metadata URI on an empty PostgreSQL schema of its own."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'metadata.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def metadata_uri(request: pytest.FixtureRequest) -> str:
    """Each metadata backend in turn: the contract suites run over both."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_uri"))
    return str(request.getfixturevalue("pg_uri"))


@pytest.fixture
def store(metadata_uri: str) -> Iterator[object]:
    from loopml.metadata import SqlMetadataStore

    opened = SqlMetadataStore(metadata_uri)
    yield opened
    opened.close()


@pytest.fixture
def workspace(metadata_uri: str, tmp_path: Path) -> Iterator[object]:
    """A workspace over each metadata backend, with a local artifact folder."""
    from loopml.core import Settings
    from loopml.workspace import Workspace

    settings = Settings.load(
        tmp_path / "project", metadata_uri=metadata_uri, artifact_uri=str(tmp_path / "artifacts")
    )
    opened = Workspace(settings)
    yield opened
    opened.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


S3_CREDENTIALS = {"key": "testing", "secret": "testing"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """One moto S3 API server for the session, on loopback; yields a boto3 client for it.

    Each suite creates its own bucket with ``s3_server.create_bucket(Bucket=...)``;
    the endpoint is ``s3_server.meta.endpoint_url``.
    """
    from moto.server import ThreadedMotoServer

    # The server logs every request through werkzeug; keep test output readable.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            import boto3

            yield boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{port}",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name="us-east-1",
            )
        finally:
            server.stop()


class HtmlChecker(HTMLParser):
    """Counts tags and attributes, and notes every element that is not closed in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "rect", "line", "circle"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.attributes: list[tuple[str, str | None]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attributes += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attributes += attrs

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _check_html(document: str) -> HtmlChecker:
    checker = HtmlChecker()
    checker.feed(document)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


@pytest.fixture
def check_html() -> Callable[[str], HtmlChecker]:
    """A function that parses HTML with ``html.parser`` and fails unless it is well formed."""
    return _check_html
