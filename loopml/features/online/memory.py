"""An online store in a dict: for tests and for one process that needs nothing durable."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Sequence
from typing import ClassVar, Literal

from loopml.features.online.base import OnlineRecord, OnlineStore, Row, check_time


@dataclasses.dataclass(frozen=True)
class MemoryOnlineStoreConfig:
    """Configuration of a :class:`MemoryOnlineStore` (it has nothing to configure)."""

    type: Literal["memory"] = "memory"


class MemoryOnlineStore(OnlineStore):
    """Records in a dict, lost when the process ends."""

    type: ClassVar[str] = "memory"

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], OnlineRecord] = {}
        self._lock = threading.Lock()

    def put(self, view: str, rows: Iterable[Row]) -> int:
        written = 0
        with self._lock:
            for key, record in rows:
                check_time(record.event_time)
                old = self._data.get((view, key))
                if old is None or (record.event_time, record.created) >= (
                    old.event_time,
                    old.created,
                ):
                    self._data[(view, key)] = record
                    written += 1
        return written

    def get(self, view: str, keys: Sequence[str]) -> list[OnlineRecord | None]:
        data = self._data
        return [data.get((view, key)) for key in keys]

    def delete(self, view: str, keys: Sequence[str] | None = None) -> int:
        with self._lock:
            doomed = [k for k in self._data if k[0] == view and (keys is None or k[1] in keys)]
            for k in doomed:
                del self._data[k]
        return len(doomed)

    def close(self) -> None:
        """Nothing to release."""
