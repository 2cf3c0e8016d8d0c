"""The online store interface: the latest feature values of each entity, by key, fast.

An online store keeps, per feature view and entity key, one
:class:`OnlineRecord`: the event time of the values, the time they were
created (which breaks ties between two writes of one event time) and the
values themselves. A write never replaces a newer record, so a late
materialization cannot undo a fresher push. Keys are the text
:func:`encode_key` makes of the join key values.
"""

from __future__ import annotations

import dataclasses
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, slots=True)
class OnlineRecord:
    """The values of one entity in one view, as of ``event_time`` (epoch seconds, UTC)."""

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
    """The text key of one entity from its join key values (NumPy scalars taken as Python)."""
    plain = [v.item() if hasattr(v, "item") else v for v in values]
    return json.dumps(plain, separators=(",", ":"), default=str)


def dump_values(values: Mapping[str, Any]) -> str:
    """JSON text of a record's values (NaN kept, NumPy scalars taken as Python)."""
    return json.dumps(
        {k: v.item() if hasattr(v, "item") else v for k, v in values.items()},
        separators=(",", ":"),
        default=str,
    )


def load_values(text: str | bytes) -> dict[str, Any]:
    """The values :func:`dump_values` wrote."""
    return json.loads(text)  # type: ignore[no-any-return]


def check_time(value: float) -> float:
    """An event or created time as a finite float (the stores compare them)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a record time must be finite, not {value!r}")
    return number
