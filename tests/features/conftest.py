"""Fixtures of the feature store tests: Redis, every online store, and a small repository.

``redis_url`` points at the Redis of ``scripts/services.sh`` with a key prefix
of its own, removed afterwards; it skips when Redis is down, except under CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from loopml.features import (
    Definitions,
    Entity,
    Feature,
    FeatureService,
    FeatureView,
    FileSource,
    OnDemandFeatureView,
)

REDIS_URI = os.environ.get("LOOPML_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URI, socket_timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL whose ``prefix`` is unique to the test; its keys are deleted afterwards."""
    if not _redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URI}; run scripts/services.sh")
        pytest.skip("Redis is not reachable; `make services` starts it")
    import redis

    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield f"{REDIS_URI}?prefix={prefix}"
    client = redis.Redis.from_url(REDIS_URI)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis), "memory"])
def online_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each online store in turn: the contract suite runs over all of them."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'online.db'}"
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return "memory://"


UTC_DAY = pd.Timestamp("2024-01-01", tz="UTC")


def hours(*values: float) -> list[pd.Timestamp]:
    return [UTC_DAY + pd.Timedelta(hours=v) for v in values]


def fahrenheit(frame: pd.DataFrame) -> pd.DataFrame:
    """The on-demand function of the sample repository."""
    return pd.DataFrame({"temp_f": frame["temp"] * 9 / 5 + 32})


@pytest.fixture
def weather_file(isolated_project: Path) -> Path:
    """Hourly readings of two airports, JFK at 0, 1, 2 h and LGA at 1 h (temp, humid)."""
    frame = pd.DataFrame(
        {
            "origin": ["JFK", "JFK", "JFK", "LGA"],
            "time_hour": hours(0, 1, 2, 1),
            "temp": [10.0, 11.0, 12.0, 20.0],
            "humid": [0.5, 0.6, 0.7, 0.9],
        }
    )
    path = isolated_project / "weather.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def definitions(weather_file: Path) -> Definitions:
    """airport -> weather (ttl 90 min) -> an on-demand temp_f -> service ``delays``."""
    return Definitions(
        entities=(Entity("airport", ("origin",)),),
        views=(
            FeatureView(
                "weather",
                ("airport",),
                (Feature("temp"), Feature("humid")),
                FileSource(weather_file.name, timestamp="time_hour"),
                ttl="90m",
            ),
        ),
        on_demand=(
            OnDemandFeatureView("converted", ("weather:temp",), (Feature("temp_f"),), fahrenheit),
        ),
        services=(FeatureService("delays", ("weather", "converted:temp_f")),),
    )
