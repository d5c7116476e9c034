"""Map exceptions to GraphQL errors with ``extensions.code``; nothing internal reaches clients."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from workq_core.errors import (
    AuthError,
    Forbidden,
    InvalidPayload,
    JobTypeNotFound,
    QuotaExceeded,
    RateLimited,
    Unavailable,
    WorkqError,
)

logger = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Internal server error."
UNAVAILABLE_MESSAGE = "A service is unavailable; try again later."

_CODES: tuple[tuple[type[WorkqError], str], ...] = (
    (AuthError, "UNAUTHENTICATED"),
    (Forbidden, "FORBIDDEN"),
    (InvalidPayload, "BAD_USER_INPUT"),
    (JobTypeNotFound, "BAD_USER_INPUT"),
    (RateLimited, "RATE_LIMITED"),
    (QuotaExceeded, "QUOTA_EXCEEDED"),
    (Unavailable, "UNAVAILABLE"),
)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The spec's error shape; unexpected exceptions become a generic INTERNAL error."""
    if error.path is None:
        # Before execution: the variables did not coerce; the message names
        # the variable and quotes only what the client sent.
        return _shape(error, error.message, "BAD_USER_INPUT")
    original = error.original_error
    if original is None:  # a resolver returned null for a non-null field
        logger.error("graphql execution error", extra={"path": _path(error)})
        return _shape(error, INTERNAL_MESSAGE, "INTERNAL")
    code, message, extra = classify(original, _path(error))
    return _shape(error, message, code, extra)


def classify(exc: BaseException, path: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """``(code, client message, extra extensions)`` for an exception raised in a resolver."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code, exc.message, _extensions(exc)
    logger.error("unhandled resolver error", extra={"path": path}, exc_info=exc)
    return "INTERNAL", INTERNAL_MESSAGE, {}


def _extensions(exc: WorkqError) -> dict[str, Any]:
    """What a client needs beside the code: where the input was wrong, when to retry."""
    if isinstance(exc, InvalidPayload):
        found = {"field": exc.field, "item": exc.item}
    elif isinstance(exc, QuotaExceeded):
        found = {"quota": exc.quota, "limit": exc.limit, "retryAfterS": exc.retry_after_s}
    elif isinstance(exc, RateLimited):
        found = {"retryAfterS": exc.retry_after_s}
    else:
        return {}
    return {k: v for k, v in found.items() if v is not None}


def request_error(message: str, code: str) -> dict[str, Any]:
    """An error about the request as a whole (no locations or path)."""
    return {"message": message, "extensions": {"code": code}}


def _shape(
    error: GraphQLError, message: str, code: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    shaped: dict[str, Any] = {"message": message}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path is not None:
        shaped["path"] = list(error.path)
    shaped["extensions"] = {"code": code, **(extra or {})}
    return shaped


def _path(error: GraphQLError) -> str | None:
    return ".".join(str(p) for p in error.path) if error.path else None
