"""Sizes and data of the feature store benchmark, shared by every system (NumPy, pandas, pyarrow).

One feature view of ``features`` float columns over ``entities x timestamps``
rows (hourly, jittered), and an entity frame whose timestamps start an hour
before the first reading, so some rows have no earlier value (they must come
back as nulls).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

SEED = 13
START = "2024-01-01"


@dataclasses.dataclass(frozen=True)
class Sizes:
    entities: int
    timestamps: int
    features: int
    entity_rows: int
    online_calls: int
    batch: int
    repeats: int


FULL = Sizes(10_000, 100, 10, 100_000, 1_000, 100, 3)
QUICK = Sizes(1_000, 20, 10, 10_000, 300, 100, 2)


def feature_names(sizes: Sizes) -> list[str]:
    return [f"f{i}" for i in range(sizes.features)]


def make_data(folder: Path, sizes: Sizes) -> tuple[Path, Path]:
    """Write ``source.parquet`` and ``entities.parquet``; return their paths."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    n = sizes.entities * sizes.timestamps
    base = pd.Timestamp(START, tz="UTC")
    seconds = np.tile(np.arange(sizes.timestamps), sizes.entities) * 3600 + rng.integers(0, 3600, n)
    source = pd.DataFrame(
        {
            "driver_id": np.repeat(np.arange(sizes.entities, dtype="int64"), sizes.timestamps),
            "event_timestamp": (base + pd.to_timedelta(seconds, unit="s")).astype(
                "datetime64[us, UTC]"
            ),
        }
    )
    for name in feature_names(sizes):
        source[name] = rng.random(n)
    span = sizes.timestamps * 3600
    entity_seconds = rng.integers(-3600, span + 3600, sizes.entity_rows)
    entities = pd.DataFrame(
        {
            "driver_id": rng.integers(0, sizes.entities, sizes.entity_rows).astype("int64"),
            "event_timestamp": (base + pd.to_timedelta(entity_seconds, unit="s")).astype(
                "datetime64[us, UTC]"
            ),
        }
    )
    paths = folder / "source.parquet", folder / "entities.parquet"
    source.to_parquet(paths[0], index=False)
    entities.to_parquet(paths[1], index=False)
    return paths


def online_keys(sizes: Sizes) -> list[list[int]]:
    """The entity ids of each online call: ``online_calls`` lists of 1, then of ``batch``."""
    import numpy as np

    rng = np.random.default_rng(SEED + 1)
    single = [[int(k)] for k in rng.integers(0, sizes.entities, sizes.online_calls)]
    many = [
        [int(k) for k in rng.integers(0, sizes.entities, sizes.batch)]
        for _ in range(sizes.online_calls)
    ]
    return single + many


def percentiles(samples: list[float]) -> dict[str, float]:
    import statistics

    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }
