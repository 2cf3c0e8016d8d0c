"""CSV files read and written with pandas, on a local path or any fsspec URL.

Compression follows the file name as pandas infers it (``.csv.gz``,
``.csv.zip``...). ``save`` writes without the index unless
``save_options`` says ``index: true``, so what loads equals what was saved.

.. code-block:: yaml

    flights:
      type: csv
      path: data/flights.csv.zip
      load_options: {parse_dates: [time_hour]}
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
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

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
DEFLATED = zipfile.ZIP_DEFLATED


@dataclasses.dataclass(frozen=True, kw_only=True)
class CsvDatasetConfig(FileDatasetConfig):
    """Configuration of a :class:`CsvDataset`.

    Attributes:
        load_options: keyword arguments of :func:`pandas.read_csv`.
        save_options: keyword arguments of :meth:`pandas.DataFrame.to_csv`.
    """

    type: str = "csv"
    load_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    save_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class CsvDataset(FileDataset):
    """A CSV file as a pandas DataFrame.

    Args:
        path: a local path (relative to ``base_dir``) or an fsspec URL.
        load_options: keyword arguments of :func:`pandas.read_csv`.
        save_options: keyword arguments of :meth:`pandas.DataFrame.to_csv`.
        storage_options: fsspec options for URLs.
        fingerprint: ``auto``, ``content`` or ``metadata`` (see ``FileDatasetConfig``).
        base_dir: the folder relative paths are resolved against (default: the current one).

    Raises:
        DatasetConfigError: on a bad field, or an option pandas does not take.
    """

    config_type = CsvDatasetConfig
    config: CsvDatasetConfig
    load_fields = ("load_options",)

    def __init__(
        self,
        path: str,
        *,
        load_options: Mapping[str, Any] | None = None,
        save_options: Mapping[str, Any] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: FingerprintMode = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        raw = {
            "path": path,
            "load_options": load_options or {},
            "save_options": save_options or {},
            "storage_options": storage_options or {},
            "fingerprint": fingerprint,
        }
        self.config = parse_config(CsvDatasetConfig, raw)
        if self.config.load_options or self.config.save_options:
            import pandas as pd

            reserved = {"filepath_or_buffer", "path_or_buf", "storage_options"}
            check_options(pd.read_csv, self.config.load_options, "load_options", reserved=reserved)
            check_options(
                pd.DataFrame.to_csv, self.config.save_options, "save_options", reserved=reserved
            )
        self._locate(base_dir)

    def load(self) -> Any:
        """Read the file into a DataFrame with ``load_options``."""
        url, storage_options = self.location.pandas_target()
        with io_errors(url, reading=True):
            import pandas as pd

            return pd.read_csv(url, storage_options=storage_options, **self.config.load_options)

    def save(self, obj: Any) -> None:
        """Write a DataFrame (or Series) atomically, without its index unless asked.

        Raises:
            DatasetValueError: if ``obj`` is not a pandas DataFrame or Series.
        """
        import pandas as pd

        if not isinstance(obj, pd.DataFrame | pd.Series):
            raise DatasetValueError(f"{self!r} saves pandas DataFrames, not {type(obj).__name__}")
        options = {"index": False, **self.config.save_options}
        self.location.write_file(lambda temp: _write_csv(obj, temp, options))


def _write_csv(frame: Any, path: str, options: dict[str, Any]) -> None:
    """Write ``frame`` to ``path``; equal frames give equal bytes, so equal fingerprints.

    gzip and zip store the time of writing, which would change the bytes of each
    save: unless ``compression`` is given, gzip gets ``mtime=0`` and zip members a
    fixed date.
    """
    if "compression" in options or not path.endswith((".gz", ".zip")):
        frame.to_csv(path, **options)
    elif path.endswith(".gz"):
        frame.to_csv(path, compression={"method": "gzip", "mtime": 0}, **options)
    else:
        text = frame.to_csv(None, **options)
        member = zipfile.ZipInfo(os.path.basename(path)[: -len(".zip")], ZIP_DATE)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, text.encode(options.get("encoding") or "utf-8"), DEFLATED)
