"""``loopml models``: the model registry: versions, aliases, reviews, cards.

Governance refusals are loopml errors like any other bad input: one red line
naming the rule and how to satisfy it, and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace

if TYPE_CHECKING:
    from loopml.metadata import ModelVersion
    from loopml.registry import ModelRegistry
    from loopml.workspace import Workspace

app = typer.Typer(
    help="Register models, move their aliases under policy, review them, print their cards.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The registered model's name.")]
Version = Annotated[int, typer.Argument(help="The version number.", min=1)]
Reason = Annotated[str | None, typer.Option("--reason", "-r", help="Why, for the audit log.")]


def _registry(workspace: Workspace) -> ModelRegistry:
    from loopml.registry import ModelRegistry

    return ModelRegistry(workspace)


@app.command("list")
def list_models(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="Part of the name to look for.")] = None,
) -> None:
    """List registered models: latest version, aliases, description."""
    from rich.table import Table

    with open_workspace(ctx) as workspace:
        models = _registry(workspace).search_models(query)
    if not models:
        console.out().print("no registered model yet: `loopml models register NAME ARTIFACT_ID`")
        return
    table = Table()
    for header in ("model", "latest", "aliases", "description"):
        table.add_column(header)
    for model in models:
        aliases = ", ".join(f"{a}={v}" for a, v in sorted(model.aliases.items()))
        table.add_row(
            model.name, str(model.latest_version or "-"), aliases or "-", model.description or ""
        )
    console.out().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME:VERSION.")],
) -> None:
    """Show a version: artifact, run, aliases, checks, reviews."""
    from rich.table import Table

    with open_workspace(ctx) as workspace:
        registry = _registry(workspace)
        version = registry.resolve(ref)
        checks = registry.checks(version.model, version.version)
        decisions = registry.decisions(version.model, version.version)
        policy = registry.policy(version.model)
    output = console.out()
    _print_version(version)
    if checks:
        table = Table(title="Checks", title_justify="left", title_style="bold")
        for header in ("check", "result", "evidence", "by", "at"):
            table.add_column(header)
        for check in checks.values():
            result = "[green]passed[/green]" if check.passed else "[red]failed[/red]"
            table.add_row(
                check.name,
                result,
                check.evidence_artifact_id or "-",
                check.actor,
                console.when(check.at),
            )
        output.print(table)
    for decision in decisions:
        output.print(
            f"{decision.decision} by {decision.actor} {console.when(decision.at)}: "
            f"{decision.reason or '-'}"
        )
    from rich.text import Text

    output.print(Text(f"policy ({policy.source}): {console.plain(policy.to_dict())}", style="dim"))


def _print_version(version: ModelVersion) -> None:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    rows = [
        ("model", version.model),
        ("version", str(version.version)),
        ("aliases", ", ".join(version.aliases) or "-"),
        ("artifact", version.artifact_id),
        ("run", version.run_id or "-"),
        ("author", version.author),
        ("registered", console.when(version.created_at)),
        ("status", f"deleted {console.when(version.deleted_at)}" if version.deleted else "live"),
        ("description", version.description or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items())) or "-"),
    ]
    for key, value in rows:
        grid.add_row(key, Text(value))
    console.out().print(grid)


@app.command("versions")
def versions(
    ctx: typer.Context,
    name: Name,
    include_deleted: Annotated[
        bool, typer.Option("--all", help="Show deleted versions too.")
    ] = False,
) -> None:
    """List the versions of a model, oldest first."""
    from rich.table import Table

    with open_workspace(ctx) as workspace:
        found = _registry(workspace).list_versions(name, include_deleted=include_deleted)
    table = Table()
    for header in ("version", "aliases", "author", "registered", "artifact", "status"):
        table.add_column(header)
    for version in found:
        status = "[dim]deleted[/dim]" if version.deleted else "live"
        table.add_row(
            str(version.version),
            ", ".join(version.aliases) or "-",
            version.author,
            console.when(version.created_at),
            version.artifact_id[:12],
            status,
        )
    console.out().print(table)


@app.command("register")
def register(
    ctx: typer.Context,
    name: Name,
    artifact_id: Annotated[str, typer.Argument(help="The model artifact (digest or prefix).")],
    run_id: Annotated[str | None, typer.Option("--run", help="The run that made it.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
) -> None:
    """Register a model artifact as the next version of NAME."""
    with open_workspace(ctx) as workspace:
        version = _registry(workspace).register_model(
            name, artifact_id, run_id=run_id, description=description
        )
    console.out().print(
        f"registered [bold]{version.model}[/bold] version [bold]{version.version}[/bold]"
    )


@app.command("promote")
def promote(
    ctx: typer.Context,
    name: Name,
    version: Version,
    alias: Annotated[str, typer.Argument(help="The alias, e.g. production.")],
    reason: Reason = None,
) -> None:
    """Point ALIAS at VERSION, if the model's policy allows it."""
    with open_workspace(ctx) as workspace:
        moved = _registry(workspace).promote(name, version, alias, reason=reason)
    console.out().print(f"{moved.model} [bold]{alias}[/bold] -> version {moved.version}")


@app.command("approve")
def approve(ctx: typer.Context, name: Name, version: Version, reason: Reason = None) -> None:
    """Approve VERSION as the current user (LOOPML_USER)."""
    with open_workspace(ctx) as workspace:
        registry = _registry(workspace)
        after = registry.approve(name, version, reason=reason or "")
    console.out().print(f"{registry.user} approved {name} version {version}{_aliases(after)}")


@app.command("reject")
def reject(ctx: typer.Context, name: Name, version: Version, reason: Reason = None) -> None:
    """Reject VERSION: no protected alias will point at it while this stands."""
    with open_workspace(ctx) as workspace:
        registry = _registry(workspace)
        registry.reject(name, version, reason=reason or "")
    console.out().print(f"{registry.user} rejected {name} version {version}")


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[str, typer.Argument(help="The alias to move back.")],
    reason: Reason = None,
) -> None:
    """Move ALIAS back to the version it pointed at before."""
    with open_workspace(ctx) as workspace:
        moved = _registry(workspace).rollback(name, alias, reason=reason)
    console.out().print(f"{name} [bold]{alias}[/bold] rolled back to version {moved.version}")


@app.command("delete")
def delete(ctx: typer.Context, name: Name, version: Version, reason: Reason = None) -> None:
    """Soft-delete VERSION (still listed with `versions --all`; never promoted again)."""
    with open_workspace(ctx) as workspace:
        _registry(workspace).delete_version(name, version, reason=reason)
    console.out().print(f"deleted {name} version {version}")


@app.command("card")
def card(
    ctx: typer.Context,
    name: Name,
    version: Version,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML card here.")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write the Markdown card here.")
    ] = None,
) -> None:
    """Print the model card as Markdown, or write it to --markdown / --html files."""
    with open_workspace(ctx) as workspace:
        model_card = _registry(workspace).model_card(name, version)
    if html is None and markdown is None:
        typer.echo(model_card.markdown())
        return
    for path, text in ((markdown, model_card.markdown), (html, model_card.html)):
        if path is not None:
            _write(path, text())
            console.out().print(f"wrote {path}")


def _write(path: Path, text: str) -> None:
    import os
    import tempfile

    from loopml.core.errors import InvalidInputError

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInputError(f"no folder {str(folder)!r} to write {path.name!r} in")
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temp, path)


def _aliases(version: ModelVersion) -> str:
    return f" (now {', '.join(version.aliases)})" if version.aliases else ""
