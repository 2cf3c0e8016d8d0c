"""Materialization: the latest values of each entity, from the offline source to the online store.

For a window ``(start, end]`` of event times DuckDB picks, per entity key, the
latest row in the window, ties broken as historical retrieval breaks them (the
latest created timestamp, then the greatest hash of the feature values; see
:func:`~loopml.features.sources.tie_order`), and streams
the result in Arrow batches of ``chunk_rows``; each batch is written to the
online store, which keeps a record only if it is not older than the stored
one. Memory stays bounded by the chunk size on the Python side and by
DuckDB's memory limit (it spills) on the engine side. A window starting
after the previous materialization's end makes it incremental.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.features.definitions import Definitions, FeatureView
from loopml.features.errors import FeatureInputError
from loopml.features.online.base import OnlineRecord, OnlineStore, Row, encode_key
from loopml.features.selection import ViewPart
from loopml.features.sources import (
    CAST,
    check_view,
    connect,
    created_order,
    family,
    quote,
    relation,
    schema,
    tie_order,
)

CHUNK_ROWS = 50_000


@dataclasses.dataclass(frozen=True)
class MaterializeResult:
    """What one view's materialization did."""

    view: str
    start: datetime | None
    end: datetime
    rows: int
    written: int
    execution_id: str | None = None


def materialize_view(
    definitions: Definitions,
    view: FeatureView,
    store: OnlineStore,
    *,
    start: datetime | None,
    end: datetime,
    base_dir: Path,
    chunk_rows: int = CHUNK_ROWS,
) -> MaterializeResult:
    """Write the latest value of each entity with an event time in ``(start, end]``.

    Raises:
        FeatureInputError: if the source does not fit the view (before anything is written).
    """
    if start is not None and start >= end:
        raise FeatureInputError(f"the window is empty: {start} is not before {end}", view=view.name)
    join_keys = definitions.join_keys(view)
    part = ViewPart(view, join_keys, tuple(f.name for f in view.features), ())
    connection = connect()
    try:
        from_item = relation(view.source, base_dir, connection)
        found = check_view(view, join_keys, schema(connection, from_item, view.name))
        query = latest_query(part, from_item, found.columns, found.timestamp_aware, start, end)
        rows = written = 0
        result = connection.sql(query)
        # DuckDB 2 renamed fetch_arrow_reader (and warns about the old name).
        reader = getattr(result, "to_arrow_reader", None) or result.fetch_arrow_reader
        reader = reader(chunk_rows)
        for batch in reader:
            records = list(_records(batch, len(join_keys), part.features))
            rows += len(records)
            written += store.put(view.name, records)
    finally:
        connection.close()
    return MaterializeResult(view.name, start, end, rows, written)


def latest_query(
    part: ViewPart,
    from_item: str,
    columns: dict[str, str] | Any,
    aware: bool,
    start: datetime | None,
    end: datetime,
) -> str:
    """The latest row per entity key with an event time in ``(start, end]``."""
    source = part.view.source
    ts = quote(source.timestamp)
    stamp = "TIMESTAMPTZ" if aware else "TIMESTAMP"
    keys = [quote(k) for k in part.join_keys]
    created = quote(source.created_timestamp) if source.created_timestamp else "NULL"
    values = [_value(name, part.view, columns) for name in part.features]
    where = [f"{ts} IS NOT NULL", f"CAST({ts} AS {stamp}) <= {_literal(end, stamp)}"]
    if start is not None:
        where.append(f"CAST({ts} AS {stamp}) > {_literal(start, stamp)}")
    tie = created_order(source, stamp)
    order = (
        f"{ts} DESC, " + (f"{tie} DESC, " if tie else "") + f"{tie_order(part.view, columns)} DESC"
    )
    return (
        f"SELECT {', '.join(keys)}, epoch(CAST({ts} AS {stamp})) AS __t, "
        f"coalesce(epoch(CAST({created} AS {stamp})), 0.0) AS __c, {', '.join(values)} "
        f"FROM {from_item} AS s WHERE {' AND '.join(where)} "
        f"QUALIFY row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY {order}) = 1"
    )


def _value(name: str, view: FeatureView, columns: Any) -> str:
    dtype = view.feature(name).dtype
    column = quote(name)
    if dtype == "timestamp":
        return f"epoch_us({column}) AS {column}"
    target = CAST[dtype]
    return column if family(columns[name]) == target else f"CAST({column} AS {target}) AS {column}"


def _literal(moment: datetime, stamp: str) -> str:
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"TIMESTAMPTZ '{text}+00'" if stamp == "TIMESTAMPTZ" else f"TIMESTAMP '{text}'"


def _records(batch: Any, n_keys: int, features: tuple[str, ...]) -> Iterator[Row]:
    """(key, record) pairs of one Arrow batch; timestamps stay epoch microseconds."""
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    keys, times, created = columns[:n_keys], columns[n_keys], columns[n_keys + 1]
    values = columns[n_keys + 2 :]
    for i in range(batch.num_rows):
        key = encode_key([k[i] for k in keys])
        record = {name: column[i] for name, column in zip(features, values, strict=True)}
        yield key, OnlineRecord(float(times[i]), record, float(created[i]))
