"""Core of loopml: settings, the error hierarchy and content hashing.

It imports nothing else of loopml; every other subpackage may import it.
"""

from __future__ import annotations

from loopml.core.config import Settings
from loopml.core.errors import (
    BackendError,
    ConfigError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    LoopMLError,
    MigrationError,
    NotFoundError,
    UnsafeLoadError,
)
from loopml.core.hashing import canonical_json, sha256_bytes, sha256_file, stable_hash

__all__ = [
    "BackendError",
    "ConfigError",
    "ConflictError",
    "IntegrityError",
    "InvalidInputError",
    "LoopMLError",
    "MigrationError",
    "NotFoundError",
    "Settings",
    "UnsafeLoadError",
    "canonical_json",
    "sha256_bytes",
    "sha256_file",
    "stable_hash",
]
