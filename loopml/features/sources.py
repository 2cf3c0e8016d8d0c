"""Sources as DuckDB relations: the SQL that reads them, their schema, their identity.

DuckDB reads sources where they are (local files, fsspec URLs, queries), so a
source never has to fit in Python's memory. :func:`check_view` compares a
view's definition with its source's schema before any retrieval or
materialization starts, and names the view and the column when they differ.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.features.definitions import FeatureView, FileSource, Source, SqlSource
from loopml.features.errors import FeatureInputError

INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
FLOATS = frozenset({"FLOAT", "DOUBLE"})
AWARE_TIMESTAMPS = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMPTZ_NS"})
TIMESTAMPS = (
    frozenset({"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"})
    | AWARE_TIMESTAMPS
)
ACCEPTED = {
    "float64": FLOATS | INTEGERS | {"DECIMAL"},
    "float32": FLOATS | INTEGERS | {"DECIMAL"},
    "int64": INTEGERS,
    "int32": INTEGERS,
    "bool": frozenset({"BOOLEAN"}),
    "string": frozenset({"VARCHAR"}),
    "timestamp": TIMESTAMPS,
}
CAST = {
    "float64": "DOUBLE",
    "float32": "FLOAT",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
}


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A DuckDB literal for a reader option (text, number, boolean, list or mapping)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    raise FeatureInputError(f"a reader option is text, a number or a list, not {value!r}")


def family(duck_type: str) -> str:
    """``DECIMAL(18,3)`` -> ``DECIMAL``; other type names unchanged."""
    return duck_type.split("(", 1)[0].strip().upper()


def connect() -> Any:
    """A fresh in-memory DuckDB connection whose session time zone is UTC."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def source_path(source: FileSource, base_dir: Path) -> str:
    """The path or URL DuckDB reads: relative paths from ``base_dir``; a folder's files."""
    path = source.path
    if "://" not in path and not os.path.isabs(path):
        path = str(base_dir / path)
    if path.endswith("/"):
        path += f"**/*.{'csv' if source.format == 'csv' else 'parquet'}"
    return path


def relation(source: Source, base_dir: Path, connection: Any = None) -> str:
    """The SQL ``FROM`` item that reads ``source`` (registering fsspec for URLs).

    Args:
        source: the source.
        base_dir: the folder relative paths are taken from.
        connection: the DuckDB connection an fsspec file system is registered with.
    """
    if isinstance(source, SqlSource):
        return f"({source.query})"
    path = source_path(source, base_dir)
    protocol = path.split("://", 1)[0] if "://" in path else "file"
    if protocol not in ("file", "http", "https", "s3") and connection is not None:
        import fsspec

        connection.register_filesystem(fsspec.filesystem(protocol, **storage_options(source)))
    reader = "read_csv" if source.format == "csv" else "read_parquet"
    options = "".join(f", {k} = {literal(v)}" for k, v in source.options.items())
    return f"{reader}({literal(path)}{options})"


def created_order(source: Source, stamp: str) -> str | None:
    """The created time as it breaks ties: a row without one loses to every row with one."""
    if not source.created_timestamp:
        return None
    return f"coalesce(CAST({quote(source.created_timestamp)} AS {stamp}), '-infinity'::{stamp})"


def tie_order(view: FeatureView, columns: Mapping[str, str]) -> str:
    """The tie breaker of rows with the same keys, event time and created time.

    DuckDB's ``hash`` of every declared feature of the view, in declared order and
    cast to its declared type: it depends on the values only (never on row order,
    file layout or which features a request selects), and costs one pass over the
    rows, where a window sorting by the values doubled the time of a retrieval.
    Offline retrieval and materialization both let the greatest hash win.
    """
    return "hash(" + ", ".join(cast(f.name, f.dtype, columns) for f in view.features) + ")"


def cast(name: str, dtype: str, columns: Mapping[str, str]) -> str:
    """The source column ``name`` as the declared ``dtype`` (unchanged if it already is)."""
    target = CAST.get(dtype)
    found = columns[name]
    if target is None or family(found) == target:
        return quote(name)
    return f"CAST({quote(name)} AS {target})"


def schema(connection: Any, from_item: str, view: str) -> dict[str, str]:
    """Column name -> DuckDB type of a source, read from its metadata (no rows are scanned)."""
    try:
        rows = connection.execute(f"DESCRIBE SELECT * FROM {from_item} AS s").fetchall()
    except Exception as exc:  # duckdb.Error and its kinds: the source cannot be read
        raise FeatureInputError(f"cannot read its source: {exc}", view=view) from exc
    return {str(row[0]): str(row[1]) for row in rows}


@dataclasses.dataclass(frozen=True)
class SourceSchema:
    """What :func:`check_view` learnt of a view's source."""

    columns: Mapping[str, str]
    timestamp_aware: bool


def check_view(
    view: FeatureView, join_keys: tuple[str, ...], columns: Mapping[str, str]
) -> SourceSchema:
    """Check a source's columns against its view: present, and of the declared types.

    Raises:
        FeatureInputError: naming the view and the column that does not fit.
    """
    source = view.source
    for name in (*join_keys, source.timestamp):
        if name not in columns:
            raise FeatureInputError(
                f"its source has no column {name!r} (it has {', '.join(columns)})",
                view=view.name,
                column=name,
            )
    for name in filter(None, (source.timestamp, source.created_timestamp)):
        if name in columns and family(columns[name]) not in TIMESTAMPS:
            raise FeatureInputError(
                f"the source's timestamp column is {columns[name]}, not a timestamp",
                view=view.name,
                column=name,
            )
    for feature in view.features:
        found = columns.get(feature.name)
        if found is None:
            raise FeatureInputError(
                "its source has no such column", view=view.name, column=feature.name
            )
        if family(found) not in ACCEPTED[feature.dtype]:
            raise FeatureInputError(
                f"declared {feature.dtype} but the source column is {found}",
                view=view.name,
                column=feature.name,
            )
    return SourceSchema(dict(columns), family(columns[source.timestamp]) in AWARE_TIMESTAMPS)


def source_dataset(source: Source, base_dir: Path) -> Any:
    """The catalog dataset reading the same data (for its fingerprint and description)."""
    from loopml.pipelines.catalog import CsvDataset, ParquetDataset, SqlDataset

    if isinstance(source, SqlSource):
        return SqlDataset(source.query, base_dir=base_dir)
    cls = CsvDataset if source.format == "csv" else ParquetDataset
    return cls(source.path, storage_options=storage_options(source), base_dir=base_dir)


def storage_options(source: FileSource) -> dict[str, Any]:
    """The source's storage options with ``${NAME}`` replaced from the environment.

    Raises:
        FeatureInputError: if a variable referred to is not set.
    """
    from loopml.pipelines.catalog.config import interpolate_env
    from loopml.pipelines.catalog.errors import DatasetConfigError

    try:
        return dict(interpolate_env(dict(source.storage_options), os.environ))
    except DatasetConfigError as exc:
        raise FeatureInputError(f"source {source.path!r}: {exc}") from exc
