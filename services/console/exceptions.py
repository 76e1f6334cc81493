"""The console's failures, each with its status (rendered in the shared error shape)."""

from __future__ import annotations

from shared.errors import DomainError


class CsrfRefused(DomainError):
    """An unsafe request without the session's CSRF token, or a cross-site login."""

    status_code = 403
    code = "csrf"


class BadGateway(DomainError):
    """A service did not answer."""

    status_code = 502
    code = "bad_gateway"


class GatewayTimeout(DomainError):
    """A service did not answer in time."""

    status_code = 504
    code = "gateway_timeout"
