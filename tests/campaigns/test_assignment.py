"""Deterministic holdout/variant assignment and frequency capping."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.assignment import Variant, assign, bucket, within_frequency_cap

PROFILES = [f"profile-{i}" for i in range(100_000)]
AB = [Variant("a", 1.0), Variant("b", 1.0)]
NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def arms(variants: list[Variant], holdout_percent: float, campaign_id: str = "spring-sale") -> Counter[str]:
    counts: Counter[str] = Counter()
    for profile_id in PROFILES:
        arm = assign(campaign_id, profile_id, variants, holdout_percent=holdout_percent)
        counts[arm.variant_id or "holdout"] += 1
    return counts


class TestBucket:
    def test_same_inputs_give_the_same_number(self) -> None:
        assert bucket("c1", "p1") == bucket("c1", "p1")

    def test_number_is_in_unit_interval(self) -> None:
        assert all(0.0 <= bucket("c1", p) < 1.0 for p in PROFILES[:1000])

    def test_other_campaign_gives_another_number(self) -> None:
        assert bucket("c1", "p1") != bucket("c2", "p1")

    def test_concatenation_of_ids_is_not_ambiguous(self) -> None:
        assert bucket("ab", "c") != bucket("a", "bc")

    def test_draws_are_uniform_across_deciles(self) -> None:
        deciles = Counter(int(bucket("c1", p) * 10) for p in PROFILES)
        assert all(abs(n / len(PROFILES) - 0.1) < 0.005 for n in deciles.values())


class TestAssign:
    def test_same_inputs_always_give_the_same_arm(self) -> None:
        first = assign("c1", "p42", AB, holdout_percent=10)
        assert all(assign("c1", "p42", AB, holdout_percent=10) == first for _ in range(10))

    def test_ten_percent_holdout_and_fifty_fifty_split(self) -> None:
        counts = arms(AB, 10)
        assert counts["holdout"] / len(PROFILES) == pytest.approx(0.10, abs=0.005)
        assert counts["a"] / len(PROFILES) == pytest.approx(0.45, abs=0.008)
        assert counts["b"] / len(PROFILES) == pytest.approx(0.45, abs=0.008)

    def test_uneven_weights_split_the_non_holdout_share(self) -> None:
        counts = arms([Variant("a", 1), Variant("b", 3)], 20)
        assert counts["holdout"] / len(PROFILES) == pytest.approx(0.20, abs=0.005)
        assert counts["a"] / len(PROFILES) == pytest.approx(0.20, abs=0.008)
        assert counts["b"] / len(PROFILES) == pytest.approx(0.60, abs=0.008)

    def test_holdout_members_stay_put_when_later_variant_weights_change(self) -> None:
        def holdout(variants: list[Variant]) -> set[str]:
            return {p for p in PROFILES if assign("c1", p, variants, holdout_percent=10).holdout}

        assert holdout(AB) == holdout([Variant("a", 1), Variant("b", 5), Variant("c", 2)])

    def test_holdout_is_the_lowest_buckets(self) -> None:
        assert all(a.bucket < 0.1 for p in PROFILES[:5000] if (a := assign("c1", p, AB, holdout_percent=10)).holdout)

    def test_holdout_has_no_variant(self) -> None:
        members = [a for p in PROFILES[:1000] if (a := assign("c1", p, AB, holdout_percent=50)).holdout]
        assert members and all(a.variant_id is None for a in members)

    def test_no_holdout_by_default(self) -> None:
        assert not any(assign("c1", p, AB).holdout for p in PROFILES[:5000])

    def test_full_holdout_needs_no_variants(self) -> None:
        assert all(assign("c1", p, [], holdout_percent=100).holdout for p in PROFILES[:1000])

    def test_zero_weight_variant_gets_nobody(self) -> None:
        counts = arms([Variant("a", 1), Variant("paused", 0)], 0)
        assert counts == Counter({"a": len(PROFILES)})

    def test_trailing_zero_weight_variant_gets_nobody(self) -> None:
        assert all(
            assign("c1", p, [Variant("a", 1), Variant("b", 1), Variant("paused", 0)]).variant_id != "paused"
            for p in PROFILES[:5000]
        )

    @pytest.mark.parametrize("holdout_percent", [-1, 100.5])
    def test_holdout_percent_outside_0_100_is_rejected(self, holdout_percent: float) -> None:
        with pytest.raises(ValueError, match="holdout_percent"):
            assign("c1", "p1", AB, holdout_percent=holdout_percent)

    def test_negative_weight_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            assign("c1", "p1", [Variant("a", -1), Variant("b", 2)])

    @pytest.mark.parametrize("variants", [[], [Variant("a", 0)]])
    def test_no_weighted_variant_is_rejected_unless_all_held_out(self, variants: list[Variant]) -> None:
        with pytest.raises(ValueError, match="positive weight"):
            assign("c1", "p1", variants, holdout_percent=10)


class TestFrequencyCap:
    def test_no_history_is_allowed(self) -> None:
        assert within_frequency_cap([], max_sends=1, window_days=7, now=NOW)

    def test_fewer_sends_than_the_cap_is_allowed(self) -> None:
        sends = [NOW - timedelta(days=1), NOW - timedelta(days=3)]
        assert within_frequency_cap(sends, max_sends=3, window_days=7, now=NOW)

    def test_reaching_the_cap_is_refused(self) -> None:
        sends = [NOW - timedelta(days=d) for d in (1, 3, 6)]
        assert not within_frequency_cap(sends, max_sends=3, window_days=7, now=NOW)

    def test_sends_older_than_the_window_do_not_count(self) -> None:
        sends = [NOW - timedelta(days=d) for d in (1, 8, 30)]
        assert within_frequency_cap(sends, max_sends=2, window_days=7, now=NOW)

    def test_send_exactly_window_days_ago_has_aged_out(self) -> None:
        assert within_frequency_cap([NOW - timedelta(days=7)], max_sends=1, window_days=7, now=NOW)

    def test_send_just_inside_the_window_counts(self) -> None:
        sends = [NOW - timedelta(days=7) + timedelta(seconds=1)]
        assert not within_frequency_cap(sends, max_sends=1, window_days=7, now=NOW)

    def test_send_stamped_after_now_counts(self) -> None:
        assert not within_frequency_cap([NOW + timedelta(minutes=1)], max_sends=1, window_days=1, now=NOW)

    def test_fractional_window_days(self) -> None:
        sends = [NOW - timedelta(hours=13)]
        assert within_frequency_cap(sends, max_sends=1, window_days=0.5, now=NOW)

    def test_zero_cap_never_allows(self) -> None:
        assert not within_frequency_cap([], max_sends=0, window_days=7, now=NOW)

    def test_negative_cap_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="max_sends"):
            within_frequency_cap([], max_sends=-1, window_days=7, now=NOW)

    def test_non_positive_window_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="window_days"):
            within_frequency_cap([], max_sends=1, window_days=0, now=NOW)
