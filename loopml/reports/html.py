"""Self-contained HTML pages: inline CSS, inline SVG, no JavaScript, no external URL.

Building blocks, each returning :class:`Markup` (HTML that is already safe):
:func:`page` (the whole document), :func:`section`, :func:`details` (a
collapsible block, native HTML), :func:`badge`, :func:`pill`, :func:`table`
(with a colour per status), :func:`paragraph` and :func:`preformatted`, and
the charts of :mod:`loopml.reports.svg`. Any other value given to them is
text: it is formatted (:func:`fmt`) and escaped.

Status colours (``status-<name>`` CSS classes): red for ``drift``, ``error``,
``type_mismatch``; amber for ``warning``, ``missing_in_current``,
``new_in_current``; green for ``no_drift``, ``ok``; grey for the rest.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

BAD = ("drift", "error", "type_mismatch", "failed")
WARN = ("warning", "missing_in_current", "new_in_current")
GOOD = ("no_drift", "ok", "passed")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{margin:28px 0 8px;font-size:19px}h3{margin:0;font-size:16px}
.subtitle{color:#555;margin:0 0 16px}
.badges{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.badge{border:1px solid #ddd;border-radius:6px;padding:6px 10px;background:#fff}
.badge b{display:block;font-size:18px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}
th,td{border:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pill{border-radius:9px;padding:1px 8px;font-size:12px;white-space:nowrap;background:#eee}
.status-bad{background:#fde2e1}.pill.status-bad{background:#d93025;color:#fff}
.status-warn{background:#fff4d6}.pill.status-warn{background:#e8a200;color:#fff}
.status-good .pill,.pill.status-good{background:#1e8e3e;color:#fff}
.status-muted{color:#666}.pill.status-muted{background:#bbb;color:#fff}
details{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:8px 0;padding:8px 12px}
summary{cursor:pointer}summary h3{display:inline}
.feature{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin-top:8px}
.reason{color:#555;font-size:13px;margin:4px 0}
pre{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px;overflow:auto}
"""


class Markup(str):
    """HTML that is already safe: :func:`table` and :func:`section` insert it as is."""

    __slots__ = ()


def escape(value: Any) -> Markup:
    """``value`` as text, formatted by :func:`fmt` and escaped (Markup passes through)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(fmt(value), quote=True))


def fmt(value: Any) -> str:
    """A value as short text: ``-`` for None/NaN, ``yes``/``no``, ``12,345``, 4 digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-" if math.isnan(value) else str(value)
        return f"{value:.4g}"
    return str(value)


def status_class(status: Any) -> str:
    """The CSS class of a status: ``status-`` + ``bad``, ``warn``, ``good`` or ``muted``."""
    name = re.sub(r"[^a-z0-9_]", "", str(status).lower())
    kind = "bad" if name in BAD else "warn" if name in WARN else "good" if name in GOOD else "muted"
    return f"status-{kind}"


def pill(status: Any) -> Markup:
    """A status as a coloured label."""
    return Markup(f'<span class="pill {status_class(status)}">{escape(status)}</span>')


def badge(label: Any, value: Any, status: Any = None) -> Markup:
    """A summary figure: ``value`` large above ``label``; coloured like ``status`` if given."""
    css = f" {status_class(status)}" if status is not None else ""
    return Markup(f'<div class="badge{css}"><b>{escape(value)}</b>{escape(label)}</div>')


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    status_column: str | None = None,
    numeric: bool = True,
) -> Markup:
    """A table; rows are sequences in the order of ``headers``, or mappings keyed by them.

    Args:
        headers: column titles (escaped).
        rows: the cells: Markup as is, anything else formatted and escaped.
        status_column: the header of the column holding a status: its cells
            become coloured pills and each row is tinted by its status.
        numeric: right-align numbers.

    Returns:
        One ``<table>`` element.
    """
    position = list(headers).index(status_column) if status_column in headers else None
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [row.get(str(h)) for h in headers] if isinstance(row, Mapping) else list(row)
        css = f' class="{status_class(cells[position])}"' if position is not None else ""
        tds = []
        for index, cell in enumerate(cells):
            if index == position:
                tds.append(f"<td>{pill(cell)}</td>")
            elif numeric and isinstance(cell, int | float) and not isinstance(cell, bool):
                tds.append(f'<td class="num">{escape(cell)}</td>')
            else:
                tds.append(f"<td>{escape(cell)}</td>")
        body.append(f"<tr{css}>{''.join(tds)}</tr>")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def paragraph(text: Any, *, css_class: str | None = None) -> Markup:
    """A paragraph of text (escaped unless Markup), with an optional CSS class."""
    cls = f' class="{html.escape(css_class)}"' if css_class else ""
    return Markup(f"<p{cls}>{escape(text)}</p>")


def preformatted(text: Any) -> Markup:
    """Text shown as is, whitespace kept (JSON, YAML, logs), escaped unless Markup."""
    return Markup(f"<pre>{escape(text)}</pre>")


def section(title: Any, *parts: Any, anchor: str | None = None) -> Markup:
    """A titled section holding ``parts`` (Markup as is, anything else as escaped text)."""
    ident = f' id="{html.escape(anchor)}"' if anchor else ""
    return Markup(
        f"<section{ident}><h2>{escape(title)}</h2>{''.join(map(escape, parts))}</section>"
    )


def details(summary: Any, *parts: Any, opened: bool = False, anchor: str | None = None) -> Markup:
    """A collapsible block (native ``<details>``): ``summary`` always shown, ``parts`` on click."""
    ident = f' id="{html.escape(anchor)}"' if anchor else ""
    flag = " open" if opened else ""
    body = "".join(map(escape, parts))
    return Markup(f"<details{ident}{flag}><summary>{escape(summary)}</summary>{body}</details>")


def page(
    title: Any, sections: Iterable[Any], *, subtitle: Any = "", badges: Iterable[Any] = ()
) -> str:
    """A complete HTML document: title, subtitle, a row of badges, then the sections.

    Args:
        title: the page's title and heading (escaped).
        sections: the body's blocks, usually from :func:`section`.
        subtitle: a line under the title (escaped unless Markup).
        badges: summary figures, usually from :func:`badge`.

    Returns:
        The document, starting with ``<!DOCTYPE html>``.
    """
    heading = escape(title)
    badge_row = "".join(map(escape, badges))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{heading}</h1><p class="subtitle">{escape(subtitle)}</p>'
        f'<div class="badges">{badge_row}</div>{"".join(map(escape, sections))}'
        "</main></body></html>\n"
    )
