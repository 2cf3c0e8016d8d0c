"""HTML pages of model evaluations and blessings, built from :mod:`loopml.reports`.

Self-contained like the data reports: inline CSS and SVG, no JavaScript, every
value escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.reports import Markup, badge, page, section, svg_heatmap, svg_lines, table

if TYPE_CHECKING:
    from loopml.validation.blessing import Blessing
    from loopml.validation.evaluation import Evaluation

HEADLINE = {
    "binary": ("roc_auc", "f1", "accuracy", "log_loss"),
    "multiclass": ("accuracy", "f1", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2", "mape"),
}


def evaluation_html(evaluation: Evaluation, *, title: str | None = None) -> str:
    """An evaluation as a page: headline badges, metrics, slices, curves, confusion matrix.

    Args:
        evaluation: the evaluation.
        title: the page's title (default: "Evaluation of <name>").

    Returns:
        The HTML document.
    """
    positive = f", positive class {evaluation.positive_label}" if evaluation.positive_label else ""
    subtitle = (
        f"{evaluation.rows:,} rows, target {evaluation.target}, task {evaluation.task}{positive}."
    )
    badges = [
        badge(name, evaluation.metrics.get(name))
        for name in HEADLINE[evaluation.task]
        if name in evaluation.metrics
    ]
    metric_rows = [
        (name, value, evaluation.notes.get(name, "")) for name, value in evaluation.metrics.items()
    ]
    sections = [section("Metrics", table(("metric", "value", "note"), metric_rows))]
    if evaluation.slices:
        sections.append(section("Slices", _slice_table(evaluation)))
    charts = _curves(evaluation)
    if charts:
        sections.append(section("Curves", Markup(f'<div class="feature">{charts}</div>')))
    if evaluation.confusion:
        labels = list(evaluation.classes)
        matrix = svg_heatmap(labels, labels, evaluation.confusion, title="confusion matrix")
        sections.append(section("Confusion matrix", Markup(matrix)))
    heading = title or f"Evaluation of {evaluation.name or 'a model'}"
    return page(heading, sections, subtitle=subtitle, badges=badges)


def _slice_table(evaluation: Evaluation) -> Markup:
    names = list(evaluation.metrics)
    headers = ("slice", "group", "rows", "status", *names)
    rows = [
        (
            group.slice,
            group.value or "(where)",
            group.rows,
            group.status,
            *(group.metrics.get(name) for name in names),
        )
        for group in evaluation.slices
    ]
    note = Markup(
        f'<p class="reason">Groups under {evaluation.min_rows:,} rows are '
        "insufficient_data: shown, never judged.</p>"
    )
    return Markup(note + table(headers, rows, status_column="status"))


# curve -> (title, x key, y key, x label, y label, diagonal, markers)
CURVES = {
    "roc": ("ROC curve", "fpr", "tpr", "false positive rate", "true positive rate", True, False),
    "pr": ("precision-recall curve", "recall", "precision", "recall", "precision", False, False),
    "calibration": ("calibration", "predicted", "observed", "mean predicted probability",
                    "observed share", True, True),
}  # fmt: skip


def _curves(evaluation: Evaluation) -> str:
    parts = []
    for key, (title, x, y, x_label, y_label, diagonal, markers) in CURVES.items():
        points = evaluation.curves.get(key)
        if not points or not points.get(x):
            continue
        parts.append(
            svg_lines(
                [(title, points[x], points[y])],
                x_label=x_label,
                y_label=y_label,
                x_range=(0.0, 1.0),
                y_range=(0.0, 1.0),
                diagonal=diagonal,
                markers=markers,
                title=title,
            )
        )
    return "".join(parts)


def blessing_html(blessing: Blessing, *, title: str | None = None) -> str:
    """A blessing as a page: the verdict, every check, candidate against baseline.

    Args:
        blessing: the blessing.
        title: the page's title.

    Returns:
        The HTML document.
    """
    verdict = "passed" if blessing.blessed else "failed"
    passed = sum(1 for check in blessing.checks if check.passed)
    badges = [
        badge("blessed", blessing.blessed, verdict),
        badge(f"of {len(blessing.checks)} checks pass", passed),
    ]
    rows = [
        (c.name, "passed" if c.passed else "failed", c.value, c.threshold, c.message)
        for c in blessing.checks
    ]
    headers = ("check", "status", "value", "threshold", "message")
    sections = [section("Checks", table(headers, rows, status_column="status"))]
    sections.append(section("Candidate and baseline", _comparison(blessing)))
    candidate = blessing.candidate.get("name") or "the candidate"
    baseline = (blessing.baseline or {}).get("name") or "no production version"
    subtitle = f"{candidate} against {baseline}."
    heading = title or f"Blessing: {'blessed' if blessing.blessed else 'not blessed'}"
    return page(heading, sections, subtitle=subtitle, badges=badges)


def _comparison(blessing: Blessing) -> Markup:
    candidate: dict[str, Any] = blessing.candidate.get("metrics", {})
    baseline: dict[str, Any] = (blessing.baseline or {}).get("metrics", {})
    rows = []
    for name, value in candidate.items():
        before = baseline.get(name)
        change = value - before if value is not None and before is not None else None
        rows.append((name, value, before, change))
    return table(("metric", "candidate", "baseline", "change"), rows)
