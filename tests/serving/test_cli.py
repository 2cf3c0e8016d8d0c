"""``loopml serve``: options, refusals, and a real server started by the command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from serving_flows import ROW, register_iris
from typer.testing import CliRunner

from loopml.cli.main import app
from loopml.registry import ModelRegistry


def test_help_names_the_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--deployment", "--host", "--port", "--workers", "--log-requests"):
        assert option in result.output


def test_beyond_loopback_without_a_token_is_refused() -> None:
    result = CliRunner().invoke(app, ["serve", "m@live", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "LOOPML_SERVING_TOKEN" in result.output


def test_a_model_or_a_file_is_needed() -> None:
    assert CliRunner().invoke(app, ["serve"]).exit_code == 2


def test_an_unknown_model_is_refused_before_listening(registry: ModelRegistry) -> None:
    register_iris(registry)
    settings = registry.workspace.settings
    where = ["-C", str(settings.project_dir), "--metadata-uri", settings.metadata_uri]
    result = CliRunner().invoke(app, [*where, "serve", "iris@nowhere"])
    assert result.exit_code == 2 and "no alias 'nowhere'" in result.output


def test_serving_imports_nothing_heavy_until_used() -> None:
    code = (
        "import sys, loopml, loopml.serving, loopml.cli.main;"
        "heavy = {'fastapi', 'pandas', 'uvicorn', 'prometheus_client'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_the_command_serves_and_stops_gracefully(
    registry: ModelRegistry, tmp_path: Path, workers: int
) -> None:
    register_iris(registry)
    settings = registry.workspace.settings
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "loopml", "--project-dir", str(settings.project_dir),
        "--metadata-uri", settings.metadata_uri, "--artifact-uri", settings.artifact_uri,
        "serve", "iris@live", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    output = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 40
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        with httpx.Client(base_url=url) as client:
            for _ in range(5):
                r = client.post("/v1/models/iris/predict", json=[ROW])
                assert r.status_code == 200 and r.headers["loopml-model-version"] == "1"
            assert "loopml_requests_total" in client.get("/metrics").text
    finally:
        process.terminate()
        # uvicorn drains, shuts down, then re-raises the signal it caught
        assert process.wait(30) in (0, -15)
        output.close()
    from loopml.serving import read_log

    assert read_log(registry.workspace).num_rows == 5
