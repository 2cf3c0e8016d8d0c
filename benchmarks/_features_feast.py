"""The feature store benchmark on Feast, run inside Feast's own virtualenv.

Reads its config (folder, sizes, which offline stores) as JSON on stdin; prints
one JSON object of timings on its last stdout line. Progress goes to stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

warnings.filterwarnings("ignore")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def repo(folder: Path, source: str, features: list[str], offline: str) -> object:
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64

    (folder / "feature_store.yaml").write_text(
        "project: bench\n"
        "registry: registry.db\n"
        "provider: local\n"
        f"online_store: {{type: sqlite, path: {folder / 'online.db'}}}\n"
        + (f"offline_store: {{type: {offline}}}\n" if offline != "default" else "")
        + "entity_key_serialization_version: 3\n"
    )
    store = FeatureStore(repo_path=str(folder))
    driver = Entity(name="driver", join_keys=["driver_id"])
    view = FeatureView(
        name="stats",
        entities=[driver],
        ttl=timedelta(days=0),
        schema=[Field(name=name, dtype=Float64) for name in features],
        source=FileSource(path=source, timestamp_field="event_timestamp"),
        online=True,
    )
    store.apply([driver, view])
    return store


def historical(store: object, entities: object, refs: list[str], repeats: int) -> dict:
    times, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        frame = store.get_historical_features(entity_df=entities, features=refs).to_df()  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        rows = len(frame)
    return {"times": times, "rows": rows}


def online(store: object, refs: list[str], calls: list[list[int]]) -> dict:
    samples: list[float] = []
    for keys in calls:
        rows = [{"driver_id": k} for k in keys]
        started = time.perf_counter()
        store.get_online_features(features=refs, entity_rows=rows).to_dict()  # type: ignore[attr-defined]
        samples.append(time.perf_counter() - started)
    return {"samples": samples}


def main() -> None:
    import feast
    import pandas as pd

    config = json.loads(sys.stdin.read())
    entities = pd.read_parquet(config["entities"])
    features = config["features"]
    refs = [f"stats:{name}" for name in features]
    result: dict = {"version": feast.__version__, "historical": {}}
    for offline in config["offline_stores"]:
        with tempfile.TemporaryDirectory() as temp:
            say(f"  feast {offline} offline store")
            try:
                store = repo(Path(temp), config["source"], features, offline)
                result["historical"][offline] = historical(store, entities, refs, config["repeats"])
            except Exception as exc:  # a store that does not run here is reported, not fatal
                result["historical"][offline] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    with tempfile.TemporaryDirectory() as temp:
        say("  feast materialize + online lookups (sqlite online store)")
        store = repo(Path(temp), config["source"], features, "default")
        started = time.perf_counter()
        store.materialize(  # type: ignore[attr-defined]
            start_date=pd.Timestamp("2000-01-01", tz="UTC").to_pydatetime(),
            end_date=pd.Timestamp.now(tz="UTC").to_pydatetime(),
        )
        result["materialize"] = time.perf_counter() - started
        result["online"] = online(store, refs, config["calls"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
