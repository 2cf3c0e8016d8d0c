"""Validate a batch against a schema: the anomalies, each with a kind and a severity.

:func:`validate` reads only the columns the schema names, a batch at a time
(a frame's numeric columns in place, files streamed by DuckDB), counts what
each check needs with NumPy and Arrow kernels, and reports:

==================  ==========================================  ============================
kind                found when                                  severity by default
==================  ==========================================  ============================
too_few_rows        fewer rows than ``min_rows``                error
missing_column      a required feature is absent                error
unexpected_column   a column the schema does not list           warning
type_mismatch       the column's type is not the feature's      error
missing_values      the missing share is above ``max_missing``  error
out_of_range        values below ``min`` or above ``max``       warning up to
                                                                ``max_out_of_range``, then error
out_of_domain       values outside ``domain`` (new categories   warning up to
                    listed with their shares)                   ``max_out_of_domain``, then error
==================  ==========================================  ============================

A schema's ``severity`` overrides these per kind (``error``, ``warning`` or
``ignore``). A feature with a type mismatch gets no other check; every other
feature is still judged.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation.errors import DataValidationError
from loopml.validation.schema import ANOMALY_KINDS, SEVERITIES, FeatureSchema, Schema
from loopml.validation.sources import NUMERIC_TYPES, Source, opened

DEFAULT_SEVERITY = {
    "too_few_rows": "error",
    "missing_column": "error",
    "unexpected_column": "warning",
    "type_mismatch": "error",
    "missing_values": "error",
}
NEW_VALUES_LISTED = 20


@dataclasses.dataclass(frozen=True)
class Anomaly:
    """Something in the batch that the schema does not allow.

    Attributes:
        kind: one of :data:`~loopml.validation.schema.ANOMALY_KINDS`.
        severity: ``error`` (stops a pipeline) or ``warning``.
        feature: the column concerned (``None`` for the dataset as a whole).
        message: one sentence for people.
        count: rows affected.
        share: ``count`` over the rows of the batch.
        details: what was expected and found (``expected``, ``actual``, ``values``...).
    """

    kind: str
    severity: str
    feature: str | None
    message: str
    count: int = 0
    share: float = 0.0
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ValidationReport:
    """The anomalies of one batch against one schema."""

    dataset: str
    rows: int
    features: tuple[str, ...]
    anomalies: tuple[Anomaly, ...]

    @property
    def errors(self) -> tuple[Anomaly, ...]:
        return tuple(a for a in self.anomalies if a.severity == "error")

    @property
    def warnings(self) -> tuple[Anomaly, ...]:
        return tuple(a for a in self.anomalies if a.severity == "warning")

    @property
    def status(self) -> str:
        """``failed`` with errors, ``warnings`` with warnings only, else ``passed``."""
        if self.errors:
            return "failed"
        return "warnings" if self.anomalies else "passed"

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not self.errors

    def feature_status(self) -> dict[str, str]:
        """Each column checked or expected -> ``ok``, ``warning`` or ``error``."""
        status = dict.fromkeys(self.features, "ok")
        for anomaly in self.anomalies:
            if anomaly.feature is not None and status.get(anomaly.feature) != "error":
                status[anomaly.feature] = anomaly.severity
        return status

    def raise_for_errors(self) -> ValidationReport:
        """Return the report if it has no error.

        Raises:
            DataValidationError: listing the errors, with this report attached.
        """
        if self.errors:
            raise DataValidationError(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reads it back."""
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "status": self.status,
            "features": list(self.features),
            "anomalies": [dataclasses.asdict(a) for a in self.anomalies],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        """Rebuild a report from :meth:`to_dict`'s output.

        Raises:
            InvalidInputError: if ``data`` is not such a dict.
        """
        try:
            anomalies = tuple(Anomaly(**a) for a in data["anomalies"])
            features = tuple(str(f) for f in data["features"])
            return cls(str(data["dataset"]), int(data["rows"]), features, anomalies)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a loopml validation report: {exc!r}") from None

    def to_html(self) -> str:
        """A standalone HTML page: the verdict, the anomalies table, the feature statuses."""
        from loopml.validation.reports import validation_html

        return validation_html(self)


def validate(
    data: Any,
    schema: Schema,
    *,
    name: str | None = None,
    severity: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Check a batch against a schema.

    Args:
        data: a pandas DataFrame, a pyarrow Table, or the path (or fsspec URL) of
            a Parquet or CSV file (streamed, never loaded whole).
        schema: the expected features.
        name: what to call the batch in the report (default: its path).
        severity: anomaly kind -> ``error``, ``warning`` or ``ignore``, over the
            schema's own overrides.

    Raises:
        InvalidInputError: if the data cannot be read or ``severity`` is malformed.
    """
    overrides = {**schema.severity, **_checked_severity(severity or {})}
    with opened(data, name=name) as source:
        return _Validator(source, schema, overrides).run()


def _checked_severity(severity: Mapping[str, str]) -> dict[str, str]:
    for kind, level in severity.items():
        if kind not in ANOMALY_KINDS or level not in SEVERITIES:
            raise InvalidInputError(
                f"severity {kind}={level}: kinds are {ANOMALY_KINDS}, levels {SEVERITIES}"
            )
    return dict(severity)


@dataclasses.dataclass
class _Tally:
    """What the kernels counted for one feature, summed over batches."""

    missing: int = 0
    below: int = 0
    above: int = 0
    non_integral: int = 0
    out_of_domain: int = 0
    new_values: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)


class _Validator:
    def __init__(self, source: Source, schema: Schema, overrides: Mapping[str, str]) -> None:
        self.source = source
        self.schema = schema
        self.overrides = overrides
        self.anomalies: list[Anomaly] = []
        self.types = source.column_types

    def run(self) -> ValidationReport:
        rows = self.source.rows()
        self._dataset_checks(rows)
        checked = [f for f in self.schema if f.name in self.types and self._type_ok(f)]
        tallies = self._count(checked)
        for feature in checked:
            self._judge(feature, tallies[feature.name], rows)
        features = tuple([*[f.name for f in self.schema], *self._unexpected()])
        return ValidationReport(self.source.name, rows, features, tuple(self.anomalies))

    def _add(
        self, kind: str, severity: str, feature: str | None, message: str, **extra: Any
    ) -> None:
        severity = self.overrides.get(kind, severity)
        if severity != "ignore":
            self.anomalies.append(Anomaly(kind, severity, feature, message, **extra))

    def _unexpected(self) -> list[str]:
        return [name for name in self.types if name not in self.schema]

    def _dataset_checks(self, rows: int) -> None:
        if rows < self.schema.min_rows:
            self._add(
                "too_few_rows",
                "error",
                None,
                f"{rows} rows, fewer than the {self.schema.min_rows} the schema requires",
                details={"expected": self.schema.min_rows, "actual": rows},
            )
        for feature in self.schema:
            if feature.name not in self.types and feature.required:
                self._add("missing_column", "error", feature.name, "the column is missing")
        for name in self._unexpected():
            self._add(
                "unexpected_column",
                "warning",
                name,
                f"the schema has no feature {name!r} (type {self.types[name]})",
                details={"actual": self.types[name]},
            )

    def _type_ok(self, feature: FeatureSchema) -> bool:
        actual = self.types[feature.name]
        if _compatible(feature.type, actual):
            return True
        why = "values of several types" if actual == "mixed" else f"type {actual}"
        self._add(
            "type_mismatch",
            "error",
            feature.name,
            f"expected type {feature.type}, found {why}",
            details={"expected": feature.type, "actual": actual},
        )
        return False

    def _count(self, features: list[FeatureSchema]) -> dict[str, _Tally]:
        tallies = {f.name: _Tally() for f in features}
        by_name = {f.name: f for f in features}
        for batch in self.source.batches(list(by_name)):
            for name, values in batch.items():
                _count_column(by_name[name], self.types[name], values, tallies[name])
        return tallies

    def _judge(self, feature: FeatureSchema, tally: _Tally, rows: int) -> None:
        name = feature.name
        share = tally.missing / rows if rows else 0.0
        if share > feature.max_missing:
            self._add(
                "missing_values",
                "error",
                name,
                f"{share:.2%} of the values are missing, above the "
                f"{feature.max_missing:.2%} allowed",
                count=tally.missing,
                share=share,
                details={"expected": feature.max_missing, "actual": share},
            )
        if tally.non_integral:
            self._integral(feature, tally, rows)
        if tally.below or tally.above:
            self._range(feature, tally, rows)
        if tally.out_of_domain:
            self._domain(feature, tally, rows)

    def _integral(self, feature: FeatureSchema, tally: _Tally, rows: int) -> None:
        self._add(
            "type_mismatch",
            "error",
            feature.name,
            f"expected type int, found {tally.non_integral} values with a fraction",
            count=tally.non_integral,
            share=tally.non_integral / rows,
            details={"expected": "int", "actual": "float"},
        )

    def _range(self, feature: FeatureSchema, tally: _Tally, rows: int) -> None:
        count = tally.below + tally.above
        share = count / rows
        severity = "warning" if share <= feature.max_out_of_range else "error"
        bounds = f"[{_bound(feature.min)}, {_bound(feature.max)}]"
        self._add(
            "out_of_range",
            severity,
            feature.name,
            f"{count} values ({share:.2%}) outside {bounds}: {tally.below} below, "
            f"{tally.above} above",
            count=count,
            share=share,
            details={
                "min": feature.min,
                "max": feature.max,
                "below": tally.below,
                "above": tally.above,
            },
        )

    def _domain(self, feature: FeatureSchema, tally: _Tally, rows: int) -> None:
        count = tally.out_of_domain
        share = count / rows
        severity = "warning" if share <= feature.max_out_of_domain else "error"
        listed = tally.new_values.most_common(NEW_VALUES_LISTED)
        shown = ", ".join(f"{v!r} ({n / rows:.2%})" for v, n in listed[:5])
        more = f" and {len(tally.new_values) - 5} more" if len(tally.new_values) > 5 else ""
        self._add(
            "out_of_domain",
            severity,
            feature.name,
            f"{count} values ({share:.2%}) outside the domain: {shown}{more}",
            count=count,
            share=share,
            details={"values": {v: n for v, n in listed}, "distinct": len(tally.new_values)},
        )


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


def _compatible(expected: str | None, actual: str) -> bool:
    if expected is None or actual in (expected, "null"):
        return True
    if expected == "float":
        return actual == "int"
    if expected == "int":
        return actual == "float"  # whole numbers only: checked value by value
    if expected == "timestamp":
        return actual == "date"
    return False


# --- kernels ------------------------------------------------------------------


def _count_column(feature: FeatureSchema, actual: str, values: Any, tally: _Tally) -> None:
    if actual in NUMERIC_TYPES:
        _count_numbers(feature, actual, _as_numpy(values), tally)
        if feature.domain is not None:
            _count_domain(feature, _as_text(values), tally)
        return
    tally.missing += _null_count(values)
    if feature.domain is not None:
        _count_domain(feature, _as_text(values), tally)


def _as_numpy(values: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    if isinstance(values, np.ndarray):
        return values
    if values.null_count:
        values = values.cast("float64")  # nulls become NaN: counted as missing
    if isinstance(values, pa.ChunkedArray):
        return values.to_numpy()
    return values.to_numpy(zero_copy_only=False)


def _count_numbers(feature: FeatureSchema, actual: str, x: Any, tally: _Tally) -> None:
    import numpy as np

    if x.dtype.kind == "f":
        tally.missing += int(np.count_nonzero(np.isnan(x)))
        if feature.type == "int":
            with np.errstate(invalid="ignore"):  # NaN and infinities are not fractions
                fraction = np.isfinite(x) & (x != np.floor(x))
            tally.non_integral += int(np.count_nonzero(fraction))
    if feature.min is not None:
        tally.below += int(np.count_nonzero(x < feature.min))
    if feature.max is not None:
        tally.above += int(np.count_nonzero(x > feature.max))


def _null_count(values: Any) -> int:
    import numpy as np

    if isinstance(values, np.ndarray):
        return 0
    return int(values.null_count)


def _as_text(values: Any) -> Any:
    """Values as an Arrow string array, as domains are compared as text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_boolean(kind):
        return pc.if_else(array, "true", "false")
    if pa.types.is_floating(kind):
        array = pc.if_else(pc.is_nan(array), None, array)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return array.cast(pa.string())
    return array


def _count_domain(feature: FeatureSchema, text: Any, tally: _Tally) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    assert feature.domain is not None
    allowed = pa.array(feature.domain, type=text.type)
    inside = pc.is_in(text, value_set=allowed)
    present = len(text) - text.null_count
    outside = present - int(pc.sum(inside).as_py() or 0)
    if outside <= 0:
        return
    tally.out_of_domain += outside
    counts = pc.value_counts(pc.drop_null(pc.filter(text, pc.invert(inside))))
    for row in counts.to_pylist():
        tally.new_values[str(row["values"])] += int(row["counts"])


def iter_errors(report: ValidationReport) -> Iterator[str]:
    """One line per error, for messages."""
    for anomaly in report.errors:
        where = anomaly.feature or "dataset"
        yield f"{where}: {anomaly.kind}: {anomaly.message}"
