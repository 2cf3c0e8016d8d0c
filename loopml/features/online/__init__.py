"""Online stores: SQLite (the default), Redis (scale-out) and a memory fake, one interface.

:func:`online_store_from_uri` picks one by URI (``sqlite:///path``,
``redis://host:port/db?prefix=name``, ``memory://``) or by a mapping naming its
``type`` (``{"type": "redis", "url": ..., "prefix": ...}``). Importing this
package imports neither sqlite3's users nor redis-py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from loopml.core.errors import ConfigError
from loopml.features.online.base import (
    OnlineRecord,
    OnlineStore,
    encode_key,
)

__all__ = ["OnlineRecord", "OnlineStore", "encode_key", "online_store_from_uri"]

BUILTIN = {
    "sqlite": "loopml.features.online.sqlite:SqliteOnlineStore",
    "redis": "loopml.features.online.redis:RedisOnlineStore",
    "memory": "loopml.features.online.memory:MemoryOnlineStore",
}


def online_store_from_uri(
    target: str | Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None
) -> OnlineStore:
    """Build the online store a URI or a ``type`` mapping names (no I/O).

    Args:
        target: ``sqlite:///path.db`` (relative to ``base_dir``), ``redis://...``
            (``?prefix=`` sets the key prefix), ``memory://``; or a mapping with ``type``.
        base_dir: the folder relative SQLite paths are taken from (default: the current one).

    Raises:
        ConfigError: for an unknown scheme or type, or a bad field.
    """
    if isinstance(target, Mapping):
        fields = dict(target)
        kind = str(fields.pop("type", ""))
    else:
        kind, fields = _parse_uri(str(target))
    if kind not in BUILTIN:
        raise ConfigError(
            f"unknown online store {kind or target!r}: use one of {', '.join(sorted(BUILTIN))}"
        )
    if kind == "sqlite":
        fields["path"] = _resolve(str(fields.get("path", "")), base_dir)
    cls = _import(BUILTIN[kind])
    try:
        return cls(**fields)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{kind} online store: {exc}") from exc


def _parse_uri(uri: str) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(uri)
    if parts.scheme == "sqlite":
        return "sqlite", {"path": uri.removeprefix("sqlite:///") if "///" in uri else ""}
    if parts.scheme in ("redis", "rediss", "unix"):
        query = dict(parse_qsl(parts.query))
        fields: dict[str, Any] = {}
        if "prefix" in query:
            fields["prefix"] = query.pop("prefix")
        fields["url"] = urlunsplit(parts._replace(query=urlencode(query)))
        return "redis", fields
    if parts.scheme == "memory":
        return "memory", {}
    return parts.scheme, {}


def _resolve(path: str, base_dir: str | os.PathLike[str] | None) -> Path:
    if not path:
        raise ConfigError("a sqlite online store needs a path: sqlite:///path/online.db")
    file = Path(path).expanduser()
    return file if file.is_absolute() else Path(base_dir or Path.cwd()) / file


def _import(reference: str) -> type[OnlineStore]:
    import importlib

    module, _, name = reference.partition(":")
    found: type[OnlineStore] = getattr(importlib.import_module(module), name)
    return found
