"""The push API: fresh values written straight to the online store (and to the offline source).

Streaming ingestion pushes rows holding a view's join keys, its source's
event timestamp column and every feature. Online, a pushed row replaces the
stored record unless that one is newer; its created time is the push time
unless the row has the source's created timestamp column. Offline, the rows
are appended as a new Parquet file to the view's source, which must be a
folder of Parquet files, so later historical retrieval sees them too.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from loopml.features.definitions import Definitions, FeatureView, FileSource
from loopml.features.errors import FeatureInputError
from loopml.features.online.base import OnlineRecord, OnlineStore, Row, encode_key
from loopml.features.sources import source_path

PushTarget = Literal["online", "offline", "both"]
_KINDS = {
    "float64": (int, float),
    "float32": (int, float),
    "int64": (int,),
    "int32": (int,),
    "bool": (bool,),
    "string": (str,),
    "timestamp": (datetime,),
}


def as_rows(rows: Any) -> list[dict[str, Any]]:
    """Rows from a pandas DataFrame, a list of mappings or a mapping of columns."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return list(rows.to_dict("records"))
    if isinstance(rows, Mapping):
        names = list(rows)
        return [
            dict(zip(names, values, strict=True)) for values in zip(*rows.values(), strict=True)
        ]
    if isinstance(rows, Sequence) and all(isinstance(row, Mapping) for row in rows):
        return [dict(row) for row in rows]
    raise FeatureInputError("push rows as a DataFrame, a list of mappings or a mapping of columns")


def check_rows(definitions: Definitions, view: FeatureView, rows: list[dict[str, Any]]) -> None:
    """Every row has the join keys, the timestamp and every feature, of the declared types.

    Raises:
        FeatureInputError: naming the view and the first column that does not fit.
    """
    source = view.source
    needed = (*definitions.join_keys(view), source.timestamp)
    for index, row in enumerate(rows):
        for column in needed:
            if row.get(column) is None:
                raise FeatureInputError(f"row {index} has no value", view=view.name, column=column)
        if not isinstance(_plain(row[source.timestamp]), datetime):
            raise FeatureInputError(
                f"row {index}: the event time is not a datetime",
                view=view.name,
                column=source.timestamp,
            )
        for feature in view.features:
            if feature.name not in row:
                raise FeatureInputError(
                    f"row {index} lacks this feature", view=view.name, column=feature.name
                )
            _check_value(view, feature.name, feature.dtype, row[feature.name], index)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _check_value(view: FeatureView, name: str, dtype: str, value: Any, index: int) -> None:
    value = _plain(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return
    kinds = _KINDS[dtype]
    wrong = not isinstance(value, kinds) or (dtype != "bool" and isinstance(value, bool))
    if wrong:
        raise FeatureInputError(
            f"row {index}: {value!r} is not a {dtype}", view=view.name, column=name
        )


def _epoch(value: Any) -> float:
    moment = _plain(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return float(moment.timestamp())


def online_rows(
    definitions: Definitions, view: FeatureView, rows: list[dict[str, Any]]
) -> list[Row]:
    """(key, record) pairs of checked rows."""
    keys = definitions.join_keys(view)
    source = view.source
    now = time.time()
    stamps = {f.name for f in view.features if f.dtype == "timestamp"}
    out = []
    for row in rows:
        values = {f.name: _plain(row[f.name]) for f in view.features}
        for name in stamps:
            if values[name] is not None:
                values[name] = round(_epoch(values[name]) * 1e6)
        created = row.get(source.created_timestamp) if source.created_timestamp else None
        record = OnlineRecord(
            _epoch(row[source.timestamp]), values, now if created is None else _epoch(created)
        )
        out.append((encode_key([row[k] for k in keys]), record))
    return out


def push(
    definitions: Definitions,
    view: FeatureView,
    rows: Any,
    store: OnlineStore | None,
    *,
    to: PushTarget = "online",
    base_dir: Path,
) -> int:
    """Check ``rows`` against ``view``, then write them where ``to`` says.

    Returns:
        The number of records the online store took (or of rows written offline).
    """
    if to not in ("online", "offline", "both"):
        raise FeatureInputError(f"push to 'online', 'offline' or 'both', not {to!r}")
    plain = as_rows(rows)
    check_rows(definitions, view, plain)
    folder = _offline_folder(view, base_dir) if to != "online" else None
    written = len(plain)
    if folder is not None:
        _append_parquet(folder, plain)
    if to != "offline" and store is not None:
        written = store.put(view.name, online_rows(definitions, view, plain))
    return written


def _offline_folder(view: FeatureView, base_dir: Path) -> Path:
    source = view.source
    if not (
        isinstance(source, FileSource) and source.format == "parquet" and source.path.endswith("/")
    ):
        raise FeatureInputError(
            "offline pushes need a source that is a folder of Parquet files (a path ending in /)",
            view=view.name,
        )
    path = source_path(source, base_dir).split("**", 1)[0]
    if "://" in path:
        raise FeatureInputError("offline pushes write local folders only", view=view.name)
    return Path(path)


def _append_parquet(folder: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"push-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
    temp = folder / f".{target.name}.tmp"
    pq.write_table(pa.Table.from_pylist(rows), temp)
    os.replace(temp, target)
