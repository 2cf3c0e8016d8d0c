"""Rendering a :class:`~loopml.registry.card.ModelCard` as Markdown and as HTML.

Both forms walk the same parts (:func:`_sections`). The HTML page is built
from the blocks of :mod:`loopml.reports`: standalone (inline CSS, no script,
nothing fetched), every value escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from loopml.reports import Markup, badge, page, paragraph, preformatted, section, table

if TYPE_CHECKING:
    from loopml.registry.card import ModelCard


def _sections(card: ModelCard) -> list[tuple[str, Any, Sequence[str]]]:
    """(title, rows or text, headers) of every part of the card, in order."""
    version = card.version
    details = [
        ("model", card.model.name),
        ("version", version.version),
        ("aliases", ", ".join(version.aliases) or "-"),
        ("artifact", version.artifact_id),
        ("artifact type", card.artifact_type),
        ("flavor", card.flavor or "-"),
        ("author", version.author),
        ("registered", version.created_at.isoformat()),
        ("status", "deleted" if version.deleted else "live"),
        ("description", version.description or card.model.description or "-"),
    ]
    run = card.run or {}
    lineage = (
        [
            (k, run.get(k))
            for k in (
                "id",
                "name",
                "type",
                "status",
                "user",
                "git_commit",
                "git_dirty",
                "started_at",
            )
        ]
        if run
        else []
    )
    lineage += [(f"param {k}", v) for k, v in sorted((run.get("params") or {}).items())]
    parts: list[tuple[str, Any, Sequence[str]]] = [
        ("Model details", details, ("field", "value")),
        (
            "Intended use",
            card.intended_use or "Not written yet: `describe(model, intended_use=...)`.",
            (),
        ),
        (
            "Limitations",
            card.limitations or "Not written yet: `describe(model, limitations=...)`.",
            (),
        ),
        (
            "Training run and code",
            lineage or "No run is recorded for this version.",
            ("field", "value"),
        ),
        (
            "Training data",
            [(d["name"], d["id"], d["type"], _stats(d)) for d in card.training_data]
            or "No input artifact is recorded.",
            ("role", "artifact", "type", "properties"),
        ),
        (
            "Metrics",
            [(k, v) for k, v in sorted(card.metrics.items())] or "No metric recorded.",
            ("metric", "value"),
        ),
        (
            "Checks",
            [
                (
                    c.name,
                    "passed" if c.passed else "failed",
                    c.evidence_artifact_id or "-",
                    c.actor,
                    c.at.isoformat(),
                )
                for c in card.checks.values()
            ]
            or "No check recorded.",
            ("check", "status", "evidence", "by", "at"),
        ),
    ]
    for name, evidence in card.evidence.items():
        parts.append((f"Evidence of {name}", json.dumps(evidence, indent=2, sort_keys=True), ()))
    parts += [
        (
            "Approvals",
            [
                (d.decision, d.actor, ", ".join(d.roles) or "-", d.reason or "-", d.at.isoformat())
                for d in card.decisions
            ]
            or "No approval or rejection yet.",
            ("decision", "by", "roles", "reason", "at"),
        ),
        (
            "Alias history",
            [
                (
                    m.alias,
                    m.kind,
                    m.previous_version,
                    m.version,
                    m.actor,
                    m.reason or "-",
                    m.at.isoformat(),
                )
                for m in card.alias_history
            ]
            or "No alias has pointed at a version yet.",
            ("alias", "move", "from", "to", "by", "reason", "at"),
        ),
    ]
    return parts


def _stats(data: Any) -> str:
    props = data.get("properties") or {}
    shown = {
        k: v
        for k, v in props.items()
        if k in ("filename", "rows", "columns", "shape", "python_type")
    }
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "-"


def card_markdown(card: ModelCard) -> str:
    """YAML front matter (Hugging Face keys), then one Markdown section per part."""
    import yaml

    front = yaml.safe_dump(card.front_matter(), sort_keys=False, allow_unicode=True)
    lines = ["---", front.rstrip(), "---", "", f"# Model card: {card.title}", ""]
    for title, body, headers in _sections(card):
        lines += [f"## {title}", ""]
        if isinstance(body, str):
            lines += [f"```json\n{body}\n```"] if title.startswith("Evidence") else [body]
        else:
            lines += _md_table(headers, body)
        lines.append("")
    return "\n".join(lines)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        text = "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def card_html(card: ModelCard) -> str:
    """One standalone page: badges (aliases, blessing, approvals), then every part as a section."""
    blessing = card.checks.get("blessing")
    blessed = bool(blessing and blessing.passed)
    approvals = sum(1 for d in card.decisions if d.decision == "approved")
    badges = [
        badge("aliases", ", ".join(card.version.aliases) or "none"),
        badge("blessed", "yes" if blessed else "no", "passed" if blessed else "failed"),
        badge("approvals", approvals),
        badge("metrics", len(card.metrics)),
    ]
    sections = [
        section(title, _html_body(title, body, headers)) for title, body, headers in _sections(card)
    ]
    subtitle = card.version.description or card.model.description or ""
    return page(f"Model card: {card.title}", sections, subtitle=subtitle, badges=badges)


def _html_body(title: str, body: Any, headers: Sequence[str]) -> Markup:
    if not isinstance(body, str):
        return table(headers, body, status_column="status")
    return preformatted(body) if title.startswith("Evidence") else paragraph(body)
