"""Point-in-time correct historical retrieval: one DuckDB query with one ASOF JOIN per view.

For each entity row and its timestamp ``t``, a view gives the values of the
latest source row with the same join keys and an event time at or before
``t`` (never a later one); if that row is older than ``t - ttl`` the values are
null, and so are they when there is no earlier row. Rows of one key and
event time are told apart by the created timestamp (the latest wins; a row
without one loses), then, if still tied, by their values: the row whose
feature values (all the view declares, in order, as declared) have the
greatest DuckDB ``hash`` wins. That last rule is arbitrary but fixed: the
same rows in any order, file layout or format give the same result, and
materialization follows it too, so online equals offline. All
views are joined in one query that DuckDB runs over the sources where they
lie, spilling to disk when they do not fit in memory; Python only sees the
entity keys going in and the feature columns coming out.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from loopml.features.definitions import Definitions
from loopml.features.errors import FeatureInputError
from loopml.features.selection import Features, Selection, ViewPart, select
from loopml.features.sources import (
    INTEGERS,
    SourceSchema,
    cast,
    check_view,
    connect,
    created_order,
    family,
    quote,
    relation,
    schema,
    tie_order,
)

ROW = "__loopml_row"
TS = "__loopml_ts"
ORDER = "__loopml_order"
_ORDER = "__loopml_bound"
_ORDER_CREATED = "__loopml_bound_created"
MAX_HASH = "18446744073709551615::UBIGINT"


@dataclasses.dataclass(frozen=True)
class PreparedView:
    """A view part with the SQL that reads its source and what its schema says."""

    part: ViewPart
    from_item: str
    schema: SourceSchema


def get_historical_features(
    definitions: Definitions,
    entity_df: Any,
    features: Features,
    *,
    timestamp_column: str = "event_timestamp",
    full_names: bool = False,
    base_dir: Path | None = None,
) -> Any:
    """The entity frame with, for each row, the feature values as of its timestamp.

    Args:
        definitions: the feature repository.
        entity_df: a pandas DataFrame with the join keys of every view asked for
            and ``timestamp_column`` (datetimes; aware exactly when the sources' are).
        features: a feature service (name or object) or a list of ``view:feature``.
        timestamp_column: the entity frame's timestamp column.
        full_names: name the columns ``view__feature``.
        base_dir: the folder relative source paths are taken from (default: current one).

    Returns:
        A copy of ``entity_df`` (same index and row order) with one column per feature.

    Raises:
        FeatureNotFoundError: for an unknown service, view or feature.
        FeatureInputError: naming the view and the column, if the entity frame or a
            source does not fit; raised before the join runs.
    """
    selection = select(definitions, features, full_names=full_names)
    aware = _check_entities(entity_df, selection, timestamp_column)
    connection = connect()
    try:
        prepared = prepare_views(connection, selection, base_dir or Path.cwd())
        for view in prepared:
            _check_against_entities(view, entity_df, timestamp_column, aware)
        connection.register(
            "__loopml_entities", _entity_table(entity_df, selection, timestamp_column)
        )
        frame = connection.sql(build_query(prepared, aware)).df()
    finally:
        connection.close()
    return _assemble(entity_df, frame, selection)


def prepare_views(connection: Any, selection: Selection, base_dir: Path) -> list[PreparedView]:
    """Read each view's source schema and check it against the definition."""
    prepared = []
    for part in selection.views:
        from_item = relation(part.view.source, base_dir, connection)
        columns = schema(connection, from_item, part.view.name)
        prepared.append(
            PreparedView(part, from_item, check_view(part.view, part.join_keys, columns))
        )
    return prepared


def _check_entities(entity_df: Any, selection: Selection, timestamp_column: str) -> bool:
    import pandas as pd

    if not isinstance(entity_df, pd.DataFrame):
        raise FeatureInputError(
            f"the entity frame is a pandas DataFrame, not {type(entity_df).__name__}"
        )
    for part in selection.views:
        for key in part.join_keys:
            if key not in entity_df.columns:
                raise FeatureInputError(
                    "the entity frame has no such join key column", view=part.view.name, column=key
                )
    if timestamp_column not in entity_df.columns:
        raise FeatureInputError(
            "the entity frame has no such timestamp column (pass timestamp_column=...)",
            column=timestamp_column,
        )
    stamps = entity_df[timestamp_column]
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        raise FeatureInputError(
            f"the entity frame's timestamps are {stamps.dtype}, not datetimes "
            "(convert with pandas.to_datetime)",
            column=timestamp_column,
        )
    for column in (*selection.columns, *selection.hidden):
        if column in entity_df.columns:
            raise FeatureInputError(
                "the entity frame already has a column of this feature's name", column=column
            )
    return isinstance(stamps.dtype, pd.DatetimeTZDtype)


def _check_against_entities(
    view: PreparedView, entity_df: Any, timestamp_column: str, aware: bool
) -> None:
    name = view.part.view.name
    if view.schema.timestamp_aware != aware:
        said = "aware" if aware else "naive"
        other = "aware (UTC)" if view.schema.timestamp_aware else "naive"
        hint = "tz_convert(None)" if aware else "tz_localize('UTC')"
        raise FeatureInputError(
            f"the entity frame's timestamps are timezone-{said} but the source's "
            f"{view.part.view.source.timestamp!r} is {other}: use .dt.{hint}",
            view=name,
            column=timestamp_column,
        )
    for key in view.part.join_keys:
        numeric = entity_df[key].dtype.kind in "iub"
        source_numeric = family(view.schema.columns[key]) in INTEGERS
        if numeric != source_numeric:
            raise FeatureInputError(
                f"the entity frame's keys are {entity_df[key].dtype} but the source's are "
                f"{view.schema.columns[key]}",
                view=name,
                column=key,
            )


def _entity_table(entity_df: Any, selection: Selection, timestamp_column: str) -> Any:
    import numpy as np
    import pyarrow as pa

    columns = {key: pa.array(entity_df[key]) for key in selection.join_keys}
    columns[TS] = pa.array(entity_df[timestamp_column])
    columns[ROW] = pa.array(np.arange(len(entity_df)))
    return pa.table(columns)


def build_query(views: list[PreparedView], aware: bool) -> str:
    """The one query joining every view to the registered entity table.

    Each ASOF JOIN compares one struct per row instead of the bare event time:
    ``(event time, created time, tie hash)`` on the source side, ``(entity time,
    +infinity, maximum hash)`` on the entity side, so among the rows at or before
    the entity time the latest wins, then the latest created, then the greatest
    hash of the values (see :func:`~loopml.features.sources.tie_order`).
    """
    stamp = "TIMESTAMPTZ" if aware else "TIMESTAMP"
    selects, joins = [], []
    for i, view in enumerate(views):
        alias = f"v{i}"
        part = view.part
        ttl = part.view.ttl
        for j, column in enumerate(part.columns):
            value = f"{alias}.f{j}"
            if ttl is not None:
                micros = round(ttl.total_seconds() * 1e6)
                value = (
                    f"CASE WHEN e.{TS} - {alias}.{TS} <= to_microseconds({micros}) THEN {value} END"
                )
            selects.append(f"{value} AS {quote(column)}")
        on = " AND ".join(f"e.{quote(k)} = {alias}.k{j}" for j, k in enumerate(part.join_keys))
        bound = _ORDER_CREATED if part.view.source.created_timestamp else _ORDER
        joins.append(
            f"ASOF LEFT JOIN ({_view_subquery(view, stamp)}) AS {alias} "
            f"ON {on} AND e.{bound} >= {alias}.{ORDER}"
        )
    infinity = f"'infinity'::{stamp}"
    return (
        f"WITH e AS (SELECT *, "
        f"CASE WHEN {TS} IS NOT NULL THEN {{'t': {TS}, 'h': {MAX_HASH}}} END AS {_ORDER}, "
        f"CASE WHEN {TS} IS NOT NULL THEN {{'t': {TS}, 'c': {infinity}, 'h': {MAX_HASH}}} END "
        f"AS {_ORDER_CREATED} "
        f"FROM (SELECT * REPLACE (CAST({TS} AS {stamp}) AS {TS}) FROM __loopml_entities)) "
        f"SELECT e.{ROW}, {', '.join(selects)} FROM e {' '.join(joins)} ORDER BY e.{ROW}"
    )


def _view_subquery(view: PreparedView, stamp: str) -> str:
    part, source = view.part, view.part.view.source
    columns = view.schema.columns
    keys = ", ".join(f"{quote(k)} AS k{j}" for j, k in enumerate(part.join_keys))
    features = ", ".join(
        f"{cast(name, part.view.feature(name).dtype, columns)} AS f{j}"
        for j, name in enumerate(part.features)
    )
    ts = quote(source.timestamp)
    created = created_order(source, stamp)
    order = f"'t': CAST({ts} AS {stamp}), " + (f"'c': {created}, " if created else "")
    order += f"'h': {tie_order(part.view, columns)}"
    return (
        f"SELECT {keys}, CAST({ts} AS {stamp}) AS {TS}, {{{order}}} AS {ORDER}, {features} "
        f"FROM {view.from_item} AS s WHERE {ts} IS NOT NULL"
    )


def _assemble(entity_df: Any, frame: Any, selection: Selection) -> Any:
    import pandas as pd

    frame = frame.drop(columns=[ROW])
    frame.index = entity_df.index
    result = pd.concat([entity_df, frame], axis=1)
    for part in selection.on_demand:
        from loopml.features.ondemand import apply_on_demand

        apply_on_demand(part, result)
    if selection.hidden:
        result = result.drop(columns=list(selection.hidden))
    return result
