"""Hot reload: a moved alias is swapped in under load; a broken version never takes traffic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from serving_flows import ROW, Switchable, register_iris, register_switchable

from loopml.registry import ModelRegistry

X = [{"x": 1.5}]


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


@pytest.mark.slow
def test_moving_the_alias_under_load_fails_no_request(
    registry: ModelRegistry, make_app: Any, live_server: Callable[[Any], str]
) -> None:
    register_iris(registry)
    url = live_server(make_app(["iris@live"]))
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                r = http.post("/v1/models/iris/predict", json=[ROW])
                statuses.append(r.status_code)
                versions.append(r.headers.get("loopml-model-version", "?"))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    _wait(lambda: len(statuses) > 50)
    register_iris(registry, c=0.5)  # version 2 takes the alias
    _wait(lambda: "2" in versions)
    seen = len(versions)
    _wait(lambda: len(versions) > seen + 50)
    stop.set()
    for thread in threads:
        thread.join()
    assert set(statuses) == {200}
    assert versions[0] == "1" and versions[-1] == "2"
    assert set(versions) == {"1", "2"}


def test_a_version_that_cannot_load_never_takes_traffic(
    registry: ModelRegistry, make_app: Any
) -> None:
    register_switchable(registry)
    with TestClient(make_app(["switch@live"])) as client:
        deployment = client.app.state.loopml.deployments["switch"]  # type: ignore[attr-defined]
        register_switchable(registry, trust=False, factor=3.0)  # pickle nobody trusted
        assert deployment.refresh() is False
        track = deployment.tracks()["switch@live"]
        assert ("switch", 2) in track.failed and "switch:2" in track.last_error
        r = client.post("/v1/models/switch/predict", json=X)
        assert r.headers["loopml-model-version"] == "1" and r.json()["predictions"] == [3.0]
        status = client.get("/v1/models").json()["deployments"]["switch"]["tracks"]
        assert status["switch@live"] == {"version": 1, "error": track.last_error}


def test_a_version_that_fails_its_example_never_takes_traffic(
    registry: ModelRegistry, make_app: Any
) -> None:
    register_switchable(registry)
    with TestClient(make_app(["switch@live"])) as client:
        deployment = client.app.state.loopml.deployments["switch"]  # type: ignore[attr-defined]
        register_switchable(registry, tag="bad", factor=3.0, alias="hold")
        Switchable.broken = {"bad"}  # saved fine, fails from now on
        registry.set_alias("switch", "live", 2)
        deployment.refresh()
        assert ("switch", 2) in deployment.tracks()["switch@live"].failed
        assert client.post("/v1/models/switch/predict", json=X).json()["version"] == 1
        register_switchable(registry, tag="good", factor=4.0)  # a good one after it is taken
        _wait(lambda: deployment.primary.version == 3)
        r = client.post("/v1/models/switch/predict", json=X).json()
        assert r["version"] == 3 and r["predictions"] == [6.0]


def test_the_deployment_file_is_reapplied_on_change_and_on_request(
    registry: ModelRegistry, make_app: Any, tmp_path: Path
) -> None:
    register_iris(registry)
    register_iris(registry, c=0.5, alias="next")
    file = tmp_path / "deploy.yaml"
    file.write_text("deployments:\n  - {name: flowers, model: iris@live}\n")
    with TestClient(make_app(file)) as client:
        server = client.app.state.loopml  # type: ignore[attr-defined]
        assert client.post("/v1/models/flowers/predict", json=[ROW]).json()["version"] == 1
        file.write_text("- {name: flowers, model: iris@next}\n- {name: other, model: iris:1}\n")
        _wait(lambda: set(server.deployments) == {"flowers", "other"} and server.ready)
        assert client.post("/v1/models/flowers/predict", json=[ROW]).json()["version"] == 2
        assert client.post("/v1/models/other/predict", json=[ROW]).json()["version"] == 1
        file.write_text("- {name: flowers, model: iris@live}\n")
        assert client.post("/admin/reload").json() == {"deployments": ["flowers"]}
        _wait(lambda: server.deployments["flowers"].primary.version == 1)
        file.write_text("- {name: flowers, modle: oops}\n")
        r = client.post("/admin/reload")
        assert r.status_code == 400 and "modle" in r.json()["message"]
        assert client.post("/v1/models/flowers/predict", json=[ROW]).status_code == 200
