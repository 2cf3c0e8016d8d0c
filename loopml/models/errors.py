"""Errors of model packages (unsafe loads raise :class:`~loopml.core.errors.UnsafeLoadError`)."""

from __future__ import annotations

from loopml.core.errors import InvalidInputError


class ModelPackageError(InvalidInputError):
    """A model package is malformed, or a model cannot be packaged as asked."""

    error_code = "invalid_model_package"


class SignatureError(InvalidInputError):
    """A frame (or a model's output) does not match a signature.

    Attributes:
        field: the column at fault, or ``None`` when the frame as a whole is wrong.
    """

    error_code = "signature_mismatch"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
