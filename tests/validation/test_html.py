"""The HTML toolkit: well-formed, self-contained, escaped; one chart per drift feature."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from loopml.validation.drift import detect_drift
from loopml.validation.html import Markup, badge, details, page, section, status_class, table
from loopml.validation.svg import nice_ticks, svg_bars, svg_histogram

VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line"}


class Checker(HTMLParser):
    """Counts tags and checks that every opened element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.attributes: list[tuple[str, str | None]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attributes += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attributes += attrs

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check(document: str) -> Checker:
    checker = Checker()
    checker.feed(document)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def drift_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 500
    reference = pd.DataFrame(
        {
            "<script>alert(1)</script>": rng.normal(size=n),
            "fare & tip": rng.gamma(2.0, size=n),
            "zone": rng.choice(["<b>north</b>", "south", 'say "hi"'], size=n),
            "gone": 1.0,
        }
    )
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    current["fare & tip"] = current["fare & tip"] * 2
    return reference, current.drop(columns="gone")


def test_drift_report_page_is_well_formed_with_one_svg_per_plotted_feature() -> None:
    report = detect_drift(*drift_frames())
    document = report.to_html()
    checker = check(document)
    plotted = [f for f in report.features if f.plot]
    assert len(plotted) == 3 and len(report.features) == 4
    assert checker.counts["svg"] == len(plotted)
    assert document.startswith("<!DOCTYPE html>")
    assert checker.counts.get("details") == len(report.features)


def test_user_strings_are_escaped_and_nothing_is_fetched() -> None:
    document = detect_drift(*drift_frames()).to_html(title="Drift <today>")
    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "&lt;b&gt;north&lt;/b&gt;" in document and "<b>north" not in document
    assert "fare &amp; tip" in document
    assert "<title>Drift &lt;today&gt;</title>" in document
    checker = check(document)
    urls = [value for name, value in checker.attributes if name in ("src", "href") and value]
    assert all(value.startswith("#") for value in urls)
    assert "url(" not in document and "@import" not in document


def test_table_statuses_markup_and_mappings() -> None:
    html = table(
        ["name", "status", "value"],
        [
            ["a<b", "drift", 0.123456],
            {"name": Markup("<i>x</i>"), "status": "no_drift", "value": 3},
        ],
        status_column="status",
    )
    check(html)
    assert "a&lt;b" in html and "<i>x</i>" in html
    assert '<tr class="status-bad">' in html and '<tr class="status-good">' in html
    assert ">0.1235<" in html and '<td class="num">3</td>' in html
    assert status_class("warning") == "status-warn" and status_class("<odd>") == "status-muted"


def test_page_section_details_badge_compose() -> None:
    document = page(
        "Stats & more",
        [section("Part <1>", "plain <text>", details("more", Markup("<p>inside</p>")))],
        subtitle="sub",
        badges=[badge("rows", 1234), badge("errors", 2, "error")],
    )
    check(document)
    assert "Part &lt;1&gt;" in document and "plain &lt;text&gt;" in document
    assert "<b>1,234</b>rows" in document and "status-bad" in document


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
    edges: list[float], ref: list[float], cur: list[float]
) -> None:
    svg = svg_histogram(edges, ref, cur, title="<x>")
    check(svg)
    assert svg.startswith("<svg") and "<title>&lt;x&gt;</title>" in svg
    assert "nan" not in svg.lower().replace("<title>", "")


def test_svg_bars_escapes_and_shortens_labels() -> None:
    svg = svg_bars(["<a>", "x" * 40, "other"], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8])
    check(svg)
    assert "&lt;a&gt;" in svg and "x" * 40 in svg and "x" * 21 + "\u2026" in svg
    assert svg.count("<rect") == 3 * 2 + 2  # two bars per label, two legend swatches


def test_nice_ticks_are_round_and_inside() -> None:
    assert nice_ticks(0.0, 1.0, 5) == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-3.7, 12.2, 5) == [0, 5, 10]
    assert nice_ticks(0.013, 0.061, 4) == pytest.approx([0.02, 0.04, 0.06])
    assert nice_ticks(2.0, 2.0) == [2.0]
    assert nice_ticks(float("nan"), 1.0) == []
