"""Errors the rules raise, each with the HTTP status an API answers with; the runtime installs the handler."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse


class DomainError(ValueError):
    """A request the rules refuse; `status` is the HTTP status an API should answer with.

    A ValueError, so that pydantic validators calling these rules report them as validation errors.
    """

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(DomainError):
    status = 409


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class TooManyAttempts(DomainError):
    status = 429


async def domain_error_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return JSONResponse({"detail": error.message}, status_code=error.status)
