"""The page blocks: they compose into well-formed HTML and escape every value that is not Markup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loopml.reports import (
    Markup,
    badge,
    details,
    fmt,
    page,
    paragraph,
    preformatted,
    section,
    status_class,
    table,
)

CheckHtml = Callable[[str], Any]


def test_table_statuses_markup_and_mappings(check_html: CheckHtml) -> None:
    html = table(
        ["name", "status", "value"],
        [
            ["a<b", "drift", 0.123456],
            {"name": Markup("<i>x</i>"), "status": "no_drift", "value": 3},
        ],
        status_column="status",
    )
    check_html(html)
    assert "a&lt;b" in html and "<i>x</i>" in html
    assert '<tr class="status-bad">' in html and '<tr class="status-good">' in html
    assert ">0.1235<" in html and '<td class="num">3</td>' in html
    assert status_class("warning") == "status-warn" and status_class("<odd>") == "status-muted"


def test_page_section_details_badge_compose(check_html: CheckHtml) -> None:
    document = page(
        "Stats & more",
        [section("Part <1>", "plain <text>", details("more", Markup("<p>inside</p>")))],
        subtitle="sub",
        badges=[badge("rows", 1234), badge("errors", 2, "error")],
    )
    check_html(document)
    assert "Part &lt;1&gt;" in document and "plain &lt;text&gt;" in document
    assert "<b>1,234</b>rows" in document and "status-bad" in document


def test_paragraph_and_preformatted_escape_their_text(check_html: CheckHtml) -> None:
    block = section(
        "Notes",
        paragraph("<script>x</script>", css_class="reason"),
        preformatted('{\n  "a": "<b>"\n}'),
    )
    check_html(block)
    assert '<p class="reason">&lt;script&gt;x&lt;/script&gt;</p>' in block
    assert "<pre>{\n  &quot;a&quot;: &quot;&lt;b&gt;&quot;\n}</pre>" in block


def test_fmt_keeps_values_short() -> None:
    assert [fmt(None), fmt(float("nan")), fmt(True), fmt(12345), fmt(0.123456)] == [
        "-",
        "-",
        "yes",
        "12,345",
        "0.1235",
    ]
