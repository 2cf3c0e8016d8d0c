"""The servers of the serving benchmark: start, wait until ready, talk to, stop.

Every server is a process of its own, started in a new session and stopped by
its process group (only the processes started here): loopml (``loopml serve``
with a deployment file), the plain FastAPI app (loopml's virtualenv) and
``mlflow models serve`` (MLflow's virtualenv, its ``bin`` on ``PATH``, since it
execs ``uvicorn`` through bash). One worker each. Each system gets the request
body it speaks; :func:`probabilities` reads the answer back so that every
system is checked against the in-process model before it is timed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from _serving_load import request_bytes

HERE = Path(__file__).resolve().parent
JSON = {"Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process: its URL, and how to stop it."""

    def __init__(self, name: str, command: list[str], port: int, ready: str, **popen: Any) -> None:
        self.name, self.port, self.ready = name, port, ready
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(os.devnull, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, start_new_session=True, stdout=self.log, stderr=subprocess.PIPE, **popen
        )

    def wait(self, timeout: float = 180.0) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"{self.name} exited: {error[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + self.ready, timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.log.close()


def start_loopml(project: Path, deployments: Path, *, log_requests: bool) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "loopml",
        "-C",
        str(project),
        "serve",
        "--deployment",
        str(deployments),
        "--port",
        str(port),
        "--log-requests" if log_requests else "--no-log-requests",
    ]
    return Server("loopml", command, port, "/readyz").wait()


def start_floor() -> Server:
    """The floor: a bare asyncio server with a fixed answer (client + loopback cost)."""
    port = free_port()
    command = [sys.executable, str(HERE / "_serving_load.py"), "--floor", str(port)]
    return Server("floor", command, port, "/").wait()


def start_fastapi(models: dict[str, Path]) -> Server:
    port = free_port()
    command = [sys.executable, str(HERE / "_serving_fastapi.py"), str(port)]
    command += [f"{key}={path}" for key, path in models.items()]
    return Server("fastapi", command, port, "/ping").wait()


def start_mlflow(python: Path, model: str, env: dict[str, str]) -> Server:
    port = free_port()
    bin_dir = python.parent
    full = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    full.pop("VIRTUAL_ENV", None)
    full.pop("PYTHONPATH", None)
    command = [
        str(bin_dir / "mlflow"),
        "models",
        "serve",
        "-m",
        model,
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
        "--env-manager",
        "local",
    ]
    return Server("mlflow", command, port, "/ping", env=full).wait()


def request_for(system: str, server: Server, model: str, frame: Any) -> bytes:
    """The raw HTTP request each system gets for ``frame`` (same rows, its own protocol)."""
    columns = {name: frame[name].tolist() for name in frame.columns}
    if system in ("loopml", "floor"):
        body = json.dumps({"columns": columns}).encode()
        return request_bytes(server.url, f"/v1/models/{model}/predict?probabilities=1", body, JSON)
    if system == "fastapi":
        return request_bytes(
            server.url, f"/predict/{model}", json.dumps({"columns": columns}).encode(), JSON
        )
    split = {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}
    return request_bytes(
        server.url, "/invocations", json.dumps({"dataframe_split": split}).encode(), JSON
    )


def probabilities(system: str, body: bytes) -> list[list[float]]:
    """The class probabilities in a system's answer."""
    data = json.loads(body)
    if system == "loopml":
        return data["probabilities"]  # type: ignore[no-any-return]
    if system == "fastapi":
        return data["probabilities"]  # type: ignore[no-any-return]
    return data["predictions"]  # type: ignore[no-any-return]


def version_of(headers: dict[str, str], body: bytes) -> str | None:
    """The model version a loopml answer names (its header)."""
    return headers.get("loopml-model-version")
