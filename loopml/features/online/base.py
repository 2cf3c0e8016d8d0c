"""The online store interface: the latest feature values of each entity, by key, fast.

An online store keeps, per feature view and entity key, one
:class:`OnlineRecord`: the event time of the values, the time they were
created (which breaks ties between two writes of one event time) and the
values themselves. A write never replaces a newer record, so a late
materialization cannot undo a fresher push. Keys are the text
:func:`encode_key` makes of the join key values.
"""

from __future__ import annotations

import json
import math
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, ClassVar, NamedTuple


class OnlineRecord(NamedTuple):
    """The values of one entity in one view, as of ``event_time`` (epoch seconds, UTC).

    A named tuple, not a dataclass: a lookup of 100 entities builds 100 of them.
    """

    event_time: float
    values: Mapping[str, Any]
    created: float = 0.0


Row = tuple[str, OnlineRecord]
"""An entity key and its record, as written."""


class OnlineStore(ABC):
    """Where materialized and pushed feature values are read from at serving time.

    Implementations are safe to share between threads; constructors do no I/O.

    Attributes:
        type: the name the factory knows the implementation by (class attribute).
    """

    type: ClassVar[str]

    @abstractmethod
    def put(self, view: str, rows: Iterable[Row]) -> int:
        """Write records of ``view``; a record replaces the stored one only if not older.

        "Not older" means a later event time, or the same event time and a
        created time at least as late. Each call is atomic on SQLite and each
        key's write atomic on Redis.

        Returns:
            The number of records written (those not refused as older).

        Raises:
            OnlineStoreError: if the store fails.
        """

    @abstractmethod
    def get(self, view: str, keys: Sequence[str]) -> list[OnlineRecord | None]:
        """The records of ``keys`` in ``view``, in the order of ``keys``; ``None`` where absent.

        Raises:
            OnlineStoreError: if the store fails.
        """

    @abstractmethod
    def delete(self, view: str, keys: Sequence[str] | None = None) -> int:
        """Remove records of ``view`` (all of them if ``keys`` is ``None``).

        Returns:
            How many records were removed.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store reopens them if used again."""

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_key(values: Sequence[Any]) -> str:
    """The text key of one entity: its join key values as compact JSON (``[3,"x"]``).

    NumPy scalars count as the Python values they hold. Integers and strings,
    the usual keys, skip the general encoder (same text, a few times faster).
    """
    parts = []
    for value in values:
        kind = type(value)
        if kind is int:
            parts.append(str(value))
        elif kind is str:
            parts.append(_quote(value))
        else:
            plain = value.item() if hasattr(value, "item") else value
            parts.append(json.dumps(plain, separators=(",", ":"), default=str))
    return "[" + ",".join(parts) + "]"


def dump_values(values: Mapping[str, Any]) -> bytes:
    """Bytes of a record's values.

    All-float records (the common case) are ``F`` + the names + packed doubles,
    which decode several times faster than JSON; others are ``J`` + JSON (NaN
    kept, NumPy scalars taken as Python).
    """
    plain = {k: v.item() if hasattr(v, "item") else v for k, v in values.items()}
    if plain and all(type(v) is float for v in plain.values()):
        names = "\x1f".join(plain).encode()
        return b"F" + names + b"\0" + struct.pack(f"<{len(plain)}d", *plain.values())
    return b"J" + json.dumps(plain, separators=(",", ":"), default=str).encode()


_NAMES: dict[bytes, tuple[str, ...]] = {}


def load_values(data: bytes) -> dict[str, Any]:
    """The values :func:`dump_values` wrote."""
    if data[:1] == b"F":
        end = data.index(b"\0")
        header = data[1:end]
        names = _NAMES.get(header)
        if names is None:
            names = _NAMES.setdefault(header, tuple(header.decode().split("\x1f")))
        return dict(zip(names, struct.unpack_from(f"<{len(names)}d", data, end + 1), strict=True))
    return json.loads(data[1:])  # type: ignore[no-any-return]


def load_many(blobs: Sequence[bytes]) -> list[dict[str, Any]]:
    """The values of many records."""
    return [load_values(blob) for blob in blobs]


def check_time(value: float) -> float:
    """An event or created time as a finite float (the stores compare them)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a record time must be finite, not {value!r}")
    return number
