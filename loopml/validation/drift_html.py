"""The drift report as a standalone page, built from the blocks of :mod:`loopml.reports`.

:func:`drift_report_html` shows badges (dataset drift, share drifted), a
summary table with a coloured status per feature, then one collapsible block
per feature with its plot (reference against current) and statistics; blocks
of drifted features start open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.reports import (
    Markup,
    badge,
    details,
    escape,
    page,
    paragraph,
    pill,
    section,
    svg_bars,
    svg_histogram,
    table,
)

if TYPE_CHECKING:
    from loopml.validation.drift_report import DriftReport, FeatureDrift

SUMMARY_HEADERS = ("Feature", "Kind", "Status", "Test", "p-value", "Effect", "Threshold",
                   "Ref values", "Cur values", "Ref missing", "Cur missing")  # fmt: skip


def drift_report_html(report: DriftReport, *, title: str = "Drift report") -> str:
    """A drift report as a page: badges, a summary table, a plot and statistics per feature.

    Args:
        report: the report.
        title: the page's title.

    Returns:
        The HTML document.
    """
    sampled = f" (sampled to {report.reference_rows_used:,})" if report.sampled else ""
    params = report.params
    subtitle = (
        f"{report.reference_rows:,} reference rows{sampled} vs {report.current_rows:,} current "
        f"rows. Drift = significant (p < {params.get('alpha')}) and material (Wasserstein/std >= "
        f"{params.get('numeric_threshold')}, JS >= {params.get('categorical_threshold')})."
    )
    judged = sum(1 for f in report.features if f.status in ("drift", "no_drift"))
    verdict = "drift" if report.dataset_drift else "no_drift"
    badges = [
        badge("dataset drift", "yes" if report.dataset_drift else "no", verdict),
        badge(f"of {judged} judged features drift", len(report.drifted)),
        badge("share drifted", f"{report.share:.0%}"),
        badge("features", len(report.features)),
    ]
    rows = [_summary_row(index, report, row) for index, row in enumerate(report.rows())]
    summary = section("Features", table(SUMMARY_HEADERS, rows, status_column="Status"))
    features = [_feature_block(index, f) for index, f in enumerate(report.features)]
    return page(
        title, [summary, section("Per feature", *features)], subtitle=subtitle, badges=badges
    )


def _summary_row(index: int, report: DriftReport, row: dict[str, Any]) -> list[Any]:
    link = Markup(f'<a href="#feature-{index}">{escape(row["feature"])}</a>')
    keys = ("kind", "status", "test", "p_value", "effect", "threshold", "reference_values",
            "current_values", "reference_missing", "current_missing")  # fmt: skip
    return [link, *(row[key] for key in keys)]


def _feature_block(index: int, feature: FeatureDrift) -> Markup:
    head = Markup(f"<h3>{escape(feature.name)}</h3> {pill(feature.status)}")
    reason = paragraph(feature.reason, css_class="reason")
    stats: list[tuple[str, Any]] = list(feature.statistics.items())
    stats += [
        ("values (ref / cur)", f"{feature.reference_values:,} / {feature.current_values:,}"),
        ("missing (ref / cur)", f"{feature.reference_missing:,} / {feature.current_missing:,}"),
        ("infinite (ref / cur)", f"{feature.reference_infinite:,} / {feature.current_infinite:,}"),
        ("types (ref / cur)", f"{feature.reference_type} / {feature.current_type}"),
    ]
    parts = [_chart(feature), table(("statistic", "value"), stats)]
    if feature.new_categories:
        parts.append(table(("new category", "share of current"), feature.new_categories.items()))
    if feature.missing_categories:
        parts.append(
            table(("category missing in current",), [(c,) for c in feature.missing_categories])
        )
    body = Markup(f'<div class="feature">{"".join(parts)}</div>')
    opened = feature.status != "no_drift"
    return details(head, reason, body, opened=opened, anchor=f"feature-{index}")


def _chart(feature: FeatureDrift) -> Markup:
    plot = feature.plot
    if not plot:
        return Markup("")
    if "edges" in plot:
        svg = svg_histogram(plot["edges"], plot["reference"], plot["current"], title=feature.name)
    else:
        labels = [str(label) for label in plot["labels"]]
        svg = svg_bars(labels, plot["reference"], plot["current"], title=feature.name)
    return Markup(svg)
