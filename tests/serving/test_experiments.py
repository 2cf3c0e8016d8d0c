"""Online experiments: canary share, sticky A/B, shadow mirrored and logged but never returned."""

from __future__ import annotations

import collections
import random
from typing import Any

from fastapi.testclient import TestClient
from serving_flows import register_switchable

from loopml.registry import ModelRegistry
from loopml.serving import ABSpec, CanarySpec, DeploymentSpec, ShadowSpec, read_log
from loopml.serving.deployment import ab_variant
from loopml.workspace import Workspace

X = [{"x": 1.5}]
N = 400


def _two_versions(registry: ModelRegistry) -> None:
    register_switchable(registry, alias="live", factor=2.0)
    register_switchable(registry, alias="next", factor=3.0)


def test_a_canary_takes_its_share(registry: ModelRegistry, make_app: Any) -> None:
    _two_versions(registry)
    spec = DeploymentSpec("switch", "switch@live", canary=CanarySpec("switch@next", 20))
    with TestClient(make_app([spec], seed=7)) as client:
        versions = collections.Counter(
            client.post("/v1/models/switch/predict", json=X).json()["version"] for _ in range(N)
        )
    # binomial(400, 0.2): mean 80, sd 8; five sd either side
    assert 40 <= versions[2] <= 120 and versions[1] + versions[2] == N


def test_ab_is_sticky_by_key_and_splits_keys_by_weight(
    registry: ModelRegistry, make_app: Any
) -> None:
    _two_versions(registry)
    ab = ABSpec({"a": "switch@live", "b": "switch@next"}, {"a": 1, "b": 3}, key="x")
    with TestClient(make_app([DeploymentSpec("switch", "switch@live", ab=ab)])) as client:
        by_key = {}
        for key in range(200):
            answers = {
                client.post("/v1/models/switch/predict", json=[{"x": float(key)}]).json()["version"]
                for _ in range(2)
            }
            assert len(answers) == 1  # sticky
            by_key[key] = answers.pop()
        header = {"loopml-ab-key": "customer-17"}
        first = client.post("/v1/models/switch/predict", json=X, headers=header).json()["version"]
        for _ in range(5):
            again = client.post("/v1/models/switch/predict", json=X, headers=header)
            assert again.json()["version"] == first
    share_b = sum(1 for v in by_key.values() if v == 2) / len(by_key)
    assert 0.6 <= share_b <= 0.9  # 0.75 expected; sd 0.03


def test_ab_hash_is_stable_and_follows_weights() -> None:
    rng = random.Random(0)
    weights = {"a": 50, "b": 50}
    assert ab_variant(weights, "k1", rng) == ab_variant(weights, "k1", random.Random(9))
    counts = collections.Counter(ab_variant(weights, f"user-{i}", rng) for i in range(4000))
    assert 1800 <= counts["a"] <= 2200  # sd ~32
    counts = collections.Counter(ab_variant({"a": 1, "b": 0}, None, rng) for i in range(100))
    assert counts == {"a": 100}


def test_a_shadow_is_logged_never_returned(
    registry: ModelRegistry, make_app: Any, project: Workspace
) -> None:
    _two_versions(registry)
    spec = DeploymentSpec("switch", "switch@live", shadow=ShadowSpec("switch@next", 100))
    with TestClient(make_app([spec])) as client:
        answers = [client.post("/v1/models/switch/predict", json=X).json() for _ in range(20)]
    assert {a["version"] for a in answers} == {1}
    assert {tuple(a["predictions"]) for a in answers} == {(3.0,)}
    log = read_log(project).to_pylist()
    primary = [r for r in log if not r["shadow"]]
    shadow = [r for r in log if r["shadow"]]
    assert len(primary) == len(shadow) == 20
    assert {r["version"] for r in shadow} == {2}
    assert {r["request_id"] for r in shadow} == {a["request_id"] for a in answers}
    assert {r["prediction"] for r in shadow} == {4.5} and {r["input.x"] for r in shadow} == {1.5}
