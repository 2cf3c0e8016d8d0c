"""``loopml db``: the metadata store's schema."""

from __future__ import annotations

import typer

from loopml.cli import console
from loopml.cli.state import get_state
from loopml.core.errors import BackendError

app = typer.Typer(help="Manage the metadata store's schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the configured metadata store to the schema this loopml needs."""
    import sqlalchemy as sa

    from loopml.metadata.engine import create_engine, parse_uri
    from loopml.metadata.migrate import current_revision
    from loopml.metadata.migrate import upgrade as run_upgrade

    uri = get_state(ctx).settings().metadata_uri
    shown = parse_uri(uri).render_as_string(hide_password=True)
    engine = create_engine(uri)
    try:
        try:
            with engine.connect() as connection:
                before = current_revision(connection)
        except sa.exc.SQLAlchemyError as exc:
            raise BackendError(f"cannot reach the metadata store {shown}: {exc}") from exc
        after = run_upgrade(engine)
    finally:
        engine.dispose()
    output = console.out()
    if before == after:
        output.print(
            f"Metadata store {shown} is at revision [bold]{after}[/bold] (up to date).",
            soft_wrap=True,
        )
    else:
        output.print(
            f"Metadata store {shown} upgraded from revision {before or 'none'} "
            f"to [bold]{after}[/bold].",
            soft_wrap=True,
        )
