"""Checks of what callers hand the metadata store, free of SQLAlchemy.

The tracking client runs them on every ``log_metric`` call, so they are cheap:
a key seen before is accepted from a cache.
"""

from __future__ import annotations

import functools
import numbers
import re
import uuid

from loopml.core.errors import InvalidInputError

MAX_KEY_LENGTH = 250
MAX_VALUE_LENGTH = 8000
MAX_NAME_LENGTH = 256
_KEY_PATTERN = re.compile(r"^[\w\-. /:]+$")


def validate_key(key: object, what: str = "key") -> str:
    """Check a param, metric or tag key; return it.

    Raises:
        InvalidInputError: if the key is empty, too long or has odd characters.
    """
    if type(key) is str and _valid_key(key):
        return key
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"a {what} must be a non-empty string of at most {MAX_KEY_LENGTH} characters"
        )
    raise InvalidInputError(
        f"{what} {key!r} may hold letters, digits and _ - . / : and spaces only"
    )


@functools.lru_cache(maxsize=4096)
def _valid_key(key: str) -> bool:
    return (
        0 < len(key) <= MAX_KEY_LENGTH
        and _KEY_PATTERN.match(key) is not None
        and ".." not in key
        and not key.startswith("/")
    )


def validate_metric_value(value: object, key: str) -> float:
    """Turn a metric value into a float; booleans and non-numbers are refused."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"metric {key!r} must be a number, not {kind.__name__}")
    return float(value)


def new_id() -> str:
    """A fresh execution or context id: 32 hex characters."""
    return uuid.uuid4().hex
