"""The validation workload shared by every system: the frames, the anomalies and the checks.

Imported by ``validation.py`` (loopml's virtualenv) and by the peer scripts in
their own virtualenvs, so it needs NumPy and pandas only (imported inside the
functions: the caller sets ``OMP_NUM_THREADS`` first).

The frame has 20 columns: 12 floats (``f01``..``f12``, about 1% NaN), 4 ints
(``i01``..``i04``, no gap) and 4 string categories (``s01``..``s04``, 10 to 40
values, about 0.5% missing), seeded. The *checks* are what loopml's inferred
schema asks for, written as plain data (:func:`check_spec`) that each system
turns into its own rules: the column is present with its type, its missing
share is at most ``max_missing``, numbers lie in ``[min, max]`` (missing values
are not out of range), strings are in ``domain`` (missing values are not out
of the domain). A system *flags* a column when any of these fails for it, at
any severity.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

SEED = 20_260_401
REFERENCE_SEED = SEED + 1
FLOATS = 12
INTS = 4
STRINGS = 4
CATEGORY_SIZES = (10, 20, 30, 40)
FLOAT_MISSING = 0.01
STRING_MISSING = 0.005

# The anomalies injected into the second frame: column -> what is wrong with it.
ANOMALIES = {
    "f03": "values above the range",
    "i02": "values below the range",
    "f07": "missing share 5% (allowed ~2%)",
    "s02": "a new category",
    "s04": "missing share 10% (allowed ~1%)",
}
ANOMALY_ROWS = 25  # out-of-range values and new categories per column


@dataclasses.dataclass(frozen=True)
class Sizes:
    rows: int
    repeat: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


FULL = Sizes(rows=1_000_000, repeat=5)
QUICK = Sizes(rows=100_000, repeat=5)


def float_names() -> list[str]:
    return [f"f{i:02d}" for i in range(1, FLOATS + 1)]


def int_names() -> list[str]:
    return [f"i{i:02d}" for i in range(1, INTS + 1)]


def string_names() -> list[str]:
    return [f"s{i:02d}" for i in range(1, STRINGS + 1)]


def make_frame(rows: int, seed: int = SEED) -> Any:
    """The clean frame: the same distributions for every seed, other values."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for index, name in enumerate(float_names()):
        kind = index % 3
        if kind == 0:
            values = rng.normal(loc=10.0 * index, scale=1.0 + index, size=rows)
        elif kind == 1:
            values = rng.beta(2.0, 5.0, size=rows) * 100.0 * (index + 1)  # bounded, skewed
        else:
            values = rng.uniform(-50.0 * index, 50.0 * index, size=rows)
        values[rng.random(rows) < FLOAT_MISSING] = np.nan
        columns[name] = values
    for index, name in enumerate(int_names()):
        if index % 2 == 0:
            columns[name] = rng.integers(0, 1_000 * (index + 1), size=rows, dtype=np.int64)
        else:
            columns[name] = rng.binomial(10 + index, 0.5, size=rows).astype(np.int64)  # bounded
    for index, name in enumerate(string_names()):
        size = CATEGORY_SIZES[index]
        categories = np.array([f"{name}_v{k:02d}" for k in range(size)], dtype=object)
        weights = 1.0 / np.arange(1, size + 1)  # Zipf-like: a few frequent values
        codes = rng.choice(size, size=rows, p=weights / weights.sum())
        values = categories[codes]
        values[rng.random(rows) < STRING_MISSING] = None
        columns[name] = pd.array(values, dtype="str")
    return pd.DataFrame(columns)


def inject_anomalies(frame: Any, spec: Mapping[str, Mapping[str, Any]], seed: int = SEED) -> Any:
    """A copy of ``frame`` with the :data:`ANOMALIES`, placed outside ``spec``'s bounds."""
    import numpy as np

    rng = np.random.default_rng(seed + 7)
    out = frame.copy()
    rows = len(out)

    def some_rows(count: int) -> Any:
        return rng.choice(rows, size=count, replace=False)

    high = spec["f03"]["max"]
    out.loc[some_rows(ANOMALY_ROWS), "f03"] = high + abs(high) + 1_000.0
    low = spec["i02"]["min"]
    out.loc[some_rows(ANOMALY_ROWS), "i02"] = int(low) - 1_000
    out["f07"] = out["f07"].mask(rng.random(rows) < 0.05)
    out.loc[some_rows(ANOMALY_ROWS), "s02"] = "s02_new_value"
    out["s04"] = out["s04"].mask(rng.random(rows) < 0.10)
    return out


def expected_flags() -> list[str]:
    """The columns every system must flag in the frame with anomalies."""
    return sorted(ANOMALIES)


# --- the checks as plain data ----------------------------------------------------------


PANDAS_DTYPES = {"float": "float64", "int": "int64", "string": "str"}


def check_spec(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """loopml's ``Schema.to_dict()`` as the checks every system runs, column by column.

    Each column: ``type`` (loopml's), ``dtype`` (pandas), ``max_missing``, ``min``,
    ``max`` (None: open), ``domain`` (None: any value).
    """
    spec = {}
    for name, feature in schema["features"].items():
        kind = feature["type"]
        spec[name] = {
            "type": kind,
            "dtype": PANDAS_DTYPES[kind],
            "max_missing": float(feature.get("max_missing", 0.0)),
            "min": feature.get("min"),
            "max": feature.get("max"),
            "domain": list(feature["domain"]) if feature.get("domain") is not None else None,
        }
    return spec


def same_data(frame: Any) -> dict[str, Any]:
    """What the frame a system validates must have: shape, dtypes, missing counts."""
    return {
        "shape": list(frame.shape),
        "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        "missing": {str(c): int(n) for c, n in frame.isna().sum().items()},
    }


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def sorted_names(names: Iterable[Any]) -> list[str]:
    return sorted({str(n) for n in names})
