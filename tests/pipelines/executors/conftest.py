"""Fixtures of the executor tests: one ``executor`` fixture over every implementation.

Each executor is started once per session (one Ray cluster, one Dask cluster,
one process pool), never once per test. Ray runs with usage statistics off and
writes its authentication token into a scratch ``HOME``, not the developer's.

Submitted functions live in ``executor_tasks.py``, beside this file, which must
be importable by worker processes: see that module's docstring.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.pipelines.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    ProcessExecutor,
    RayExecutor,
)

HERE = Path(__file__).resolve().parent
# Before the test modules are imported: they `import executor_tasks`. Spawned processes
# (the process pool, Dask's nannies) copy the parent's sys.path.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ray: starts a local Ray cluster (one per session)")
    config.addinivalue_line("markers", "dask: starts a local Dask cluster (one per session)")


@pytest.fixture(scope="session")
def tasks_importable_by_workers() -> Iterator[None]:
    """Put this folder on PYTHONPATH: Ray's workers do not inherit the driver's sys.path."""
    paths = [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield


@pytest.fixture(scope="session")
def local_executor() -> Iterator[Executor]:
    with LocalExecutor() as executor:
        yield executor


@pytest.fixture(scope="session")
def process_executor(tasks_importable_by_workers: None) -> Iterator[Executor]:
    with ProcessExecutor(max_workers=2) as executor:
        yield executor


@pytest.fixture(scope="session")
def ray_executor(
    tasks_importable_by_workers: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Executor]:
    pytest.importorskip("ray")
    executor = RayExecutor(num_cpus=2)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        # Token authentication stays on; the token file goes to a scratch HOME. Ray's
        # processes keep the environment they started with, so HOME is restored after.
        env.setenv("HOME", str(tmp_path_factory.mktemp("ray-home")))
        executor.start()
    yield executor
    executor.shutdown()


@pytest.fixture(scope="session")
def dask_executor(tasks_importable_by_workers: None) -> Iterator[Executor]:
    pytest.importorskip("distributed")
    with DaskExecutor(n_workers=2) as executor:
        yield executor


KINDS = [
    pytest.param("local", id="local"),
    pytest.param("process", id="process"),
    pytest.param("ray", id="ray", marks=pytest.mark.ray),
    pytest.param("dask", id="dask", marks=pytest.mark.dask),
]


@pytest.fixture(params=KINDS)
def executor(request: pytest.FixtureRequest) -> Executor:
    """Each executor kind in turn, shared by the whole session."""
    started: Executor = request.getfixturevalue(f"{request.param}_executor")
    return started
