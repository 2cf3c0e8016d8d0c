"""Small inline SVG charts for HTML reports: no JavaScript, no external resource.

Each function returns one ``<svg>`` element as a string, sized in pixels,
with a ``<title>`` for screen readers and tooltips, axes with a few round
ticks, and a legend. Every label that comes from data is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

REFERENCE_COLOUR = "#4c78a8"
CURRENT_COLOUR = "#f58518"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
SERIES = ("reference", "current")
PALETTE = (REFERENCE_COLOUR, CURRENT_COLOUR, "#54a24b", "#e45756", "#72b7b2", "#b279a2")
GUIDE_COLOUR = "#bbb"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten) within [low, high].

    Args:
        low: the start of the axis.
        high: its end (equal to ``low`` gives one tick).
        count: the number of ticks wanted.

    Returns:
        Increasing tick values; empty if the bounds are not finite.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    span = high - low
    if not span > 0 or not math.isfinite(span):
        return [low]
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [i * step for i in range(first, last + 1)]


def _round_up(peak: float) -> tuple[float, list[float]]:
    """The axis' top (the first round tick at or above ``peak``) and its ticks."""
    ticks = nice_ticks(0.0, peak, 4)
    if len(ticks) >= 2 and ticks[-1] < peak:
        ticks.append(ticks[-1] + ticks[1] - ticks[0])
    return (ticks[-1] if ticks and ticks[-1] > 0 else peak), ticks


def tick_label(value: float, *, percent: bool = False) -> str:
    """A short label for a tick: ``12%``, ``0.25``, ``1.5e+06``."""
    if percent:
        return f"{value * 100:.3g}%"
    return f"{value:.3g}" if value else "0"


def _text(x: float, y: float, content: str, *, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} fill="#333"{extra}>'
        f"{html.escape(content)}</text>"
    )


def _legend(x: float, y: float, names: Sequence[str], colours: Sequence[str] = PALETTE[:2]) -> str:
    parts = []
    for name, colour in zip(names, colours, strict=False):
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}" '
            f'fill-opacity="0.6"/>'
        )
        parts.append(_text(x + 14, y, name, anchor="start"))
        x += 24 + 7 * len(name)
    return "".join(parts)


def _shares(values: Sequence[float]) -> list[float]:
    clean = [v if math.isfinite(v) and v > 0 else 0.0 for v in map(float, values)]
    total = sum(clean)
    return [v / total for v in clean] if total else clean


def _svg(width: int, height: int, title: str, body: str) -> str:
    label = html.escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>{body}</svg>"
    )


def svg_histogram(
    edges: Sequence[float],
    reference_counts: Sequence[float],
    current_counts: Sequence[float],
    *,
    width: int = 440,
    height: int = 220,
    title: str = "distribution",
    names: Sequence[str] = SERIES,
) -> str:
    """Two histograms over the same bins, overlaid, each as the share of its values per bin.

    Args:
        edges: ``len(counts) + 1`` increasing bin edges.
        reference_counts: counts per bin of the first series.
        current_counts: counts per bin of the second series.
        width: pixels.
        height: pixels.
        title: the chart's accessible title (escaped).
        names: legend names of the two series (escaped).

    Returns:
        One ``<svg>`` element.
    """
    left, right, top, bottom = 52, 12, 22, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    ref, cur = _shares(reference_counts), _shares(current_counts)
    low, high = (float(edges[0]), float(edges[-1])) if len(edges) >= 2 else (0.0, 1.0)
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        low, high = 0.0, 1.0
    peak, y_ticks = _round_up(max([*ref, *cur, 0.0]) or 1.0)

    def x_at(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    def y_at(share: float) -> float:
        return top + plot_h - share / peak * plot_h

    parts = [_axes(left, top, plot_w, plot_h)]
    for share_list, colour in ((ref, REFERENCE_COLOUR), (cur, CURRENT_COLOUR)):
        for i, share in enumerate(share_list):
            if share <= 0 or i + 1 >= len(edges):
                continue
            x0, x1 = x_at(float(edges[i])), x_at(float(edges[i + 1]))
            parts.append(
                f'<rect x="{x0:.1f}" y="{y_at(share):.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                f'height="{top + plot_h - y_at(share):.1f}" fill="{colour}" fill-opacity="0.5"/>'
            )
    for tick in nice_ticks(low, high, 5):
        parts.append(_tick_x(x_at(tick), top + plot_h, tick_label(tick)))
    for tick in y_ticks:
        parts.append(_tick_y(left, y_at(tick), tick_label(tick, percent=True)))
    parts.append(_legend(left + 4, 14, names))
    return _svg(width, height, title, "".join(parts))


def _axes(left: float, top: float, plot_w: float, plot_h: float) -> str:
    bottom = top + plot_h
    return (
        f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>'
    )


def _tick_x(x: float, y: float, label: str) -> str:
    mark = f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#888"/>'
    return mark + _text(x, y + 15, label)


def _tick_y(x: float, y: float, label: str) -> str:
    mark = f'<line x1="{x - 4}" y1="{y:.1f}" x2="{x}" y2="{y:.1f}" stroke="#888"/>'
    return mark + _text(x - 6, y + 4, label, anchor="end")


def svg_bars(
    labels: Sequence[str],
    reference_freqs: Sequence[float],
    current_freqs: Sequence[float],
    *,
    width: int = 440,
    title: str = "frequencies",
    names: Sequence[str] = SERIES,
) -> str:
    """Horizontal bars, two per label (reference above current), for categories.

    Args:
        labels: category names (escaped; shown cut to 22 characters, full in a tooltip).
        reference_freqs: the first series' frequency of each label, 0 to 1.
        current_freqs: the second series' frequency of each label.
        width: pixels; the height follows the number of labels.
        title: the chart's accessible title (escaped).
        names: legend names of the two series (escaped).

    Returns:
        One ``<svg>`` element.
    """
    left, right, top, row = 150, 40, 24, 22
    height = top + row * len(labels) + 26
    plot_w = width - left - right
    ref = [v if math.isfinite(v) else 0.0 for v in map(float, reference_freqs)]
    cur = [v if math.isfinite(v) else 0.0 for v in map(float, current_freqs)]
    peak, x_ticks = _round_up(max([*ref, *cur, 0.0]) or 1.0)
    parts = [_axes(left, top, plot_w, row * len(labels))]
    for i, label in enumerate(labels):
        y = top + i * row
        shown = label if len(label) <= 22 else label[:21] + "\u2026"
        parts.append(f"<g><title>{html.escape(label)}</title>")
        parts.append(_text(left - 6, y + 14, shown, anchor="end"))
        for j, (value, colour) in enumerate(((ref[i], REFERENCE_COLOUR), (cur[i], CURRENT_COLOUR))):
            bar = max(value, 0.0) / peak * plot_w
            parts.append(
                f'<rect x="{left}" y="{y + 3 + j * 8:.1f}" width="{bar:.1f}" height="7" '
                f'fill="{colour}" fill-opacity="0.8"/>'
            )
        parts.append("</g>")
    for tick in x_ticks:
        parts.append(
            _tick_x(
                left + tick / peak * plot_w, top + row * len(labels), tick_label(tick, percent=True)
            )
        )
    parts.append(_legend(left, 14, names))
    return _svg(width, height, title, "".join(parts))


def svg_lines(
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    x_label: str = "",
    y_label: str = "",
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    diagonal: bool = False,
    markers: bool = False,
    width: int = 340,
    height: int = 300,
    title: str = "curves",
) -> str:
    """Lines through points (ROC, precision-recall, calibration), one colour per series.

    Args:
        series: ``(name, xs, ys)`` per line (names escaped); non-finite points are skipped.
        x_label: the x axis' title (escaped).
        y_label: the y axis' title (escaped).
        x_range: the x axis' bounds; default: the data's.
        y_range: the y axis' bounds; default: the data's.
        diagonal: draw the dashed line y = x (chance for ROC, perfect calibration).
        markers: draw a dot at each point too.
        width: pixels.
        height: pixels.
        title: the chart's accessible title (escaped).

    Returns:
        One ``<svg>`` element.
    """
    left, right, top, bottom = 48, 12, 22, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    clean = [(name, _finite_points(xs, ys)) for name, xs, ys in series]
    x_low, x_high = x_range or _bounds([x for _, points in clean for x, _ in points])
    y_low, y_high = y_range or _bounds([y for _, points in clean for _, y in points])

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            left + (x - x_low) / (x_high - x_low) * plot_w,
            top + plot_h - (y - y_low) / (y_high - y_low) * plot_h,
        )

    parts = [_axes(left, top, plot_w, plot_h)]
    if diagonal:
        (x0, y0), (x1, y1) = at(x_low, y_low), at(x_high, y_high)
        parts.append(
            f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
            f'stroke="{GUIDE_COLOUR}" stroke-dasharray="4 3"/>'
        )
    for (_, points), colour in zip(clean, _colours(len(clean)), strict=True):
        pixels = [at(x, y) for x, y in points]
        if not pixels:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pixels)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if markers:
            parts += [
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>'
                for px, py in pixels
            ]
    for tick in nice_ticks(x_low, x_high, 5):
        parts.append(_tick_x(at(tick, y_low)[0], top + plot_h, tick_label(tick)))
    for tick in nice_ticks(y_low, y_high, 5):
        parts.append(_tick_y(left, at(x_low, tick)[1], tick_label(tick)))
    parts.append(_text(left + plot_w / 2, height - 6, x_label))
    parts.append(_vertical_text(12, top + plot_h / 2, y_label))
    parts.append(_legend(left + 4, 14, [name for name, _ in clean], _colours(len(clean))))
    return _svg(width, height, title, "".join(parts))


def _vertical_text(x: float, y: float, content: str) -> str:
    return _text(x, y, content, extra=f' transform="rotate(-90 {x:.1f} {y:.1f})"')


def _finite_points(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    pairs = zip(map(float, xs), map(float, ys), strict=False)
    return [(x, y) for x, y in pairs if math.isfinite(x) and math.isfinite(y)]


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _colours(count: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(count)]


def svg_heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    counts: Sequence[Sequence[float]],
    *,
    row_title: str = "actual",
    column_title: str = "predicted",
    title: str = "confusion matrix",
) -> str:
    """A matrix of counts (a confusion matrix): each cell shaded by its share of its row.

    Args:
        row_labels: one per row (escaped; cut to 12 characters, full in a tooltip).
        column_labels: one per column.
        counts: ``counts[i][j]`` for row ``i`` and column ``j``.
        row_title: the rows' axis title (escaped).
        column_title: the columns' axis title.
        title: the chart's accessible title (escaped).

    Returns:
        One ``<svg>`` element, sized to the matrix (cells of 14 to 56 pixels).
    """
    cells = max(len(row_labels), len(column_labels), 1)
    cell = max(14, min(56, 360 // cells))
    left, top = 110, 56
    width, height = left + cell * len(column_labels) + 12, top + cell * len(row_labels) + 12
    parts = [_text(left + cell * len(column_labels) / 2, 14, column_title)]
    parts.append(_vertical_text(12, top + cell * len(row_labels) / 2, row_title))
    for j, label in enumerate(column_labels):
        parts.append(_label(left + j * cell + cell / 2, top - 8, label, "middle"))
    for i, (label, row) in enumerate(zip(row_labels, counts, strict=True)):
        y = top + i * cell
        parts.append(_label(left - 6, y + cell / 2 + 4, label, "end"))
        total = sum(v for v in map(float, row) if math.isfinite(v)) or 1.0
        for j, value in enumerate(map(float, row)):
            share = value / total if math.isfinite(value) else 0.0
            parts.append(_cell(left + j * cell, y, cell, value, share))
    return _svg(width, height, title, "".join(parts))


def _label(x: float, y: float, label: str, anchor: str) -> str:
    shown = label if len(label) <= 12 else label[:11] + "\u2026"
    return f"<g><title>{html.escape(label)}</title>{_text(x, y, shown, anchor=anchor)}</g>"


def _cell(x: float, y: float, size: int, value: float, share: float) -> str:
    count = tick_label(value) if abs(value) < 1e4 else f"{value:.2g}"
    rect = (
        f'<rect x="{x}" y="{y}" width="{size}" height="{size}" fill="{REFERENCE_COLOUR}" '
        f'fill-opacity="{0.08 + 0.92 * max(0.0, min(share, 1.0)):.2f}" stroke="#fff"/>'
    )
    tooltip = f"<title>{html.escape(count)} ({share:.1%} of the row)</title>"
    if size < 24:
        return f"<g>{tooltip}{rect}</g>"
    colour = "#fff" if share > 0.5 else "#222"
    text = (
        f'<text x="{x + size / 2:.1f}" y="{y + size / 2 + 4:.1f}" text-anchor="middle" {FONT} '
        f'fill="{colour}">{html.escape(count)}</text>'
    )
    return f"<g>{tooltip}{rect}{text}</g>"
