"""The Ray executor: tasks on a local Ray cluster it starts, or on an existing cluster.

``ray`` is imported on first use, never when this module is imported.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from loopml.core.errors import ConfigError
from loopml.pipelines.executors.base import (
    Executor,
    ShutdownGuard,
    check_resources,
    require_engine,
)
from loopml.pipelines.executors.errors import EngineError, ExecutorError, WorkerLostError
from loopml.pipelines.executors.futures import Outstanding, chained, settle

if TYPE_CHECKING:
    from ray import ObjectRef

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

CANCEL_GRACE_SECONDS = 2.0
"""How long :meth:`RayExecutor.cancel` lets an interrupted task stop before killing its worker."""

OBJECT_STORE_MEMORY = 512 * 2**20
"""Object store of a local cluster: step outputs go to the artifact store, not through Ray."""

_RAY_NAMES = {"cpus": "CPU", "gpus": "GPU", "memory": "memory"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _call(fn: Callable[[T], R], arg: T) -> R:
    """The one remote function: ``ray.remote`` accepts plain functions only, so wrap ``fn``."""
    return fn(arg)


class RayExecutor(Executor):
    """Run submissions as Ray tasks.

    With no ``address`` the executor starts a Ray instance on this machine on
    first use (:meth:`start`) and stops it at :meth:`shutdown`: loopback node
    address, no dashboard, no usage statistics, a 512 MiB object store and a
    temporary folder of its own, removed at shutdown. Ray's token
    authentication stays on: Ray's ports listen on every interface, the token
    is what protects them. With an address (``"auto"`` for a cluster started
    with ``ray start`` on this machine, ``"ray://host:10001"`` for a remote one
    through Ray Client) it connects and leaves the cluster running at shutdown;
    loopml and the code of the submitted functions must be importable on its
    workers. If Ray is already initialized in this process, that instance is
    used and left running.

    Tasks are never retried by Ray (``max_retries=0``): a worker death comes
    back as :class:`~loopml.pipelines.executors.errors.WorkerLostError` and the
    caller decides. :meth:`cancel` interrupts a running task (``KeyboardInterrupt``
    in it) and, if it is still running :data:`CANCEL_GRACE_SECONDS` later (blocked
    in C code, or catching the interrupt), kills its worker process. Resources
    map to Ray's task options: ``cpus`` to ``num_cpus``, ``gpus`` to
    ``num_gpus``, ``memory`` (bytes) to ``memory``, other names to custom
    ``resources``.

    Args:
        address: the cluster to connect to; ``None`` starts a local one.
        num_cpus: CPUs of a local cluster; the machine's CPU count if omitted.
        **init_options: more keyword arguments for ``ray.init``, overriding the defaults.

    Raises:
        ConfigError: if the ``ray`` package is missing, or ``num_cpus`` is given with
            an address.
    """

    name: ClassVar[str] = "ray"
    parallel: ClassVar[bool] = True
    isolated: ClassVar[bool] = True
    stops_running: ClassVar[bool] = True

    def __init__(
        self, address: str | None = None, num_cpus: int | None = None, **init_options: Any
    ) -> None:
        require_engine("ray", "ray")
        if address is not None and num_cpus is not None:
            raise ConfigError("num_cpus applies to a local Ray cluster, not to one at an address")
        if num_cpus is not None and num_cpus < 1:
            raise ConfigError(f"a Ray cluster needs at least 1 CPU, not {num_cpus}")
        self._address = address
        self._num_cpus = num_cpus
        self._init_options = init_options
        self._guard = ShutdownGuard(self.name)
        self._remote: Any = None
        self._owns_ray = False
        self._temp_dir: str | None = None
        self._capacity: dict[str, float] | None = None
        self._outstanding: Outstanding[ObjectRef[Any]] = Outstanding()
        self._killers: set[threading.Timer] = set()  # pending force-cancels

    @property
    def max_workers(self) -> int:
        self.start()
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def start(self) -> Self:
        with self._guard.lock:
            self._guard.check_open()
            if self._remote is not None:
                return self
            import ray

            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if ray.is_initialized():
                logger.info("Ray is already initialized in this process: using that instance")
            else:
                self._init_ray()
            self._remote = ray.remote(max_retries=0)(_call)
        return self

    def _init_ray(self) -> None:
        import ray

        options: dict[str, Any] = {"log_to_driver": False}
        if self._address is None:
            options.update(
                num_cpus=self._num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                object_store_memory=OBJECT_STORE_MEMORY,
                _node_ip_address="127.0.0.1",
            )
            if "_temp_dir" not in self._init_options:
                self._temp_dir = tempfile.mkdtemp(prefix="loopml-ray-", dir=_short_temp_root())
                options["_temp_dir"] = self._temp_dir
        else:
            options["address"] = self._address
        options.update(self._init_options)
        where = self._address or "a local Ray cluster"
        try:
            ray.init(**options)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
            self._remove_temp_dir()
            raise EngineError(f"could not start or connect to {where}: {exc}") from exc
        self._owns_ray = True
        if self._address is None:
            self._capacity = {k: float(v) for k, v in ray.cluster_resources().items()}
        logger.info("connected to %s", where)

    def submit(
        self,
        fn: Callable[[T], R],
        arg: T,
        *,
        resources: Mapping[str, float] | None = None,
    ) -> Future[R]:
        wanted = check_resources(resources)
        self.start()  # the capacity of a cluster we start is known from here on
        options = self._task_options(wanted)
        try:
            ref = self._remote.options(**options).remote(fn, arg)
        except Exception as exc:  # Ray is gone, or fn/arg cannot be serialized
            raise EngineError(f"Ray did not accept the task: {exc}") from exc
        future: Future[R] = Future()
        self._outstanding.add(future, ref)
        ref.future().add_done_callback(lambda done: self._report(future, done))
        return future

    def _task_options(self, wanted: dict[str, float]) -> dict[str, Any]:
        ray_amounts = {_RAY_NAMES.get(name, name): amount for name, amount in wanted.items()}
        if self._capacity is not None:  # a cluster we started: it will never grow
            for name, amount in ray_amounts.items():
                if amount > self._capacity.get(name, 0.0):
                    raise ExecutorError(
                        f"the local Ray cluster has {self._capacity.get(name, 0.0):g} "
                        f"{name!r} in all, and a task asks for {amount:g}"
                    )
        options: dict[str, Any] = {}
        custom: dict[str, float] = {}
        for name, amount in ray_amounts.items():
            if name == "CPU":
                options["num_cpus"] = amount
            elif name == "GPU":
                options["num_gpus"] = amount
            elif name == "memory":
                options["memory"] = int(amount)
            else:
                custom[name] = amount
        if custom:
            options["resources"] = custom
        return options

    def _report(self, future: Future[Any], done: Future[Any]) -> None:
        self._outstanding.pop(future)
        error = done.exception()
        if error is None:
            settle(future, result=done.result())
            return
        translated = _translate(error)
        if translated is None:
            future.cancel()
        else:
            settle(future, error=translated)

    def cancel(self, future: Future[Any]) -> None:
        ref = self._outstanding.pop(future)
        if not future.cancel() or ref is None:
            return
        import ray

        # Interrupt first: Ray checks the task is still the one running. A forced
        # cancel kills the worker process, and if the task has just ended that worker
        # may already run another task, which would die with it.
        try:
            ray.cancel(ref, force=False)
        except Exception as exc:  # the task may have finished or its cluster gone
            logger.debug("ray.cancel failed: %s", exc)
        killer = threading.Timer(CANCEL_GRACE_SECONDS, self._kill_if_running, args=(ref,))
        killer.daemon = True
        with self._guard.lock:
            self._killers.add(killer)
        killer.start()

    def _kill_if_running(self, ref: ObjectRef[Any]) -> None:
        """Force-cancel a task that outlived its interruption (blocked in C code, or deaf to it)."""
        import ray

        with self._guard.lock:
            self._killers.discard(threading.current_thread())
            if not ray.is_initialized():  # any other Ray call would start a new instance
                return
            try:
                finished, _ = ray.wait([ref], timeout=0, fetch_local=False)
                if not finished:
                    logger.info("a cancelled Ray task ignored its interruption: killing it")
                    ray.cancel(ref, force=True)
            except Exception as exc:  # the cluster may be going away
                logger.debug("could not force-cancel a Ray task: %s", exc)

    def shutdown(self, wait: bool = True) -> None:
        with self._guard.lock:
            if not self._guard.close():
                return
        if wait:
            wait_for(self._outstanding.futures())
        else:
            for future in self._outstanding.futures():
                self.cancel(future)
        with self._guard.lock:
            killers, self._killers = self._killers, set()
        for killer in killers:  # kill now what would have been killed after the grace
            killer.cancel()
            killer.function(*killer.args)
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False
        self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __repr__(self) -> str:
        return f"RayExecutor(address={self._address!r})"


def _translate(error: BaseException) -> BaseException | None:
    """Turn what Ray raised into what the caller sees; ``None`` means the task was cancelled."""
    from ray import exceptions as ray_errors

    if isinstance(error, ray_errors.RayTaskError):
        cause: BaseException = error.cause
        if isinstance(cause, ray_errors.RayError):
            return _translate(cause)
        # str() of Ray's wrapper is the remote traceback; keep it for whoever debugs.
        cause.add_note(f"Raised in a Ray worker: {_ANSI.sub('', str(error))}")
        return cause
    if isinstance(error, ray_errors.TaskCancelledError):
        return None
    lost = (
        ray_errors.WorkerCrashedError,
        ray_errors.NodeDiedError,
        ray_errors.LocalRayletDiedError,
        ray_errors.OutOfMemoryError,
        ray_errors.ObjectLostError,
    )
    if isinstance(error, lost):
        message = f"the Ray worker running the task died; the task did not finish: {error}"
        return chained(WorkerLostError(message), error)
    if isinstance(error, ray_errors.RayError):
        return chained(EngineError(f"Ray could not run the task: {error}"), error)
    return error


def _short_temp_root() -> str:
    """A temporary folder with a short path: Ray's socket paths must stay under 108 bytes."""
    root = tempfile.gettempdir()
    return root if len(root) <= 40 or not os.path.isdir("/tmp") else "/tmp"
