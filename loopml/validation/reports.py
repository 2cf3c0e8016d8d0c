"""HTML pages of statistics, schemas and validation reports (drift: :mod:`.drift_html`).

Built from the blocks of :mod:`loopml.reports`: standalone pages with
inline CSS and SVG, readable offline in any browser, every value escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.reports import (
    Markup,
    badge,
    details,
    escape,
    page,
    section,
    svg_bars,
    svg_histogram,
    table,
)

if TYPE_CHECKING:
    from loopml.validation.anomalies import ValidationReport
    from loopml.validation.schema import Schema
    from loopml.validation.statistics import DatasetStatistics, FeatureStatistics

STATISTICS_HEADERS = ("Feature", "Type", "Missing", "Distinct", "Min", "Mean", "Std", "Max")
SCHEMA_HEADERS = ("Feature", "Type", "Required", "Max missing", "Min", "Max", "Domain")
ANOMALY_HEADERS = ("Severity", "Feature", "Anomaly", "Rows", "Share", "Details")


def statistics_html(statistics: DatasetStatistics) -> str:
    """A page: the dataset's size, a table of its columns, then a plot per column."""
    rows = [_statistics_row(f) for f in statistics]
    blocks = [details(_title(f), *_feature_parts(f)) for f in statistics]
    return page(
        f"Statistics of {statistics.name}",
        [
            section("Columns", table(STATISTICS_HEADERS, rows)),
            section("Distributions", *blocks),
        ],
        subtitle="computed by loopml with DuckDB",
        badges=[badge("rows", statistics.rows), badge("columns", len(statistics))],
    )


def _statistics_row(feature: FeatureStatistics) -> list[Any]:
    numeric = feature.numeric
    distinct = f"~{feature.unique:,}" if feature.unique_approximate else feature.unique
    return [
        feature.name,
        feature.type,
        f"{feature.missing_ratio:.2%}",
        distinct,
        numeric.min if numeric else None,
        numeric.mean if numeric else None,
        numeric.std if numeric else None,
        numeric.max if numeric else None,
    ]


def _title(feature: FeatureStatistics) -> Markup:
    return Markup(f"<h3>{escape(feature.name)}</h3> <small>{escape(feature.type)}</small>")


def _feature_parts(feature: FeatureStatistics) -> list[Any]:
    parts: list[Any] = []
    numeric, categories = feature.numeric, feature.categories
    if numeric is not None and numeric.histogram is not None:
        histogram = numeric.histogram
        zeros = [0] * len(histogram.counts)
        chart = svg_histogram(
            histogram.edges, histogram.counts, zeros, title=feature.name, names=("values",)
        )
        parts.append(Markup(chart))
        quantiles = [[name, value] for name, value in numeric.quantiles.items()]
        extra = [["zeros", numeric.zeros], ["infinite", numeric.infinite]]
        parts.append(table(("Quantile", "Value"), [*quantiles, *extra]))
    if categories is not None and categories.values:
        total = max(feature.present, 1)
        shown = categories.values[:20]
        labels = [value for value, _ in shown]
        shares = [count / total for _, count in shown]
        chart = svg_bars(labels, shares, [0.0] * len(shares), title=feature.name, names=("share",))
        parts.append(Markup(chart))
        if categories.other:
            parts.append(f"{categories.other:,} other values")
    if feature.time is not None:
        parts.append(table(("From", "To"), [[feature.time.min, feature.time.max]]))
    return parts or ["no value to plot"]


def schema_html(schema: Schema) -> str:
    """A page listing the features of a schema and their constraints."""
    rows = [
        [
            f.name,
            f.type or "any",
            f.required,
            f"{f.max_missing:.1%}",
            f.min,
            f.max,
            _domain(f.domain),
        ]
        for f in schema
    ]
    overrides = [[kind, level] for kind, level in sorted(schema.severity.items())]
    sections = [section("Features", table(SCHEMA_HEADERS, rows))]
    if overrides:
        sections.append(section("Severity overrides", table(("Anomaly", "Severity"), overrides)))
    return page(
        "Data schema",
        sections,
        badges=[badge("features", len(schema)), badge("min rows", schema.min_rows)],
    )


def _domain(domain: tuple[str, ...] | None) -> str:
    if domain is None:
        return "any"
    shown = ", ".join(domain[:12])
    return f"{shown}, ... ({len(domain)} values)" if len(domain) > 12 else shown


def validation_html(report: ValidationReport) -> str:
    """A page: the verdict, the anomalies, and the status of every feature."""
    anomalies = [
        [a.severity, a.feature or "(dataset)", a.kind, a.count, f"{a.share:.2%}", a.message]
        for a in report.anomalies
    ]
    statuses = [[name, status] for name, status in report.feature_status().items()]
    sections = [
        section(
            "Anomalies",
            table(ANOMALY_HEADERS, anomalies, status_column="Severity")
            if anomalies
            else "No anomaly: the batch matches the schema.",
        ),
        section("Features", table(("Feature", "Status"), statuses, status_column="Status")),
    ]
    return page(
        f"Validation of {report.dataset}",
        sections,
        subtitle=f"{report.rows:,} rows checked against the schema",
        badges=[
            badge("verdict", report.status, report.status),
            badge("errors", len(report.errors), "error" if report.errors else "ok"),
            badge("warnings", len(report.warnings), "warning" if report.warnings else "ok"),
        ],
    )
