"""The contract every Executor keeps, run over each of them (local, process, Ray, Dask)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from pathlib import Path
from typing import TypeVar

import executor_tasks as tasks
import pytest

from loopml.core.errors import BackendError, InvalidInputError
from loopml.pipelines.executors import (
    STANDARD_RESOURCES,
    Executor,
    ExecutorError,
    WorkerLostError,
)

# A hung cluster fails the test instead of the whole session.
pytestmark = pytest.mark.timeout(120)

SCHEDULES_BY_RESOURCES = {"ray", "dask"}

R = TypeVar("R")


def outcome(future: Future[R]) -> R:
    return future.result(timeout=tasks.PATIENCE)


def test_a_result_comes_back(executor: Executor) -> None:
    receipt = outcome(executor.submit(tasks.price, tasks.Order("apple", 4)))

    assert receipt == tasks.Receipt("apple", 12, receipt.pid)
    if executor.isolated:
        assert receipt.pid != os.getpid()
    else:
        assert receipt.pid == os.getpid()


def test_futures_are_standard_and_wait_together(executor: Executor) -> None:
    futures = [executor.submit(tasks.double, n) for n in range(5)]

    assert all(isinstance(future, Future) for future in futures)
    done, _ = wait(futures, timeout=tasks.PATIENCE, return_when=FIRST_COMPLETED)
    assert done
    assert [outcome(future) for future in futures] == [0, 2, 4, 6, 8]


@pytest.mark.parametrize(
    ("function", "kind"),
    [(tasks.fail, tasks.OrderRejectedError), (tasks.fail_with_value_error, ValueError)],
)
def test_the_functions_exception_comes_back_as_itself(
    executor: Executor, function: Callable[[str], None], kind: type[Exception]
) -> None:
    future = executor.submit(function, "the order is too big")

    with pytest.raises(kind) as raised:
        outcome(future)
    assert type(raised.value) is kind
    assert str(raised.value) == "the order is too big"
    # Where it was raised stays visible (a chained remote traceback, a note, or a traceback).
    assert "executor_tasks.py" in "".join(traceback.format_exception(raised.value))
    assert outcome(executor.submit(tasks.double, 5)) == 10


def test_a_parallel_executor_runs_tasks_at_the_same_time(
    executor: Executor, tmp_path: Path
) -> None:
    if not executor.parallel:
        pytest.skip(f"the {executor.name} executor runs one task at a time")
    # A worker restarted by an earlier test may still be joining the cluster.
    tasks.wait_until(lambda: executor.max_workers >= 2)
    names = ("first", "second")
    futures = [
        executor.submit(tasks.meet, tasks.Meeting(str(tmp_path), name, names)) for name in names
    ]

    first, second = (outcome(future) for future in futures)

    assert first.start < second.end and second.start < first.end
    assert first.met_everyone and second.met_everyone
    assert first.pid != second.pid


def test_the_local_executor_runs_in_the_calling_thread(local_executor: Executor) -> None:
    future = local_executor.submit(tasks.pid_of_worker, None)

    assert future.done()
    assert future.result() == os.getpid()
    assert local_executor.max_workers == 1


def test_a_worker_that_dies_is_reported_not_retried_and_the_executor_goes_on(
    executor: Executor, tmp_path: Path
) -> None:
    if not executor.isolated:
        pytest.skip("the task would kill the test process itself")

    with pytest.raises(WorkerLostError) as raised:
        outcome(executor.submit(tasks.kill_own_process, str(tmp_path)))

    assert isinstance(raised.value, BackendError)
    assert raised.value.error_code == "worker_lost"
    assert len((tmp_path / "attempts").read_text().split()) == 1  # the caller owns retries
    assert outcome(executor.submit(tasks.double, 21)) == 42


@pytest.mark.parametrize(
    "resources",
    [None, {}, {"cpus": 1}, {"cpus": 1, "memory": 100 * 2**20}, {"gpus": 0, "cpus": 0.5}],
)
def test_resources_are_accepted(executor: Executor, resources: dict[str, float] | None) -> None:
    assert outcome(executor.submit(tasks.double, 4, resources=resources)) == 8
    assert set(STANDARD_RESOURCES) == {"cpus", "gpus", "memory"}


@pytest.mark.parametrize(
    "resources", [{"cpus": -1}, {"cpus": "two"}, {"memory": float("nan")}, {"": 1}]
)
def test_malformed_resources_are_refused(executor: Executor, resources: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError, match="resource"):
        executor.submit(tasks.double, 4, resources=resources)


def test_resources_no_worker_offers(executor: Executor) -> None:
    wanted = {"unicorns": 1.0}
    if executor.name in SCHEDULES_BY_RESOURCES:
        with pytest.raises(ExecutorError, match="unicorns"):
            executor.submit(tasks.double, 4, resources=wanted)
    else:  # executors that do not schedule by resources ignore them
        assert outcome(executor.submit(tasks.double, 4, resources=wanted)) == 8


@pytest.mark.parametrize("stubborn", [False, True], ids=["obliging", "deaf-to-interrupts"])
def test_cancel_stops_a_running_task(executor: Executor, tmp_path: Path, stubborn: bool) -> None:
    if not executor.isolated:
        pytest.skip("local work is done before submit returns: there is nothing to cancel")
    future = executor.submit(tasks.hold, tasks.Hold(str(tmp_path), stubborn=stubborn))
    try:
        pid = int(tasks.wait_until(lambda: _read(tmp_path / "held.pid")) or 0)

        executor.cancel(future)

        assert future.cancelled()
        with pytest.raises(CancelledError):
            future.result(timeout=0)
        if executor.stops_running:  # interrupted and ending, or killed with its process
            interrupted = tmp_path / "held.interrupted"
            assert tasks.wait_until(
                lambda: tasks.process_is_gone(pid) or (interrupted.exists() and not stubborn)
            )
    finally:
        (tmp_path / "release").touch()  # lets a task that cannot be stopped end
    if executor.stops_running:
        assert not (tmp_path / "held.finished").exists()
    assert outcome(executor.submit(tasks.double, 3)) == 6


def test_cancel_of_a_task_not_started_yet(executor: Executor, tmp_path: Path) -> None:
    if not executor.parallel:
        pytest.skip("local work is done before submit returns: there is nothing to cancel")
    tasks.wait_until(lambda: executor.max_workers >= 2)
    busy = [executor.submit(tasks.hold, tasks.Hold(str(tmp_path), f"busy{n}")) for n in (0, 1)]
    tasks.wait_until(lambda: all((tmp_path / f"busy{n}.pid").exists() for n in (0, 1)))
    waiting = executor.submit(tasks.hold, tasks.Hold(str(tmp_path), "waiting"))

    executor.cancel(waiting)
    (tmp_path / "release").touch()

    assert waiting.cancelled()
    assert all(isinstance(outcome(future), int) for future in busy)
    assert outcome(executor.submit(tasks.double, 1)) == 2
    assert not (tmp_path / "waiting.pid").exists()


def test_cancelling_one_task_leaves_the_others_alone(executor: Executor, tmp_path: Path) -> None:
    if not executor.parallel:
        pytest.skip("local work is done before submit returns: there is nothing to cancel")
    tasks.wait_until(lambda: executor.max_workers >= 2)
    doomed = executor.submit(tasks.hold, tasks.Hold(str(tmp_path), "doomed"))
    busy = executor.submit(tasks.hold, tasks.Hold(str(tmp_path), "busy"))
    tasks.wait_until(
        lambda: (tmp_path / "doomed.pid").exists() and (tmp_path / "busy.pid").exists()
    )
    # More work than workers: some of it may wait on the worker whose task is cancelled.
    waiting = [executor.submit(tasks.double, n) for n in range(4)]

    executor.cancel(doomed)
    (tmp_path / "release").touch()

    assert isinstance(outcome(busy), int)
    assert [outcome(future) for future in waiting] == [0, 2, 4, 6]


def test_cancel_of_a_finished_task_changes_nothing(executor: Executor) -> None:
    future = executor.submit(tasks.double, 7)
    assert outcome(future) == 14

    executor.cancel(future)

    assert not future.cancelled()
    assert future.result() == 14


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
