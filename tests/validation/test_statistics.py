"""Statistics: computed by DuckDB, equal on every input kind, exact where they say so."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from samples import frames

from loopml.core.errors import InvalidInputError
from loopml.validation import DatasetStatistics, compute_statistics


def test_numbers_agree_with_numpy(train: pd.DataFrame) -> None:
    stats = compute_statistics(train)
    temp = stats["temp"]
    values = train["temp"].dropna().to_numpy()
    assert stats.rows == len(train)
    assert (temp.type, temp.missing) == ("float", int(train["temp"].isna().sum()))
    assert temp.numeric is not None
    assert temp.numeric.mean == pytest.approx(values.mean(), rel=1e-12)
    assert temp.numeric.std == pytest.approx(values.std(ddof=1), rel=1e-12)
    assert (temp.numeric.min, temp.numeric.max) == (values.min(), values.max())
    assert temp.numeric.quantiles["p50"] == pytest.approx(np.quantile(values, 0.5), rel=1e-12)
    histogram = temp.numeric.histogram
    assert histogram is not None
    assert sum(histogram.counts) == len(values)
    counts, _ = np.histogram(values, bins=np.array(histogram.edges))
    assert list(histogram.counts) == counts.tolist()


def test_categories_strings_booleans_and_times(train: pd.DataFrame) -> None:
    stats = compute_statistics(train)
    carrier = stats["carrier"]
    assert carrier.categories is not None and carrier.categories.complete
    assert dict(carrier.categories.values) == train["carrier"].value_counts().to_dict()
    assert (carrier.unique, carrier.unique_approximate) == (4, False)
    assert carrier.categories.min_length == carrier.categories.max_length == 2
    delayed = stats["delayed"].categories
    assert delayed is not None
    assert dict(delayed.values) == {
        "true": int(train["delayed"].sum()),
        "false": int((~train["delayed"]).sum()),
    }
    time = stats["time_hour"].time
    assert time is not None
    assert time.min == train["time_hour"].min().isoformat()


def test_infinities_are_counted_apart_and_left_out_of_the_summary() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, math.inf, -math.inf, math.nan]})
    x = compute_statistics(frame)["x"]
    assert x.numeric is not None
    assert (x.missing, x.numeric.infinite) == (1, 2)
    assert (x.numeric.min, x.numeric.max, x.numeric.mean) == (1.0, 2.0, 1.5)


def test_a_frame_a_table_a_parquet_and_a_csv_file_give_the_same_statistics(
    train: pd.DataFrame, tmp_path: Path
) -> None:
    frame = train.drop(columns=["time_hour"])  # CSV has no timestamp type of its own
    parquet, csv = tmp_path / "train.parquet", tmp_path / "train.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    results = [
        compute_statistics(frame, name="x"),
        compute_statistics(pa.Table.from_pandas(frame, preserve_index=False), name="x"),
        compute_statistics(parquet, name="x"),
        compute_statistics(csv, name="x"),
    ]
    summaries = [
        {f.name: (f.type, f.missing, f.unique, f.numeric and f.numeric.mean) for f in r}
        for r in results
    ]
    for summary in summaries[1:]:
        assert summary.keys() == summaries[0].keys()
        for name, (kind, missing, unique, mean) in summary.items():
            assert (kind, missing, unique) == summaries[0][name][:3]
            expected = summaries[0][name][3]
            assert mean == (expected if expected is None else pytest.approx(expected, rel=1e-12))


def test_statistics_are_deterministic_and_round_trip_through_json(train: pd.DataFrame) -> None:
    first, second = compute_statistics(train), compute_statistics(train)
    assert first == second
    text = json.dumps(first.to_dict(), allow_nan=False)
    assert DatasetStatistics.from_dict(json.loads(text)) == first


def test_many_categories_keep_the_top_values_and_count_the_rest() -> None:
    frame = pd.DataFrame({"id": [f"user{i % 50}" for i in range(500)]})
    stats = compute_statistics(frame, max_categories=10, top_values=5)
    categories = stats["id"].categories
    assert categories is not None and not categories.complete
    assert len(categories.values) == 5
    assert categories.other == 500 - sum(n for _, n in categories.values)


def test_bad_input_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no file at"):
        compute_statistics(tmp_path / "missing.parquet")
    with pytest.raises(InvalidInputError, match="cannot tell the format"):
        compute_statistics(tmp_path / "data.xlsx")
    with pytest.raises(InvalidInputError, match="give a pandas DataFrame"):
        compute_statistics([1, 2, 3])
    with pytest.raises(InvalidInputError, match="duplicated column names"):
        compute_statistics(pd.DataFrame([[1, 2]], columns=["a", "a"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_odd_frames_get_statistics_without_an_exception(frame: pd.DataFrame) -> None:
    stats = compute_statistics(frame)
    assert stats.rows == len(frame)
    assert [f.name for f in stats] == list(frame.columns)
    for feature in stats:
        assert 0 <= feature.missing <= stats.rows
        json.dumps(stats.to_dict(), allow_nan=False)
        if feature.numeric is not None and feature.numeric.histogram is not None:
            assert sum(feature.numeric.histogram.counts) == (
                feature.present - feature.numeric.infinite
            )
