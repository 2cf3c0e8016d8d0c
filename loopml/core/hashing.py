"""Content hashing: sha256 of bytes, files and streams, and stable hashes of values.

A stable hash does not depend on the process, ``PYTHONHASHSEED`` or dict order:
values are rendered as canonical JSON (sorted keys, no whitespace) first.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from typing import IO, Any

CHUNK_SIZE = 1 << 20
DIGEST_LENGTH = 64


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Return the hex sha256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_stream(stream: IO[bytes]) -> tuple[str, int]:
    """Hash a binary stream to its end.

    Returns:
        The hex digest and the number of bytes read.
    """
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Hash a local file. Returns the hex digest and the size in bytes."""
    with open(path, "rb") as stream:
        return sha256_stream(stream)


def sha256_chunks(chunks: Iterable[bytes]) -> str:
    """Return the hex sha256 digest of the concatenation of ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def is_digest(value: str) -> bool:
    """Tell whether ``value`` is a lowercase hex sha256 digest."""
    return len(value) == DIGEST_LENGTH and all(c in "0123456789abcdef" for c in value)


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return {"__float__": "nan"}
        if math.isinf(value):
            return {"__float__": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, bytes):
        return {"__bytes__": sha256_bytes(value)}
    return value


def canonical_json(value: Any) -> str:
    """Render a JSON-able value canonically: sorted keys, no whitespace, NaN spelled out.

    Raises:
        TypeError: if ``value`` holds something JSON cannot represent.
    """
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def stable_hash(value: Any) -> str:
    """Return a sha256 of ``value`` that is equal across processes for equal values."""
    return sha256_bytes(canonical_json(value).encode())
