"""Feature store benchmark: bare DuckDB / polars / sqlite3 (the limits), loopml and Feast.

Run ``.venv/bin/python benchmarks/features.py`` (``--quick`` for a smaller size,
``--skip-feast`` to leave Feast out, ``--repeat N``). Historical retrieval: one
feature view of 10 float features over entities x timestamps rows, joined
point-in-time to an entity frame; online lookups of 1 and of 100 entities.
Every loopml result is checked against bare DuckDB on every row. Results are
saved as JSON under ``benchmarks/results/``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _features_workload import (
    FULL,
    QUICK,
    Sizes,
    feature_names,
    make_data,
    online_keys,
    percentiles,
)
from _peers import PeerError, ensure_peer, run_peer
from _report import (
    HERE,
    Columns,
    Row,
    default_settings,
    evaluate,
    machine,
    parse_args,
    peer_column,
    peer_left_out,
    print_table,
    results_file,
    say,
    write_results,
)

BARE_ASOF = """
SELECT e.*, {features} FROM entities AS e
ASOF LEFT JOIN read_parquet('{source}') AS s
ON e.driver_id = s.driver_id AND e.event_timestamp >= s.event_timestamp
"""


def median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


# --- the limits ---------------------------------------------------------------------------


def bare_duckdb(source: Path, entities: Any, sizes: Sizes, repeats: int) -> tuple[list[float], Any]:
    import duckdb

    features = ", ".join(f"s.{name}" for name in feature_names(sizes))
    query = BARE_ASOF.format(features=features, source=source)
    times = []
    for _ in range(repeats):
        connection = duckdb.connect()
        started = time.perf_counter()
        connection.register("entities", entities)
        frame = connection.sql(query).df()
        times.append(time.perf_counter() - started)
        connection.close()
    connection = duckdb.connect()
    connection.register("entities", entities.assign(row=range(len(entities))))
    expected = connection.sql(query + " ORDER BY e.row").df()
    connection.close()
    assert len(frame) == len(entities)
    return times, expected


def bare_polars(source: Path, entities_file: Path, repeats: int) -> dict[str, Any] | None:
    try:
        ensure_peer("polars", log=say)
        return run_peer(
            "polars",
            HERE / "_features_polars.py",
            {"source": str(source), "entities": str(entities_file), "repeats": repeats},
        )
    except PeerError as error:
        say(f"polars left out: {error}")
        return None


def bare_sqlite(folder: Path, source: Any, sizes: Sizes, calls: list[list[int]]) -> list[float]:
    latest = source.sort_values("event_timestamp").groupby("driver_id").tail(1)
    connection = sqlite3.connect(folder / "bare.db")
    names = feature_names(sizes)
    connection.execute(
        f"CREATE TABLE f (driver_id INTEGER PRIMARY KEY, {', '.join(n + ' REAL' for n in names)})"
    )
    rows = latest[["driver_id", *names]].itertuples(index=False)
    connection.executemany(f"INSERT INTO f VALUES ({', '.join('?' * (len(names) + 1))})", rows)
    connection.commit()
    samples = []
    for keys in calls:
        marks = ",".join("?" * len(keys))
        started = time.perf_counter()
        connection.execute(f"SELECT * FROM f WHERE driver_id IN ({marks})", keys).fetchall()
        samples.append(time.perf_counter() - started)
    connection.close()
    return samples


# --- loopml -----------------------------------------------------------------------------------


def loopml_store(folder: Path, sizes: Sizes, online: str) -> Any:
    from loopml.core import Settings
    from loopml.features import Definitions, Entity, Feature, FeatureStore, FeatureView, FileSource
    from loopml.workspace import Workspace

    view = FeatureView(
        "stats",
        ("driver",),
        tuple(Feature(name) for name in feature_names(sizes)),
        FileSource(str(folder / "source.parquet"), "event_timestamp"),
    )
    definitions = Definitions((Entity("driver", ("driver_id",)),), (view,))
    workspace = Workspace(Settings.load(folder / "project"))
    return FeatureStore(definitions, workspace=workspace, online_store=online)


def loopml_historical(
    store: Any, entities: Any, sizes: Sizes, repeats: int
) -> tuple[list[float], Any]:
    refs = [f"stats:{name}" for name in feature_names(sizes)]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        frame = store.get_historical_features(entities, refs)
        times.append(time.perf_counter() - started)
    return times, frame


def check_same(got: Any, expected: Any, sizes: Sizes) -> None:
    import numpy as np

    for name in feature_names(sizes):
        np.testing.assert_array_equal(got[name].to_numpy(), expected[name].to_numpy())


def loopml_online(store: Any, sizes: Sizes, calls: list[list[int]]) -> dict[str, Any]:
    started = time.perf_counter()
    store.materialize()
    materialize = time.perf_counter() - started
    refs = [f"stats:{name}" for name in feature_names(sizes)]
    store.get_online_features(refs, [{"driver_id": 0}])  # opens the connection
    samples = []
    for keys in calls:
        rows = [{"driver_id": k} for k in keys]
        begun = time.perf_counter()
        found = store.get_online_features(refs, rows)
        samples.append(time.perf_counter() - begun)
    assert all(v is not None for v in found["f0"])
    return {"materialize": materialize, "samples": samples}


def redis_url() -> str | None:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping()
    except Exception as exc:
        say(f"loopml Redis left out: {exc}")
        return None
    return f"redis://127.0.0.1:6379/0?prefix=bench{os.getpid()}"


# --- the run --------------------------------------------------------------------------------


def split_online(samples: list[float], sizes: Sizes, prefix: str) -> dict[str, float]:
    n = sizes.online_calls
    one, many = percentiles(samples[:n]), percentiles(samples[n:])
    return {
        f"{prefix}1_p50": one["p50"],
        f"{prefix}1_p99": one["p99"],
        f"{prefix}100_p50": many["p50"],
        f"{prefix}100_p99": many["p99"],
    }


ROWS = [
    Row(
        "historical",
        "historical retrieval",
        goal=lambda v, b: v <= 2 * b,
        goal_text="<= 2x fastest bare",
    ),
    Row("historical_duckdb", "  bare DuckDB ASOF JOIN", ratio=False),
    Row("historical_polars", "  bare polars join_asof", ratio=False),
    Row("historical_feast_duckdb", "  Feast with its duckdb offline store"),
    Row("materialize", "materialize to online (SQLite)", ratio=False),
    Row("online1_p50", "online, 1 entity, p50", goal=lambda v, b: v < 50e-6, goal_text="< 50 us"),
    Row("online1_p99", "online, 1 entity, p99"),
    Row("online100_p50", "online, 100 entities, p50"),
    Row(
        "online100_p99", "online, 100 entities, p99", goal=lambda v, b: v < 1e-3, goal_text="< 1 ms"
    ),
    Row("redis1_p50", "online Redis, 1 entity, p50"),
    Row("redis100_p50", "online Redis, 100 entities, p50"),
    Row("redis100_p99", "online Redis, 100 entities, p99"),
]


def run_feast(folder: Path, sizes: Sizes, calls: list[list[int]], repeats: int) -> dict[str, Any]:
    try:
        ensure_peer("feast", log=say)
        return run_peer(
            "feast",
            HERE / "_features_feast.py",
            {
                "source": str(folder / "source.parquet"),
                "entities": str(folder / "entities.parquet"),
                "features": feature_names(sizes),
                "offline_stores": ["default", "duckdb"],
                "repeats": repeats,
                "calls": calls,
            },
        )
    except PeerError as error:
        return {"unavailable": str(error)}


def feast_values(result: dict[str, Any] | None, sizes: Sizes) -> dict[str, float]:
    if not result or "unavailable" in result:
        return {}
    values: dict[str, float] = {}
    for store, key in (("default", "historical"), ("duckdb", "historical_feast_duckdb")):
        found = result["historical"].get(store, {})
        if "times" in found:
            values[key] = median(found["times"])
    values["materialize"] = result["materialize"]
    values.update(split_online(result["online"]["samples"], sizes, "online"))
    return values


def main(argv: list[str] | None = None) -> None:
    args = parse_args(
        __doc__ or "",
        argv,
        peer="Feast",
        quick_help="small sizes",
        repeat_help="repeats of the joins",
    )
    default_settings()
    sizes = QUICK if args.quick else FULL
    repeats = args.repeat or sizes.repeats
    started = time.time()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        (folder / "project").mkdir()
        say(
            f"data: {sizes.entities:,} entities x {sizes.timestamps} times, "
            f"{sizes.entity_rows:,} entity rows"
        )
        source_file, entities_file = make_data(folder, sizes)
        import pandas as pd

        entities = pd.read_parquet(entities_file)
        calls = online_keys(sizes)
        say("bare DuckDB, polars, sqlite3")
        duck_times, expected = bare_duckdb(source_file, entities, sizes, repeats)
        polars = bare_polars(source_file, entities_file, repeats)
        limit = {"historical_duckdb": median(duck_times)}
        if polars:
            limit["historical_polars"] = median(polars["times"])
        limit["historical"] = min(limit.values())
        limit["historical_feast_duckdb"] = limit["historical"]
        raw = bare_sqlite(folder, pd.read_parquet(source_file), sizes, calls)
        limit.update(split_online(raw, sizes, "online"))
        say("loopml")
        store = loopml_store(folder, sizes, f"sqlite:///{folder / 'online.db'}")
        times, got = loopml_historical(store, entities, sizes, repeats)
        check_same(got, expected, sizes)
        online = loopml_online(store, sizes, calls)
        loopml = {"historical": median(times), "materialize": online["materialize"]}
        loopml.update(split_online(online["samples"], sizes, "online"))
        url = redis_url()
        if url:
            redis_store = loopml_store(folder, sizes, url)
            found = loopml_online(redis_store, sizes, calls)
            loopml.update(split_online(found["samples"], sizes, "redis"))
            redis_store.online_store.delete("stats")
            redis_store.close()
        store.close()
        feast = None if args.skip_feast else run_feast(folder, sizes, calls, repeats)
        say("feast" if feast else "feast skipped")
    peer = feast_values(feast, sizes)
    goals = evaluate(ROWS, loopml, limit)
    notes = report_notes(feast, peer, loopml, entities, sizes, polars)
    stamp, path, saved = results_file("features", started)
    columns = Columns(
        title=f"Feature store ({'quick' if args.quick else 'full'} size)",
        limit="bare engine",
        ratio="x bare",
        peer=peer_column("Feast", feast),
        width=140,
    )
    print_table(columns, ROWS, limit, loopml, peer, goals, [*notes, saved])
    write_results(
        path,
        {
            "stamp": stamp,
            "sizes": vars(sizes),
            "limit": limit,
            "loopml": loopml,
            "feast": feast,
            "polars": polars,
            "goals": goals,
            "machine": machine(),
        },
    )


def report_notes(
    feast: dict[str, Any] | None,
    peer: dict[str, float],
    loopml: dict[str, float],
    entities: Any,
    sizes: Sizes,
    polars: dict[str, Any] | None,
) -> list[str]:
    notes = ["loopml's historical result equals bare DuckDB's on every row and feature (checked)."]
    if polars:
        notes.append(
            f"polars {polars['version']} join_asof: {polars['rows']:,} rows, "
            f"{polars['nulls']:,} without an earlier value."
        )
    left_out = peer_left_out("Feast", feast)
    if left_out:
        return [*notes, left_out]
    assert feast is not None
    for store, found in feast["historical"].items():
        if "rows" in found:
            notes.append(
                f"Feast {store} offline store returned {found['rows']:,} "
                f"of {len(entities):,} entity rows."
            )
        else:
            notes.append(f"Feast {store} offline store failed: {found.get('error')}")
    for peer_key, key, label, target in (
        ("historical", "historical", "Feast's default offline store", 15),
        ("historical_feast_duckdb", "historical", "Feast's duckdb store", 5),
        ("online1_p50", "online1_p50", "Feast online (1 entity, p50)", 5),
    ):
        if peer_key in peer and key in loopml:
            speedup = peer[peer_key] / loopml[key]
            met = "met" if speedup >= target else "NOT met"
            notes.append(f"loopml is {speedup:.1f}x faster than {label} (goal {target}x: {met}).")
    return notes


if __name__ == "__main__":
    sys.exit(main())
