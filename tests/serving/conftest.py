"""Fixtures of the serving tests: a project with small registered models, and app builders."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loopml.core import Settings
from loopml.registry import ModelRegistry
from loopml.workspace import Workspace

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from serving_flows import Switchable, register_iris


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings.load(
        tmp_path,
        metadata_uri=f"sqlite:///{tmp_path / 'meta.db'}",
        artifact_uri=str(tmp_path / "artifacts"),
    )
    workspace = Workspace(settings)
    yield workspace
    workspace.close()


@pytest.fixture
def registry(project: Workspace) -> ModelRegistry:
    return ModelRegistry(project)


@pytest.fixture
def iris(registry: ModelRegistry) -> int:
    return register_iris(registry)


@pytest.fixture(autouse=True)
def reset_switchable() -> Iterator[None]:
    yield
    Switchable.explode = False
    Switchable.delay = 0.0
    Switchable.broken = set()


@pytest.fixture
def make_app(project: Workspace) -> Callable[..., Any]:
    """``make_app(deployments, **options)``: an app on the test project, fast polling."""
    from loopml.serving import ServingOptions, create_app

    def make(
        deployments: Any, seed: int | None = 0, startup_wait: float = 30, **overrides: Any
    ) -> Any:
        values = {"poll_interval": 0.05, "log_flush_seconds": 0.05, **overrides}
        options = ServingOptions(**values)
        return create_app(
            deployments, workspace=project, options=options, seed=seed, startup_wait=startup_wait
        )

    return make


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """``live_server(app)``: run the app on a real uvicorn server; stopped after the test."""
    from loopml.serving import run_server_in_thread

    stops: list[Callable[[], None]] = []

    def start(app: Any) -> str:
        url, stop = run_server_in_thread(app)
        stops.append(stop)
        return url

    yield start
    for stop in stops:
        stop()
