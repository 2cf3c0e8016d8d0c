"""The error hierarchy of loopml.

Every error loopml raises on purpose is a :class:`LoopMLError`. Each carries an
``error_code`` (stable, machine-readable, returned by the servers) and a
message that says what to do. Capabilities subclass the generic kinds below;
backend exceptions (SQLAlchemy, fsspec, botocore) are translated at one
boundary per backend with ``raise ... from exc``.

::

    LoopMLError                         error_code
    ├── ConfigError                     config_error
    ├── InvalidInputError (ValueError)  invalid_input     bad argument; nothing was written
    ├── NotFoundError (LookupError)     not_found
    ├── ConflictError                   conflict          already exists / lost a race
    ├── IntegrityError                  integrity_error   stored bytes do not match their digest
    ├── UnsafeLoadError                 unsafe_load       loading would execute untrusted code
    └── BackendError                    backend_error     a store failed (disk, network, database)
        └── MigrationError              migration_error

The CLI turns ``InvalidInputError``, ``NotFoundError``, ``ConflictError`` and
``ConfigError`` into a one-line message and exit code 2.
"""

from __future__ import annotations


class LoopMLError(Exception):
    """Root of every error loopml raises on purpose."""

    error_code: str = "loopml_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LoopMLError):
    """The configuration (arguments, ``LOOPML_*`` variables, ``loopml.yaml``) is wrong."""

    error_code = "config_error"


class InvalidInputError(LoopMLError, ValueError):
    """An argument is not acceptable. Nothing was written."""

    error_code = "invalid_input"


class NotFoundError(LoopMLError, LookupError):
    """The thing asked for does not exist."""

    error_code = "not_found"


class ConflictError(LoopMLError):
    """The write conflicts with what is stored (exists already, or a concurrent writer won)."""

    error_code = "conflict"


class IntegrityError(LoopMLError):
    """Stored bytes do not match their recorded digest: the store is corrupted."""

    error_code = "integrity_error"


class UnsafeLoadError(LoopMLError):
    """Loading this object would run code from the store and nobody opted in."""

    error_code = "unsafe_load"


class BackendError(LoopMLError):
    """A storage backend failed: disk, network or database."""

    error_code = "backend_error"


class MigrationError(BackendError):
    """The metadata schema could not be brought to the version this loopml needs."""

    error_code = "migration_error"


USER_ERRORS: tuple[type[LoopMLError], ...] = (
    ConfigError,
    InvalidInputError,
    NotFoundError,
    ConflictError,
)
"""Errors caused by the caller's input: a 4xx from servers, exit code 2 from the CLI."""
