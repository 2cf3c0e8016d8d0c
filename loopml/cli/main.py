"""The root of the ``loopml`` command: global options, ``version``, and the command groups.

Only typer is imported here; every command imports what it needs (SQLAlchemy,
pandas, scikit-learn) when it runs, so ``loopml --help`` stays fast.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer

from loopml.cli import (
    artifacts,
    audit,
    db,
    features,
    lineage,
    models,
    pipelines,
    predict,
    quickstart,
    runs,
    serve,
    validation,
)
from loopml.cli.state import CliState, ErrorReportingGroup

# Versions that ``loopml version`` reports (read from package metadata, never imported).
KEY_PACKAGES = (
    "sqlalchemy",
    "alembic",
    "fsspec",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "skops",
    "typer",
    "rich",
)

app = typer.Typer(
    name="loopml",
    cls=ErrorReportingGroup,
    help="loopml: track, trace and run the whole MLOps loop from one package.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    project_dir: Annotated[
        Path | None,
        typer.Option(
            "--project-dir",
            "-C",
            help="The project folder (default: LOOPML_PROJECT_DIR, or the nearest "
            "folder upwards holding loopml.yaml, or the current folder).",
            file_okay=False,
        ),
    ] = None,
    metadata_uri: Annotated[
        str | None,
        typer.Option(
            "--metadata-uri",
            help="Override the metadata store (sqlite:///... or postgresql://...).",
        ),
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option("--artifact-uri", help="Override the artifact store (a folder or s3://...)."),
    ] = None,
) -> None:
    """Settings come from these options, then LOOPML_* variables, then loopml.yaml."""
    ctx.obj = CliState(
        project_dir=project_dir, metadata_uri=metadata_uri, artifact_uri=artifact_uri
    )


@app.command()
def version() -> None:
    """Print the versions of loopml, Python and the packages that matter most."""
    from importlib import metadata

    from rich.table import Table

    import loopml
    from loopml.cli import console

    output = console.out()
    output.print(f"loopml [bold]{loopml.__version__}[/bold]")
    output.print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) "
        f"on {platform.platform(terse=True)}"
    )
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    for name in KEY_PACKAGES:
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "[dim]not installed[/dim]"
        table.add_row(name, found)
    output.print(table)


runs.app.command("resume")(pipelines.resume_pipeline_run)
app.command("run")(pipelines.run_pipeline)
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(runs.app, name="runs")
app.add_typer(artifacts.app, name="artifacts")
app.add_typer(db.app, name="db")
app.add_typer(features.app, name="features")
app.add_typer(models.app, name="models")
app.add_typer(audit.app, name="audit")
app.command("lineage")(lineage.lineage)
app.command("quickstart")(quickstart.quickstart)
app.command("serve")(serve.serve)
app.command("predict")(predict.predict)
app.command("stats")(validation.stats)
app.command("validate")(validation.validate)
app.command("drift")(validation.drift)
app.add_typer(validation.schema_app, name="schema")


def main() -> None:
    """Run the ``loopml`` command (the console-script entry point)."""
    app(prog_name="loopml")


if __name__ == "__main__":
    main()
