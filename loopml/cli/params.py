"""Turning ``--param key=value`` options into pipeline parameters.

A value is read as JSON when it is JSON (``500``, ``0.1``, ``true``,
``null``, ``[1, 2]``, ``{"a": 1}``, ``"quoted text"``) and is kept as text
otherwise, so ``--param model=hgb`` needs no quotes. ``NaN`` and
``Infinity`` stay text: no pipeline parameter may hold them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from loopml.core.errors import InvalidInputError


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a parameter value")


def parse_value(text: str) -> Any:
    """The JSON value ``text`` spells, or ``text`` itself if it is not JSON."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return text


def parse_params(items: Iterable[str] | None) -> dict[str, Any]:
    """Parse ``key=value`` items into a mapping of parameters.

    Args:
        items: what ``--param`` was given, in order.

    Returns:
        key -> value, values parsed by :func:`parse_value`.

    Raises:
        InvalidInputError: if an item is not ``key=value`` with an identifier as key,
            or a key is given twice.
    """
    params: dict[str, Any] = {}
    for item in items or ():
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals or not key.isidentifier():
            raise InvalidInputError(
                f"--param {item!r} is not key=value (for example --param rows=500)"
            )
        if key in params:
            raise InvalidInputError(f"--param {key} is given twice")
        params[key] = parse_value(text)
    return params


def format_value(value: Any) -> str:
    """A parameter value as it would be typed after ``--param key=``."""
    if isinstance(value, str):
        plain = value and value.strip() == value and parse_value(value) == value
        return value if plain else json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)
