"""Segment-spec validation and enrichment of single events (pure functions)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.tracking.enrichment import RequestFacts, anonymize, corrected_timestamp, enrich, parse_user_agent
from services.tracking.validation import EventInvalid, validate_event

RECEIVED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def facts(**overrides: object) -> RequestFacts:
    values: dict[str, object] = {
        "source_id": "src", "received_at": RECEIVED, "client_ip": "203.0.113.77",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", "anonymize_ip": True,
    }  # fmt: skip
    values.update(overrides)
    return RequestFacts(**values)  # type: ignore[arg-type]


class TestValidateEvent:
    @pytest.mark.parametrize(
        ("event", "field"),
        [
            ({"type": "track", "event": "X"}, "userId"),
            ({"type": "track", "userId": "u1"}, "event"),
            ({"type": "track", "userId": "u1", "event": ""}, "event"),
            ({"type": "alias", "userId": "u1"}, "previousId"),
            ({"type": "group", "userId": "u1"}, "groupId"),
            ({"type": "track", "userId": "u1", "event": "X", "properties": [1]}, "properties"),
            ({"type": "identify", "userId": "u1", "traits": "x"}, "traits"),
            ({"type": "track", "userId": "u1", "event": "X", "timestamp": "yesterday"}, "timestamp"),
            ({"type": "nope", "userId": "u1"}, "type"),
            ({"type": "page", "userId": "u1", "name": 5}, "name"),
        ],
    )
    def test_invalid_events_name_the_field(self, event: dict[str, object], field: str) -> None:
        with pytest.raises(EventInvalid) as caught:
            validate_event(event)
        assert caught.value.field == field

    @pytest.mark.parametrize("junk", ["null", "undefined", "0", "anonymous", "", "  ", "NULL"])
    def test_junk_identifiers_are_refused(self, junk: str) -> None:
        with pytest.raises(EventInvalid) as caught:
            validate_event({"type": "identify", "userId": junk})
        assert caught.value.field == "userId"

    def test_forced_type_wins_and_null_objects_become_empty(self) -> None:
        event = validate_event({"type": "page", "anonymousId": "a1", "event": "E", "properties": None}, "track")
        assert event["type"] == "track" and event["properties"] == {}


class TestEnrich:
    def test_clock_skew_is_corrected(self) -> None:
        # The client clock is 1 h fast: it stamped the event 10 s before sending.
        client_now = RECEIVED + timedelta(hours=1)
        event = {"timestamp": (client_now - timedelta(seconds=10)).isoformat(), "sentAt": client_now.isoformat()}
        assert corrected_timestamp(event, RECEIVED, None) == RECEIVED - timedelta(seconds=10)

    @pytest.mark.parametrize(("ahead", "clamped"), [(timedelta(hours=1), False), (timedelta(hours=1, seconds=1), True)])
    def test_a_time_past_the_tolerance_becomes_the_receive_time(self, ahead: timedelta, clamped: bool) -> None:
        raw = {"type": "track", "userId": "u", "event": "E", "timestamp": (RECEIVED + ahead).isoformat()}
        event = enrich(validate_event(raw), facts(), future_tolerance=timedelta(hours=1))
        assert (event["timestamp"] == RECEIVED.isoformat()) is clamped
        assert event["context"].get("timestampClamped", False) is clamped

    def test_historical_timestamp_without_sent_at_is_kept(self) -> None:
        assert corrected_timestamp({"timestamp": "1997-01-01T00:00:00Z"}, RECEIVED, None).year == 1997

    def test_adds_ids_utm_user_agent_and_anonymous_ip(self) -> None:
        raw = {"type": "page", "anonymousId": "a1", "context": {"page": {"url": "https://s.example/?utm_source=fb"}}}
        event = enrich(validate_event(raw), facts())
        assert event["messageId"] and event["sourceId"] == "src" and event["receivedAt"] == RECEIVED.isoformat()
        assert event["context"]["campaign"] == {"source": "fb"}
        assert event["context"]["ip"] == "203.0.113.0"
        assert event["context"]["userAgentData"]["browser"] == "Chrome"

    def test_source_that_opted_out_keeps_the_full_ip(self) -> None:
        event = enrich(validate_event({"type": "page", "anonymousId": "a1"}), facts(anonymize_ip=False))
        assert event["context"]["ip"] == "203.0.113.77"

    def test_ipv6_is_cut_to_48_bits(self) -> None:
        assert anonymize("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::"

    @pytest.mark.parametrize(
        "agent",
        ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "curl/8.5.0",
         "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"],
    )  # fmt: skip
    def test_bots_are_flagged(self, agent: str) -> None:
        assert parse_user_agent(agent)["isBot"] is True

    def test_phone_is_mobile_and_not_a_bot(self) -> None:
        parsed = parse_user_agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36")
        assert parsed == parsed | {"deviceType": "mobile", "isBot": False, "os": "Android"}
