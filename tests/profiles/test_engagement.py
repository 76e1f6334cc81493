"""The engagement score kept incrementally (events in any order, merges and their undo) equals a from-scratch sum
over the events: score(t) = Σ weight(e) · 2^(−(t − t_e) / half-life)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.profiles.batch import ProfileState
from services.profiles.config import get_settings
from services.profiles.engagement import EngagementRule, add, combine, score_at
from services.profiles.ingest import upserted_message

RULE = EngagementRule()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
NAMES = ["page", "Order Completed", "Email Clicked", "identify", "Some Other Event"]


def _events(seed: int, n: int = 200) -> list[tuple[str, datetime]]:
    rng = random.Random(seed)
    return [(rng.choice(NAMES), NOW - timedelta(seconds=rng.uniform(0, 400 * 86_400))) for _ in range(n)]


def from_scratch(events: list[tuple[str, datetime]], at: datetime) -> float:
    half_life = RULE.half_life_days * 86_400
    return sum(RULE.weight(name) * 2 ** (-(at - t).total_seconds() / half_life) for name, t in events)


def incremental(events: list[tuple[str, datetime]]) -> object:
    state = None
    for name, t in events:  # in arrival order, not time order
        state = add(state, RULE.weight(name), t, RULE.half_life_days)
    return state


@pytest.mark.parametrize("seed", range(5))
def test_the_incremental_score_equals_the_sum_over_the_timeline_at_any_time(seed: int) -> None:
    events = _events(seed)
    state = incremental(events)
    for later in (timedelta(0), timedelta(days=3), timedelta(days=90)):
        assert score_at(state, NOW + later, RULE.half_life_days) == pytest.approx(from_scratch(events, NOW + later))


def test_a_merge_adds_the_two_scores_and_its_undo_takes_one_back_out() -> None:
    first, second = _events(10, 50), _events(11, 80)
    merged = combine(incremental(first), incremental(second), RULE.half_life_days)
    assert score_at(merged, NOW, RULE.half_life_days) == pytest.approx(from_scratch(first + second, NOW))
    undone = combine(merged, incremental(second), RULE.half_life_days, sign=-1)
    assert score_at(undone, NOW, RULE.half_life_days) == pytest.approx(from_scratch(first, NOW))


def test_weights_and_no_score_yet() -> None:
    assert (RULE.weight("Order Completed"), RULE.weight("identify"), RULE.weight("Anything")) == (10.0, 0.0, 1.0)
    assert score_at(None, NOW, 30) is None


def test_the_profile_message_carries_the_state_with_its_half_life() -> None:
    events = _events(5, 20)
    state = ProfileState("p1", {}, {}, {"engagement": incremental(events)}, {}, NOW, NOW)
    published = upserted_message(state, {}).computed["engagement"]
    assert published["half_life_days"] == get_settings().engagement_half_life_days
    decayed = published["value"] * 2 ** (-(NOW + timedelta(days=3) - datetime.fromisoformat(published["at"])).total_seconds()
                                         / (published["half_life_days"] * 86_400))  # fmt: skip
    assert decayed == pytest.approx(from_scratch(events, NOW + timedelta(days=3)), rel=1e-9)
    quiet = ProfileState("p2", {}, {}, {}, {}, NOW, NOW)
    assert "engagement" not in upserted_message(quiet, {}).computed  # never scored: nothing to decay
