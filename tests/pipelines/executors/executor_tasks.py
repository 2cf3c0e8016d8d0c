"""Functions the executor tests submit, and helpers to watch them from the test process.

Worker processes must import these by reference, and pytest's importlib mode
puts no test folder on ``sys.path``: ``conftest.py`` adds this folder to
``sys.path`` (copied by spawned processes: the process pool, Dask's workers)
and to ``PYTHONPATH`` (read by Ray's workers) before any executor starts.
The module has a name no other test module uses, as it is imported as a
top-level module.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

PATIENCE = 60.0
"""Seconds a task or a test waits for something before giving up (never reached when green)."""


class OrderRejectedError(Exception):
    """An exception type of our own: it must come back as itself, not as an engine's wrapper."""


@dataclasses.dataclass(frozen=True)
class Order:
    item: str
    quantity: int


@dataclasses.dataclass(frozen=True)
class Receipt:
    item: str
    total: int
    pid: int


@dataclasses.dataclass(frozen=True)
class Meeting:
    """Ask a task to wait, up to ``PATIENCE``, until every one of ``names`` has started."""

    folder: str
    name: str
    names: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Interval:
    name: str
    start: float
    end: float
    met_everyone: bool
    pid: int


@dataclasses.dataclass(frozen=True)
class Hold:
    """Ask a task to report its pid in ``folder`` and run until ``folder/release`` exists."""

    folder: str
    name: str = "held"
    stubborn: bool = False


def price(order: Order) -> Receipt:
    return Receipt(order.item, order.quantity * 3, os.getpid())


def double(value: int) -> int:
    return value * 2


def pid_of_worker(_: object) -> int:
    return os.getpid()


def fail(message: str) -> None:
    raise OrderRejectedError(message)


def fail_with_value_error(message: str) -> None:
    raise ValueError(message)


def kill_own_process(folder: str) -> None:
    """Note the attempt in ``folder/attempts``, then die as ``kill -9`` would make it."""
    with open(Path(folder) / "attempts", "a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)


def meet(meeting: Meeting) -> Interval:
    """Record when this task runs, waiting until all the others of its meeting have started.

    Tasks that run at the same time all meet; tasks run one after another do not
    (the first waits ``PATIENCE`` and gives up), and their intervals do not overlap.
    """
    start = time.time()
    folder = Path(meeting.folder)
    (folder / f"{meeting.name}.started").touch()
    met = wait_until(
        lambda: all((folder / f"{name}.started").exists() for name in meeting.names),
        raise_on_timeout=False,
    )
    return Interval(meeting.name, start, time.time(), bool(met), os.getpid())


def hold(job: Hold) -> int:
    """Report the pid, then run until released (or ``PATIENCE`` runs out).

    An interruption (Ray's gentle cancel raises ``KeyboardInterrupt``) is noted in
    ``<name>.interrupted``, then ignored if ``job.stubborn``.
    """
    folder = Path(job.folder)
    partial = folder / f"{job.name}.pid.partial"
    partial.write_text(str(os.getpid()))
    partial.rename(folder / f"{job.name}.pid")
    while True:
        try:
            wait_until((folder / "release").exists, raise_on_timeout=False)
            break
        except BaseException:
            (folder / f"{job.name}.interrupted").touch()
            if not job.stubborn:
                raise
    (folder / f"{job.name}.finished").touch()
    return os.getpid()


def wait_until(
    check: Callable[[], T], *, patience: float = PATIENCE, raise_on_timeout: bool = True
) -> T | None:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + patience
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            if raise_on_timeout:
                raise TimeoutError(f"gave up after {patience} s waiting for {check}")
            return None
        time.sleep(0.01)


def process_is_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its parent counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
