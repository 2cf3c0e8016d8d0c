"""The data catalog: named datasets that pipeline steps read and write by name.

A :class:`Catalog` maps names to :class:`Dataset` objects (``csv``,
``parquet``, ``sql`` through DuckDB, ``files`` for a folder of anything, and
types users add with :func:`register_dataset_type`), declared in Python or in
the ``catalog:`` section of ``loopml.yaml``, so the same pipeline runs on
other data by changing configuration only. Paths are local (relative to the
project folder) or any fsspec URL with ``storage_options``; writes are
atomic; each dataset gives a cheap ``fingerprint()`` of its content for cache
keys; ``${ENV_VAR}`` (or ``${ENV_VAR:-default}``) in YAML values is replaced
from the environment (``$$`` is a literal ``$``); bad configuration is
refused when the catalog is built.
Importing this package imports no data library (pandas, pyarrow, DuckDB,
fsspec): each is imported when first used. For example:

.. code-block:: yaml

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
        tables: {flights: flights}   # DuckDB cannot read .zip itself
      on_time:
        type: sql
        query: "SELECT * FROM read_parquet('data/flights/*.parquet') WHERE arr_delay <= 15"
      reports:
        type: files
        path: out/reports

.. code-block:: python

    catalog = Catalog.from_settings()          # or Catalog({"flights": CsvDataset(...)})
    frame = catalog.load("delayed")
    catalog.save("reports", {"summary.md": b"# Delays", "plots/by_hour.png": png})
"""

from __future__ import annotations

from loopml.pipelines.catalog.base import Dataset, FileDataset
from loopml.pipelines.catalog.catalog import Catalog
from loopml.pipelines.catalog.config import DatasetConfig, FileDatasetConfig, parse_config
from loopml.pipelines.catalog.csv import CsvDataset, CsvDatasetConfig
from loopml.pipelines.catalog.errors import (
    CatalogError,
    DatasetConfigError,
    DatasetIOError,
    DatasetMissingError,
    DatasetNotFoundError,
    DatasetTypeError,
    DatasetValueError,
)
from loopml.pipelines.catalog.files import FileFolder, FilesDataset, FilesDatasetConfig
from loopml.pipelines.catalog.parquet import ParquetDataset, ParquetDatasetConfig
from loopml.pipelines.catalog.registry import (
    dataset_type,
    dataset_type_names,
    register_dataset_type,
    unregister_dataset_type,
)
from loopml.pipelines.catalog.sql import SqlDataset, SqlDatasetConfig

__all__ = [
    "Catalog",
    "CatalogError",
    "CsvDataset",
    "CsvDatasetConfig",
    "Dataset",
    "DatasetConfig",
    "DatasetConfigError",
    "DatasetIOError",
    "DatasetMissingError",
    "DatasetNotFoundError",
    "DatasetTypeError",
    "DatasetValueError",
    "FileDataset",
    "FileDatasetConfig",
    "FileFolder",
    "FilesDataset",
    "FilesDatasetConfig",
    "ParquetDataset",
    "ParquetDatasetConfig",
    "SqlDataset",
    "SqlDatasetConfig",
    "dataset_type",
    "dataset_type_names",
    "parse_config",
    "register_dataset_type",
    "unregister_dataset_type",
]
