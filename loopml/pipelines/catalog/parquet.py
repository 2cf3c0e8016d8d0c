"""Parquet data read and written with pyarrow, as one file or as a (partitioned) folder.

The path names a folder when it ends with ``/`` or when ``partition_cols`` is
given; ``save`` then writes ``part-0.parquet`` (or one folder per partition
value, hive style, ``year=2013/part-0.parquet``) and replaces the whole
folder. ``load`` reads a file or a folder alike into a pandas DataFrame;
partition columns come back as categoricals, as pyarrow reads them.

.. code-block:: yaml

    weather:
      type: parquet
      path: s3://bucket/weather/
      storage_options: {endpoint_url: "${S3_ENDPOINT}"}
      partition_cols: [origin]
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from loopml.pipelines.catalog.base import FileDataset
from loopml.pipelines.catalog.config import (
    FileDatasetConfig,
    FingerprintMode,
    check_options,
    parse_config,
)
from loopml.pipelines.catalog.errors import DatasetValueError, io_errors

PART_NAME = "part-{i}.parquet"
"""Names of the files written in a folder: deterministic, so equal saves give equal folders."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParquetDatasetConfig(FileDatasetConfig):
    """Configuration of a :class:`ParquetDataset`.

    Attributes:
        load_options: keyword arguments of :func:`pandas.read_parquet` (``columns``,
            ``filters``...).
        save_options: keyword arguments of :func:`pyarrow.parquet.write_table`
            (``compression``, ``row_group_size``...).
        partition_cols: columns to partition a folder by (hive style).
    """

    type: str = "parquet"
    load_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    save_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    partition_cols: tuple[str, ...] | None = None


class ParquetDataset(FileDataset):
    """A Parquet file or folder of Parquet files, as a pandas DataFrame.

    ``save`` takes a pandas DataFrame or a pyarrow Table.

    Args:
        path: a local path (relative to ``base_dir``) or an fsspec URL; a trailing ``/``
            makes it a folder.
        load_options: keyword arguments of :func:`pandas.read_parquet`.
        save_options: keyword arguments of :func:`pyarrow.parquet.write_table`.
        partition_cols: columns to partition the folder by; implies a folder.
        storage_options: fsspec options for URLs.
        fingerprint: ``auto``, ``content`` or ``metadata`` (see ``FileDatasetConfig``).
        base_dir: the folder relative paths are resolved against (default: the current one).

    Raises:
        DatasetConfigError: on a bad field.
    """

    config_type = ParquetDatasetConfig
    config: ParquetDatasetConfig
    load_fields = ("load_options",)

    def __init__(
        self,
        path: str,
        *,
        load_options: Mapping[str, Any] | None = None,
        save_options: Mapping[str, Any] | None = None,
        partition_cols: tuple[str, ...] | list[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: FingerprintMode = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        raw = {
            "path": path,
            "load_options": load_options or {},
            "save_options": save_options or {},
            "partition_cols": partition_cols,
            "storage_options": storage_options or {},
            "fingerprint": fingerprint,
        }
        self.config = parse_config(ParquetDatasetConfig, raw)
        reserved = {"path", "where", "root_path", "storage_options", "filesystem"}
        for field in ("load_options", "save_options"):
            check_options(None, getattr(self.config, field), field, reserved=reserved)
        self.folder = path.endswith("/") or bool(self.config.partition_cols)
        self._locate(base_dir)

    def load(self) -> Any:
        """Read the file, or every Parquet file of the folder, into one DataFrame."""
        url, storage_options = self.location.pandas_target()
        with io_errors(url, reading=True):
            import pandas as pd

            return pd.read_parquet(url, storage_options=storage_options, **self.config.load_options)

    def save(self, obj: Any) -> None:
        """Write a DataFrame or a pyarrow Table, atomically (see the module docstring).

        Raises:
            DatasetValueError: if ``obj`` is neither, or lacks a partition column.
        """
        table = self._to_table(obj)
        options = dict(self.config.save_options)
        if not self.folder:
            self.location.write_file(lambda temp: _write_table(table, temp, options))
            return
        partitions = list(self.config.partition_cols or ())
        missing = [c for c in partitions if c not in table.column_names]
        if missing:
            raise DatasetValueError(f"{self!r}: the data has no partition column {missing}")
        self.location.write_folder(lambda stage: _write_folder(table, stage, partitions, options))

    def _to_table(self, obj: Any) -> Any:
        import pandas as pd
        import pyarrow as pa

        if isinstance(obj, pa.Table):
            return obj
        if isinstance(obj, pd.DataFrame):
            with io_errors(self.location.url, reading=False):
                return pa.Table.from_pandas(obj)
        raise DatasetValueError(
            f"{self!r} saves pandas DataFrames or pyarrow Tables, not {type(obj).__name__}"
        )


def _write_table(table: Any, path: str, options: dict[str, Any]) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, **options)


def _write_folder(table: Any, stage: str, partitions: list[str], options: dict[str, Any]) -> None:
    import pyarrow.parquet as pq

    if not partitions:
        pq.write_table(table, os.path.join(stage, PART_NAME.format(i=0)), **options)
        return
    pq.write_to_dataset(
        table,
        stage,
        partition_cols=partitions,
        basename_template=PART_NAME,
        existing_data_behavior="overwrite_or_ignore",
        **options,
    )
