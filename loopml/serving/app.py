"""``create_app``: the FastAPI application serving deployments over every protocol."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from loopml.core.errors import InvalidInputError, LoopMLError
from loopml.serving import protocols
from loopml.serving.deployment import Deployment
from loopml.serving.fastpath import FastNative
from loopml.serving.guard import Guard
from loopml.serving.metrics import ServerMetrics
from loopml.serving.openapi import signature_openapi
from loopml.serving.protocols import JSON
from loopml.serving.runtime import ModelServer
from loopml.serving.spec import DeploymentSpec, ServingOptions, load_deployments

DeploymentLike = Deployment | DeploymentSpec | str


def create_app(
    deployments: Sequence[DeploymentLike] | DeploymentLike | os.PathLike[str],
    *,
    settings: Any = None,
    workspace: Any = None,
    options: ServingOptions | None = None,
    deployment_file: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    startup_wait: float = 120.0,
) -> FastAPI:
    """Build the model server's app.

    Args:
        deployments: :class:`Deployment` objects, :class:`DeploymentSpec` objects, model
            references (``"flights@production"``) or the path of a deployment file.
        settings: the project's :class:`~loopml.core.Settings` (default: loaded from the
            current folder); gives the workspace and the ``serving:`` options.
        workspace: the workspace to read models from and log to (default: from ``settings``).
        options: server options (default: ``ServingOptions.from_settings(settings)``).
        deployment_file: a deployment file to watch and re-apply on change (and on
            ``POST /admin/reload``); implied when ``deployments`` is a path.
        seed: seeds the traffic-split draws (tests).
        startup_wait: longest time startup waits for the models to load.

    Returns:
        A FastAPI app; its ``state.loopml`` is the :class:`ModelServer`.
    """
    from loopml.core import Settings
    from loopml.registry import ModelRegistry
    from loopml.workspace import Workspace

    if isinstance(deployments, os.PathLike) or (
        isinstance(deployments, str) and deployments.endswith((".yaml", ".yml"))
    ):
        deployment_file = deployments
        deployments = list(load_deployments(deployments))
    if settings is None:
        settings = workspace.settings if workspace is not None else Settings.load()
    options = options or ServingOptions.from_settings(settings)
    owned = workspace is None
    workspace = workspace or Workspace(settings)
    registry = ModelRegistry(workspace)
    metrics = ServerMetrics()

    def make(spec: DeploymentSpec) -> Deployment:
        return Deployment(spec, registry, options, seed=seed, on_batch=metrics.batch)

    items = (
        [deployments]
        if isinstance(deployments, (str, Deployment, DeploymentSpec))
        else list(deployments)
    )
    built = [_deployment(item, make) for item in items]
    server = ModelServer(
        built,
        options,
        workspace=workspace,
        metrics=metrics,
        deployment_file=deployment_file,
        make_deployment=make,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        await asyncio.to_thread(server.start, startup_wait)
        try:
            yield
        finally:
            await server.stop()
            if owned:
                workspace.close()

    app = FastAPI(
        title="loopml model server",
        description="Native JSON, Open Inference Protocol v2 and MLflow scoring on one server.",
        lifespan=lifespan,
    )
    app.state.loopml = server
    app.include_router(protocols.v2)
    app.include_router(protocols.mlflow)
    _operations(app)
    _errors(app)
    app.openapi = lambda: signature_openapi(app, server)  # type: ignore[method-assign]
    app.add_middleware(FastNative, server=server)
    app.add_middleware(
        Guard,
        token=options.token,
        max_body=options.max_request_bytes,
        max_concurrency=options.max_concurrency,
        on_reject=lambda reason: metrics.rejected.labels(reason).inc(),
        gauge=metrics.in_flight,
    )
    return app


def _deployment(item: DeploymentLike, make: Any) -> Deployment:
    if isinstance(item, Deployment):
        return item
    if isinstance(item, str):
        item = DeploymentSpec.for_model(item)
    if not isinstance(item, DeploymentSpec):
        raise InvalidInputError(f"a deployment is a reference, a spec or a Deployment: {item!r}")
    deployment: Deployment = make(item)
    return deployment


def _operations(app: FastAPI) -> None:
    @app.get("/livez", tags=["operations"])
    async def livez() -> Response:
        """The process answers."""
        return protocols.json_response({"live": True})

    @app.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> Response:
        """Every deployment has its model loaded (503 until then)."""
        server = protocols.server_of(request)
        return protocols.json_response(
            {"ready": server.ready, "deployments": _status(server)}, 200 if server.ready else 503
        )

    @app.get("/v1/models", tags=["native"])
    async def models(request: Request) -> Response:
        """Every deployment, the versions it serves and its last load error."""
        return protocols.json_response({"deployments": _status(protocols.server_of(request))})

    @app.get("/metrics", tags=["operations"])
    async def metrics(request: Request) -> Response:
        """Prometheus metrics."""
        content, media_type = protocols.server_of(request).metrics.render()
        return Response(content, media_type=media_type)

    @app.post("/v1/feedback", tags=["native"])
    async def feedback(request: Request) -> Response:
        """Attach ground truth to request ids: ``{"request_id", "ground_truth"}`` or a list."""
        body = await protocols.read_json(request)
        items = body if isinstance(body, list) else (body or {}).get("feedback", [body])
        if not isinstance(items, list) or not items:
            raise InvalidInputError('give {"request_id": "...", "ground_truth": ...} or a list')
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("request_id"), str):
                raise InvalidInputError("each feedback names its request_id (a string)")
            if "ground_truth" not in item:
                raise InvalidInputError("each feedback carries its ground_truth")
        accepted = protocols.server_of(request).feedback(items)
        return protocols.json_response({"accepted": accepted}, 202)

    @app.post("/admin/reload", tags=["operations"])
    async def reload(request: Request) -> Response:
        """Re-read the deployment file and apply it without restart."""
        import asyncio

        names = await asyncio.to_thread(protocols.server_of(request).reload)
        return protocols.json_response({"deployments": names})


def _status(server: ModelServer) -> dict[str, Any]:
    return {
        name: {
            "ready": d.ready,
            "tracks": {
                ref: {
                    "version": t.current.version if t.current else None,
                    "error": t.last_error,
                }
                for ref, t in d.tracks().items()
            },
        }
        for name, d in server.deployments.items()
    }


def _errors(app: FastAPI) -> None:
    def body(code: str, message: str, **extra: Any) -> dict[str, Any]:
        return {"error_code": code, "message": message, "error": message, **extra}

    @app.exception_handler(LoopMLError)
    async def loopml_error(request: Request, exc: LoopMLError) -> Response:
        content, status, headers = protocols.error_body(exc)
        return Response(content, status_code=status, media_type=JSON, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return protocols.json_response(body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        return protocols.json_response(body("internal_error", "the server failed"), 500)
