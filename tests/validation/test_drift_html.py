"""The drift report page: well-formed, self-contained, escaped; one chart per plotted feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loopml.validation.drift import detect_drift

CheckHtml = Callable[[str], Any]


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


def test_drift_report_page_is_well_formed_with_one_svg_per_plotted_feature(
    check_html: CheckHtml,
) -> None:
    report = detect_drift(*drift_frames())
    document = report.to_html()
    checker = check_html(document)
    plotted = [f for f in report.features if f.plot]
    assert len(plotted) == 3 and len(report.features) == 4
    assert checker.counts["svg"] == len(plotted)
    assert document.startswith("<!DOCTYPE html>")
    assert checker.counts.get("details") == len(report.features)


def test_user_strings_are_escaped_and_nothing_is_fetched(check_html: CheckHtml) -> None:
    document = detect_drift(*drift_frames()).to_html(title="Drift <today>")
    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "&lt;b&gt;north&lt;/b&gt;" in document and "<b>north" not in document
    assert "fare &amp; tip" in document
    assert "<title>Drift &lt;today&gt;</title>" in document
    checker = check_html(document)
    urls = [value for name, value in checker.attributes if name in ("src", "href") and value]
    assert all(value.startswith("#") for value in urls)
    assert "url(" not in document and "@import" not in document
