"""Online lookup: the features of a few entities, from the online store, without pandas.

A :class:`OnlineLookup` is prepared once per request shape (the selection of
features); each call encodes the entity keys, makes one ``get`` per view and
drops values older than the view's TTL, so it returns what historical
retrieval would give at the current time. Only on-demand views use pandas.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from loopml.features.errors import FeatureInputError
from loopml.features.online.base import OnlineStore, encode_key
from loopml.features.selection import Selection

EntityRows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
"""Entity rows: a list of ``{join_key: value}``, or a mapping of join key to values."""


@dataclasses.dataclass(frozen=True)
class _ViewLookup:
    name: str
    join_keys: tuple[str, ...]
    features: tuple[str, ...]
    columns: tuple[str, ...]
    ttl: float | None
    stamps: frozenset[str]


class OnlineLookup:
    """Looks up one selection of features for entity rows.

    Args:
        selection: what to look up (see :func:`loopml.features.selection.select`).
        store: the online store.
    """

    def __init__(self, selection: Selection, store: OnlineStore) -> None:
        self.selection = selection
        self.store = store
        self._views = [
            _ViewLookup(
                part.view.name,
                part.join_keys,
                part.features,
                part.columns,
                None if part.view.ttl is None else part.view.ttl.total_seconds(),
                frozenset(f.name for f in part.view.features if f.dtype == "timestamp"),
            )
            for part in selection.views
        ]

    def __call__(self, entity_rows: EntityRows) -> dict[str, list[Any]]:
        """The join keys and features of each row, as columns (``None`` where missing).

        Raises:
            FeatureInputError: naming the view and the join key a row lacks.
        """
        rows = _as_rows(entity_rows)
        result: dict[str, list[Any]] = {
            key: [row.get(key) for row in rows] for key in self.selection.join_keys
        }
        now = time.time()
        for view in self._views:
            self._fill(view, rows, result, now)
        if self.selection.on_demand:
            from loopml.features.ondemand import on_demand_rows

            for part in self.selection.on_demand:
                on_demand_rows(part, result)
        for column in self.selection.hidden:
            del result[column]
        return result

    def _fill(
        self,
        view: _ViewLookup,
        rows: list[Mapping[str, Any]],
        result: dict[str, list[Any]],
        now: float,
    ) -> None:
        try:
            keys = [encode_key([row[k] for k in view.join_keys]) for row in rows]
        except KeyError as exc:
            raise FeatureInputError(
                "an entity row has no such join key", view=view.name, column=str(exc.args[0])
            ) from None
        records = self.store.get(view.name, keys)
        if view.ttl is not None:
            oldest = now - view.ttl
            records = [r if r is not None and r.event_time >= oldest else None for r in records]
        for feature, column in zip(view.features, view.columns, strict=True):
            values = [None if r is None else r.values.get(feature) for r in records]
            if feature in view.stamps:
                values = [None if v is None else _from_micros(v) for v in values]
            result[column] = values


def _as_rows(entity_rows: EntityRows) -> list[Mapping[str, Any]]:
    if isinstance(entity_rows, Mapping):
        names = list(entity_rows)
        columns = [list(entity_rows[name]) for name in names]
        if len({len(c) for c in columns}) > 1:
            raise FeatureInputError("the entity columns are not all of one length")
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    rows = list(entity_rows)
    if not all(isinstance(row, Mapping) for row in rows):
        raise FeatureInputError("entity rows are mappings of join key to value")
    return rows


def _from_micros(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1e6, tz=UTC)
