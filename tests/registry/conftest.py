"""Fixtures of the registry tests: a registry per metadata backend, acting as a given user."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopml.core import Settings
from loopml.registry import ModelRegistry
from loopml.workspace import Workspace

# lifecycle_flows.py holds pipeline steps that workers import by name.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

_counter = itertools.count()


@pytest.fixture
def as_user(workspace: Workspace) -> Callable[[str], ModelRegistry]:
    """``as_user("bob")``: the registry of the shared workspace, acting as bob."""
    return lambda user: ModelRegistry(workspace, user=user)


@pytest.fixture
def registry(as_user: Callable[[str], ModelRegistry]) -> ModelRegistry:
    return as_user("alice")


@pytest.fixture
def model_artifact(workspace: Workspace) -> Callable[[], str]:
    """A new artifact id each call (a small saved object standing in for a model package)."""
    return lambda: workspace.save({"weights": [next(_counter), 0.5]}).id


@pytest.fixture
def configure(workspace: Workspace) -> Callable[[dict[str, Any]], None]:
    """``configure({...})``: give the workspace a ``registry:`` section, as loopml.yaml would."""

    def set_section(section: dict[str, Any]) -> None:
        current = workspace.settings
        workspace.settings = Settings.load(
            current.project_dir,
            metadata_uri=current.metadata_uri,
            artifact_uri=current.artifact_uri,
            registry=section,
        )

    return set_section
