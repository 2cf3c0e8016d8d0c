"""A read-only SQL query run by DuckDB, whose result loads as a pandas DataFrame.

The query must be one ``SELECT`` (``WITH ... SELECT`` included), checked when
the dataset is built. It may read files, with paths relative to the project
folder (DuckDB's ``file_search_path``), and any fsspec URL such as
``memory://`` or ``s3://`` (the file system, made with ``storage_options``, is
registered with DuckDB), a DuckDB ``database`` file opened read-only, and
other catalog datasets as tables: ``tables`` maps a table name of the query to
a dataset name, which the catalog loads and hands to DuckDB. That is also the
way to query files DuckDB cannot read itself, such as a zipped CSV::

    delayed:
      type: sql
      query: "SELECT * FROM flights WHERE arr_delay > $minutes"
      parameters: {minutes: 15}
      tables: {flights: flights}

Fingerprint (``auto``): the query, its parameters and the fingerprints of what
it reads: the files named by its string literals and parameters (globs
expanded), the database file and the tables' datasets. When none of these is
found (the query reads an HTTP URL, or nothing), or with ``fingerprint:
result``, the query is run and its result hashed.
"""

from __future__ import annotations

import copy
import dataclasses
import glob
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from loopml.core.hashing import sha256_bytes, stable_hash
from loopml.pipelines.catalog.base import Dataset
from loopml.pipelines.catalog.config import DatasetConfig, parse_config
from loopml.pipelines.catalog.errors import DatasetConfigError, DatasetIOError, io_errors
from loopml.pipelines.catalog.location import Location, is_url

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NATIVE_PROTOCOLS = frozenset({"file", "http", "https"})
_ZIP_HINT = (
    "\nDuckDB cannot read .zip files: declare the file as a csv dataset and name it "
    "under this dataset's tables: (see loopml.pipelines.catalog.sql)"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SqlDatasetConfig(DatasetConfig):
    """Configuration of a :class:`SqlDataset`.

    Attributes:
        query: one ``SELECT`` statement; ``$name`` placeholders take ``parameters``.
        database: a DuckDB database file, opened read-only (relative to the project).
        parameters: values of the query's ``$name`` placeholders.
        tables: table name in the query -> name of the catalog dataset it reads.
        storage_options: fsspec options for the URLs the query reads.
        fingerprint: ``auto`` or ``result`` (see the module docstring).
    """

    type: str = "sql"
    query: str
    database: str | None = None
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tables: Mapping[str, str] = dataclasses.field(default_factory=dict)
    storage_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fingerprint: Literal["auto", "result"] = "auto"


class SqlDataset(Dataset):
    """The result of a read-only DuckDB query, as a pandas DataFrame.

    Args:
        query: one ``SELECT`` statement.
        database: a DuckDB database file to query, opened read-only.
        parameters: values of the query's ``$name`` placeholders.
        tables: table name -> a :class:`Dataset` (or, in a catalog, a dataset's name).
        storage_options: fsspec options for the URLs the query reads.
        fingerprint: ``auto`` or ``result``.
        base_dir: the folder relative paths are resolved against (default: the current one).

    Raises:
        DatasetConfigError: if the query is not one valid ``SELECT``, or a field is bad.
    """

    config_type = SqlDatasetConfig
    config: SqlDatasetConfig
    writable = False

    def __init__(
        self,
        query: str,
        *,
        database: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        tables: Mapping[str, Dataset | str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        fingerprint: Literal["auto", "result"] = "auto",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.tables: dict[str, Dataset | str] = dict(tables or {})
        raw = {
            "query": query,
            "database": database,
            "parameters": parameters or {},
            "tables": {k: v if isinstance(v, str) else repr(v) for k, v in self.tables.items()},
            "storage_options": storage_options or {},
            "fingerprint": fingerprint,
        }
        self.config = parse_config(SqlDatasetConfig, raw)
        for view in self.tables:
            if not _IDENTIFIER.match(view):
                raise DatasetConfigError(
                    f"table name {view!r} is not an identifier", field="tables"
                )
        _check_query(query)
        self.base_dir = Path(base_dir if base_dir is not None else Path.cwd()).absolute()
        self._database: str | None = None
        if database is not None:
            if is_url(database) or not database.strip():
                raise DatasetConfigError(
                    "field 'database' must be a local DuckDB file", field="database"
                )
            self._database = Location(database, base_dir=self.base_dir).url

    def __repr__(self) -> str:
        return f"SqlDataset({self.config.query!r:.60})"

    def references(self) -> frozenset[str]:
        return frozenset(v for v in self.tables.values() if isinstance(v, str))

    def resolve(self, datasets: Mapping[str, Dataset]) -> SqlDataset:
        resolved = copy.copy(self)
        resolved.tables = {
            view: datasets[ref] if isinstance(ref, str) else ref
            for view, ref in self.tables.items()
        }
        return resolved

    def load(self) -> Any:
        """Run the query and return its result as a pandas DataFrame."""
        tables = {view: self._table(view).load() for view in self.tables}
        con = self._connect()
        try:
            with io_errors(f"the query {self.config.query!r:.80}", reading=True):
                for view, data in tables.items():
                    con.register(view, _arrow(data))
                return con.execute(self.config.query, dict(self.config.parameters) or None).df()
        except DatasetIOError as exc:
            if not any(s.endswith(".zip") for s in _LITERAL.findall(self.config.query)):
                raise
            raise DatasetIOError(exc.message + _ZIP_HINT) from exc.__cause__
        finally:
            con.close()

    def save(self, obj: Any) -> None:
        """Refuse: a query cannot be written to."""
        self._refuse_save()

    def exists(self) -> bool:
        """True when the database file (if any) and every table's dataset exist.

        Files a query reads are not checked: a query may read an optional glob.
        """
        if self._database is not None and not os.path.isfile(self._database):
            return False
        return all(self._table(view).exists() for view in self.tables)

    def fingerprint(self) -> str:
        """The query, its parameters and what it reads, or its result (module docstring)."""
        inputs: dict[str, Any] = {}
        if self.config.fingerprint == "auto":
            inputs = self._input_identities()
        if not inputs:
            inputs = {"result": self._result_hash()}
        return stable_hash({"config": self._config_hash("query", "parameters"), "inputs": inputs})

    def _input_identities(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        if self._database is not None:
            inputs["database"] = Location(self._database, base_dir=self.base_dir).fingerprint_data(
                "auto"
            )
        files = self._read_files()
        if files:
            inputs["files"] = files
        if self.tables:
            inputs["tables"] = {view: self._table(view).fingerprint() for view in self.tables}
        return inputs

    def _read_files(self) -> list[list[Any]]:
        """Identities of the existing files named by the query's literals and parameters."""
        candidates = [m.replace("''", "'") for m in _LITERAL.findall(self.config.query)]
        candidates += [v for v in self.config.parameters.values() if isinstance(v, str)]
        found: dict[str, Any] = {}
        for candidate in candidates:
            if "/" in candidate or "." in candidate:
                found.update(self._matching(candidate))
        return [[path, found[path]] for path in sorted(found)]

    def _matching(self, pattern: str) -> dict[str, Any]:
        location = Location(
            pattern, base_dir=self.base_dir, storage_options=self.config.storage_options
        )
        with io_errors(pattern, reading=True):
            if location.local:
                paths = [p for p in glob.glob(location.url, recursive=True) if os.path.isfile(p)]
                return {p: location.file_identity(p, "auto") for p in paths}
            fs, path = location.filesystem()
            infos = fs.glob(path, detail=True) if glob.has_magic(path) else _info_or_none(fs, path)
            return {
                str(name): location.file_identity(info, "auto")
                for name, info in infos.items()
                if info.get("type") == "file"
            }

    def _result_hash(self) -> str:
        import pyarrow as pa

        frame = self.load()
        with io_errors(f"the result of {self.config.query!r:.80}", reading=True):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            sink = io.BytesIO()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
        return sha256_bytes(sink.getvalue())

    def _table(self, view: str) -> Dataset:
        dataset = self.tables[view]
        if isinstance(dataset, str):
            raise DatasetConfigError(
                f"table {view!r} names the dataset {dataset!r}: only a Catalog can resolve it",
                field="tables",
            )
        return dataset

    def _connect(self) -> Any:
        with io_errors(self._database or "DuckDB", reading=True):
            import duckdb

            if self._database is not None and not os.path.isfile(self._database):
                raise FileNotFoundError(self._database)
            con = duckdb.connect(self._database or ":memory:", read_only=bool(self._database))
            try:
                search_path = str(self.base_dir).replace("'", "''")
                con.execute(f"SET file_search_path = '{search_path}'")
                for protocol in self._protocols():
                    con.register_filesystem(self._filesystem(protocol))
            except BaseException:
                con.close()
                raise
            return con

    def _protocols(self) -> set[str]:
        literals = _LITERAL.findall(self.config.query)
        literals += [v for v in self.config.parameters.values() if isinstance(v, str)]
        protocols = {text.split("://", 1)[0].lower() for text in literals if is_url(text)}
        return {p for p in protocols if p.isidentifier() and p not in _NATIVE_PROTOCOLS}

    def _filesystem(self, protocol: str) -> Any:
        import fsspec

        return fsspec.filesystem(protocol, **self.config.storage_options)


def _arrow(data: Any) -> Any:
    """A pandas DataFrame as an Arrow table, which every DuckDB version scans (pandas 3's
    ``str`` dtype is unknown to older DuckDB such as 1.1); anything else as it is."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        return data
    import pyarrow as pa

    return pa.Table.from_pandas(data, preserve_index=False)


def _info_or_none(fs: Any, path: str) -> dict[str, Any]:
    try:
        return {path: fs.info(path)}
    except FileNotFoundError:
        return {}


def _check_query(query: str) -> None:
    """Refuse anything but one ``SELECT`` statement, before any run."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise DatasetConfigError(f"field 'query' is not valid SQL: {exc}", field="query") from exc
    if len(statements) != 1:
        raise DatasetConfigError(
            f"field 'query' must hold one statement, not {len(statements)}", field="query"
        )
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = str(statements[0].type).rpartition(".")[2]
        raise DatasetConfigError(
            f"field 'query' must be a read-only SELECT, not {kind}", field="query"
        )
