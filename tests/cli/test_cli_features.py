"""``loopml features apply|list|show|history|materialize|get``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

DEFINITIONS = """
entities:
  - {name: airport, join_keys: [origin]}
views:
  - name: weather
    entities: [airport]
    source: {path: weather.csv, timestamp: time_hour, options: {nullstr: NA}}
    ttl: 10d
    features: {temp: float64, humid: float64}
services:
  - {name: delays, features: [weather]}
"""


@pytest.fixture
def repo(isolated_project: Path) -> Path:
    now = pd.Timestamp.now(tz="UTC").floor("s")
    pd.DataFrame(
        {
            "origin": ["JFK", "JFK", "LGA"],
            "time_hour": [now - pd.Timedelta(hours=h) for h in (2, 1, 1)],
            "temp": [10.0, 11.0, None],
            "humid": [0.5, 0.6, 0.7],
        }
    ).to_csv(isolated_project / "weather.csv", index=False, na_rep="NA")
    (isolated_project / "features.yaml").write_text(DEFINITIONS)
    return isolated_project


def test_apply_list_show_materialize_get(invoke, repo) -> None:
    applied = invoke("features", "apply")
    assert applied.exit_code == 0, applied.output
    assert "version 1" in applied.stdout and "1 view" in applied.stdout
    assert "version 1" in invoke("features", "apply").stdout  # nothing changed

    listed = invoke("features", "list")
    assert listed.exit_code == 0, listed.output
    assert "weather" in listed.stdout and "temp, humid" in listed.stdout
    assert "service delays" in listed.stdout

    shown = invoke("features", "show", "weather")
    assert json.loads(shown.stdout)["ttl"] == 864000.0

    done = invoke("features", "materialize")
    assert done.exit_code == 0, done.output
    assert "weather" in done.stdout and "2 entities" in done.stdout

    got = invoke("features", "get", "delays", "origin=JFK", "origin=LGA")
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout) == {
        "origin": ["JFK", "LGA"],
        "temp": [11.0, None],
        "humid": [0.6, 0.7],
    }
    assert "v1" in invoke("features", "history").stdout


def test_breaking_apply_needs_force(invoke, repo) -> None:
    assert invoke("features", "apply").exit_code == 0
    (repo / "features.yaml").write_text(DEFINITIONS.replace("humid: float64", "humid: int64"))
    refused = invoke("features", "apply")
    assert refused.exit_code == 2
    assert "weather:humid type float64 -> int64" in refused.stderr
    forced = invoke("features", "apply", "--force")
    assert forced.exit_code == 0 and "version 2" in forced.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("features", "list"), "loopml features apply"),
        (("features", "apply", "nope.yaml"), "no feature definitions file"),
    ],
)
def test_user_errors_exit_2(invoke, isolated_project, args, message) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_unknown_names_and_bad_keys(invoke, repo) -> None:
    invoke("features", "apply")
    assert "no feature view" in invoke("features", "show", "rain").stderr
    bad = invoke("features", "get", "delays", "JFK")
    assert bad.exit_code == 2 and "key=value" in bad.stderr
    wrong = invoke("features", "get", "delays", "airport=JFK")
    assert wrong.exit_code == 2 and "'origin'" in wrong.stderr
