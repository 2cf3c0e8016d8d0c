"""Statistics of a dataset, computed by DuckDB over the columns in place.

:func:`compute_statistics` makes two or three passes with DuckDB, whatever
the input (a frame, an Arrow table, a Parquet or CSV file read by DuckDB
itself): one aggregate query over every column (counts, missing, distinct,
min/max/mean/std, quantiles, string lengths, time ranges), one histogram per
numeric column, and the value counts of each categorical column.

Missing means null or NaN. Infinities are counted apart and left out of the
numeric summary (a single ``inf`` would make the mean and the histogram
useless). Distinct counts are exact when the column's values are all listed
(categories) or the dataset is small, HyperLogLog estimates otherwise
(``unique_approximate``).

The result is deterministic: the same data gives equal statistics (and the
same artifact id when saved).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation.sources import NUMERIC_TYPES, Column, Source, opened, quote

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
CATEGORICAL_TYPES = frozenset({"string", "bool", "mixed"})
EXACT_UNIQUE_ROWS = 200_000


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Equal-width bins: ``counts[i]`` values in ``[edges[i], edges[i + 1])`` (last bin closed)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class NumericSummary:
    """Of the finite values of a numeric column; ``infinite`` counts both signs."""

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    zeros: int
    infinite: int
    negative_infinite: int
    quantiles: Mapping[str, float]
    histogram: Histogram | None


@dataclasses.dataclass(frozen=True)
class CategorySummary:
    """Values of a categorical column with their counts, most frequent first.

    ``complete`` says that ``values`` lists every distinct value; otherwise it
    holds the most frequent ones and ``other`` counts the rest.
    """

    values: tuple[tuple[str, int], ...]
    complete: bool
    other: int
    min_length: int | None = None
    mean_length: float | None = None
    max_length: int | None = None


@dataclasses.dataclass(frozen=True)
class TimeSummary:
    """The range of a timestamp or date column, in ISO 8601."""

    min: str | None
    max: str | None


@dataclasses.dataclass(frozen=True)
class FeatureStatistics:
    """The statistics of one column."""

    name: str
    type: str
    physical: str
    count: int
    missing: int
    unique: int
    unique_approximate: bool = False
    numeric: NumericSummary | None = None
    categories: CategorySummary | None = None
    time: TimeSummary | None = None

    @property
    def present(self) -> int:
        """Rows with a value."""
        return self.count - self.missing

    @property
    def missing_ratio(self) -> float:
        """Share of rows without a value (0 for an empty dataset)."""
        return self.missing / self.count if self.count else 0.0


@dataclasses.dataclass(frozen=True)
class DatasetStatistics:
    """The statistics of a dataset: its row count and one :class:`FeatureStatistics` per column."""

    name: str
    rows: int
    features: tuple[FeatureStatistics, ...]

    def __iter__(self) -> Iterator[FeatureStatistics]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.features)

    def __getitem__(self, name: str) -> FeatureStatistics:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (no NaN or infinity); :meth:`from_dict` reads it back."""
        return {"name": self.name, "rows": self.rows, "features": [_jsonable(f) for f in self]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetStatistics:
        """Rebuild statistics from :meth:`to_dict`'s output.

        Raises:
            InvalidInputError: if ``data`` is not such a dict.
        """
        try:
            features = tuple(_feature_from_dict(f) for f in data["features"])
            return cls(name=str(data["name"]), rows=int(data["rows"]), features=features)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not loopml dataset statistics: {exc!r}") from None

    def to_html(self) -> str:
        """A standalone HTML page: a table of the columns and a plot per column."""
        from loopml.validation.reports import statistics_html

        return statistics_html(self)


def compute_statistics(
    data: Any,
    *,
    name: str | None = None,
    bins: int = 20,
    max_categories: int = 1000,
    top_values: int = 20,
) -> DatasetStatistics:
    """Compute the statistics of a dataset.

    Args:
        data: a pandas DataFrame, a pyarrow Table, or the path (or fsspec URL) of a
            Parquet or CSV file; files are read by DuckDB, not loaded into pandas.
        name: what to call the dataset (default: its path).
        bins: histogram bins per numeric column.
        max_categories: a categorical column with at most this many distinct
            values has them all listed (enough to infer a schema's domain).
        top_values: how many values to list for a column with more.

    Raises:
        InvalidInputError: if the data cannot be read or an argument is out of range.
    """
    if bins < 1 or max_categories < 1 or top_values < 1:
        raise InvalidInputError("bins, max_categories and top_values must be at least 1")
    with opened(data, name=name) as source:
        return _Profiler(source, bins, max_categories, top_values).run()


class _Profiler:
    def __init__(self, source: Source, bins: int, max_categories: int, top_values: int) -> None:
        self.source = source
        self.bins = bins
        self.max_categories = max_categories
        self.top_values = top_values

    def run(self) -> DatasetStatistics:
        rows = self.source.rows()
        features = tuple(self._feature(column, rows) for column in self.source.columns)
        return DatasetStatistics(self.source.name, rows, features)

    def _aggregate(self, column: Column) -> dict[str, Any]:
        # One query per column: DuckDB slows down on one wide query of many quantiles.
        cursor = self.source.connection.execute(
            f"SELECT {', '.join(_aggregates(column))} FROM data"
        )
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchall()[0], strict=True))

    def _feature(self, column: Column, rows: int) -> FeatureStatistics:
        get = self._aggregate(column).get
        missing = rows - int(get("count") or 0) + int(get("nan") or 0)
        unique = int(get("unique") or 0)
        stats = FeatureStatistics(
            name=column.name,
            type=column.type,
            physical=column.physical,
            count=rows,
            missing=missing,
            unique=unique,
            unique_approximate=rows > EXACT_UNIQUE_ROWS,
        )
        if column.type in NUMERIC_TYPES:
            stats = dataclasses.replace(stats, numeric=self._numeric(column, get))
        if column.type in CATEGORICAL_TYPES or (
            column.type == "int" and 0 < unique <= self.top_values
        ):
            categories = self._categories(column, unique, get)
            stats = dataclasses.replace(stats, categories=categories)
            if categories.complete:
                exact = len(categories.values)
                stats = dataclasses.replace(stats, unique=exact, unique_approximate=False)
        if column.type in ("timestamp", "date"):
            stats = dataclasses.replace(stats, time=TimeSummary(_iso(get("min")), _iso(get("max"))))
        return stats

    def _numeric(self, column: Column, get: Any) -> NumericSummary:
        low, high = _finite(get("min")), _finite(get("max"))
        quantiles = get("quantiles") or []
        return NumericSummary(
            min=low,
            max=high,
            mean=_finite(get("mean")),
            std=_finite(get("std")),
            zeros=int(get("zeros") or 0),
            infinite=int(get("inf") or 0),
            negative_infinite=int(get("neg_inf") or 0),
            quantiles={_q(q): float(v) for q, v in zip(QUANTILES, quantiles, strict=False)},
            histogram=self._histogram(column, low, high),
        )

    def _histogram(self, column: Column, low: float | None, high: float | None) -> Histogram | None:
        if low is None or high is None:
            return None
        bins = self.bins if high > low else 1
        width = (high - low) / bins if high > low else 1.0
        expression = quote(column.name)
        bin_of = f"least(floor(({expression}::DOUBLE - {low!r}) / {width!r}), {bins - 1})"
        sql = (
            f"SELECT {bin_of}::BIGINT, count(*) FROM data "
            f"WHERE {_finite_condition(column)} GROUP BY 1"
        )
        counts = [0] * bins
        for index, count in self.source.connection.execute(sql).fetchall():
            counts[int(index)] += int(count)
        edges = (*(low + width * i for i in range(bins)), high if high > low else low + 1.0)
        return Histogram(edges, tuple(counts))

    def _categories(self, column: Column, unique: int, get: Any) -> CategorySummary:
        complete = unique <= self.max_categories * 1.1  # HyperLogLog errs by a few percent
        expression = _text(column)
        limit = f"LIMIT {self.max_categories + 1}" if complete else f"LIMIT {self.top_values}"
        sql = (
            f"SELECT {expression} AS v, count(*) AS n FROM data WHERE {quote(column.name)} "
            f"IS NOT NULL GROUP BY v ORDER BY n DESC, v {limit}"
        )
        values = [(str(v), int(n)) for v, n in self.source.connection.execute(sql).fetchall()]
        if complete and len(values) > self.max_categories:
            complete = False
        if not complete:
            values = values[: self.top_values]
        present = int(get("count") or 0)
        lengths = column.type in ("string", "mixed")
        return CategorySummary(
            values=tuple(values),
            complete=complete,
            other=present - sum(n for _, n in values),
            min_length=_int(get("min_length")) if lengths else None,
            mean_length=_finite(get("mean_length")) if lengths else None,
            max_length=_int(get("max_length")) if lengths else None,
        )


def _aggregates(column: Column) -> list[str]:
    name = quote(column.name)
    prefix = ""
    parts = [f"count({name}) AS {prefix}count"]
    if column.type in ("other", "null"):
        return parts
    parts.append(f"approx_count_distinct({name}) AS {prefix}unique")
    if column.type in NUMERIC_TYPES:
        finite = _finite_condition(column)
        value = f"{name}::DOUBLE"
        parts += [
            f"min({value}) FILTER (WHERE {finite}) AS {prefix}min",
            f"max({value}) FILTER (WHERE {finite}) AS {prefix}max",
            f"avg({value}) FILTER (WHERE {finite}) AS {prefix}mean",
            f"stddev_samp({value}) FILTER (WHERE {finite}) AS {prefix}std",
            f"count(*) FILTER (WHERE {value} = 0) AS {prefix}zeros",
            f"quantile_cont({value}, {list(QUANTILES)}) FILTER (WHERE {finite}) "
            f"AS {prefix}quantiles",
        ]
        if column.type == "float":
            parts += [
                f"count(*) FILTER (WHERE isnan({value})) AS {prefix}nan",
                f"count(*) FILTER (WHERE isinf({value})) AS {prefix}inf",
                f"count(*) FILTER (WHERE {value} = '-inf'::DOUBLE) AS {prefix}neg_inf",
            ]
    elif column.type in ("string", "mixed"):
        length = f"length({name})"
        parts += [
            f"min({length}) AS {prefix}min_length",
            f"avg({length}) AS {prefix}mean_length",
            f"max({length}) AS {prefix}max_length",
        ]
    elif column.type in ("timestamp", "date"):
        parts += [f"min({name}) AS {prefix}min", f"max({name}) AS {prefix}max"]
    return parts


def _finite_condition(column: Column) -> str:
    if column.type == "float":
        return f"isfinite({quote(column.name)}::DOUBLE)"
    return f"{quote(column.name)} IS NOT NULL"


def _text(column: Column) -> str:
    name = quote(column.name)
    if column.type == "bool":
        return f"CASE WHEN {name} THEN 'true' ELSE 'false' END"
    return f"{name}::VARCHAR"


def _q(q: float) -> str:
    return f"p{round(q * 100):g}"


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


# --- JSON ---------------------------------------------------------------------


def _jsonable(feature: FeatureStatistics) -> dict[str, Any]:
    data = dataclasses.asdict(feature)
    if feature.categories is not None:
        data["categories"]["values"] = [list(v) for v in feature.categories.values]
    if feature.numeric is not None and feature.numeric.histogram is not None:
        histogram = feature.numeric.histogram
        data["numeric"]["histogram"] = {
            "edges": list(histogram.edges),
            "counts": list(histogram.counts),
        }
    return data


def _feature_from_dict(data: Mapping[str, Any]) -> FeatureStatistics:
    fields = dict(data)
    numeric = fields.pop("numeric", None)
    categories = fields.pop("categories", None)
    time = fields.pop("time", None)
    return FeatureStatistics(
        **fields,
        numeric=_numeric_from_dict(numeric) if numeric else None,
        categories=_categories_from_dict(categories) if categories else None,
        time=TimeSummary(**time) if time else None,
    )


def _numeric_from_dict(data: Mapping[str, Any]) -> NumericSummary:
    fields = dict(data)
    histogram = fields.pop("histogram", None)
    return NumericSummary(
        **fields,
        histogram=Histogram(tuple(histogram["edges"]), tuple(histogram["counts"]))
        if histogram
        else None,
    )


def _categories_from_dict(data: Mapping[str, Any]) -> CategorySummary:
    fields = dict(data)
    values = tuple((str(v), int(n)) for v, n in fields.pop("values"))
    return CategorySummary(values=values, **fields)
