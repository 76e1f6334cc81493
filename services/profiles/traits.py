"""Pure profile arithmetic: traits (last write wins by event time), consent, and computed traits kept
incrementally from one event at a time, including 30-minute sessions. No database, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.profiles import engagement
from services.profiles.config import get_settings
from shared.db import utcnow
from shared.events import SURVEY_RESPONDED, SURVEY_SCALES

SESSION_GAP = timedelta(minutes=30)
SOCIAL = {"Post Liked": "likes", "Comment Posted": "comments", "Post Shared": "shares"}
CONSENT_CHANNELS = ("email", "ads", "analytics")
# Who decided: "unsubscribe" (the person, by the link), "api" (a user of the API), "erasure", "server" (an identify
# from a trusted, server-side source or an import), "identify" (an identify from a browser write key).
PROTECTED_OPT_OUTS = frozenset({"unsubscribe", "api", "erasure"})
TRUSTED_GRANTS = frozenset({"api", "server"})
ADDITIVE = ("event_count", "page_views", "sessions", "session_seconds", "bounces", "orders", "revenue", "likes",
            "comments", "shares", "reviews", "rating_sum", "sentiment_sum", "sentiment_count", "points")  # fmt: skip
NON_SESSION_SOURCES = ("import:", "email")  # imported history and email pixels are not visits


@dataclass
class SessionChange:
    """A session opened or extended by an event, to be written to the sessions table."""

    id: str
    started_at: datetime
    ended_at: datetime
    page_views: int
    events: int
    utm: dict[str, str] = field(default_factory=dict)
    orders: int = 0
    revenue: float = 0.0


def apply_traits(
    traits: dict[str, Any], times: dict[str, str], new: dict[str, Any], at: datetime, *, force: bool = False
) -> bool:
    """Set each trait unless a later event already set it; return whether anything changed."""
    stamp = at.isoformat()
    changed = False
    for key, value in new.items():
        if not force and times.get(key, "") > stamp:
            continue  # a late event never overwrites a newer value
        if traits.get(key) != value or times.get(key) != stamp:
            traits[key] = value
            times[key] = stamp
            changed = True
    return changed


def set_consent(
    consent: dict[str, Any], channel: str, granted: bool, source: str, at: datetime, *, now: bool = False
) -> bool:
    """Record a consent decision for a channel unless it may not replace the current one (see `may_replace`);
    `now`: the decision is being made at this moment (API, erasure), so no earlier-stamped event outranks it."""
    current = consent.get(channel)
    if current and not may_replace(current, granted, source, at, now=now):
        return False
    consent[channel] = {"granted": granted, "source": source, "at": at.isoformat()}
    return True


def may_replace(current: dict[str, Any], granted: bool, source: str, at: datetime, *, now: bool = False) -> bool:
    """An opt-out by the person, an API user or erasure is undone only by an opt-in from a trusted path; otherwise
    the later decision wins."""
    protected = not current.get("granted") and current.get("source") in PROTECTED_OPT_OUTS
    if granted and protected and source not in TRUSTED_GRANTS:
        return False
    return now or current.get("at", "") <= at.isoformat()


def fold_consent(kept: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """Two profiles' consent as one: both decisions per channel replayed in time order through the same rules,
    so a merge never lets an opt-in through that either profile would have refused."""
    result: dict[str, Any] = {}
    for channel in sorted(set(kept) | set(merged)):
        decisions = sorted((d for d in (kept.get(channel), merged.get(channel)) if d), key=lambda d: d["at"])
        for d in decisions:
            set_consent(result, channel, d["granted"], d["source"], datetime.fromisoformat(d["at"]))
    return result


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) < 1e12 else None  # no NaN, no absurd values


def apply_event(computed: dict[str, Any], event: Any, new_session_id: Callable[[], str]) -> SessionChange | None:
    """Update computed traits for one event; return the session it belongs to, if it is a visit."""
    name = event.event if event.type == "track" else event.type
    computed["event_count"] = computed.get("event_count", 0) + 1
    if event.type in ("page", "screen"):
        computed["page_views"] = computed.get("page_views", 0) + 1
    if name == "Order Completed":
        _apply_order(computed, event)
    elif name in SOCIAL:
        computed[SOCIAL[name]] = computed.get(SOCIAL[name], 0) + 1
    elif name == "Review Submitted":
        rating = _number(event.properties.get("rating"))
        if rating is not None:
            computed["reviews"] = computed.get("reviews", 0) + 1
            computed["rating_sum"] = computed.get("rating_sum", 0.0) + rating
    elif name == SURVEY_RESPONDED:
        _apply_survey(computed, event)
    campaign = event.context.get("campaign") if isinstance(event.context.get("campaign"), dict) else None
    if campaign:
        computed["last_utm"] = {k: campaign[k] for k in ("source", "medium", "name") if campaign.get(k)}
    if str(event.sourceId).startswith(NON_SESSION_SOURCES):
        return None
    return _apply_session(computed, event, new_session_id, campaign or {})


def _apply_survey(computed: dict[str, Any], event: Any) -> None:
    """`satisfaction`: the score of the person's latest CSAT or NPS answer (by event time), with its kind."""
    kind, score = event.properties.get("kind"), _number(event.properties.get("score"))
    if kind not in ("csat", "nps") or score is None or score != int(score):
        return
    low, high = SURVEY_SCALES[kind]
    at = event.timestamp.isoformat()
    if low <= score <= high and at >= (computed.get("satisfaction_at") or ""):
        computed.update(satisfaction=int(score), satisfaction_kind=kind, satisfaction_at=at)


def add_engagement(computed: dict[str, Any], *, points: float, compound: float | None) -> None:
    """Count gamification points and one feedback sentiment score (kept as sum and count, so merges add up)."""
    if points:
        computed["points"] = round(computed.get("points", 0) + points, 6)
    if compound is not None:
        computed["sentiment_sum"] = round(computed.get("sentiment_sum", 0.0) + compound, 6)
        computed["sentiment_count"] = computed.get("sentiment_count", 0) + 1


def _apply_order(computed: dict[str, Any], event: Any) -> None:
    revenue = _number(event.properties.get("revenue", event.properties.get("total"))) or 0.0
    at = event.timestamp.isoformat()
    computed["orders"] = computed.get("orders", 0) + 1
    computed["revenue"] = round(computed.get("revenue", 0.0) + revenue, 6)
    computed["first_order_at"] = min(computed.get("first_order_at") or at, at)
    computed["last_order_at"] = max(computed.get("last_order_at") or at, at)
    days = set(computed.get("order_days", []))
    days.add(at[:10])
    computed["order_days"] = sorted(days)
    # Revenue per order day: what lifetime-value models (BG/NBD, Gamma-Gamma) are fitted on downstream.
    daily = computed.setdefault("daily_revenue", {})
    daily[at[:10]] = round(daily.get(at[:10], 0.0) + revenue, 6)


def _apply_session(
    computed: dict[str, Any], event: Any, new_id: Callable[[], str], campaign: dict[str, Any]
) -> SessionChange | None:
    at: datetime = event.timestamp
    current = computed.get("session")
    is_page = event.type in ("page", "screen")
    if current:
        started, last = datetime.fromisoformat(current["started_at"]), datetime.fromisoformat(current["last_at"])
        if at < started - SESSION_GAP:
            return None  # a late event from an older visit: counted above, but it opens no session
        if at <= last + SESSION_GAP:
            return _extend(computed, current, at, is_page, event)
    return _open(computed, new_id(), at, is_page, campaign, event)


def _extend(
    computed: dict[str, Any], current: dict[str, Any], at: datetime, is_page: bool, event: Any
) -> SessionChange:
    started, last = datetime.fromisoformat(current["started_at"]), datetime.fromisoformat(current["last_at"])
    new_start, new_last = min(started, at), max(last, at)
    computed["session_seconds"] = (
        computed.get("session_seconds", 0.0) + ((new_last - new_start) - (last - started)).total_seconds()
    )
    if is_page:
        if current["pages"] == 1:
            computed["bounces"] = computed.get("bounces", 1) - 1  # a second page: no longer a bounce
        current["pages"] += 1
    current["events"] += 1
    current["started_at"], current["last_at"] = new_start.isoformat(), new_last.isoformat()
    _session_order(current, event)
    return _change(current)


def _open(
    computed: dict[str, Any], new_id: str, at: datetime, is_page: bool, campaign: dict[str, Any], event: Any
) -> SessionChange:
    computed["sessions"] = computed.get("sessions", 0) + 1
    if is_page:
        computed["bounces"] = computed.get("bounces", 0) + 1  # one page so far
    utm = {k: campaign[k] for k in ("source", "medium", "name") if campaign.get(k)}
    current = {"id": new_id, "started_at": at.isoformat(), "last_at": at.isoformat(), "pages": int(is_page),
               "events": 1, "utm": utm, "orders": 0, "revenue": 0.0}  # fmt: skip
    _session_order(current, event)
    computed["session"] = current
    return _change(current)


def _session_order(current: dict[str, Any], event: Any) -> None:
    if event.type == "track" and event.event == "Order Completed":
        current["orders"] += 1
        current["revenue"] += _number(event.properties.get("revenue", event.properties.get("total"))) or 0.0


def _change(current: dict[str, Any]) -> SessionChange:
    return SessionChange(
        id=current["id"], started_at=datetime.fromisoformat(current["started_at"]),
        ended_at=datetime.fromisoformat(current["last_at"]), page_views=current["pages"], events=current["events"],
        utm=current.get("utm", {}), orders=current.get("orders", 0), revenue=current.get("revenue", 0.0),
    )  # fmt: skip


def merge_computed(kept: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """The computed traits of two profiles become one: sums add, first/last take the extremes."""
    result = dict(kept)
    for key in ADDITIVE:
        if key in merged:
            result[key] = round(kept.get(key, 0) + merged[key], 6)
    for key, pick in (("first_order_at", min), ("last_order_at", max)):
        values = [v for v in (kept.get(key), merged.get(key)) if v]
        if values:
            result[key] = pick(values)
    days = set(kept.get("order_days", [])) | set(merged.get("order_days", []))
    if days:
        result["order_days"] = sorted(days)
    revenue = _add_daily(kept.get("daily_revenue", {}), merged.get("daily_revenue", {}), 1)
    if revenue:
        result["daily_revenue"] = revenue
    if "last_utm" not in kept and "last_utm" in merged:
        result["last_utm"] = merged["last_utm"]
    if (merged.get("satisfaction_at") or "") > (kept.get("satisfaction_at") or ""):
        result.update({k: merged[k] for k in ("satisfaction", "satisfaction_kind", "satisfaction_at")})
    return result


def unmerge_computed(combined: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """Take a merged profile's additive counters back out (extremes are re-derived by the caller)."""
    result = dict(combined)
    for key in ADDITIVE:
        if key in merged:
            result[key] = round(combined.get(key, 0) - merged[key], 6)
    revenue = _add_daily(combined.get("daily_revenue", {}), merged.get("daily_revenue", {}), -1)
    revenue = {day: value for day, value in revenue.items() if value > 0}  # days with revenue left stay order days
    days = set(combined.get("order_days", [])) - set(merged.get("order_days", [])) | set(revenue)
    result["order_days"] = sorted(days)
    result["daily_revenue"] = revenue
    return result


def _add_daily(base: dict[str, float], other: dict[str, float], sign: int) -> dict[str, float]:
    """Per-day sums (sign 1) or differences (sign -1), days in order."""
    days = sorted(set(base) | set(other))
    return {day: round(base.get(day, 0.0) + sign * other.get(day, 0.0), 6) for day in days}


def public_computed(computed: dict[str, Any]) -> dict[str, Any]:
    """Computed traits as published and shown: internal session state out, ratios in."""
    shown = {k: v for k, v in computed.items() if k not in ("session", "order_days")}
    sessions, orders, reviews = computed.get("sessions", 0), computed.get("orders", 0), computed.get("reviews", 0)
    shown["distinct_order_days"] = len(computed.get("order_days", []))
    shown["avg_session_seconds"] = round(computed.get("session_seconds", 0.0) / sessions, 3) if sessions else 0.0
    shown["bounce_rate"] = round(computed.get("bounces", 0) / sessions, 6) if sessions else 0.0
    shown["average_order_value"] = round(computed.get("revenue", 0.0) / orders, 6) if orders else 0.0
    shown["average_rating"] = round(computed.get("rating_sum", 0.0) / reviews, 6) if reviews else None
    scored = computed.get("sentiment_count", 0)
    shown["average_sentiment"] = round(computed.get("sentiment_sum", 0.0) / scored, 6) if scored else None
    shown["points"] = computed.get("points", 0)
    shown["social_interactions"] = sum(computed.get(k, 0) for k in ("likes", "comments", "shares"))
    shown.pop(engagement.KEY, None)
    score = engagement.score_at(computed.get(engagement.KEY), utcnow(), get_settings().engagement_half_life_days)
    shown["engagement_score"] = round(score, 6) if score is not None else None  # as of now: exact when read
    return shown
