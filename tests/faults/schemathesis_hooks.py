"""Schemathesis checks loaded by the fuzz test (SCHEMATHESIS_HOOKS): every 4xx is in the shared error shape."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def shared_error_shape(ctx: Any, response: Any, case: Any) -> None:
    """A 4xx answer is `{"error": {"code", "message", "fields": [{"field", "reason"}]}}`."""
    if not 400 <= response.status_code < 500:
        return
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"4xx without the error shape: {body!r}"[:300]
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), error
    fields = error.get("fields")
    assert isinstance(fields, list) and all({"field", "reason"} <= set(f) for f in fields), error
