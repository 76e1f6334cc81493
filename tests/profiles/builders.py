"""Builders of tracked events as profiles consumes them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

_ids = itertools.count()
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def event(type_: str = "track", *, at: datetime | timedelta = T0, **fields: Any) -> dict[str, Any]:
    """A valid `tessera.events.v1` value; `at` is a time or an offset from T0."""
    when = T0 + at if isinstance(at, timedelta) else at
    value: dict[str, Any] = {
        "type": type_, "messageId": f"m-{next(_ids)}", "sourceId": "src", "receivedAt": when.isoformat(),
        "timestamp": when.isoformat(), "properties": {}, "traits": {}, "context": {},
    }  # fmt: skip
    if type_ == "track":
        value["event"] = "Product Viewed"
    value.update(fields)
    return value


def page(anonymous_id: str, *, at: datetime | timedelta = T0, **fields: Any) -> dict[str, Any]:
    """A page view by an anonymous visitor."""
    return event("page", at=at, anonymousId=anonymous_id, **fields)


def order(user_id: str, revenue: float, *, at: datetime | timedelta = T0, **fields: Any) -> dict[str, Any]:
    """An `Order Completed` by a known user."""
    props = {"order_id": f"o-{next(_ids)}", "revenue": revenue, "currency": "USD"}
    return event("track", at=at, userId=user_id, event="Order Completed", properties=props, **fields)


def identify(user_id: str | None = None, anonymous_id: str | None = None, *, at: datetime | timedelta = T0,
             **traits: Any) -> dict[str, Any]:  # fmt: skip
    """An identify with traits."""
    return event("identify", at=at, userId=user_id, anonymousId=anonymous_id, traits=traits)
