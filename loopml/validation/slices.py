"""Slices of an evaluation set: by the values of a column, by ranges of a number, by a condition.

.. code-block:: python

    slices = [
        Slice.by_values("origin"),                           # one group per airport
        Slice.by_ranges("distance", [0, 500, 1500, None]),   # [0, 500) [500, 1500) [1500, inf)
        Slice.where("night", "hour >= 20"),                  # one group: the rows that match
    ]

A :class:`Slice` is a frozen description, JSON-able with :meth:`Slice.to_dict`
(pipeline steps take slices as dicts); :meth:`Slice.groups` splits a frame
into ``(label, mask)`` pairs. Missing values belong to no range; by values,
they form the group ``(missing)``. ``where`` expressions are evaluated by
:meth:`pandas.DataFrame.eval`: they come from pipeline code, like any step
parameter, never from a request.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.core.errors import InvalidInputError

VALUES = "values"
RANGES = "ranges"
WHERE = "where"
KINDS = (VALUES, RANGES, WHERE)
MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"


@dataclasses.dataclass(frozen=True)
class Slice:
    """How to split an evaluation set into groups; build one with the class methods.

    Attributes:
        kind: ``"values"``, ``"ranges"`` or ``"where"``.
        name: what the slice is called in reports (the column by default).
        column: the column split by values or ranges.
        values: by values: the values to keep, each a group (None: every value).
        edges: by ranges: increasing bounds, ``None`` for an open first or last end.
        expression: where: a boolean pandas expression over the columns.
        max_values: by values, without ``values``: the most frequent values kept,
            the others grouped as ``(other)``.
    """

    kind: str
    name: str
    column: str | None = None
    values: tuple[Any, ...] | None = None
    edges: tuple[float | None, ...] = ()
    expression: str | None = None
    max_values: int = 50

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(f"slice kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not self.name:
            raise InvalidInputError("a slice needs a name")
        if self.kind in (VALUES, RANGES) and not self.column:
            raise InvalidInputError(f"slice {self.name!r}: slicing by {self.kind} needs a column")
        if self.kind == RANGES:
            _check_edges(self.name, self.edges)
        if self.kind == WHERE and not (self.expression or "").strip():
            raise InvalidInputError(f"slice {self.name!r}: 'where' needs an expression")
        if self.max_values < 1:
            raise InvalidInputError(f"slice {self.name!r}: max_values must be at least 1")

    @classmethod
    def by_values(
        cls,
        column: str,
        values: Sequence[Any] | None = None,
        *,
        name: str | None = None,
        max_values: int = 50,
    ) -> Slice:
        """One group per value of ``column`` (only ``values`` if given)."""
        kept = None if values is None else tuple(values)
        return cls(VALUES, name or column, column=column, values=kept, max_values=max_values)

    @classmethod
    def by_ranges(
        cls, column: str, edges: Sequence[float | None], *, name: str | None = None
    ) -> Slice:
        """One group per range ``[edges[i], edges[i + 1])``; ``None`` ends are open."""
        bounds = tuple(None if edge is None else float(edge) for edge in edges)
        return cls(RANGES, name or column, column=column, edges=bounds)

    @classmethod
    def where(cls, name: str, expression: str) -> Slice:
        """One group: the rows where ``expression`` (pandas ``eval`` syntax) is true."""
        return cls(WHERE, name, expression=expression)

    def labels(self) -> tuple[str, ...]:
        """The group labels known without data: ranges' and explicit values' (else empty)."""
        if self.kind == RANGES:
            return tuple(_range_label(low, high) for low, high in itertools.pairwise(self.edges))
        if self.kind == VALUES and self.values is not None:
            return tuple(str(value) for value in self.values)
        return ()

    def groups(self, frame: Any) -> list[tuple[str | None, Any]]:
        """Split ``frame`` (a pandas DataFrame) into ``(label, boolean NumPy mask)`` pairs.

        A ``where`` slice has one group labelled None; the others one per value or range,
        empty groups included when the values or ranges were given.

        Raises:
            InvalidInputError: if the column is missing, not numeric for ranges, or the
                expression cannot be evaluated to one boolean per row.
        """
        if self.kind == WHERE:
            return [(None, self._where_mask(frame))]
        if self.column not in frame.columns:
            raise InvalidInputError(
                f"slice {self.name!r}: no column {self.column!r} in the data "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        column = frame[self.column]
        return self._range_groups(column) if self.kind == RANGES else self._value_groups(column)

    def _where_mask(self, frame: Any) -> Any:
        import numpy as np
        import pandas as pd

        try:
            result = frame.eval(self.expression)
        except Exception as exc:
            raise InvalidInputError(
                f"slice {self.name!r}: cannot evaluate {self.expression!r}: {exc}"
            ) from exc
        if not isinstance(result, pd.Series) or len(result) != len(frame):
            raise InvalidInputError(
                f"slice {self.name!r}: {self.expression!r} does not give one value per row"
            )
        if not (pd.api.types.is_bool_dtype(result.dtype) or result.isna().all()):
            raise InvalidInputError(
                f"slice {self.name!r}: {self.expression!r} gives {result.dtype} values, "
                "not true/false"
            )
        return np.asarray(result.fillna(False), dtype=bool)

    def _range_groups(self, column: Any) -> list[tuple[str | None, Any]]:
        import numpy as np
        import pandas as pd

        if not (pd.api.types.is_numeric_dtype(column.dtype) or column.isna().all()):
            raise InvalidInputError(
                f"slice {self.name!r}: ranges need a numeric column, "
                f"{self.column!r} is {column.dtype}"
            )
        numbers = np.asarray(column.astype("float64"), dtype="float64")
        groups: list[tuple[str | None, Any]] = []
        for low, high in itertools.pairwise(self.edges):
            mask = ~np.isnan(numbers)
            if low is not None:
                mask &= numbers >= low
            if high is not None:
                mask &= numbers < high
            groups.append((_range_label(low, high), mask))
        return groups

    def _value_groups(self, column: Any) -> list[tuple[str | None, Any]]:
        import numpy as np

        missing = np.asarray(column.isna(), dtype=bool)
        if self.values is not None:
            return [(str(v), np.asarray(column == v, dtype=bool) & ~missing) for v in self.values]
        counts = column[~missing].value_counts(sort=False)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        kept = [value for value, _ in ranked[: self.max_values]]
        groups: list[tuple[str | None, Any]] = [
            (str(value), np.asarray(column == value, dtype=bool) & ~missing) for value in kept
        ]
        if len(ranked) > len(kept):
            other = ~missing & ~np.asarray(column.isin(kept), dtype=bool)
            groups.append((OTHER_LABEL, other))
        if missing.any():
            groups.append((MISSING_LABEL, missing))
        return groups

    def to_dict(self) -> dict[str, Any]:
        """The slice as JSON-able values (only the fields its kind uses)."""
        data: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.kind == WHERE:
            data["expression"] = self.expression
            return data
        data["column"] = self.column
        if self.kind == RANGES:
            data["edges"] = list(self.edges)
        else:
            data["max_values"] = self.max_values
            if self.values is not None:
                data["values"] = list(self.values)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slice:
        """A slice from :meth:`to_dict`'s form; ``name`` defaults to the column.

        Raises:
            InvalidInputError: if the dict does not describe a slice.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"a slice is a dict, not {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown slice field(s): {', '.join(unknown)}")
        values = dict(data)
        values.setdefault("name", values.get("column") or "")
        values.setdefault("kind", "")
        if "edges" in values:
            edges = values["edges"]
            values["edges"] = tuple(None if edge is None else float(edge) for edge in edges)
        if values.get("values") is not None:
            values["values"] = tuple(values["values"])
        return cls(**values)


def _check_edges(name: str, edges: Sequence[float | None]) -> None:
    if len(edges) < 2:
        raise InvalidInputError(f"slice {name!r}: ranges need at least two edges")
    inner = list(edges[1:-1])
    if any(edge is None for edge in inner):
        raise InvalidInputError(f"slice {name!r}: only the first and last edges may be None")
    finite = [edge for edge in edges if edge is not None]
    if any(not math.isfinite(edge) for edge in finite):
        raise InvalidInputError(f"slice {name!r}: edges must be finite numbers or None")
    if any(b <= a for a, b in itertools.pairwise(finite)):
        raise InvalidInputError(f"slice {name!r}: edges must increase: {list(edges)}")


def _range_label(low: float | None, high: float | None) -> str:
    left = "(-inf" if low is None else f"[{_number(low)}"
    right = "inf)" if high is None else f"{_number(high)})"
    return f"{left}, {right}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
