"""The inline SVG charts: well-formed on odd input, labels escaped, ticks round."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loopml.reports import nice_ticks, svg_bars, svg_heatmap, svg_histogram, svg_lines

CheckHtml = Callable[[str], Any]


@pytest.mark.parametrize(
    ("edges", "ref", "cur"),
    [
        ([0.0, 1.0, 2.0], [3, 1], [0, 4]),
        ([5.0, 6.0], [0], [0]),
        ([0.0, 1.0], [float("nan")], [2]),
        ([float("inf"), 1.0], [1], [1]),
    ],
)
def test_svg_histogram_handles_degenerate_input(
    edges: list[float], ref: list[float], cur: list[float], check_html: CheckHtml
) -> None:
    svg = svg_histogram(edges, ref, cur, title="<x>")
    check_html(svg)
    assert svg.startswith("<svg") and "<title>&lt;x&gt;</title>" in svg
    assert "nan" not in svg.lower().replace("<title>", "")


def test_svg_bars_escapes_and_shortens_labels(check_html: CheckHtml) -> None:
    svg = svg_bars(["<a>", "x" * 40, "other"], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8])
    check_html(svg)
    assert "&lt;a&gt;" in svg and "x" * 40 in svg and "x" * 21 + "\u2026" in svg
    assert svg.count("<rect") == 3 * 2 + 2  # two bars per label, two legend swatches


def test_svg_lines_and_heatmap_are_well_formed_and_escaped(check_html: CheckHtml) -> None:
    lines = svg_lines(
        [("<roc>", [0.0, 0.5, float("nan"), 1.0], [0.0, 0.8, 0.9, 1.0])],
        x_label="fpr & more",
        diagonal=True,
        markers=True,
    )
    heatmap = svg_heatmap(["<no>", "yes"], ["no", "yes"], [[5, 1], [2, 7]])
    for svg in (lines, heatmap):
        check_html(svg)
    assert "&lt;roc&gt;" in lines and "fpr &amp; more" in lines
    assert lines.count("<circle") == 3, "the NaN point is skipped"
    assert "&lt;no&gt;" in heatmap and "<no>" not in heatmap


def test_nice_ticks_are_round_and_inside() -> None:
    assert nice_ticks(0.0, 1.0, 5) == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-3.7, 12.2, 5) == [0, 5, 10]
    assert nice_ticks(0.013, 0.061, 4) == pytest.approx([0.02, 0.04, 0.06])
    assert nice_ticks(2.0, 2.0) == [2.0]
    assert nice_ticks(float("nan"), 1.0) == []
