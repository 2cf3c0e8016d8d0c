"""Errors of the artifact store.

Each one is an :class:`ArtifactError` and also the generic kind from
:mod:`loopml.core.errors`, so callers may catch either::

    ArtifactError (LoopMLError)
    ├── InvalidKeyError             + InvalidInputError  a key would leave the store's root
    ├── ArtifactNotFoundError       + NotFoundError      no object under that key or digest
    ├── ArtifactConflictError       + ConflictError      the write clashes with what is stored
    ├── ArtifactIntegrityError      + IntegrityError     stored bytes do not match their digest
    ├── ArtifactBackendError        + BackendError       the disk, network or service failed
    ├── MaterializerError           + InvalidInputError  a value cannot be written or read back
    └── MaterializerNotFoundError   + NotFoundError      no materializer registered by that name

Loading that would run untrusted code raises core's
:class:`~loopml.core.errors.UnsafeLoadError` itself.
"""

from __future__ import annotations

from loopml.core.errors import (
    BackendError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    LoopMLError,
    NotFoundError,
)


class ArtifactError(LoopMLError):
    """Root of the errors raised by :mod:`loopml.artifacts`."""

    error_code = "artifact_error"


class InvalidKeyError(ArtifactError, InvalidInputError):
    """A key is malformed or would reach outside the store's root. Nothing was read or written."""

    error_code = "invalid_key"


class ArtifactNotFoundError(ArtifactError, NotFoundError):
    """No object is stored under the key or digest asked for."""

    error_code = "artifact_not_found"


class ArtifactConflictError(ArtifactError, ConflictError):
    """The write clashes with what is stored (a folder where an object should go, ...)."""

    error_code = "artifact_conflict"


class ArtifactIntegrityError(ArtifactError, IntegrityError):
    """The bytes read back do not match their digest: the stored object is corrupted."""

    error_code = "artifact_integrity_error"


class ArtifactBackendError(ArtifactError, BackendError):
    """The storage backend failed (disk, permissions, network, object store service)."""

    error_code = "artifact_backend_error"


class MaterializerError(ArtifactError, InvalidInputError):
    """A value cannot be stored, or stored bytes cannot be loaded back into a value.

    Raised when no materializer handles the value's type, when the materializer
    refuses the value (NaN in JSON, an object array...), or when the bytes are
    not in the materializer's format.
    """

    error_code = "materializer_error"


class MaterializerNotFoundError(ArtifactError, NotFoundError):
    """No materializer is registered under the name asked for."""

    error_code = "materializer_not_found"
