"""The ASGI layer in front of every route: bearer token, body size (413), concurrency (429).

Written as plain ASGI (not ``BaseHTTPMiddleware``) because it runs on every
request and must cost microseconds.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from loopml.serving.errors import PayloadTooLargeError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes and metrics are never refused for load: an overloaded server must still say so.
UNLIMITED = frozenset({"/livez", "/readyz", "/metrics", "/ping", "/health", "/v2/health/live"})


class Guard:
    """Checks the token, limits the body size and the requests in flight.

    Args:
        app: the application behind.
        token: the bearer token every request must carry (``None``: no check).
        max_body: largest request body in bytes.
        max_concurrency: most requests in flight before 429.
        on_reject: called with the reason of each refusal (metrics).
        gauge: a Prometheus gauge of the requests in flight.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        max_body: int,
        max_concurrency: int,
        on_reject: Callable[[str], None] | None = None,
        gauge: Any = None,
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body
        self.max_concurrency = max_concurrency
        self.in_flight = 0
        self._on_reject = on_reject
        self._gauge = gauge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        if self.token is not None and not self._authorized(headers.get(b"authorization")):
            await self._refuse(send, 401, "unauthorized", "give 'Authorization: Bearer <token>'")
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._refuse(send, 413, "payload_too_large", self._too_large())
            return
        if scope["path"] in UNLIMITED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_concurrency:
            await self._refuse(send, 429, "overloaded", "too many requests in flight; retry")
            return
        self.in_flight += 1
        if self._gauge is not None:
            self._gauge.inc()
        try:
            await self.app(scope, self._limited(receive), send)
        finally:
            self.in_flight -= 1
            if self._gauge is not None:
                self._gauge.dec()

    def _authorized(self, header: bytes | None) -> bool:
        if not header or not header.lower().startswith(b"bearer "):
            return False
        assert self.token is not None
        return hmac.compare_digest(header[7:].strip(), self.token)

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_body} bytes"

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise PayloadTooLargeError(self._too_large())
            return message

        return counted

    async def _refuse(self, send: Send, status: int, code: str, message: str) -> None:
        if self._on_reject is not None:
            self._on_reject(code)
        body = json.dumps({"error_code": code, "message": message, "error": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if status == 429:
            headers.append((b"retry-after", b"1"))
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
