"""``loopml stats``, ``loopml schema infer/diff``, ``loopml validate``, ``loopml drift``.

DATA is a Parquet or CSV file (or a glob, or an fsspec URL), read by DuckDB in
place. ``validate`` exits 1 when the batch has errors (2 for bad usage), so it
can gate a CI job; ``drift --fail-on-drift`` does the same for dataset drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopml.cli import console

if TYPE_CHECKING:
    from loopml.validation import DatasetStatistics, Schema

schema_app = typer.Typer(help="Infer, show and compare data schemas.", no_args_is_help=True)

DataArgument = Annotated[str, typer.Argument(help="A Parquet or CSV file (or glob, or URL).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
HtmlOption = Annotated[
    Path | None,
    typer.Option("--html", help="Also write an HTML report to this file.", dir_okay=False),
]


def stats(data: DataArgument, as_json: JsonOption = False, html: HtmlOption = None) -> None:
    """Show the statistics of a dataset: per column type, missing, distinct, range, top values."""
    from loopml.validation import compute_statistics

    with console.err().status(f"computing the statistics of {data}"):
        statistics = compute_statistics(data)
    _write_html(html, statistics.to_html())
    if as_json:
        _print_json(statistics.to_dict())
        return
    _print_statistics(statistics)


@schema_app.command("infer")
def infer(
    data: DataArgument,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
) -> None:
    """Infer a schema (YAML) from a dataset, with slack; curate it and keep it in git."""
    from loopml.validation import infer_schema

    with console.err().status(f"inferring a schema from {data}"):
        schema = infer_schema(data)
    if output is None:
        typer.echo(schema.to_yaml(), nl=False)
        return
    schema.save(output)
    console.err().print(f"wrote {console.plural(len(schema), 'feature')} to {output}")


@schema_app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="A schema file (.yaml), or data to infer one from.")],
    new: Annotated[str, typer.Argument(help="A schema file (.yaml), or data to infer one from.")],
    as_json: JsonOption = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit with 1 when the schemas differ.")
    ] = False,
) -> None:
    """Show what changed between two schemas, feature by feature."""
    from loopml.validation import diff_schemas

    changes = diff_schemas(_schema(old), _schema(new))
    if as_json:
        _print_json([{**vars(c), "kind": c.kind} for c in changes])
    elif not changes:
        console.out().print("the schemas are the same")
    else:
        _print_changes(changes)
    if changes and exit_code:
        raise typer.Exit(1)


def validate(
    data: DataArgument,
    schema: Annotated[
        Path, typer.Option("--schema", "-s", help="The schema file (YAML).", dir_okay=False)
    ],
    as_json: JsonOption = False,
    html: HtmlOption = None,
    fail_on_warning: Annotated[
        bool, typer.Option("--fail-on-warning", help="Exit with 1 on warnings too.")
    ] = False,
) -> None:
    """Validate a batch against a schema: print the anomalies; exit 1 if any is an error."""
    from loopml.validation import Schema
    from loopml.validation import validate as run_validation

    expected = Schema.load(schema)
    with console.err().status(f"validating {data}"):
        report = run_validation(data, expected)
    _write_html(html, report.to_html())
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_report(report)
    if report.errors or (fail_on_warning and report.warnings):
        raise typer.Exit(1)


def drift(
    reference: Annotated[str, typer.Argument(help="The reference data (training, last batch).")],
    current: Annotated[str, typer.Argument(help="The data to compare with it.")],
    columns: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Only these columns (repeatable).")
    ] = None,
    as_json: JsonOption = False,
    html: HtmlOption = None,
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help="Exit with 1 when the dataset drifted.")
    ] = False,
) -> None:
    """Compare two datasets feature by feature: distances, tests and a verdict per feature."""
    from loopml.validation import DriftDetector

    with console.err().status(f"comparing {current} with {reference}"):
        report = DriftDetector(columns=columns or None).fit(reference).score(current)
    _write_html(html, report.to_html())
    if as_json:
        _print_json(report.to_dict())
    else:
        _print_drift(report)
    if fail_on_drift and report.dataset_drift:
        raise typer.Exit(1)


# --- helpers --------------------------------------------------------------------


def _schema(where: str) -> Schema:
    from loopml.validation import Schema, infer_schema

    if Path(where).suffix.lower() in (".yaml", ".yml", ".json"):
        return Schema.load(where)
    return infer_schema(where)


def _write_html(path: Path | None, page: str) -> None:
    if path is None:
        return
    path.write_text(page, encoding="utf-8")
    console.err().print(f"wrote the report to {path}")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _print_statistics(statistics: DatasetStatistics) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{statistics.name}: {statistics.rows:,} rows", title_justify="left")
    for header in ("column", "type", "missing", "distinct", "min", "mean", "max", "top values"):
        table.add_column(header, justify="right" if header in ("missing", "distinct") else "left")
    for feature in statistics:
        numeric = feature.numeric
        approx = "~" if feature.unique_approximate else ""
        table.add_row(
            Text(feature.name),
            feature.type,
            f"{feature.missing_ratio:.1%}",
            f"{approx}{feature.unique:,}",
            _number(numeric.min if numeric else None) or _time(feature, "min"),
            _number(numeric.mean if numeric else None),
            _number(numeric.max if numeric else None) or _time(feature, "max"),
            Text(_top(feature)),
        )
    console.out().print(table)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _time(feature: Any, side: str) -> str:
    return str(getattr(feature.time, side) or "") if feature.time else ""


def _top(feature: Any) -> str:
    if feature.categories is None:
        return ""
    total = max(feature.present, 1)
    return ", ".join(f"{v} {n / total:.0%}" for v, n in feature.categories.values[:3])


def _print_changes(changes: list[Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Schema changes", title_justify="left")
    for header in ("feature", "change", "field", "old", "new"):
        table.add_column(header)
    styles = {"added": "green", "removed": "red", "changed": "yellow"}
    for change in changes:
        kind = change.kind
        old, new = console.plain(change.old), console.plain(change.new)
        if change.field == "domain":
            old, new = f"- {old}" if change.old else "", f"+ {new}" if change.new else ""
        table.add_row(
            Text(change.feature), Text(kind, style=styles[kind]), change.field, Text(old), Text(new)
        )
    console.out().print(table)


def _print_report(report: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    output = console.out()
    style = {"passed": "green", "warnings": "yellow", "failed": "bold red"}[report.status]
    output.print(
        Text.assemble(
            (f"{report.status.upper()} ", style),
            f"{report.dataset}: {report.rows:,} rows, {console.plural(len(report.errors), 'error')}"
            f", {console.plural(len(report.warnings), 'warning')}",
        )
    )
    if not report.anomalies:
        return
    table = Table(show_lines=False)
    for header in ("severity", "feature", "anomaly", "share", "details"):
        table.add_column(header, justify="right" if header == "share" else "left")
    for anomaly in report.anomalies:
        severity = Text(anomaly.severity, style="red" if anomaly.severity == "error" else "yellow")
        share = f"{anomaly.share:.2%}" if anomaly.count else ""
        table.add_row(
            severity, Text(anomaly.feature or "*"), anomaly.kind, share, Text(anomaly.message)
        )
    output.print(table)


def _print_drift(report: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    output = console.out()
    verdict = "DRIFT" if report.dataset_drift else "no dataset drift"
    output.print(
        Text.assemble(
            (verdict, "bold red" if report.dataset_drift else "green"),
            f": {len(report.drifted)} of {len(report.features)} features drifted "
            f"({report.share:.0%})",
        )
    )
    rows = report.rows()
    if not rows:
        return
    table = Table()
    headers = list(rows[0])
    for header in headers:
        table.add_column(header)
    for row in rows:
        status = str(row.get("status", ""))
        cells = [
            Text(_cell(row[h]), style=_drift_style(status) if h == "status" else "")
            for h in headers
        ]
        table.add_row(*cells)
    output.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _drift_style(status: str) -> str:
    return {"drift": "bold red", "no_drift": "green"}.get(status, "yellow")
