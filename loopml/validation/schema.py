"""Schemas: what a dataset must look like, inferred from statistics, curated by people in YAML.

A :class:`Schema` lists the expected features with their type, whether they
are required, the share of missing values allowed, a numeric range and a
categorical domain. :func:`infer_schema` derives one from statistics with
slack, so that a fresh batch of the same data passes; people then edit the
YAML file (``loopml schema infer DATA > schema.yaml``), keep it in version
control and review its changes (``loopml schema diff``).

Anomaly severities can be tuned in the schema: ``severity: {out_of_range: warning}``
makes that kind never fail a run, ``ignore`` drops it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidInputError
from loopml.validation.sources import LOGICAL_TYPES, NUMERIC_TYPES
from loopml.validation.statistics import DatasetStatistics, FeatureStatistics

SCHEMA_VERSION = 1
SEVERITIES = ("error", "warning", "ignore")
ANOMALY_KINDS = (
    "too_few_rows",
    "missing_column",
    "unexpected_column",
    "type_mismatch",
    "missing_values",
    "out_of_range",
    "out_of_domain",
)


class SchemaError(InvalidInputError):
    """A schema file or dict is malformed; the message names the feature and field."""

    error_code = "invalid_schema"


@dataclasses.dataclass(frozen=True)
class FeatureSchema:
    """What one feature must look like.

    Attributes:
        name: the column.
        type: its logical type (``int``, ``float``, ``bool``, ``string``, ``timestamp``,
            ``date``); ``None`` accepts any. An ``int`` column is accepted where
            ``float`` is expected, and a float column holding whole numbers where
            ``int`` is (pandas turns integers with gaps into floats).
        required: the column must be present.
        max_missing: the largest share of missing values (null or NaN) allowed.
        min, max: the range of numeric values; ``None`` leaves that side open.
        max_out_of_range: the share of values outside the range tolerated as a
            warning; above it, an error.
        domain: the allowed values (compared as text); ``None`` allows any.
        max_out_of_domain: the share of values outside the domain tolerated as a
            warning; above it, an error.
        description: free text for people.
    """

    name: str
    type: str | None = None
    required: bool = True
    max_missing: float = 0.0
    min: float | None = None
    max: float | None = None
    max_out_of_range: float = 0.0
    domain: tuple[str, ...] | None = None
    max_out_of_domain: float = 0.0
    description: str | None = None

    def __post_init__(self) -> None:
        where = f"feature {self.name!r}"
        if self.type is not None and self.type not in LOGICAL_TYPES:
            raise SchemaError(f"{where}: type {self.type!r} is not one of {LOGICAL_TYPES}")
        for field in ("max_missing", "max_out_of_range", "max_out_of_domain"):
            share = getattr(self, field)
            if not isinstance(share, int | float) or not 0 <= share <= 1:
                raise SchemaError(
                    f"{where}: {field} must be a share between 0 and 1, not {share!r}"
                )
        for field in ("min", "max"):
            bound = getattr(self, field)
            if bound is not None and (not isinstance(bound, int | float) or math.isnan(bound)):
                raise SchemaError(f"{where}: {field} must be a number, not {bound!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SchemaError(f"{where}: min {self.min} is above max {self.max}")


@dataclasses.dataclass(frozen=True)
class Schema:
    """The expected features of a dataset, and how severe each kind of anomaly is.

    Attributes:
        features: one :class:`FeatureSchema` per expected column.
        min_rows: fewer rows is a ``too_few_rows`` anomaly.
        severity: anomaly kind -> ``error``, ``warning`` or ``ignore``, overriding the
            default of that kind (see :mod:`loopml.validation.anomalies`).
    """

    features: tuple[FeatureSchema, ...]
    min_rows: int = 1
    severity: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise SchemaError(f"features listed twice: {duplicated}")
        for kind, level in self.severity.items():
            if kind not in ANOMALY_KINDS:
                raise SchemaError(
                    f"severity: unknown anomaly kind {kind!r}; one of {ANOMALY_KINDS}"
                )
            if level not in SEVERITIES:
                raise SchemaError(f"severity of {kind}: {level!r} is not one of {SEVERITIES}")
        if not isinstance(self.min_rows, int) or self.min_rows < 0:
            raise SchemaError(f"min_rows must be a whole number >= 0, not {self.min_rows!r}")
        object.__setattr__(self, "severity", dict(self.severity))

    def __iter__(self) -> Iterator[FeatureSchema]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in self.features)

    def __getitem__(self, name: str) -> FeatureSchema:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def with_feature(self, name: str, **changes: Any) -> Schema:
        """A copy with feature ``name`` changed (``schema.with_feature("month", max=12)``).

        Raises:
            KeyError: if there is no such feature.
            SchemaError: if a change is invalid.
        """
        changed = dataclasses.replace(self[name], **changes)
        features = tuple(changed if f.name == name else f for f in self.features)
        return dataclasses.replace(self, features=features)

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form: ``features`` maps each name to its non-default fields."""
        return {
            "version": SCHEMA_VERSION,
            "min_rows": self.min_rows,
            "severity": dict(self.severity),
            "features": {f.name: _feature_dict(f) for f in self.features},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Read the form :meth:`to_dict` writes.

        Raises:
            SchemaError: naming the feature and field at fault.
        """
        if not isinstance(data, Mapping):
            raise SchemaError(f"a schema is a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - {"version", "min_rows", "severity", "features"})
        if unknown:
            raise SchemaError(f"unknown schema fields {unknown}")
        if data.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise SchemaError(f"schema version {data.get('version')!r} is not {SCHEMA_VERSION}")
        features = data.get("features") or {}
        if not isinstance(features, Mapping):
            raise SchemaError("features must map each feature name to its fields")
        return cls(
            features=tuple(_feature_from_dict(str(n), f) for n, f in features.items()),
            min_rows=data.get("min_rows", 1),
            severity=data.get("severity") or {},
        )

    def to_yaml(self) -> str:
        """The schema as a YAML document for people to read, edit and review."""
        import yaml

        header = (
            "# loopml data schema: edit it and keep it in version control.\n"
            "# Fields per feature: type, required, max_missing, min, max, max_out_of_range,\n"
            "# domain, max_out_of_domain, description. See docs/validation.md.\n"
        )
        body = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)
        return header + body

    @classmethod
    def from_yaml(cls, text: str) -> Schema:
        """Parse :meth:`to_yaml`'s form (or any YAML of that shape).

        Raises:
            SchemaError: if the text is not YAML or not a schema.
        """
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemaError(f"not valid YAML: {exc}") from None
        return cls.from_dict(data or {})

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the YAML form to ``path`` (atomically) and return the path."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(self.to_yaml(), encoding="utf-8")
        temporary.replace(target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Schema:
        """Read a schema file (YAML, or JSON which is YAML too).

        Raises:
            SchemaError: if the file is missing or malformed (the message names the file).
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaError(f"cannot read schema {path}: {exc.strerror}") from None
        try:
            return cls.from_yaml(text)
        except SchemaError as exc:
            raise SchemaError(f"{path}: {exc}") from None

    def to_html(self) -> str:
        """A standalone HTML page listing the features and their constraints."""
        from loopml.validation.reports import schema_html

        return schema_html(self)


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(FeatureSchema) if f.name != "name"}


def _feature_dict(feature: FeatureSchema) -> dict[str, Any]:
    data: dict[str, Any] = {"type": feature.type, "required": feature.required}
    for field, default in _DEFAULTS.items():
        value = getattr(feature, field)
        if field not in data and value != default:
            data[field] = list(value) if field == "domain" else value
    return data


def _feature_from_dict(name: str, data: Any) -> FeatureSchema:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SchemaError(f"feature {name!r}: expected a mapping of fields, not {data!r}")
    unknown = sorted(set(data) - set(_DEFAULTS))
    if unknown:
        raise SchemaError(f"feature {name!r}: unknown fields {unknown}; known: {sorted(_DEFAULTS)}")
    fields = dict(data)
    if fields.get("domain") is not None:
        if not isinstance(fields["domain"], Sequence) or isinstance(fields["domain"], str):
            raise SchemaError(f"feature {name!r}: domain must be a list of values")
        fields["domain"] = tuple(_text(v) for v in fields["domain"])
    try:
        return FeatureSchema(name=name, **fields)
    except TypeError as exc:
        raise SchemaError(f"feature {name!r}: {exc}") from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- inference ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InferenceOptions:
    """How much slack :func:`infer_schema` leaves.

    Attributes:
        range_slack: the range is widened by this share of its width on each side
            (but a range that starts at 0 or above stays non-negative).
        missing_slack: allowed missing share = observed + max(0.01, this x observed)
            (so 1% for a feature with no missing value).
        max_domain_size: a categorical feature with more distinct values gets no domain.
        max_domain_ratio: nor one whose distinct values exceed this share of its
            values (an identifier, free text).
        out_of_domain: the share of new categories tolerated as a warning.
        out_of_range: the share of values out of range tolerated as a warning.
        range_severity: the severity of ``out_of_range`` in the inferred schema:
            ``warning`` by default, because values beyond what the training data
            showed are drift more often than skew (April is warmer than March);
            ``None`` keeps the rule of ``out_of_range`` (a warning up to the tolerated
            share, then an error). Curated physical limits want ``None`` or ``error``.
    """

    range_slack: float = 0.1
    missing_slack: float = 0.2
    max_domain_size: int = 1000
    max_domain_ratio: float = 0.5
    out_of_domain: float = 0.01
    out_of_range: float = 0.001
    range_severity: str | None = "warning"


def infer_schema(
    statistics: DatasetStatistics | Any, options: InferenceOptions | None = None
) -> Schema:
    """Infer a schema from statistics (or from data, whose statistics are computed first).

    Types come from the data; every column present is required; ranges and
    missing shares get the slack of ``options``; string and boolean columns with
    few distinct values get their domain.
    """
    if not isinstance(statistics, DatasetStatistics):
        from loopml.validation.statistics import compute_statistics

        statistics = compute_statistics(statistics)
    options = options or InferenceOptions()
    features = tuple(_infer_feature(f, options) for f in statistics)
    severity = {"out_of_range": options.range_severity} if options.range_severity else {}
    return Schema(features=features, min_rows=1 if statistics.rows else 0, severity=severity)


def _infer_feature(stats: FeatureStatistics, options: InferenceOptions) -> FeatureSchema:
    # A column of mixed types, or with no value at all, says nothing of its type.
    kind = None if stats.type in ("null", "other", "mixed") else stats.type
    feature = FeatureSchema(
        name=stats.name, type=kind, max_missing=_missing_share(stats.missing_ratio, options)
    )
    if stats.type in NUMERIC_TYPES and stats.numeric is not None:
        low, high = _slack_range(stats, options)
        feature = dataclasses.replace(
            feature, min=low, max=high, max_out_of_range=options.out_of_range
        )
    categories = stats.categories
    if stats.type in ("string", "bool") and categories is not None and categories.complete:
        distinct = len(categories.values)
        small = distinct <= options.max_domain_size
        if small and distinct <= max(2, options.max_domain_ratio * stats.present):
            feature = dataclasses.replace(
                feature,
                domain=tuple(sorted(v for v, _ in categories.values)),
                max_out_of_domain=options.out_of_domain,
            )
    return feature


def _missing_share(observed: float, options: InferenceOptions) -> float:
    # A feature never missing in training may still lack a value now and then
    # (a sensor skips a reading): one point of slack; curate 0 for an identifier.
    share = observed + max(0.01, options.missing_slack * observed)
    return min(1.0, math.ceil(share * 1000) / 1000)


def _slack_range(stats: FeatureStatistics, options: InferenceOptions) -> tuple[Any, Any]:
    numeric = stats.numeric
    assert numeric is not None
    low, high = numeric.min, numeric.max
    if low is None or high is None:
        return None, None
    margin = (high - low) * options.range_slack
    lower, upper = low - margin, high + margin
    if low >= 0:
        lower = max(0.0, lower)
    bounds: list[float | None]
    if stats.type == "int":
        bounds = [_whole(lower, math.floor), _whole(upper, math.ceil)]
    else:
        bounds = [_round(lower, math.floor), _round(upper, math.ceil)]
    # Infinities seen in training leave that side open (they are not out of range).
    if numeric.negative_infinite:
        bounds[0] = None
    if numeric.infinite > numeric.negative_infinite:
        bounds[1] = None
    return bounds[0], bounds[1]


def _whole(value: float, direction: Any) -> int | None:
    return int(direction(value)) if math.isfinite(value) else None


def _round(value: float, direction: Any) -> float | None:
    """Round outward to 4 significant digits, so the YAML stays readable (None: no bound)."""
    if not math.isfinite(value):
        return None  # the range overflowed: leave that side open
    if value == 0 or abs(value) < 1e-300 or abs(value) > 1e300:
        return value  # nothing readable to gain, and rounding could overflow
    exponent = math.floor(math.log10(abs(value))) - 3
    return float(f"{direction(value / 10.0**exponent)}e{exponent}")


# --- comparison ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SchemaChange:
    """One difference between two schemas: ``field`` of ``feature`` went from ``old`` to ``new``.

    ``field`` is ``"feature"`` for an added or removed feature (``old`` or ``new`` is None).
    """

    feature: str
    field: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        if self.field == "feature":
            return "added" if self.old is None else "removed"
        return "changed"


def diff_schemas(old: Schema, new: Schema) -> list[SchemaChange]:
    """The changes from ``old`` to ``new``, feature by feature, in ``new``'s order then removals."""
    changes: list[SchemaChange] = []
    if old.min_rows != new.min_rows:
        changes.append(SchemaChange("*", "min_rows", old.min_rows, new.min_rows))
    for kind in sorted(set(old.severity) | set(new.severity)):
        before, after = old.severity.get(kind), new.severity.get(kind)
        if before != after:
            changes.append(SchemaChange("*", f"severity.{kind}", before, after))
    for feature in new:
        if feature.name not in old:
            changes.append(SchemaChange(feature.name, "feature", None, _feature_dict(feature)))
            continue
        changes.extend(_feature_changes(old[feature.name], feature))
    for feature in old:
        if feature.name not in new:
            changes.append(SchemaChange(feature.name, "feature", _feature_dict(feature), None))
    return changes


def _feature_changes(old: FeatureSchema, new: FeatureSchema) -> Iterator[SchemaChange]:
    for field in _DEFAULTS:
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if field == "domain" and before is not None and after is not None:
            added = sorted(set(after) - set(before))
            removed = sorted(set(before) - set(after))
            yield SchemaChange(new.name, "domain", removed or None, added or None)
        else:
            yield SchemaChange(new.name, field, before, after)
