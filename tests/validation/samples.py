"""Sample data for the validation tests: flights-like frames, and the odd frames of Hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import strategies as st

FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, math.nan, math.inf, -math.inf]),
)


def _column(kind: str, rows: int) -> st.SearchStrategy[pd.Series]:
    if kind == "float":
        return st.lists(FLOATS, min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="float64")
        )
    if kind == "int":
        return st.lists(st.integers(-(2**40), 2**40), min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="int64")
        )
    if kind == "string":
        values = st.one_of(
            st.none(), st.sampled_from(["a", "b", "c", "é", ""]), st.text(max_size=3)
        )
        return st.lists(values, min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="object")
        )
    if kind == "bool":
        return st.lists(st.booleans(), min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="bool")
        )
    if kind == "mixed":
        values = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "y"]), st.none(), FLOATS)
        return st.lists(values, min_size=rows, max_size=rows).map(
            lambda v: pd.Series(v, dtype="object")
        )
    if kind == "timestamp":
        return st.lists(
            st.one_of(st.none(), st.integers(0, 10**9)), min_size=rows, max_size=rows
        ).map(lambda v: pd.Series(pd.to_datetime(v, unit="s")))
    return st.just(pd.Series([None] * rows, dtype="object"))  # all missing


def flights(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Flights-like rows: numbers with gaps, categories, a flag and a timestamp."""
    rng = np.random.default_rng(seed)
    temp = rng.normal(40, 10, rows)
    temp[rng.random(rows) < 0.05] = np.nan
    hours = pd.to_timedelta(rng.integers(0, 24 * 59, rows), unit="h")
    return pd.DataFrame(
        {
            "distance": rng.integers(100, 3000, rows),
            "temp": temp,
            "carrier": pd.array(rng.choice(["AA", "B6", "DL", "UA"], rows), dtype="str"),
            "origin": pd.array(rng.choice(["EWR", "JFK", "LGA"], rows), dtype="str"),
            "delayed": rng.random(rows) < 0.25,
            "time_hour": pd.Timestamp("2013-01-01") + hours,
        }
    )


KINDS = ("float", "int", "string", "bool", "mixed", "timestamp", "null")


@st.composite
def frames(draw: st.DrawFn, max_rows: int = 12) -> pd.DataFrame:
    """Frames of 0 to ``max_rows`` rows and 0 to 5 columns of any kind, odd values included."""
    rows = draw(st.integers(0, max_rows))
    names = draw(st.lists(st.sampled_from("abcdefg"), max_size=5, unique=True))
    columns = {name: draw(_column(draw(st.sampled_from(KINDS)), rows)) for name in names}
    frame = pd.DataFrame(columns, index=range(rows))
    if draw(st.booleans()) and rows:
        frame = frame.iloc[np.arange(rows)[::-1]]  # a non-default index
    return frame
