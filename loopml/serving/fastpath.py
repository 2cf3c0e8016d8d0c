"""The native predict route as plain ASGI, in front of FastAPI.

The hot path skips Starlette's routing and request objects (a few hundred
microseconds a request on a small machine); errors get the same JSON bodies as
every other route (:func:`~loopml.serving.protocols.error_body`), and the
route's OpenAPI entry is written from the model's signature.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from loopml.core.errors import LoopMLError
from loopml.serving.guard import ASGIApp, Receive, Scope, Send
from loopml.serving.protocols import error_body, native_predict

if TYPE_CHECKING:
    from loopml.serving.runtime import ModelServer

logger = logging.getLogger(__name__)

_PREFIX, _SUFFIX = "/v1/models/", "/predict"


class FastNative:
    """Answers ``POST /v1/models/{name}/predict`` itself; passes everything else on."""

    def __init__(self, app: ASGIApp, *, server: ModelServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith(_PREFIX)
            or not path.endswith(_SUFFIX)
        ):
            await self.app(scope, receive, send)
            return
        name = path[len(_PREFIX) : -len(_SUFFIX)]
        if not name or "/" in name:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            raw = await _body(receive)
            query = scope.get("query_string", b"").decode("latin-1")
            body, status, extra = await native_predict(self.server, name, raw, query, headers)
        except LoopMLError as exc:
            body, status, extra = error_body(exc)
        except Exception:
            logger.exception("the native predict route failed")
            body, status, extra = error_body(None)
        await _respond(send, status, body, extra)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
