"""Standalone HTML reports: the blocks and charts every capability renders its pages with.

A page is one file a person opens anywhere: inline CSS and SVG, no JavaScript,
nothing fetched. :func:`page` assembles a document from :func:`section`,
:func:`details`, :func:`badge`, :func:`table`, :func:`paragraph` and
:func:`preformatted` blocks and the charts :func:`svg_histogram`,
:func:`svg_bars`, :func:`svg_lines` and :func:`svg_heatmap`. Every block
returns :class:`Markup` (HTML already safe); any other value given to a block
is text, formatted by :func:`fmt` and escaped. This package sits at the bottom
of the layers beside ``loopml.core`` and imports nothing of loopml, so
validation, the registry and the rest can all use it.
"""

from __future__ import annotations

from loopml.reports.html import (
    Markup,
    badge,
    details,
    escape,
    fmt,
    page,
    paragraph,
    pill,
    preformatted,
    section,
    status_class,
    table,
)
from loopml.reports.svg import nice_ticks, svg_bars, svg_heatmap, svg_histogram, svg_lines

__all__ = [
    "Markup",
    "badge",
    "details",
    "escape",
    "fmt",
    "nice_ticks",
    "page",
    "paragraph",
    "pill",
    "preformatted",
    "section",
    "status_class",
    "svg_bars",
    "svg_heatmap",
    "svg_histogram",
    "svg_lines",
    "table",
]
