"""One contract for every stored dataset type, on a local folder, ``memory://`` and S3.

For each: nothing there at first; what ``save`` stored, ``load`` gives back;
the fingerprint stays equal while the content does, changes with it, and
comes back when the same content is saved again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopml.pipelines.catalog import (
    CsvDataset,
    Dataset,
    DatasetMissingError,
    FilesDataset,
    ParquetDataset,
)

from .conftest import Where


@dataclass
class Kind:
    """A dataset type under test: how to make one, two different values, how to compare."""

    make: Callable[[Where], Dataset]
    first: Callable[[pd.DataFrame], Any]
    second: Callable[[pd.DataFrame], Any]
    same: Callable[[Any, Any], bool]


def _frames_equal(loaded: Any, expected: Any) -> bool:
    pd.testing.assert_frame_equal(loaded, expected)
    return True


def _partitions_equal(loaded: Any, expected: Any) -> bool:
    # pyarrow reads hive partition columns back as categoricals, after the other columns.
    got = loaded.assign(carrier=loaded["carrier"].astype(str))[list(expected.columns)]
    got = got.sort_values("flight").reset_index(drop=True)
    want = expected.sort_values("flight").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    return True


def _changed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(arr_delay=frame["arr_delay"] + 1)


KINDS = {
    "csv": Kind(
        lambda w: CsvDataset(w.path("flights.csv"), storage_options=w.storage_options),
        lambda f: f,
        _changed,
        _frames_equal,
    ),
    "csv.gz": Kind(
        lambda w: CsvDataset(w.path("flights.csv.gz"), storage_options=w.storage_options),
        lambda f: f,
        _changed,
        _frames_equal,
    ),
    "csv.zip": Kind(
        lambda w: CsvDataset(w.path("flights.csv.zip"), storage_options=w.storage_options),
        lambda f: f,
        _changed,
        _frames_equal,
    ),
    "parquet-file": Kind(
        lambda w: ParquetDataset(w.path("flights.parquet"), storage_options=w.storage_options),
        lambda f: f,
        _changed,
        _frames_equal,
    ),
    "parquet-folder": Kind(
        lambda w: ParquetDataset(w.path("flights/"), storage_options=w.storage_options),
        lambda f: f,
        _changed,
        _frames_equal,
    ),
    "parquet-partitioned": Kind(
        lambda w: ParquetDataset(
            w.path("by_carrier"), partition_cols=["carrier"], storage_options=w.storage_options
        ),
        lambda f: f,
        # Fewer partitions: the stale ones must go.
        lambda f: _changed(f[f["carrier"] == "UA"]),
        _partitions_equal,
    ),
    "files": Kind(
        lambda w: FilesDataset(w.path("reports"), storage_options=w.storage_options),
        lambda f: {"summary.txt": b"4 flights", "plots/delay.csv": f.to_csv().encode()},
        lambda f: {"summary.txt": b"5 flights"},
        lambda loaded, expected: dict(loaded) == expected,
    ),
}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


def test_nothing_is_there_before_the_first_save(kind: Kind, where: Where) -> None:
    dataset = kind.make(where)
    assert not dataset.exists()
    with pytest.raises(DatasetMissingError):
        dataset.load()
    with pytest.raises(DatasetMissingError):
        dataset.fingerprint()


def test_round_trip_and_fingerprint(kind: Kind, where: Where, frame: pd.DataFrame) -> None:
    dataset = kind.make(where)
    first, second = kind.first(frame), kind.second(frame)

    dataset.save(first)
    assert dataset.exists()
    assert kind.same(dataset.load(), first)
    fingerprint = dataset.fingerprint()
    assert dataset.fingerprint() == fingerprint  # reading changes nothing
    dataset.load()
    assert dataset.fingerprint() == fingerprint

    dataset.save(second)
    assert kind.same(dataset.load(), second)
    assert dataset.fingerprint() != fingerprint

    dataset.save(first)
    assert kind.same(dataset.load(), first)
    assert dataset.fingerprint() == fingerprint  # equal content, equal fingerprint


def test_a_new_dataset_object_sees_what_another_saved(
    kind: Kind, where: Where, frame: pd.DataFrame
) -> None:
    kind.make(where).save(kind.first(frame))
    other = kind.make(where)
    assert other.exists()
    assert kind.same(other.load(), kind.first(frame))
    assert other.fingerprint() == kind.make(where).fingerprint()


def test_save_refuses_what_the_type_does_not_store(kind: Kind, where: Where) -> None:
    from loopml.pipelines.catalog import DatasetValueError

    dataset = kind.make(where)
    with pytest.raises(DatasetValueError):
        dataset.save(object())
    assert not dataset.exists()


@pytest.mark.parametrize("name", ["f.csv.gz", "f.csv.zip", "f.parquet", "by/"])
def test_equal_values_give_equal_bytes_even_later(
    name: str, isolated_project: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: gzip and zip stored the time of writing, so saving the same frame a
    second later changed the fingerprint (and missed the cache)."""
    dataset = ParquetDataset(name) if "parquet" in name or name.endswith("/") else CsvDataset(name)
    dataset.save(frame)
    before = dataset.fingerprint()
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    dataset.save(frame)
    assert dataset.fingerprint() == before
    pd.testing.assert_frame_equal(dataset.load(), frame)
