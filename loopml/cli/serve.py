"""``loopml serve MODEL@ALIAS``: the model server (native JSON, Open Inference v2, MLflow)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml.cli import console
from loopml.cli.state import get_state


def serve(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Argument(help="The model to serve: NAME@ALIAS (followed), NAME:VERSION or NAME."),
    ] = None,
    deployment: Annotated[
        Path | None,
        typer.Option(
            "--deployment",
            "-d",
            help="A deployment file (several models, canary, A/B, shadow).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Where to listen; beyond loopback needs LOOPML_SERVING_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_requests: Annotated[
        bool | None,
        typer.Option(
            "--log-requests/--no-log-requests",
            help="Write every request to the prediction log (default: serving.log_requests).",
        ),
    ] = None,
) -> None:
    """Serve a registered model; a moved alias is hot-swapped without dropping a request."""
    from loopml.core.errors import InvalidInputError
    from loopml.serving import serve as run
    from loopml.serving.runner import check_bind
    from loopml.serving.spec import ServingOptions

    if model is None and deployment is None:
        raise InvalidInputError("give a model (NAME@ALIAS) or --deployment FILE")
    settings = get_state(ctx).settings()
    check_bind(host, ServingOptions.from_settings(settings))
    if model is not None:
        _check_model(ctx, model)
    shown = f"[{host}]" if ":" in host else host
    console.out().print(
        f"serving [bold]{model or deployment}[/bold] on http://{shown}:{port} "
        f"({workers} worker{'s' if workers > 1 else ''}): /v1/models/<name>/predict, "
        "/v2/models/<name>/infer, /invocations; API docs at /docs"
    )
    run(
        [model] if model else [],
        host=host,
        port=port,
        workers=workers,
        settings=settings,
        deployment_file=deployment,
        log_requests=log_requests,
    )


def _check_model(ctx: typer.Context, ref: str) -> None:
    """Refuse at once a reference the registry does not know (NotFoundError: exit 2)."""
    from loopml.cli.state import open_workspace
    from loopml.registry import ModelRegistry

    with open_workspace(ctx) as workspace:
        ModelRegistry(workspace).resolve(ref)
