"""The catalog: built from loopml.yaml or Python, checked when built, read and written by name."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopml.core import ConfigError, NotFoundError, Settings
from loopml.pipelines.catalog import (
    Catalog,
    CsvDataset,
    DatasetConfigError,
    DatasetMissingError,
    DatasetNotFoundError,
    FilesDataset,
    ParquetDataset,
    SqlDataset,
)

EXAMPLE = """\
catalog:
  flights:
    type: csv
    path: data/flights.csv.zip
  weather:
    type: parquet
    path: s3://bucket/weather/
    storage_options: {endpoint_url: "${S3_ENDPOINT}"}
  delayed:
    type: sql
    query: "SELECT * FROM flights WHERE arr_delay > 15"
    tables: {flights: flights}
  reports:
    type: files
    path: out/reports
"""


def _catalog(yaml_text: str, environ: dict[str, str] | None = None) -> Catalog:
    Path("loopml.yaml").write_text(yaml_text)
    return Catalog.from_settings(Settings.load(), environ=environ or {})


def test_the_documented_example(isolated_project: Path, frame: pd.DataFrame) -> None:
    catalog = _catalog(EXAMPLE, {"S3_ENDPOINT": "http://127.0.0.1:9"})
    assert catalog.names() == ["flights", "weather", "delayed", "reports"]
    assert isinstance(catalog["flights"], CsvDataset)
    assert isinstance(catalog["weather"], ParquetDataset)
    assert isinstance(catalog["delayed"], SqlDataset)
    assert isinstance(catalog["reports"], FilesDataset)
    assert catalog["weather"].config.storage_options == {"endpoint_url": "http://127.0.0.1:9"}
    assert catalog["flights"].describe()["uri"] == str(isolated_project / "data/flights.csv.zip")

    catalog.save("flights", frame)
    assert (isolated_project / "data" / "flights.csv.zip").is_file()
    assert catalog.load("delayed")["flight"].tolist() == [2, 4]
    catalog.save("reports", {"summary.md": "# Delays\n"})
    assert (isolated_project / "out" / "reports" / "summary.md").read_text() == "# Delays\n"


def test_the_package_docstring_shows_the_example() -> None:
    import loopml.pipelines.catalog as package

    assert package.__doc__ is not None
    for line in ("type: csv", "path: s3://bucket/weather/", "type: sql", "type: files"):
        assert line in package.__doc__


def test_relative_paths_resolve_against_the_project_not_the_current_folder(
    isolated_project: Path, monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame
) -> None:
    Path("loopml.yaml").write_text("catalog:\n  f: {type: parquet, path: data/f.parquet}\n")
    (isolated_project / "src").mkdir()
    monkeypatch.chdir(isolated_project / "src")  # Settings finds the project upwards
    catalog = Catalog.from_settings()
    catalog.save("f", frame)
    assert (isolated_project / "data" / "f.parquet").is_file()


def test_an_empty_or_absent_section_is_an_empty_catalog(isolated_project: Path) -> None:
    assert len(Catalog.from_settings(Settings.load())) == 0
    assert len(_catalog("catalog:\n")) == 0


def test_environment_variables_are_interpolated() -> None:
    config = {
        "a": {
            "type": "csv",
            "path": "${ROOT}/a.csv",
            "load_options": {"sep": "${SEP:-,}", "comment": "$$"},
        }
    }
    catalog = Catalog.from_config(config, base_dir="/project", environ={"ROOT": "/data"})
    dataset = catalog["a"]
    assert dataset.describe()["uri"] == "/data/a.csv"
    assert dataset.config.load_options == {"sep": ",", "comment": "$"}  # type: ignore[attr-defined]


def test_a_missing_environment_variable_names_dataset_field_and_variable() -> None:
    config = {"w": {"type": "parquet", "path": "s3://b/w/", "storage_options": {"k": "${KEY}"}}}
    with pytest.raises(DatasetConfigError, match=r"dataset 'w'.*'storage_options'.*KEY") as caught:
        Catalog.from_config(config, base_dir=".", environ={})
    assert caught.value.dataset == "w"
    assert caught.value.field == "storage_options"


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (
            {"type": "cvs", "path": "x"},
            "type",
            r"unknown dataset type 'cvs' \(did you mean 'csv'\?\)",
        ),
        ({"path": "x.csv"}, "type", "missing required field 'type'"),
        ({"type": 3, "path": "x"}, "type", "must be a str"),
        ({"type": "csv"}, "path", "missing required field 'path'"),
        ({"type": "csv", "path": ""}, "path", "must not be empty"),
        ({"type": "csv", "path": 3}, "path", "field 'path' must be a str, not 3"),
        ({"type": "csv", "path": "x", "pth": "y"}, "pth", r"unknown field 'pth' \(did you mean"),
        ({"type": "csv", "path": "x", "load_options": []}, "load_options", "a mapping"),
        ({"type": "csv", "path": "x", "load_options": {"sepp": ";"}}, "load_options", "'sep'"),
        (
            {"type": "csv", "path": "x", "save_options": {"path_or_buf": "y"}},
            "save_options",
            "set by the dataset",
        ),
        ({"type": "csv", "path": "x", "fingerprint": "mtime"}, "fingerprint", "one of 'auto'"),
        ({"type": "parquet", "path": "x", "partition_cols": "a"}, "partition_cols", "a list"),
        ({"type": "sql", "query": "DROP TABLE t"}, "query", "read-only SELECT"),
        ({"type": "sql", "query": "SELECT 1", "tables": {"t": "nowhere"}}, "tables", "nowhere"),
    ],
)
def test_bad_configuration_is_refused_when_the_catalog_is_built(
    entry: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(DatasetConfigError, match=message) as caught:
        Catalog.from_config({"d": entry}, base_dir=".")
    assert caught.value.dataset == "d"
    assert caught.value.field == field
    assert str(caught.value).startswith("dataset 'd': ")
    assert isinstance(caught.value, ConfigError)


def test_bad_configuration_from_yaml_fails_before_anything_runs(isolated_project: Path) -> None:
    with pytest.raises(DatasetConfigError, match=r"dataset 'flights'.*'pathh'"):
        _catalog("catalog:\n  flights:\n    type: csv\n    pathh: data/f.csv\n")
    with pytest.raises(DatasetConfigError, match="mapping of dataset name"):
        _catalog("catalog: [a, b]\n")
    with pytest.raises(DatasetConfigError, match="dataset 'flights': must be a mapping"):
        _catalog("catalog:\n  flights: data/f.csv\n")
    with pytest.raises(DatasetConfigError, match="dataset name"):
        Catalog.from_config({"9lives": {"type": "csv", "path": "x"}}, base_dir=".")


def test_unknown_dataset_name_suggests_the_closest(isolated_project: Path) -> None:
    catalog = _catalog(EXAMPLE, {"S3_ENDPOINT": "http://127.0.0.1:9"})
    for call in (catalog.load, catalog.get, catalog.__getitem__, catalog.fingerprint):
        with pytest.raises(DatasetNotFoundError, match="did you mean 'flights'") as caught:
            call("flihgts")
        assert isinstance(caught.value, NotFoundError)
        assert isinstance(caught.value, KeyError)
        assert str(caught.value).startswith("no dataset 'flihgts'")
    with pytest.raises(DatasetNotFoundError, match="did you mean 'reports'"):
        catalog.save("report", {})
    assert catalog.get("flihgts", None) is None
    assert "flights" in catalog
    assert "flihgts" not in catalog


def test_yaml_anchors_under_underscore_names_are_templates() -> None:
    import yaml

    config = yaml.safe_load(
        """
        _csv: &csv {type: csv, load_options: {sep: ";"}}
        a: {<<: *csv, path: a.csv}
        b: {<<: *csv, path: b.csv}
        """
    )
    catalog = Catalog.from_config(config, base_dir=".")
    assert catalog.names() == ["a", "b"]
    assert catalog["b"].config.load_options == {"sep": ";"}  # type: ignore[attr-defined]


def test_python_catalog_and_merging(tmp_path: Path, frame: pd.DataFrame) -> None:
    base = Catalog(
        {
            "flights": CsvDataset("flights.csv", base_dir=tmp_path / "a"),
            "delayed": SqlDataset(
                "SELECT * FROM flights WHERE arr_delay > 15", tables={"flights": "flights"}
            ),
        }
    )
    base.save("flights", frame)
    assert len(base.load("delayed")) == 2

    replacement = ParquetDataset("flights.parquet", base_dir=tmp_path / "b")
    replacement.save(frame.iloc[:2])
    merged = base.merged({"flights": replacement})
    assert merged["flights"] is replacement
    assert len(merged.load("delayed")) == 1  # the query reads the replacement
    assert len(base.load("delayed")) == 2  # catalogs are immutable
    assert base.merged(Catalog()).names() == base.names()


def test_references_must_exist_and_not_cycle() -> None:
    def sql(*tables: str) -> SqlDataset:
        return SqlDataset("SELECT 1", tables={t: t for t in tables})

    with pytest.raises(
        DatasetConfigError, match=r"dataset 'a': .*'b'.*not in the catalog \(did you mean 'bb'\?\)"
    ):
        Catalog({"a": sql("b"), "bb": sql()})
    with pytest.raises(DatasetConfigError, match="a -> b -> a"):
        Catalog({"a": sql("b"), "b": sql("a")})
    chained = Catalog({"a": sql(), "b": sql("a"), "c": sql("b", "a")})
    assert chained.load("c").iloc[0, 0] == 1


def test_python_catalog_refuses_bad_names_and_values() -> None:
    with pytest.raises(DatasetConfigError, match="dataset name"):
        Catalog({"": CsvDataset("x.csv")})
    with pytest.raises(DatasetConfigError, match="must be a Dataset"):
        Catalog({"x": "x.csv"})  # type: ignore[dict-item]


def test_errors_name_the_dataset(isolated_project: Path) -> None:
    catalog = Catalog({"flights": CsvDataset("data/flights.csv")})
    with pytest.raises(DatasetMissingError, match=r"^dataset 'flights': no data at .*flights.csv"):
        catalog.load("flights")
    assert not catalog.exists("flights")


def test_describe_is_json_and_hides_storage_option_values(isolated_project: Path) -> None:
    catalog = _catalog(EXAMPLE, {"S3_ENDPOINT": "http://secret-endpoint:9"})
    described = catalog.describe()
    text = json.dumps(described)
    assert "secret-endpoint" not in text
    assert described["weather"]["storage_options"] == {"endpoint_url": "***"}
    assert described["weather"]["type"] == "parquet"
    assert described["delayed"]["writable"] is False
    assert described["delayed"]["tables"] == {"flights": "flights"}
    assert described["reports"]["uri"] == str(isolated_project / "out" / "reports")


def test_datasets_pickle_for_worker_processes(isolated_project: Path, frame: pd.DataFrame) -> None:
    catalog = _catalog(EXAMPLE, {"S3_ENDPOINT": "http://127.0.0.1:9"})
    catalog.save("flights", frame)
    catalog["flights"].fingerprint()  # opens a file system, which must not travel
    for name in ("flights", "delayed", "reports"):
        copy = pickle.loads(pickle.dumps(catalog[name]))
        assert copy.describe() == catalog[name].describe()
    delayed = pickle.loads(pickle.dumps(catalog["delayed"]))
    assert delayed.load()["flight"].tolist() == [2, 4]
    assert delayed.fingerprint() == catalog.fingerprint("delayed")
