"""The three protocols on one server: native JSON, Open Inference Protocol v2, MLflow scoring."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopml.core.errors import InvalidInputError, LoopMLError, NotFoundError
from loopml.serving import codec, oip
from loopml.serving.errors import http_status

if TYPE_CHECKING:
    from loopml.serving.runtime import Answer, ModelServer

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (content type exactly ``application/json``, as kserve wants)."""
    text = json.dumps(body, separators=(",", ":"), default=_default)
    return Response(text, status_code=status, media_type=JSON, headers=headers)


def _flag(query: str, name: str) -> bool:
    from urllib.parse import parse_qs

    return parse_qs(query).get(name, [""])[-1].lower() in ("1", "true")


def _default(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def error_body(error: LoopMLError | None) -> tuple[bytes, int, dict[str, str]]:
    """The JSON error answer ``(body, status, headers)`` (``None``: an internal error)."""
    if error is None:
        code, message, status, field = "internal_error", "the server failed", 500, None
    else:
        code, message = error.error_code, error.message
        status, field = http_status(error), getattr(error, "field", None)
    body: dict[str, Any] = {"error_code": code, "message": message, "error": message}
    if field:
        body["field"] = field
    headers = {"Retry-After": "1"} if status in (429, 503) else {}
    return json.dumps(body, separators=(",", ":")).encode(), status, headers


def answer_headers(answer: Answer) -> dict[str, str]:
    """Headers naming the model, version and request id of an answer."""
    return {
        "loopml-model": answer.model,
        "loopml-model-version": str(answer.version),
        "loopml-request-id": answer.request_id,
    }


def server_of(request: Request) -> ModelServer:
    """The :class:`ModelServer` of the app handling ``request``."""
    server: ModelServer = request.app.state.loopml
    return server


async def read_json(request: Request) -> Any:
    """The request body as JSON.

    Raises:
        InvalidInputError: if it is not JSON.
    """
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("the request body is not JSON") from None


def request_id(request: Request) -> str | None:
    """The caller's request id (``X-Request-Id``), if any."""
    return request.headers.get("x-request-id") or None


# --- native -------------------------------------------------------------------------------


def native_columns(body: Any) -> tuple[dict[str, Any], int]:
    """Columns of a native body: ``{"records": [...]}``, ``{"columns": {...}}`` or a list.

    Raises:
        InvalidInputError: if the body is neither.
    """
    if isinstance(body, list):
        return codec.columns_from_records(body)
    if isinstance(body, dict):
        if "records" in body:
            return codec.columns_from_records(body["records"])
        if "columns" in body:
            return codec.columns_from_mapping(body["columns"])
    raise InvalidInputError('give {"records": [{...}, ...]} or {"columns": {"name": [...]}}')


async def native_predict(
    server: ModelServer, name: str, raw: bytes, query: str, headers: Any
) -> tuple[bytes, int, dict[str, str]]:
    """The native protocol's answer: ``(body, status, headers)`` (served by
    :class:`~loopml.serving.fastpath.FastNative`; its OpenAPI entry comes from
    :func:`~loopml.serving.openapi.signature_openapi`).

    Raises:
        LoopMLError: bad input, not ready, timeout, model failure.
    """
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("the request body is not JSON") from None
    columns, rows = native_columns(body)
    proba = bool(query) and _flag(query, "probabilities")
    if isinstance(body, dict) and body.get("probabilities") is True:
        proba = True
    answer = await server.infer(
        name,
        columns,
        rows,
        key=headers.get("loopml-ab-key"),
        proba=proba,
        request_id=headers.get("x-request-id") or None,
    )
    out: dict[str, Any] = {
        "request_id": answer.request_id,
        "model": answer.model,
        "version": answer.version,
        "predictions": codec.plain(answer.predictions),
    }
    if answer.probabilities is not None:
        out["probabilities"] = codec.plain(answer.probabilities)
        out["classes"] = list(answer.classes)
    text = json.dumps(out, separators=(",", ":"), default=_default).encode()
    return text, 200, answer_headers(answer)


# --- Open Inference Protocol v2 ------------------------------------------------------------

v2 = APIRouter(prefix="/v2", tags=["v2"])


@v2.get("")
async def server_metadata() -> Response:
    """Server metadata."""
    from loopml import __version__

    return json_response({"name": "loopml", "version": __version__, "extensions": []})


@v2.get("/health/live")
async def live() -> Response:
    """The server process is up."""
    return json_response({"live": True})


@v2.get("/health/ready")
async def ready(request: Request) -> Response:
    """Every model is loaded."""
    ok = server_of(request).ready
    return json_response({"ready": ok}, 200 if ok else 503)


@v2.get("/models/{name}/ready")
@v2.get("/models/{name}/versions/{version}/ready")
async def model_ready(name: str, request: Request, version: str | None = None) -> Response:
    """One model is loaded."""
    ok = server_of(request).deployment(name).ready
    return json_response({"name": name, "ready": ok}, 200 if ok else 503)


@v2.get("/models/{name}")
@v2.get("/models/{name}/versions/{version}")
async def model_metadata(name: str, request: Request, version: str | None = None) -> Response:
    """Model metadata: versions, input and output tensors."""
    deployment = server_of(request).deployment(name)
    served = deployment.primary
    if served is None:
        return json_response({"name": name, "versions": [], "platform": "loopml"}, 503)
    versions = sorted({str(t.current.version) for t in deployment.tracks().values() if t.current})
    meta = oip.tensor_metadata(served.signature, served.is_classifier)
    return json_response({"name": name, "versions": versions, "platform": "loopml", **meta})


@v2.post("/models/{name}/infer")
@v2.post("/models/{name}/versions/{version}/infer")
async def infer(name: str, request: Request, version: str | None = None) -> Response:
    """Inference with JSON or binary tensors."""
    server = server_of(request)
    deployment = server.deployment(name)
    pin = _pinned(deployment, version)
    body = await request.body()
    payload, binary = oip.parse_request(body, request.headers.get(oip.HEADER_LENGTH))
    served = pin or deployment.primary
    if served is None:
        return json_response({"error": f"{name} is not loaded yet"}, 503)
    columns, rows = oip.decode_inputs(payload, binary, served.signature)
    names, binary_out = oip.requested_outputs(payload)
    known = {"prediction", "probabilities"} if served.is_classifier else {"prediction"}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise InvalidInputError(
            f"unknown output {unknown[0]!r} (outputs: {', '.join(sorted(known))})"
        )
    proba = "probabilities" in (names or ())
    answer = await server.infer(
        name, columns, rows, proba=proba, request_id=request_id(request), pin=pin, protocol="v2"
    )
    tensors = [("prediction", answer.predictions), ("probabilities", answer.probabilities)]
    outputs = [(n, v) for n, v in tensors if n in (names or ["prediction"])]
    header = {
        "model_name": name,
        "model_version": str(answer.version),
        "id": str(payload.get("id") or answer.request_id),
        "parameters": {"loopml_request_id": answer.request_id},
    }
    content, header_length = oip.encode_response(header, outputs, binary_out)
    headers = answer_headers(answer)
    if header_length is None:
        return Response(content, media_type=JSON, headers=headers)
    headers["Inference-Header-Content-Length"] = str(header_length)
    return Response(content, media_type="application/octet-stream", headers=headers)


def _pinned(deployment: Any, version: str | None) -> Any:
    if version is None or version == "":
        return None
    for track in deployment.tracks().values():
        if track.current is not None and str(track.current.version) == version:
            return track.current
    raise NotFoundError(f"version {version} of {deployment.name} is not being served")


# --- MLflow scoring protocol ----------------------------------------------------------------

mlflow = APIRouter(tags=["mlflow"])

_MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def mlflow_columns(body: Any) -> tuple[dict[str, Any], int]:
    """Columns of an MLflow scoring body (one of dataframe_split/records, instances, inputs).

    Raises:
        InvalidInputError: if the body has none or several of these keys.
    """
    if not isinstance(body, dict):
        raise InvalidInputError(f"give a JSON object with one of {', '.join(_MLFLOW_KEYS)}")
    given = [k for k in _MLFLOW_KEYS if k in body]
    if len(given) != 1:
        raise InvalidInputError(f"give exactly one of {', '.join(_MLFLOW_KEYS)}")
    value = body[given[0]]
    if given[0] == "dataframe_split":
        if not isinstance(value, dict):
            raise InvalidInputError('dataframe_split is {"columns": [...], "data": [[...]]}')
        return codec.columns_from_split(value.get("columns"), value.get("data"))
    if isinstance(value, dict):
        return codec.columns_from_mapping(value)
    return codec.columns_from_records(value)


@mlflow.post("/invocations")
async def invocations(request: Request) -> Response:
    """Score with MLflow's protocol: JSON (four layouts) or CSV."""
    server = server_of(request)
    if not server.deployments:
        raise NotFoundError("no model is served here")
    name = next(iter(server.deployments))
    content_type = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    if content_type == "text/csv":
        columns, rows = _csv_columns(await request.body())
    elif content_type in (JSON, ""):
        columns, rows = mlflow_columns(await read_json(request))
    else:
        raise InvalidInputError(f"content type {content_type!r}: use application/json or text/csv")
    answer = await server.infer(
        name, columns, rows, request_id=request_id(request), protocol="mlflow"
    )
    body = {"predictions": codec.plain(answer.predictions)}
    return json_response(body, headers=answer_headers(answer))


def _csv_columns(body: bytes) -> tuple[dict[str, Any], int]:
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"the CSV body cannot be read: {exc}") from None
    return codec.frame_columns(frame)


@mlflow.get("/ping")
@mlflow.get("/health")
async def ping(request: Request) -> Response:
    """MLflow's health check: 200 once the model is loaded."""
    ok = server_of(request).ready
    return Response("\n", status_code=200 if ok else 503, media_type="text/plain")


@mlflow.get("/version")
async def version() -> Response:
    """The server's version."""
    from loopml import __version__

    return Response(__version__, media_type="text/plain")
