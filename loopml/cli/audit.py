"""``loopml audit``: read the registry's audit log and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli import console
from loopml.cli.state import ERROR_EXIT, open_workspace

app = typer.Typer(help="Read and verify the registry's audit log.", no_args_is_help=True)


@app.command("log")
def log(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    limit: Annotated[int, typer.Option("-n", help="How many entries (newest).", min=1)] = 50,
) -> None:
    """Show the newest audit entries: who did what, when and why."""
    from rich.table import Table
    from rich.text import Text

    from loopml.registry import ModelRegistry

    with open_workspace(ctx) as workspace:
        entries = ModelRegistry(workspace).audit_log(model=model, limit=limit)
    table = Table()
    for header in ("seq", "at", "actor", "action", "model", "version", "reason", "details"):
        table.add_column(header, overflow="fold")
    for entry in reversed(entries):
        style = "red" if entry.action == "refused" else None
        table.add_row(
            str(entry.seq),
            console.when(entry.at),
            Text(entry.actor),
            Text(entry.action, style=style or ""),
            Text(entry.model or "-"),
            str(entry.version or "-"),
            Text(entry.reason or "-"),
            Text(console.plain(dict(entry.details))),
        )
    console.out().print(table)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the audit log's hash chain; exit 1 at the first broken entry."""
    from loopml.registry import ModelRegistry

    with open_workspace(ctx) as workspace:
        result = ModelRegistry(workspace).verify_audit()
    if not result.ok:
        console.print_error(
            f"audit log broken at entry {result.first_broken_seq}: {result.problem}"
        )
        raise typer.Exit(ERROR_EXIT)
    console.out().print(f"audit log intact: {result.entries} entries, head {result.head_hash}")
