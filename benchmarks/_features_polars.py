"""The bare polars ``join_asof`` limit of the feature store benchmark, in polars' own virtualenv.

Reads ``{"source", "entities", "repeats"}`` as JSON on stdin; prints the timings
(reading the entity file, sorting both sides, joining) as JSON on its last line.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import polars as pl

    config = json.loads(sys.stdin.read())
    times, rows, nulls = [], 0, 0
    for _ in range(config["repeats"]):
        started = time.perf_counter()
        entities = pl.read_parquet(config["entities"]).with_row_index("row").sort("event_timestamp")
        source = pl.scan_parquet(config["source"]).sort("event_timestamp")
        joined = (
            entities.lazy()
            .join_asof(
                source,
                on="event_timestamp",
                by="driver_id",
                strategy="backward",
                check_sortedness=False,
            )
            .sort("row")
            .collect()
        )
        times.append(time.perf_counter() - started)
        rows, nulls = joined.height, joined["f0"].null_count()
    print(json.dumps({"version": pl.__version__, "times": times, "rows": rows, "nulls": nulls}))


if __name__ == "__main__":
    main()
