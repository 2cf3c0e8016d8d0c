"""executor_from_uri, construction without I/O, lifecycle, and the package's light import."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import executor_tasks as tasks
import pytest

from loopml.core.errors import ConfigError, LoopMLError
from loopml.pipelines.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    ProcessExecutor,
    RayExecutor,
    executor_from_uri,
)

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("local", "LocalExecutor()"),
        ("local://", "LocalExecutor()"),
        ("process", f"ProcessExecutor(max_workers={ProcessExecutor().max_workers}, "),
        ("process://?workers=4", "ProcessExecutor(max_workers=4, "),
        *(
            pytest.param(uri, expected, marks=pytest.mark.ray)
            for uri, expected in [
                ("ray", "RayExecutor(address=None)"),
                ("ray://?cpus=2", "RayExecutor(address=None)"),
                ("ray:auto", "RayExecutor(address='auto')"),
                (" RAY:AUTO ", "RayExecutor(address='auto')"),
                ("ray://head.example:10001", "RayExecutor(address='ray://head.example:10001')"),
            ]
        ),
        *(
            pytest.param(uri, expected, marks=pytest.mark.dask)
            for uri, expected in [
                ("dask", "DaskExecutor(address=None, n_workers=2)"),
                ("dask://?workers=3", "DaskExecutor(address=None, n_workers=3)"),
                ("dask://sched:8786", "DaskExecutor(address='tcp://sched:8786', n_workers=2)"),
                ("tcp://10.0.0.5:8786", "DaskExecutor(address='tcp://10.0.0.5:8786', n_workers=2)"),
                ("tls://sched:8786/", "DaskExecutor(address='tls://sched:8786', n_workers=2)"),
            ]
        ),
    ],
)
def test_uris_name_executors(uri: str, expected: str) -> None:
    executor = executor_from_uri(uri)  # builds only: nothing starts, nothing connects

    assert repr(executor).startswith(expected)
    executor.shutdown()


@pytest.mark.parametrize("uri", ["spark://host:7077", "", "threads", "kubernetes://x"])
def test_an_unknown_scheme_lists_the_known_ones(uri: str) -> None:
    with pytest.raises(ConfigError, match="known executors: local, process") as raised:
        executor_from_uri(uri)
    assert "dask://host:port" in str(raised.value)


@pytest.mark.parametrize(
    ("uri", "complaint"),
    [
        ("process://?workers=0", "positive integer"),
        ("process://?workers=many", "positive integer"),
        ("process://?workers=2&workers=3", "more than once"),
        ("process://?threads=2", "unknown option"),
        ("process://remote:1", "takes no host"),
        ("local://?workers=2", "unknown option"),
        ("ray://head:10001?cpus=2", "unknown option"),
        ("dask://?workers=-1", "positive integer"),
        ("tcp://", "names no scheduler"),
        ("dask://host:8786/some/path", "unexpected path"),
        ("process://?workers", "malformed query"),
    ],
)
def test_malformed_uris_are_refused(uri: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        executor_from_uri(uri)


@pytest.mark.parametrize(
    ("uri", "module", "extra"), [("ray", "ray", "ray"), ("dask", "distributed", "dask")]
)
def test_a_missing_engine_says_what_to_install(
    uri: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # find_spec now reports it missing

    with pytest.raises(ConfigError, match=rf"pip install 'loopml\[{extra}\]'"):
        executor_from_uri(uri)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ProcessExecutor(max_workers=0),
        lambda: ProcessExecutor(start_method="fork"),
        lambda: RayExecutor(address="auto", num_cpus=2),
        lambda: RayExecutor(num_cpus=0),
        lambda: DaskExecutor(n_workers=0),
    ],
)
def test_bad_arguments_are_refused(make: Callable[[], Executor]) -> None:
    with pytest.raises(ConfigError):
        make()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(LocalExecutor, id="local"),
        pytest.param(lambda: ProcessExecutor(1), id="process"),
        pytest.param(RayExecutor, id="ray", marks=pytest.mark.ray),
        pytest.param(DaskExecutor, id="dask", marks=pytest.mark.dask),
    ],
)
def test_a_shut_down_executor_refuses_work(make: Callable[[], Executor]) -> None:
    executor = make()

    executor.shutdown()
    executor.shutdown()  # twice is fine

    with pytest.raises(ExecutorError, match="shut down") as raised:
        executor.submit(tasks.double, 1)
    assert isinstance(raised.value, LoopMLError)
    with pytest.raises(ExecutorError, match="shut down"):
        executor.start()


def test_a_context_manager_starts_and_shuts_down(tasks_importable_by_workers: None) -> None:
    with ProcessExecutor(max_workers=1) as executor:
        future = executor.submit(tasks.double, 8)
    assert future.result() == 16  # the exit waited for the work
    with pytest.raises(ExecutorError):
        executor.submit(tasks.double, 1)


def test_shutdown_without_waiting_cancels_what_is_left(
    tasks_importable_by_workers: None, tmp_path: Path
) -> None:
    executor = ProcessExecutor(max_workers=1)
    held = executor.submit(tasks.hold, tasks.Hold(str(tmp_path)))
    queued = executor.submit(tasks.double, 1)
    tasks.wait_until((tmp_path / "held.pid").exists)

    try:
        executor.shutdown(wait=False)
    finally:
        (tmp_path / "release").touch()

    assert held.cancelled() and queued.cancelled()


def test_importing_the_package_imports_no_engine() -> None:
    code = (
        "import sys, loopml.pipelines.executors as e; e.executor_from_uri('ray'); "
        "e.executor_from_uri('dask'); "
        "print(sorted({'ray', 'dask', 'distributed'} & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"
