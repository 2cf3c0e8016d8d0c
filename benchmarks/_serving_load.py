"""The load generator of the serving benchmark: a bounded asyncio HTTP/1.1 client on loopback.

Each of ``concurrency`` workers holds one keep-alive connection and sends the
same prepared request again and again (closed loop) for a fixed time, or at a
fixed total rate (open loop, :func:`paced`). The client is a few lines over
asyncio streams rather than httpx: its own cost per request (~30-60 us) is a
small part of what is measured, so the servers are compared, not the clients.
Responses must carry ``Content-Length`` or be chunked. Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


@dataclasses.dataclass
class Load:
    """What one load run saw.

    Attributes:
        seconds: wall-clock time of the measured part.
        latencies: seconds per successful request, in completion order.
        failures: requests that failed (a connection error or a status >= 400).
        statuses: how many responses had each status.
        seen: how many responses each ``pick(headers, body)`` value had (versions, say).
    """

    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    failures: int = 0
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    seen: Counter[str] = dataclasses.field(default_factory=Counter)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """Requests/s, p50 and p99 (seconds), counts."""
        ordered = sorted(self.latencies)
        done = len(ordered)
        return {
            "requests": done + self.failures,
            "failures": self.failures,
            "rps": done / self.seconds if self.seconds else 0.0,
            "p50": statistics.median(ordered) if ordered else float("nan"),
            "p99": ordered[min(done - 1, int(done * 0.99))] if ordered else float("nan"),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seen": dict(self.seen),
            "errors": dict(self.errors.most_common(5)),
        }


def request_bytes(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 POST request (keep-alive) to send as is."""
    host = urlsplit(url).netloc
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Connection: keep-alive",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in (headers or {"Content-Type": "application/json"}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive connection sending prepared requests and reading whole responses."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def send(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


Pick = Callable[[dict[str, str], bytes], str | None]


async def _one(conn: Connection, raw: bytes, load: Load, pick: Pick | None, record: bool) -> None:
    started = time.perf_counter()
    try:
        status, headers, body = await conn.send(raw)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        if record:
            load.failures += 1
            load.errors[type(exc).__name__] += 1
        await conn.close()
        return
    if not record:
        return
    load.statuses[status] += 1
    if status >= 400:
        load.failures += 1
        load.errors[body[:120].decode("utf-8", "replace")] += 1
        return
    load.latencies.append(time.perf_counter() - started)
    if pick is not None:
        value = pick(headers, body)
        if value is not None:
            load.seen[value] += 1


async def closed_loop(
    url: str,
    raw: bytes,
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 0.5,
    pick: Pick | None = None,
) -> Load:
    """``concurrency`` workers, each sending its next request as soon as the last returns."""
    load = Load()
    measuring = False
    stop_at = time.perf_counter() + warmup + seconds

    async def worker() -> None:
        conn = Connection(url)
        try:
            while time.perf_counter() < stop_at:
                await _one(conn, raw, load, pick, measuring)
        finally:
            await conn.close()

    async def clock() -> None:
        nonlocal measuring
        await asyncio.sleep(warmup)
        measuring = True
        load.seconds = stop_at - time.perf_counter()

    await asyncio.gather(clock(), *(worker() for _ in range(concurrency)))
    return load


async def paced(
    url: str,
    raw: bytes,
    *,
    rate: float,
    seconds: float,
    concurrency: int = 16,
    pick: Pick | None = None,
    during: Callable[[], Any] | None = None,
) -> Load:
    """Requests started at ``rate`` per second (at most ``concurrency`` in flight).

    ``during`` (a coroutine function) runs alongside, e.g. to move an alias.
    """
    load = Load()
    queue: asyncio.Queue[None] = asyncio.Queue(maxsize=concurrency * 4)
    started = time.perf_counter()
    total = int(rate * seconds)

    async def pacer() -> None:
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await queue.put(None)
        for _ in range(concurrency):
            await queue.put(None)  # one more each, then the workers see the queue drained

    remaining = [total]

    async def worker() -> None:
        conn = Connection(url)
        try:
            while remaining[0] > 0:
                await queue.get()
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
                await _one(conn, raw, load, pick, True)
        finally:
            await conn.close()

    tasks = [pacer(), *(worker() for _ in range(concurrency))]
    if during is not None:
        tasks.append(during())
    await asyncio.gather(*tasks)
    load.seconds = time.perf_counter() - started
    return load


async def _echo(port: int) -> None:
    """A server that answers every request with a fixed small JSON body (the floor)."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    # ``python _serving_load.py --floor PORT``: the floor server (a fixed answer, no work).
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--floor":
        asyncio.run(_echo(int(sys.argv[2])))
