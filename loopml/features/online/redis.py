"""The scale-out online store: one Redis hash per entity, through redis-py.

A record of view ``v`` and key ``k`` is the hash ``<prefix>:v:<k>`` with
fields ``t`` (event time), ``c`` (created time) and ``v`` (the values as
JSON). Writes go through one Lua script per batch, which compares times on
the server so a write never replaces a newer record; a lookup of many keys is
one pipelined round trip. ``prefix`` lets several projects (or tests) share
one Redis database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, Literal

from loopml.features.errors import OnlineStoreError
from loopml.features.online.base import (
    OnlineRecord,
    OnlineStore,
    Row,
    check_time,
    dump_values,
    load_many,
)

# KEYS: the hashes; ARGV: per key, event time, created time, values. Returns how many written.
PUT_SCRIPT = """
local written = 0
for i = 1, #KEYS do
  local t = tonumber(ARGV[3 * i - 2])
  local c = tonumber(ARGV[3 * i - 1])
  local old = redis.call('HMGET', KEYS[i], 't', 'c')
  local ot = tonumber(old[1])
  if (not ot) or t > ot or (t == ot and c >= tonumber(old[2])) then
    redis.call('HSET', KEYS[i], 't', ARGV[3 * i - 2], 'c', ARGV[3 * i - 1], 'v', ARGV[3 * i])
    written = written + 1
  end
end
return written
"""
_BATCH = 500
_FIELDS = ("t", "c", "v")


@dataclasses.dataclass(frozen=True)
class RedisOnlineStoreConfig:
    """Configuration of a :class:`RedisOnlineStore`."""

    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "loopml"
    type: Literal["redis"] = "redis"


class RedisOnlineStore(OnlineStore):
    """Records in Redis hashes.

    Args:
        url: a ``redis://`` or ``rediss://`` URL (database number as its path).
        prefix: the first part of every key this store writes.
    """

    type: ClassVar[str] = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "loopml") -> None:
        if not prefix or ":" in prefix:
            raise ValueError(f"a Redis key prefix is a non-empty word without ':', not {prefix!r}")
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._script: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisOnlineStore(prefix={self.prefix!r})"

    def _redis(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import redis

                    client = redis.Redis.from_url(self.url, socket_timeout=30)
                    self._script = client.register_script(PUT_SCRIPT)
                    self._client = client
        return self._client

    def _key(self, view: str, key: str) -> str:
        return f"{self.prefix}:{view}:{key}"

    def put(self, view: str, rows: Iterable[Row]) -> int:
        client = self._redis()
        written = 0
        with _translated(self):
            for batch in _batches(rows, _BATCH):
                keys = [self._key(view, key) for key, _ in batch]
                args: list[Any] = []
                for _, r in batch:
                    args += [
                        repr(check_time(r.event_time)),
                        repr(check_time(r.created)),
                        dump_values(r.values),
                    ]
                written += int(self._script(keys=keys, args=args, client=client))
        return written

    def get(self, view: str, keys: Sequence[str]) -> list[OnlineRecord | None]:
        client = self._redis()
        with _translated(self):
            if len(keys) == 1:
                replies = [client.hmget(self._key(view, keys[0]), _FIELDS)]
            else:
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.hmget(self._key(view, key), _FIELDS)
                replies = pipe.execute()
        present = [reply for reply in replies if reply[0] is not None]
        values = iter(load_many([v for _, _, v in present]))
        return [
            None if t is None else OnlineRecord(float(t), next(values), float(c))
            for t, c, _ in replies
        ]

    def delete(self, view: str, keys: Sequence[str] | None = None) -> int:
        client = self._redis()
        with _translated(self):
            if keys is not None:
                names = [self._key(view, key) for key in keys]
                return int(client.delete(*names)) if names else 0
            removed = 0
            pattern = self._key(view, "*").replace("[", "\\[")
            for batch in _batches(client.scan_iter(match=pattern, count=1000), _BATCH):
                removed += int(client.delete(*batch))
            return removed

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def _translated(store: RedisOnlineStore) -> Iterator[None]:
    """Turn redis-py's errors into :class:`OnlineStoreError` (the one boundary)."""
    import redis

    try:
        yield
    except redis.RedisError as exc:
        raise OnlineStoreError(f"{store!r}: {exc}") from exc
