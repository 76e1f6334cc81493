"""One JSON error shape for every service: `{"error": {"code", "message", "fields": [...]}}`."""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.transient import is_transient

log = structlog.get_logger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


class DomainError(Exception):
    """An expected failure that maps to an HTTP status; raised by domain code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        self.headers = headers


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


_CODE = re.compile(r"^[A-Za-z0-9_]{1,63}$")  # SQLSTATEs, SQLite error names and constraint names: identifiers only


def failure_text(exc: BaseException) -> str:
    """What a failed job may show its users: a domain error's own message, anything else as `describe_error`."""
    return exc.message if isinstance(exc, DomainError) else describe_error(exc)


def describe_error(exc: BaseException) -> str:
    """What may be stored or logged about an exception: its class, and for a database error the driver's error class,
    SQLSTATE (or SQLite error name) and constraint; never its text, which can quote SQL parameters and rows."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return type(exc).__name__
    details = [type(exc.orig).__name__, *_database_codes(exc.orig)]
    return f"{type(exc).__name__} ({', '.join(details)})"


def _database_codes(orig: BaseException) -> list[str]:
    # asyncpg's own error (the cause of SQLAlchemy's adapted one) carries the constraint; sqlite3's the error name.
    sources = (orig, orig.__cause__)
    sqlstate, constraint = _code(sources, "sqlstate", "pgcode"), _code(sources, "constraint_name")
    codes = [f"SQLSTATE {sqlstate}"] if sqlstate else [_code(sources, "sqlite_errorname")]
    return [c for c in codes if c] + ([f"constraint {constraint}"] if constraint else [])


def _code(sources: tuple[BaseException | None, ...], *names: str) -> str:
    for source in sources:
        for name in names:
            value = getattr(source, name, None)
            if isinstance(value, str) and _CODE.match(value):
                return value
    return ""


def field_error(field: str, reason: str) -> dict[str, str]:
    """One entry of the `fields` list."""
    return {"field": field, "reason": reason}


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The shared error document."""
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Render the shared error document with a status."""
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)


def validation_fields(errors: list[Any]) -> list[dict[str, str]]:
    """Turn pydantic errors into `fields` entries named by their dotted location."""
    fields = []
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()))
        fields.append(field_error(loc or "body", str(err.get("msg", "invalid"))))
    return fields


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.code, exc.message, exc.fields, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = validation_fields(list(exc.errors()))
    return error_response(422, "invalid", "The request is not valid.", fields)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if is_transient(exc):  # a deadlock, a restarting database: the same request succeeds a moment later
        log.warning("request_transient_failure", path=request.url.path, error=describe_error(exc))
        return error_response(503, "unavailable", "Busy for a moment; try again.", headers={"Retry-After": "1"})
    # Internals (tracebacks, SQL) stay in the log, never in the response.
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every error in the shared shape."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
