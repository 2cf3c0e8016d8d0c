"""Errors of the model server, each with the HTTP status it answers with."""

from __future__ import annotations

from loopml.core.errors import BackendError, ConflictError, InvalidInputError, LoopMLError


class ServingError(LoopMLError):
    """Root of the model server's own errors."""

    error_code = "serving_error"


class PayloadTooLargeError(InvalidInputError):
    """The request body, or its number of rows, is over the server's limit (413)."""

    error_code = "payload_too_large"


class OverloadedError(ServingError):
    """Too many requests are in flight; retry later (429)."""

    error_code = "overloaded"


class RequestTimeoutError(ServingError):
    """The prediction took longer than the per-request timeout (504)."""

    error_code = "timeout"


class ModelNotReadyError(ServingError):
    """No version of the model is loaded yet (503)."""

    error_code = "model_not_ready"


class UnauthorizedError(ServingError):
    """The request carries no valid bearer token (401)."""

    error_code = "unauthorized"


class UnsafeBindError(ConflictError):
    """The server would listen beyond loopback without a token."""

    error_code = "unsafe_bind"


class ModelInputError(InvalidInputError):
    """The input matched the signature but the model refused it (NaN for a model without
    missing-value support, an unseen category): the caller's data, so 422, not 500."""

    error_code = "model_refused_input"


class PredictionError(BackendError):
    """The model failed on input that matched its signature (500)."""

    error_code = "prediction_failed"


def http_status(error: LoopMLError) -> int:
    """The HTTP status a loopml error answers with."""
    from loopml.core.errors import ConfigError, NotFoundError
    from loopml.models.errors import SignatureError

    table: tuple[tuple[type[LoopMLError], int], ...] = (
        (PayloadTooLargeError, 413),
        (SignatureError, 422),
        (ModelInputError, 422),
        (InvalidInputError, 400),
        (ConfigError, 400),
        (NotFoundError, 404),
        (ConflictError, 409),
        (OverloadedError, 429),
        (RequestTimeoutError, 504),
        (ModelNotReadyError, 503),
        (UnauthorizedError, 401),
    )
    for kind, status in table:
        if isinstance(error, kind):
            return status
    return 500
