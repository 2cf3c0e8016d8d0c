"""Errors of the feature store.

::

    LoopMLError
    ├── InvalidInputError
    │   ├── FeatureDefinitionError   a definition is malformed or refers to nothing
    │   └── FeatureInputError        an entity frame, a row or a source does not fit a view
    ├── NotFoundError
    │   └── FeatureNotFoundError     unknown feature, view, entity or service; nothing applied
    ├── ConflictError
    │   └── FeatureConflictError     an apply would break what is stored (use ``force``)
    └── BackendError
        └── OnlineStoreError         the online store (SQLite, Redis) failed

Errors about a view's data name the view and the column, and are raised
before any work is done.
"""

from __future__ import annotations

from loopml.core.errors import BackendError, ConflictError, InvalidInputError, NotFoundError


class FeatureDefinitionError(InvalidInputError):
    """A definition is malformed or refers to something that is not defined."""

    error_code = "feature_definition_error"


class FeatureInputError(InvalidInputError):
    """Data given to the feature store does not fit a feature view.

    Attributes:
        view: the feature view concerned, if one is.
        column: the column concerned, if one is.
    """

    error_code = "feature_input_error"

    def __init__(self, message: str, *, view: str | None = None, column: str | None = None) -> None:
        where = []
        if view is not None:
            where.append(f"feature view {view!r}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)
        self.view = view
        self.column = column


class FeatureNotFoundError(NotFoundError):
    """An unknown feature, view, entity or service was asked for."""

    error_code = "feature_not_found"


class FeatureConflictError(ConflictError):
    """Applying these definitions would break what the stored version promises."""

    error_code = "feature_conflict"


class OnlineStoreError(BackendError):
    """The online store failed (disk, network, server)."""

    error_code = "online_store_error"
