"""``loopml artifacts``: what an artifact is, and which executions made and used it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace

if TYPE_CHECKING:
    from rich.console import Console

    from loopml.metadata import Event, Execution

app = typer.Typer(help="Inspect stored artifacts.", no_args_is_help=True)


@app.command("show")
def show_artifact(
    ctx: typer.Context,
    artifact_id: Annotated[str, typer.Argument(help="A digest or a unique prefix of it.")],
) -> None:
    """Show an artifact: type, size, uri, properties, producing and consuming executions."""
    from rich.table import Table
    from rich.text import Text

    with open_workspace(ctx) as workspace:
        artifact = workspace.metadata.get_artifact(artifact_id)
        events = workspace.metadata.list_events(artifact_id=artifact.id)
        executions = {
            e.execution_id: workspace.metadata.get_execution(e.execution_id) for e in events
        }
    output = console.out()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("artifact", artifact.id)
    grid.add_row("type", Text(artifact.type))
    grid.add_row("size", f"{console.size(artifact.size)} ({artifact.size:,} bytes)")
    grid.add_row("uri", Text(artifact.uri))
    grid.add_row("created", console.when(artifact.created_at))
    output.print(grid)
    if artifact.properties:
        table = Table(
            title="Properties", title_justify="left", title_style="bold", show_header=False
        )
        table.add_column("key", style="cyan")
        table.add_column("value", overflow="fold")
        for key in sorted(artifact.properties):
            table.add_row(key, Text(console.plain(artifact.properties[key])))
        output.print(table)
    _print_events(output, "Produced by", [e for e in events if e.kind == "output"], executions)
    _print_events(output, "Consumed by", [e for e in events if e.kind == "input"], executions)


def _print_events(
    output: Console, title: str, events: list[Event], executions: dict[str, Execution]
) -> None:
    from rich.table import Table

    if not events:
        output.print(f"\n[bold]{title}[/bold]: none")
        return
    table = Table(title=title, title_justify="left", title_style="bold")
    for header in ("as", "execution", "type", "name", "status", "started"):
        table.add_column(header)
    for event in events:
        execution = executions[event.execution_id]
        table.add_row(
            event.name,
            execution.id[:8],
            execution.type,
            execution.name,
            console.status(execution.status),
            console.when(execution.started_at),
        )
    output.print(table)


@app.command("list")
def list_artifacts(
    ctx: typer.Context,
    type: Annotated[
        str | None, typer.Option("--type", "-t", help="Only artifacts of this type.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="The most artifacts to show.")
    ] = 20,
) -> None:
    """List artifacts, newest first."""
    from rich.table import Table
    from rich.text import Text

    with open_workspace(ctx) as workspace:
        artifacts = workspace.metadata.list_artifacts(type=type, limit=limit)
    output = console.out()
    if not artifacts:
        output.print("No artifacts.")
        return
    table = Table(title=f"{len(artifacts)} artifacts", title_justify="left")
    for header in ("artifact", "type", "size", "created", "name"):
        table.add_column(
            header, justify="right" if header == "size" else "left", no_wrap=header == "artifact"
        )
    for artifact in artifacts:
        label = artifact.properties.get("filename", "")
        table.add_row(
            artifact.id[:12],
            Text(artifact.type),
            console.size(artifact.size),
            console.when(artifact.created_at),
            Text(str(label)),
        )
    output.print(table)
