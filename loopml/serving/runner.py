"""Running the server: ``serve`` (uvicorn, one or several workers) and a thread runner for tests.

The listening socket is made here, with ``TCP_NODELAY`` set (accepted
connections inherit it), and handed to uvicorn: uvicorn leaves the option
off with several workers, and keep-alive answers then wait ~40 ms for
delayed ACKs.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from loopml.serving.errors import UnsafeBindError
from loopml.serving.spec import DeploymentSpec, ServingOptions

_ENV = "LOOPML_SERVING_LAUNCH"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, options: ServingOptions) -> None:
    """Refuse to listen beyond loopback without a token.

    Raises:
        UnsafeBindError: if ``host`` is not loopback and no token is configured.
    """
    if not is_loopback(host) and not options.token:
        raise UnsafeBindError(
            f"refusing to listen on {host} without authentication: set LOOPML_SERVING_TOKEN "
            "(or serving.token in loopml.yaml), or listen on 127.0.0.1"
        )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket with ``TCP_NODELAY`` (inherited by accepted connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    deployments: Sequence[str | DeploymentSpec] | str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    settings: Any = None,
    deployment_file: str | os.PathLike[str] | None = None,
    log_requests: bool | None = None,
    log_level: str = "info",
) -> None:
    """Run the model server until interrupted (SIGINT/SIGTERM drain in-flight requests).

    Args:
        deployments: model references or specs (may be empty with ``deployment_file``).
        host: where to listen (loopback unless a token is configured).
        port: the TCP port.
        workers: uvicorn worker processes.
        settings: the project's :class:`~loopml.core.Settings` (default: loaded from the
            current folder).
        deployment_file: a deployment file, watched for changes.
        log_requests: override ``serving.log_requests``.
        log_level: uvicorn's log level.

    Raises:
        UnsafeBindError: if ``host`` is not loopback and no token is configured.
    """
    import uvicorn

    from loopml.core import Settings

    settings = settings or Settings.load()
    options = ServingOptions.from_settings(settings, log_requests=log_requests)
    check_bind(host, options)
    refs = [deployments] if isinstance(deployments, str) else list(deployments)
    launch = {
        "refs": [s if isinstance(s, str) else dataclass_dict(s) for s in refs],
        "file": str(deployment_file) if deployment_file else None,
        "settings": {
            "project_dir": str(settings.project_dir),
            "metadata_uri": settings.metadata_uri,
            "artifact_uri": settings.artifact_uri,
        },
        "log_requests": log_requests,
    }
    os.environ[_ENV] = json.dumps(launch)
    sock = bind_socket(host, port)
    common: dict[str, Any] = {
        "log_level": log_level,
        "timeout_graceful_shutdown": int(options.timeout) + 5,
        "access_log": False,
    }
    if workers > 1:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="loopml-prom-")
        config = uvicorn.Config(
            "loopml.serving.runner:app_from_environment", factory=True, workers=workers, **common
        )
        uvicorn.supervisors.Multiprocess(config, sockets=[sock]).run()
        return
    config = uvicorn.Config(app_from_environment(), **common)
    uvicorn.Server(config).run(sockets=[sock])


def dataclass_dict(spec: DeploymentSpec) -> dict[str, Any]:
    """A spec as the plain mapping :meth:`DeploymentSpec.from_dict` reads."""
    import dataclasses

    data = {k: v for k, v in dataclasses.asdict(spec).items() if v is not None}
    if "features" in data:
        data["features"]["entity_keys"] = list(data["features"]["entity_keys"])
    return data


def app_from_environment() -> Any:
    """The app :func:`serve` describes in the environment (each worker builds its own)."""
    from loopml.core import Settings
    from loopml.serving.app import create_app

    launch = json.loads(os.environ[_ENV])
    where = launch["settings"]
    settings = Settings.load(
        where["project_dir"], metadata_uri=where["metadata_uri"], artifact_uri=where["artifact_uri"]
    )
    options = ServingOptions.from_settings(settings, log_requests=launch["log_requests"])
    specs: list[Any] = [
        r if isinstance(r, str) else DeploymentSpec.from_dict(r) for r in launch["refs"]
    ]
    if launch["file"]:
        from loopml.serving.spec import load_deployments

        specs.extend(load_deployments(launch["file"]))
    return create_app(specs, settings=settings, options=options, deployment_file=launch["file"])


def run_server_in_thread(
    app_or_spec: Any, port: int = 0, *, host: str = "127.0.0.1", timeout: float = 60.0
) -> tuple[str, Callable[[], None]]:
    """Start a real uvicorn server in a thread (tests, benchmarks).

    Args:
        app_or_spec: an app from :func:`create_app`, or what :func:`create_app` takes.
        port: the port (0: a free one).
        host: where to listen.
        timeout: longest wait for startup (models loaded).

    Returns:
        ``(url, stop)``: the base URL, and a function that shuts the server down
        gracefully (in-flight requests finish, the request log is flushed).
    """
    import uvicorn
    from fastapi import FastAPI

    app = app_or_spec if isinstance(app_or_spec, FastAPI) else _app(app_or_spec)
    sock = bind_socket(host, port)
    actual = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="loopml-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        thread.join(10)
        sock.close()
        raise RuntimeError("the model server did not start")

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout)
        sock.close()

    return f"http://{host}:{actual}", stop


def _app(spec: Any) -> Any:
    from loopml.serving.app import create_app

    return create_app(spec)
