"""Operations: probes, metrics, limits (413, 429, 504), auth, TCP_NODELAY, graceful shutdown."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from serving_flows import ROW, Switchable, register_switchable

from loopml.registry import ModelRegistry
from loopml.serving import ServingOptions, UnsafeBindError
from loopml.serving.runner import bind_socket, check_bind, is_loopback

X = [{"x": 1.5}]


def test_not_ready_until_a_model_is_loaded(make_app: Any) -> None:
    with TestClient(make_app(["ghost@live"], startup_wait=0)) as client:
        assert client.get("/livez").status_code == 200
        for _ in range(200):  # the watcher records why it cannot load
            ready = client.get("/readyz")
            if ready.json()["deployments"]["ghost"]["tracks"]["ghost@live"]["error"]:
                break
            time.sleep(0.01)
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert "ghost" in ready.json()["deployments"]["ghost"]["tracks"]["ghost@live"]["error"]
        assert client.get("/v2/health/ready").json() == {"ready": False}
        assert client.get("/ping").status_code == 503
        r = client.post("/v1/models/ghost/predict", json=[{"x": 1}])
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error_code"] == "model_not_ready"


def test_metrics_count_by_model_version_and_status(iris: int, make_app: Any) -> None:
    with TestClient(make_app(["iris@live"]), raise_server_exceptions=False) as client:
        client.post("/v1/models/iris/predict", json=[ROW])
        client.post("/v1/models/iris/predict", json=[{**ROW, "x": 1}])
        r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=1.0.0")
    text = r.text
    assert 'loopml_requests_total{model="iris",status="200",version="1"} 1.0' in text
    assert 'loopml_request_errors_total{model="iris",status="422",version="1"} 1.0' in text
    assert "loopml_request_latency_seconds_bucket" in text
    assert 'loopml_batch_rows_count{model="iris",version="1"}' in text
    assert "loopml_requests_in_flight 0.0" in text


def test_a_body_over_the_limit_is_413(iris: int, make_app: Any) -> None:
    app = make_app(["iris@live"], max_request_bytes=300, max_rows=2)
    with TestClient(app) as client:
        r = client.post("/v1/models/iris/predict", json={"records": [ROW] * 10})
        assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"

        def chunks() -> Any:  # no Content-Length: counted while read
            yield b'{"records": ['
            for _ in range(10):
                yield b'{"sepal_length": 1.0, "sepal_width": 1.0}, '
            yield b"{}]}"

        assert client.post("/v1/models/iris/predict", content=chunks()).status_code == 413
        r = client.post("/v1/models/iris/predict", json={"records": [ROW] * 3})
        assert r.status_code == 413 and "3 rows" in r.json()["message"]


def test_a_slow_prediction_is_504(registry: ModelRegistry, make_app: Any) -> None:
    register_switchable(registry)
    with TestClient(make_app(["switch@live"], timeout=0.2)) as client:
        Switchable.delay = 1.0
        r = client.post("/v1/models/switch/predict", json=X)
        assert r.status_code == 504 and r.json()["error_code"] == "timeout"
        Switchable.delay = 0.0
        time.sleep(1.0)  # the slow call still holds the version's worker
        assert client.post("/v1/models/switch/predict", json=X).json()["predictions"] == [3.0]


@pytest.mark.slow
def test_requests_over_the_concurrency_limit_get_429(
    registry: ModelRegistry, make_app: Any, live_server: Callable[[Any], str]
) -> None:
    register_switchable(registry)
    url = live_server(make_app(["switch@live"], max_concurrency=1))
    Switchable.delay = 0.6
    results: list[int] = []
    slow = threading.Thread(
        target=lambda: results.append(
            httpx.post(f"{url}/v1/models/switch/predict", json=X, timeout=10).status_code
        )
    )
    slow.start()
    time.sleep(0.2)
    r = httpx.post(f"{url}/v1/models/switch/predict", json=X, timeout=10)
    assert httpx.get(f"{url}/livez").status_code == 200  # probes are never refused
    slow.join()
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert results == [200]


def test_a_token_is_checked_on_every_request(iris: int, make_app: Any) -> None:
    with TestClient(make_app(["iris@live"], token="s3cret")) as client:
        assert client.get("/livez").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/v1/models/iris/predict", json=[ROW], headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.post("/v1/models/iris/predict", json=[ROW], headers=right).status_code == 200


def test_beyond_loopback_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    with pytest.raises(UnsafeBindError, match="LOOPML_SERVING_TOKEN"):
        check_bind("0.0.0.0", ServingOptions())
    check_bind("0.0.0.0", ServingOptions(token="t"))
    monkeypatch.setenv("LOOPML_SERVING_TOKEN", "from-env")
    assert ServingOptions.from_settings(None).token == "from-env"


def test_the_listening_socket_has_tcp_nodelay() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()


@pytest.mark.slow
def test_shutdown_drains_requests_in_flight(registry: ModelRegistry, make_app: Any) -> None:
    from loopml.serving import run_server_in_thread

    register_switchable(registry)
    url, stop = run_server_in_thread(make_app(["switch@live"]))
    Switchable.delay = 0.5
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: results.append(
            httpx.post(f"{url}/v1/models/switch/predict", json=X, timeout=10).json()
        )
    )
    thread.start()
    time.sleep(0.2)
    stop()
    thread.join()
    assert results[0]["predictions"] == [3.0]
