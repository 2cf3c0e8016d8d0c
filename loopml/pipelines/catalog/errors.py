"""Errors of the data catalog.

Each one is a :class:`CatalogError` and also the generic kind from
:mod:`loopml.core.errors`, so callers may catch either::

    CatalogError (LoopMLError)
    ├── DatasetNotFoundError (+ NotFoundError, KeyError)  no dataset of that name in the catalog
    ├── DatasetConfigError   (+ ConfigError)        a dataset's configuration is wrong
    ├── DatasetTypeError     (+ InvalidInputError)  a dataset type cannot be registered
    ├── DatasetValueError    (+ InvalidInputError)  save() refused the value; nothing was written
    ├── DatasetMissingError  (+ NotFoundError)      the dataset is declared but holds no data yet
    └── DatasetIOError       (+ BackendError)       reading or writing failed (storage, format, SQL)

Backend exceptions (``OSError``, pandas, pyarrow, DuckDB, botocore) become
:class:`DatasetIOError` or :class:`DatasetMissingError` at one boundary,
:func:`io_errors`, with ``raise ... from exc``.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator

from loopml.core.errors import (
    BackendError,
    ConfigError,
    InvalidInputError,
    LoopMLError,
    NotFoundError,
)


class CatalogError(LoopMLError):
    """Root of the errors raised by :mod:`loopml.pipelines.catalog`.

    Attributes:
        dataset: the name of the dataset concerned, once known (the catalog fills it in).
    """

    error_code = "catalog_error"

    def __init__(self, message: str, *, dataset: str | None = None) -> None:
        super().__init__(message)
        self.dataset = dataset

    def for_dataset(self, name: str) -> CatalogError:
        """Return the same error about the dataset ``name``: same class, message prefixed."""
        if self.dataset is not None:
            return self
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        CatalogError.__init__(copy, f"dataset {name!r}: {self.message}", dataset=name)
        return copy


class DatasetNotFoundError(CatalogError, NotFoundError, KeyError):
    """The catalog holds no dataset of that name; the message suggests the closest one.

    Also a ``KeyError``, since a :class:`~loopml.pipelines.catalog.Catalog` is a mapping.
    """

    error_code = "dataset_not_found"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class DatasetConfigError(CatalogError, ConfigError):
    """A dataset's configuration is wrong: raised when the catalog is built, before any run.

    Attributes:
        field: the configuration field at fault (``"path"``, ``"type"``...), if one is.
    """

    error_code = "dataset_config_error"

    def __init__(
        self, message: str, *, dataset: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, dataset=dataset)
        self.field = field


class DatasetTypeError(CatalogError, InvalidInputError):
    """A dataset type cannot be registered: bad name, not a Dataset class, or name taken."""

    error_code = "dataset_type_error"


class DatasetValueError(CatalogError, InvalidInputError):
    """``save`` refused the value (wrong type, a file name leaving the folder, a read-only
    dataset). Nothing was written."""

    error_code = "dataset_value_error"


class DatasetMissingError(CatalogError, NotFoundError):
    """The dataset is declared, but nothing is stored at its location yet."""

    error_code = "dataset_missing"


class DatasetIOError(CatalogError, BackendError):
    """Reading or writing the dataset failed: the storage (disk, network, service), the
    format (the bytes are not CSV or Parquet) or the SQL engine."""

    error_code = "dataset_io_error"


_BACKEND_MODULES = frozenset(
    {"botocore", "aiobotocore", "s3fs", "gcsfs", "adlfs", "fsspec", "pyarrow", "pandas", "duckdb"}
)


@contextlib.contextmanager
def io_errors(where: str, *, reading: bool) -> Iterator[None]:
    """The one boundary where storage, format and engine exceptions become catalog errors.

    Args:
        where: the path or URL concerned, for the message.
        reading: a missing file means missing data when reading, a failure when writing.

    Raises:
        DatasetMissingError: a file was not found while reading.
        DatasetConfigError: a library the location needs is not installed (``s3fs``...).
        DatasetIOError: any other storage, format or engine failure.
    """
    try:
        yield
    except LoopMLError:
        raise
    except FileNotFoundError as exc:
        if reading:
            raise DatasetMissingError(f"no data at {where}") from exc
        raise DatasetIOError(f"cannot write {where}: {exc}") from exc
    except ImportError as exc:
        raise DatasetConfigError(f"cannot open {where}: {exc}", field="path") from exc
    except Exception as exc:
        if not _is_backend_error(exc):
            raise
        verb = "read" if reading else "write"
        raise DatasetIOError(f"cannot {verb} {where}: {exc}") from exc


def _is_backend_error(exc: Exception) -> bool:
    if isinstance(exc, OSError | ValueError | EOFError | NotImplementedError | zipfile.BadZipFile):
        return True
    return type(exc).__module__.split(".")[0].lstrip("_") in _BACKEND_MODULES
