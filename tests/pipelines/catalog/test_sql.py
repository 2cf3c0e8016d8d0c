"""SQL datasets: DuckDB queries over Parquet and CSV files, other datasets, and a database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopml.pipelines.catalog import (
    Catalog,
    CsvDataset,
    DatasetConfigError,
    DatasetIOError,
    DatasetMissingError,
    DatasetValueError,
    ParquetDataset,
    SqlDataset,
)

from .conftest import BUCKET


@pytest.fixture
def project(isolated_project: Path, frame: pd.DataFrame) -> Path:
    """A project with ``data/flights.parquet``, two Parquet parts and ``data/flights.csv``."""
    data = isolated_project / "data"
    (data / "parts").mkdir(parents=True)
    frame.to_parquet(data / "flights.parquet")
    frame.iloc[:2].to_parquet(data / "parts" / "a.parquet")
    frame.iloc[2:].to_parquet(data / "parts" / "b.parquet")
    frame.to_csv(data / "flights.csv", index=False)
    return isolated_project


def test_query_over_a_parquet_file(project: Path) -> None:
    dataset = SqlDataset(
        "SELECT flight, arr_delay FROM read_parquet('data/flights.parquet') "
        "WHERE arr_delay > 15 ORDER BY flight",
        base_dir=project,
    )
    result = dataset.load()
    assert isinstance(result, pd.DataFrame)
    assert result["flight"].tolist() == [2, 4]
    assert dataset.exists()


def test_query_over_a_parquet_glob_and_a_csv(project: Path) -> None:
    dataset = SqlDataset(
        "SELECT p.flight, c.carrier FROM read_parquet('data/parts/*.parquet') p "
        "JOIN read_csv_auto('data/flights.csv') c USING (flight) ORDER BY flight",
        base_dir=project,
    )
    assert dataset.load()["carrier"].tolist() == ["UA", "AA", "UA", "DL"]


def test_relative_paths_are_resolved_against_the_base_dir_not_the_current_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    dataset = SqlDataset("SELECT count(*) AS n FROM 'data/flights.csv'", base_dir=project)
    assert dataset.load()["n"].tolist() == [4]


def test_parameters_fill_placeholders(project: Path) -> None:
    dataset = SqlDataset(
        "SELECT flight FROM read_parquet($path) WHERE arr_delay > $minutes ORDER BY flight",
        parameters={"path": "data/flights.parquet", "minutes": 15},
        base_dir=project,
    )
    assert dataset.load()["flight"].tolist() == [2, 4]


def test_fingerprint_follows_the_files_the_query_reads(project: Path, frame: pd.DataFrame) -> None:
    dataset = SqlDataset("SELECT * FROM read_parquet('data/parts/*.parquet')", base_dir=project)
    before = dataset.fingerprint()
    assert dataset.fingerprint() == before
    frame.iloc[2:3].to_parquet(project / "data" / "parts" / "b.parquet")
    assert dataset.fingerprint() != before
    frame.iloc[2:].to_parquet(project / "data" / "parts" / "b.parquet")
    assert dataset.fingerprint() == before  # same bytes again
    frame.to_parquet(project / "data" / "parts" / "c.parquet")  # a new file matches the glob
    assert dataset.fingerprint() != before


def test_fingerprint_depends_on_the_query_and_parameters(project: Path) -> None:
    def fingerprint(query: str, **parameters: Any) -> str:
        return SqlDataset(query, parameters=parameters, base_dir=project).fingerprint()

    base = "SELECT * FROM 'data/flights.parquet' WHERE arr_delay > $m"
    assert fingerprint(base, m=15) == fingerprint(base, m=15)
    assert fingerprint(base, m=15) != fingerprint(base, m=16)
    assert fingerprint(base, m=15) != fingerprint(base + " ORDER BY 1", m=15)


def test_fingerprint_falls_back_to_the_result_when_no_input_is_found(project: Path) -> None:
    constant = SqlDataset("SELECT 42 AS answer", base_dir=project)
    assert constant.fingerprint() == constant.fingerprint()
    forced = SqlDataset(
        "SELECT count(*) FROM 'data/flights.parquet'", fingerprint="result", base_dir=project
    )
    before = forced.fingerprint()
    pd.DataFrame({"flight": [1]}).to_parquet(project / "data" / "flights.parquet")
    assert forced.fingerprint() != before


def test_tables_read_other_datasets_even_zipped_csv(project: Path, frame: pd.DataFrame) -> None:
    flights = CsvDataset("data/flights.csv.zip", base_dir=project)
    flights.save(frame)
    delayed = SqlDataset(
        "SELECT flight FROM flights WHERE arr_delay > 15 ORDER BY flight",
        tables={"flights": flights},
        base_dir=project,
    )
    assert delayed.load()["flight"].tolist() == [2, 4]
    before = delayed.fingerprint()
    flights.save(frame.assign(arr_delay=0.0))
    assert delayed.fingerprint() != before
    assert delayed.load().empty


def test_duckdb_cannot_read_zip_and_the_error_says_what_to_do(
    project: Path, frame: pd.DataFrame
) -> None:
    CsvDataset("data/flights.csv.zip", base_dir=project).save(frame)
    dataset = SqlDataset("SELECT * FROM read_csv_auto('data/flights.csv.zip')", base_dir=project)
    with pytest.raises(DatasetIOError, match="tables"):
        dataset.load()


def test_query_over_memory_url(memory_root: str, frame: pd.DataFrame) -> None:
    ParquetDataset(f"{memory_root}/flights.parquet").save(frame)
    dataset = SqlDataset(f"SELECT count(*) AS n FROM read_parquet('{memory_root}/*.parquet')")
    assert dataset.load()["n"].tolist() == [4]
    before = dataset.fingerprint()
    ParquetDataset(f"{memory_root}/more.parquet").save(frame)
    assert dataset.fingerprint() != before


@pytest.mark.s3
def test_query_over_s3_through_fsspec(s3_options: dict[str, Any], frame: pd.DataFrame) -> None:
    url = f"s3://{BUCKET}/sql/flights.parquet"
    ParquetDataset(url, storage_options=s3_options).save(frame)
    dataset = SqlDataset(
        f"SELECT count(*) AS n FROM read_parquet('{url}')", storage_options=s3_options
    )
    assert dataset.load()["n"].tolist() == [4]


def test_database_is_opened_read_only(project: Path) -> None:
    import duckdb

    with duckdb.connect(str(project / "warehouse.duckdb")) as con:
        con.execute("CREATE TABLE flights AS SELECT * FROM 'data/flights.parquet'")
    dataset = SqlDataset(
        "SELECT count(*) AS n FROM flights", database="warehouse.duckdb", base_dir=project
    )
    assert dataset.load()["n"].tolist() == [4]
    assert dataset.exists()
    fingerprint = dataset.fingerprint()
    assert fingerprint == dataset.fingerprint()
    missing = SqlDataset("SELECT 1", database="nope.duckdb", base_dir=project)
    assert not missing.exists()
    with pytest.raises(DatasetMissingError):
        missing.load()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("COPY (SELECT 1) TO 'x.csv'", "read-only SELECT, not COPY"),
        ("CREATE TABLE t AS SELECT 1", "read-only SELECT, not CREATE"),
        ("ATTACH 'other.duckdb'", "read-only SELECT, not ATTACH"),
        ("SELECT 1; SELECT 2", "one statement, not 2"),
        ("SELEC 1", "not valid SQL"),
        ("", "one statement, not 0"),
    ],
)
def test_only_one_select_is_accepted_when_built(query: str, message: str) -> None:
    with pytest.raises(DatasetConfigError, match=message) as caught:
        SqlDataset(query)
    assert caught.value.field == "query"
    assert not os.path.exists("x.csv")


def test_sql_datasets_cannot_be_saved(project: Path) -> None:
    dataset = SqlDataset("SELECT 1 AS x", base_dir=project)
    assert not dataset.writable
    with pytest.raises(DatasetValueError, match="read-only"):
        dataset.save(pd.DataFrame({"x": [1]}))
    with pytest.raises(DatasetValueError, match="read-only"):
        Catalog({"q": dataset}).save("q", pd.DataFrame({"x": [1]}))


def test_a_bad_query_at_run_time_is_an_io_error_naming_the_dataset(project: Path) -> None:
    catalog = Catalog({"q": SqlDataset("SELECT nope FROM 'data/flights.parquet'")})
    with pytest.raises(DatasetIOError, match=r"dataset 'q'.*nope"):
        catalog.load("q")


def test_a_table_by_name_needs_a_catalog() -> None:
    dataset = SqlDataset("SELECT * FROM flights", tables={"flights": "flights"})
    with pytest.raises(DatasetConfigError, match="only a Catalog"):
        dataset.load()
    with pytest.raises(DatasetConfigError, match="not an identifier"):
        SqlDataset("SELECT 1", tables={"bad name": "flights"})
    with pytest.raises(DatasetConfigError, match="local DuckDB file"):
        SqlDataset("SELECT 1", database="s3://bucket/db.duckdb")
