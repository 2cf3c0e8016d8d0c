"""Feature enrichment: requests carrying entity keys are completed from the online store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from serving_flows import register_switchable

from loopml.registry import ModelRegistry
from loopml.serving import Deployment, DeploymentSpec, FeatureSpec, ServingOptions


class FakeOnlineStore:
    """Stands in for FeatureStore: the same get_online_features call, answered from a dict."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []

    def get_online_features(self, service: str, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        self.calls.append((service, rows))
        keys = [row["origin"] for row in rows]
        return {"origin": keys, "x": [self.values.get(k) for k in keys]}


def test_entity_keys_are_completed_from_the_store(registry: ModelRegistry, make_app: Any) -> None:
    register_switchable(registry)
    store = FakeOnlineStore({"JFK": 1.5, "LGA": 4.0})
    spec = DeploymentSpec("switch", "switch@live", features=FeatureSpec("delays", ("origin",)))
    options = ServingOptions(poll_interval=0.05)
    deployment = Deployment(spec, registry, options, feature_store=store)
    with TestClient(make_app([deployment]), raise_server_exceptions=False) as client:
        r = client.post("/v1/models/switch/predict", json=[{"origin": "JFK"}, {"origin": "LGA"}])
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == [3.0, 8.0]
        assert store.calls == [("delays", [{"origin": "JFK"}, {"origin": "LGA"}])]
        # a value the request carries wins; without the keys nothing is looked up
        r = client.post("/v1/models/switch/predict", json=[{"x": 10.0}])
        assert r.json()["predictions"] == [20.0] and len(store.calls) == 1
        # an unknown entity gives a null, which this float column allows (NaN out)
        r = client.post("/v1/models/switch/predict", json=[{"origin": "BOS"}])
        assert r.status_code == 200 and r.json()["predictions"] == [None]
