"""Open a dataset for validation: a pandas frame, a pyarrow table, a Parquet/CSV file, or SQL.

Everything is read as Arrow columns that DuckDB scans in place. Files are not
loaded into pandas: DuckDB reads Parquet and CSV itself, only the columns a
query needs. Each column gets a *logical type* (``int``, ``float``, ``bool``,
``string``, ``timestamp``, ``date``, ``null`` for a column with no value at
all, ``mixed`` for a pandas column holding several Python types, ``other``
for the rest), the vocabulary of statistics, schemas and anomalies.

A pandas column holding mixed types (``[1, "a", 2.5]``) cannot become one
Arrow column; it is read as its values' text and typed ``mixed``, so the
other columns are still judged.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidInputError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

LOGICAL_TYPES = ("int", "float", "bool", "string", "timestamp", "date", "null", "mixed", "other")
NUMERIC_TYPES = frozenset({"int", "float"})
FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv"}


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of a dataset: its name, logical type and storage type (Arrow's name for it)."""

    name: str
    type: str
    physical: str


class Source:
    """A dataset opened for scanning: its columns, and a DuckDB view of it named ``data``.

    Build one with :func:`open_source`. ``name`` says where the data came from
    (a path, or ``"<DataFrame>"``). A frame's columns are converted to Arrow only
    when asked for; numeric NumPy columns are read in place. :meth:`close` the
    source (or use it as a context manager) when done.
    """

    def __init__(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        path: str | None = None,
        table: pa.Table | None = None,
        frame: Any = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        arrays: dict[str, pa.Array] | None = None,
    ) -> None:
        self.name = name
        self.columns = tuple(columns)
        self.path = path
        self.table = table
        self.frame = frame
        self._connection = connection
        self._arrays = arrays if arrays is not None else {}

    def __repr__(self) -> str:
        return f"<Source {self.name} ({len(self.columns)} columns)>"

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection of this source's own, where the data is the view ``data``."""
        if self._connection is None:
            import duckdb

            self._connection = duckdb.connect()
            self._connection.register("data", self.to_arrow())
        return self._connection

    @property
    def column_types(self) -> dict[str, str]:
        """Column name -> logical type, in the dataset's order."""
        return {column.name: column.type for column in self.columns}

    def rows(self) -> int:
        """The number of rows."""
        if self.frame is not None:
            return len(self.frame)
        if self.table is not None:
            return int(self.table.num_rows)
        return int(self.connection.execute("SELECT count(*) FROM data").fetchall()[0][0])

    def to_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The chosen columns (all by default) as a pyarrow table; only those are read."""
        import pyarrow as pa

        names = list(columns) if columns is not None else [c.name for c in self.columns]
        if self.table is not None:
            return self.table.select(names)
        if self.frame is not None:
            types = self.column_types
            fields = [
                _field(name, self._array(name), mixed=types[name] == "mixed") for name in names
            ]
            return pa.Table.from_arrays([self._array(n) for n in names], schema=pa.schema(fields))
        select = ", ".join(quote(name) for name in names)
        return self.connection.sql(f"SELECT {select} FROM data").to_arrow_table()

    def batches(self, columns: Sequence[str], rows: int = 1 << 20) -> Iterator[dict[str, Any]]:
        """The chosen columns, a batch of rows at a time (all at once when in memory).

        Values are NumPy arrays for a frame's numeric NumPy columns (read in place)
        and Arrow arrays otherwise. A file is streamed by DuckDB, ``rows`` at a time,
        so memory stays bounded whatever its size.
        """
        names = list(columns)
        if self.frame is not None:
            yield {name: self._values(name) for name in names}
        elif self.table is not None:
            yield {name: self.table.column(name) for name in names}
        elif names:
            select = ", ".join(quote(name) for name in names)
            reader = self.connection.sql(f"SELECT {select} FROM data").to_arrow_reader(rows)
            for batch in reader:
                yield {name: batch.column(i) for i, name in enumerate(names)}

    def _values(self, name: str) -> Any:
        series = self.frame[name]
        if _numpy_numeric(series.dtype):
            return series.to_numpy()
        return self._array(name)

    def _array(self, name: str) -> pa.Array:
        array = self._arrays.get(name)
        if array is None:
            array, _ = _series_to_arrow(self.frame[name])
            self._arrays[name] = array
        return array


def quote(name: str) -> str:
    """A column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A string as a DuckDB literal."""
    return "'" + value.replace("'", "''") + "'"


def open_source(data: Any, *, name: str | None = None, threads: int | None = None) -> Source:
    """Open ``data`` for scanning.

    Args:
        data: a ``pandas.DataFrame``, a ``pyarrow.Table`` or ``RecordBatch``, the
            path or fsspec URL of a Parquet or CSV file (or a glob of them), or a
            :class:`Source` (returned as is).
        name: what to call the dataset in reports (default: its path).
        threads: DuckDB threads (default: DuckDB's, one per core).

    Raises:
        InvalidInputError: if ``data`` is none of these, or the file is missing
            or unreadable.
    """
    if isinstance(data, Source):
        return data
    if isinstance(data, str | os.PathLike):
        return _open_file(os.fspath(data), name, threads)
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and type(data).__name__ == "DataFrame":
        return _open_frame(data, name)
    table = _as_arrow(data)
    columns = [_column(field) for field in table.schema]
    return Source(name or "<Table>", columns, table=table)


@contextmanager
def opened(data: Any, *, name: str | None = None) -> Iterator[Source]:
    """:func:`open_source` as a context manager that closes only what it opened."""
    source = open_source(data, name=name)
    try:
        yield source
    finally:
        if source is not data:
            source.close()


def _open_file(path: str, name: str | None, threads: int | None) -> Source:
    import duckdb

    kind = file_format(path)
    connection = duckdb.connect()
    try:
        if threads is not None:
            connection.execute(f"SET threads = {int(threads)}")
        if "://" in path and not path.startswith("file://"):
            _register_filesystem(connection, path)
        elif not any(ch in path for ch in "*?[") and not Path(path).is_file():
            raise InvalidInputError(f"no file at {path}")
        reader = "read_parquet" if kind == "parquet" else "read_csv"
        try:
            connection.execute(f"CREATE VIEW data AS SELECT * FROM {reader}({literal(path)})")
            described = connection.execute("DESCRIBE data").fetchall()
        except duckdb.Error as exc:
            raise InvalidInputError(f"cannot read {path} as {kind}: {exc}") from exc
    except BaseException:
        connection.close()
        raise
    columns = [_column_from_duckdb(str(row[0]), str(row[1])) for row in described]
    return Source(name or path, columns, path=path, connection=connection)


def file_format(path: str) -> str:
    """``parquet`` or ``csv``, from the file's extension.

    Raises:
        InvalidInputError: for any other extension.
    """
    suffix = Path(path.split("?", maxsplit=1)[0]).suffix.lower()
    if suffix in {".zip", ".gz"}:
        suffix = Path(Path(path).stem).suffix.lower()
    kind = FILE_FORMATS.get(suffix)
    if kind is None:
        known = ", ".join(sorted(FILE_FORMATS))
        raise InvalidInputError(f"cannot tell the format of {path}: use one of {known}")
    return kind


def _register_filesystem(connection: duckdb.DuckDBPyConnection, url: str) -> None:
    import fsspec

    protocol = url.split("://", 1)[0]
    try:
        connection.register_filesystem(fsspec.filesystem(protocol))
    except (ImportError, ValueError) as exc:
        raise InvalidInputError(f"cannot open {url}: {exc}") from exc


def _as_arrow(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    raise InvalidInputError(
        f"cannot read a {type(data).__qualname__} as a dataset: give a pandas DataFrame, a "
        "pyarrow Table, or the path of a Parquet or CSV file"
    )


def _open_frame(frame: Any, name: str | None) -> Source:
    """A frame's columns typed from their dtypes; others converted to Arrow (and kept)."""
    names = [str(n) for n in frame.columns]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(f"the frame has duplicated column names: {duplicated}")
    if list(frame.columns) != names:
        frame = frame.set_axis(names, axis=1)
    columns, arrays = [], {}
    for column in names:
        series = frame[column]
        if _numpy_numeric(series.dtype):
            kind = {"i": "int", "u": "int", "f": "float", "b": "bool"}[series.dtype.kind]
            columns.append(Column(column, kind, str(series.dtype)))
            continue
        array, mixed = _series_to_arrow(series)
        arrays[column] = array
        columns.append(_column(_field(column, array, mixed=mixed)))
    return Source(name or "<DataFrame>", columns, frame=frame, arrays=arrays)


def _numpy_numeric(dtype: Any) -> bool:
    import numpy as np

    return isinstance(dtype, np.dtype) and dtype.kind in "iufb"


MIXED = b"loopml.mixed"


def _series_to_arrow(series: Any) -> tuple[pa.Array, bool]:
    """A column as Arrow (NaN -> null); a column of mixed types becomes its values' text."""
    import pyarrow as pa

    try:
        return pa.array(series, from_pandas=True), False
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        text = [None if _missing(v) else str(v) for v in series]
        return pa.array(text, pa.string()), True


def _field(name: str, array: Any, *, mixed: bool) -> pa.Field:
    import pyarrow as pa

    return pa.field(name, array.type, metadata={MIXED: b"1"} if mixed else None)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _column(field: pa.Field) -> Column:
    mixed = bool(field.metadata and field.metadata.get(MIXED))
    return Column(field.name, "mixed" if mixed else logical_type(field.type), str(field.type))


def logical_type(arrow_type: pa.DataType) -> str:
    """The logical type of an Arrow type (see the module docstring)."""
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return logical_type(arrow_type.value_type)
    checks = (
        (t.is_boolean, "bool"),
        (t.is_integer, "int"),
        (t.is_floating, "float"),
        (t.is_decimal, "float"),
        (t.is_timestamp, "timestamp"),
        (t.is_date, "date"),
        (t.is_null, "null"),
    )
    for check, name in checks:
        if check(arrow_type):
            return name
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type):
        return "string"
    return "other"


_DUCKDB_TYPES = {
    "BOOLEAN": "bool",
    "DOUBLE": "float",
    "FLOAT": "float",
    "REAL": "float",
    "VARCHAR": "string",
    "DATE": "date",
    "NULL": "null",
    '"NULL"': "null",
}


def _column_from_duckdb(name: str, type_name: str) -> Column:
    upper = type_name.upper()
    if upper in _DUCKDB_TYPES:
        kind = _DUCKDB_TYPES[upper]
    elif upper.endswith(("INT", "INTEGER")):
        kind = "int"
    elif upper.startswith("DECIMAL"):
        kind = "float"
    elif upper.startswith("TIMESTAMP"):
        kind = "timestamp"
    else:
        kind = "other"
    return Column(name, kind, type_name)
