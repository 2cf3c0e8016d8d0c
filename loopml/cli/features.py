"""``loopml features``: apply definitions, see them, materialize them, look features up."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace

if TYPE_CHECKING:
    from loopml.features import FeatureStore
    from loopml.workspace import Workspace

app = typer.Typer(help="Define, version, materialize and look up features.", no_args_is_help=True)


def _store(workspace: Workspace) -> FeatureStore:
    from loopml.features import FeatureStore

    return FeatureStore(workspace=workspace)


@app.command("apply")
def apply_definitions(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(help="A .py or .yaml file (default: features.definitions in loopml.yaml)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply even if it breaks the current version.")
    ] = False,
) -> None:
    """Store the definitions as the repository's new version (if anything changed)."""
    from loopml.features import FeatureNotFoundError, load_definitions

    with open_workspace(ctx) as workspace:
        store = _store(workspace)
        file = path or store.config.definitions
        if file is None:
            raise FeatureNotFoundError(
                "no definitions file: give one, or create features.py or features.yaml"
            )
        definitions = load_definitions(file)
        version = store.apply(definitions, force=force)
    output = console.out()
    output.print(
        f"feature repository [bold]{version.repository}[/bold] is at version "
        f"[bold]{version.version}[/bold] ({console.plural(len(definitions.views), 'view')}, "
        f"{console.plural(len(definitions.services), 'service')})"
    )
    for change in version.changes:
        output.print(f"  {change}")


@app.command("list")
def list_features(ctx: typer.Context) -> None:
    """List the entities, views and services of the current version."""
    from rich.table import Table

    with open_workspace(ctx) as workspace:
        store = _store(workspace)
        definitions = store.definitions
    table = Table(title="Feature views", title_justify="left", title_style="bold")
    for header in ("view", "entities", "features", "ttl", "source"):
        table.add_column(header)
    for view in definitions.views:
        source = getattr(view.source, "path", None) or "sql query"
        table.add_row(
            view.name,
            ", ".join(view.entities),
            ", ".join(f.name for f in view.features),
            str(view.ttl or "-"),
            source,
        )
    for odfv in definitions.on_demand:
        features = ", ".join(f.name for f in odfv.features)
        table.add_row(odfv.name, "-", features, "-", f"on demand: {odfv.function}")
    output = console.out()
    output.print(table)
    for service in definitions.services:
        output.print(f"service [bold]{service.name}[/bold]: {', '.join(service.features)}")


@app.command("show")
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="A view or service.")]
) -> None:
    """Show one feature view or service as JSON, and the version it belongs to."""
    import json

    from loopml.features.serialize import definitions_to_dict

    with open_workspace(ctx) as workspace:
        definitions = _store(workspace).definitions
    data = definitions_to_dict(definitions)
    found = [
        item
        for section in ("views", "on_demand", "services", "entities")
        for item in data[section]
        if item["name"] == name
    ]
    if not found:
        from loopml.features import FeatureNotFoundError

        raise FeatureNotFoundError(f"no feature view, service or entity named {name!r}")
    console.out().print_json(json.dumps(found[0]))


@app.command("history")
def history(ctx: typer.Context) -> None:
    """List the applied versions, newest first."""
    from loopml.features.repository import history as versions

    with open_workspace(ctx) as workspace:
        store = _store(workspace)
        found = versions(workspace, store.config.repository)
    output = console.out()
    if not found:
        output.print("nothing applied yet")
    for version in found:
        changes = "; ".join(version.changes)
        output.print(
            f"v{version.version}  {console.when(version.applied_at)}  "
            f"{version.artifact_id[:12]}  {changes}"
        )


@app.command("materialize")
def materialize(
    ctx: typer.Context,
    view: Annotated[list[str] | None, typer.Option("--view", help="Only this view.")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="Start of the window (exclusive), UTC.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", help="End of the window (inclusive); now.")
    ] = None,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Start where the last materialization ended.")
    ] = False,
) -> None:
    """Copy the latest feature values to the online store."""
    with open_workspace(ctx) as workspace, _store(workspace) as store:
        results = store.materialize(view, since=since, until=until, incremental=incremental)
    output = console.out()
    for result in results:
        start = "the beginning" if result.start is None else console.when(result.start)
        output.print(
            f"[bold]{result.view}[/bold]: {result.rows:,} entities from {start} to "
            f"{console.when(result.end)}, {result.written:,} written"
        )


@app.command("get")
def get(
    ctx: typer.Context,
    features: Annotated[str, typer.Argument(help="A service, or view:feature,view:feature.")],
    keys: Annotated[list[str], typer.Argument(help="Join keys as key=value (repeat for rows).")],
) -> None:
    """Look features up online: ``loopml features get delays origin=JFK origin=LGA``."""
    import json

    rows = _entity_rows(keys)
    with open_workspace(ctx) as workspace, _store(workspace) as store:
        names: Any = features if "," not in features else features.split(",")
        found = store.get_online_features(names, rows)
    console.out().print_json(json.dumps(found, default=str))


def _entity_rows(pairs: list[str]) -> list[dict[str, Any]]:
    from loopml.core.errors import InvalidInputError

    rows: list[dict[str, Any]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"join keys are key=value, not {pair!r}")
        parsed: Any = int(value) if value.lstrip("-").isdigit() else value
        if not rows or key in rows[-1]:
            rows.append({})
        rows[-1][key] = parsed
    return rows
