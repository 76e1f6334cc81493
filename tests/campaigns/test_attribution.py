"""Multi-touch attribution: window rules and each model's split, checked against hand-computed numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.attribution import MODELS, Conversion, Credit, Touch, attribute, eligible_touches

CONVERTED_AT = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def touch(days_before: float, campaign_id: str = "c1", variant_id: str | None = "v1") -> Touch:
    return Touch(campaign_id=campaign_id, variant_id=variant_id, at=CONVERTED_AT - timedelta(days=days_before))


def conversion(revenue: float = 100.0) -> Conversion:
    return Conversion(at=CONVERTED_AT, revenue=revenue)


def split(credits: list[Credit]) -> list[tuple[str, float, float]]:
    return [(c.touch.campaign_id, c.credit, c.revenue) for c in credits]


THREE = [touch(20, "a"), touch(7, "b"), touch(1, "c")]


class TestEligibleTouches:
    def test_keeps_touches_inside_the_window_oldest_first(self) -> None:
        touches = [touch(1, "late"), touch(29, "early")]
        assert [t.campaign_id for t in eligible_touches(touches, conversion(), window=timedelta(days=30))] == [
            "early",
            "late",
        ]

    def test_touch_exactly_at_window_start_counts(self) -> None:
        assert eligible_touches([touch(30)], conversion(), window=timedelta(days=30)) == [touch(30)]

    def test_touch_just_before_window_start_is_dropped(self) -> None:
        early = Touch("c1", "v1", CONVERTED_AT - timedelta(days=30, seconds=1))
        assert eligible_touches([early], conversion(), window=timedelta(days=30)) == []

    def test_touch_at_conversion_time_counts(self) -> None:
        assert eligible_touches([touch(0)], conversion(), window=timedelta(days=30)) == [touch(0)]

    def test_touch_after_conversion_is_dropped(self) -> None:
        assert eligible_touches([touch(-1 / 24)], conversion(), window=timedelta(days=30)) == []

    def test_negative_window_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="window"):
            eligible_touches([touch(1)], conversion(), window=timedelta(days=-1))


class TestAttributeEdgeCases:
    def test_no_touches_gives_no_attribution(self) -> None:
        assert attribute(conversion(), []) == []

    def test_only_touches_outside_window_or_after_conversion_gives_no_attribution(self) -> None:
        assert attribute(conversion(), [touch(31), touch(-1)]) == []

    def test_outside_touches_get_nothing_while_inside_ones_share_everything(self) -> None:
        credits = attribute(conversion(), [touch(31, "old"), touch(3, "in"), touch(-1, "after")], model="linear")
        assert split(credits) == [("in", 1.0, 100.0)]

    def test_custom_window_narrows_eligible_touches(self) -> None:
        credits = attribute(conversion(), THREE, model="linear", window=timedelta(days=7))
        assert [c.touch.campaign_id for c in credits] == ["b", "c"]

    def test_unsorted_input_is_credited_in_time_order(self) -> None:
        credits = attribute(conversion(), list(reversed(THREE)), model="first_touch")
        assert [c.touch.campaign_id for c in credits] == ["a", "b", "c"]
        assert credits[0].credit == 1.0

    def test_tied_timestamps_keep_input_order(self) -> None:
        first, second = touch(2, "first"), touch(2, "second")
        assert attribute(conversion(), [first, second], model="first_touch")[0].touch is first
        assert attribute(conversion(), [first, second], model="last_touch")[-1].touch is second

    def test_default_model_is_last_touch(self) -> None:
        assert split(attribute(conversion(), THREE)) == [("a", 0.0, 0.0), ("b", 0.0, 0.0), ("c", 1.0, 100.0)]

    def test_unknown_model_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="unknown attribution model"):
            attribute(conversion(), THREE, model="data_driven")  # type: ignore[arg-type]

    def test_non_positive_half_life_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="half-life"):
            attribute(conversion(), THREE, model="time_decay", half_life=timedelta(0))

    def test_credit_keeps_campaign_and_variant_of_the_touch(self) -> None:
        (credit,) = attribute(conversion(), [touch(1, "spring", "subject-b")])
        assert (credit.touch.campaign_id, credit.touch.variant_id) == ("spring", "subject-b")


class TestSingleTouchModels:
    def test_last_touch_gives_everything_to_the_latest(self) -> None:
        assert split(attribute(conversion(), THREE, model="last_touch")) == [
            ("a", 0.0, 0.0),
            ("b", 0.0, 0.0),
            ("c", 1.0, 100.0),
        ]

    def test_first_touch_gives_everything_to_the_earliest(self) -> None:
        assert split(attribute(conversion(), THREE, model="first_touch")) == [
            ("a", 1.0, 100.0),
            ("b", 0.0, 0.0),
            ("c", 0.0, 0.0),
        ]


class TestLinear:
    def test_three_touches_get_a_third_each(self) -> None:
        credits = attribute(conversion(90.0), THREE, model="linear")
        assert [c.credit for c in credits] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
        assert [c.revenue for c in credits] == pytest.approx([30.0, 30.0, 30.0])


class TestPositionBased:
    def test_one_touch_gets_everything(self) -> None:
        assert [c.credit for c in attribute(conversion(), [touch(1)], model="position_based")] == [1.0]

    def test_two_touches_split_fifty_fifty(self) -> None:
        credits = attribute(conversion(), [touch(5), touch(1)], model="position_based")
        assert [c.credit for c in credits] == [0.5, 0.5]

    def test_three_touches_split_forty_twenty_forty(self) -> None:
        credits = attribute(conversion(), THREE, model="position_based")
        assert [c.credit for c in credits] == pytest.approx([0.4, 0.2, 0.4])
        assert [c.revenue for c in credits] == pytest.approx([40.0, 20.0, 40.0])

    def test_five_touches_share_the_middle_twenty_percent(self) -> None:
        touches = [touch(d) for d in (20, 15, 10, 5, 1)]
        credits = attribute(conversion(), touches, model="position_based")
        assert [c.credit for c in credits] == pytest.approx([0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])


class TestTimeDecay:
    def test_weights_halve_every_seven_days(self) -> None:
        # Ages 14, 7 and 0 days give raw weights 1/4, 1/2 and 1, normalised by 7/4 to 1/7, 2/7 and 4/7.
        touches = [touch(14, "a"), touch(7, "b"), touch(0, "c")]
        credits = attribute(conversion(70.0), touches, model="time_decay")
        assert [c.credit for c in credits] == pytest.approx([1 / 7, 2 / 7, 4 / 7])
        assert [c.revenue for c in credits] == pytest.approx([10.0, 20.0, 40.0])

    def test_touches_a_half_life_apart_split_one_third_two_thirds(self) -> None:
        # Ages 8 and 1 days: raw 2^(-8/7) and 2^(-1/7), one half of the other, so 1/3 and 2/3 once normalised.
        credits = attribute(conversion(), [touch(8), touch(1)], model="time_decay")
        assert [c.credit for c in credits] == pytest.approx([1 / 3, 2 / 3])

    def test_custom_half_life(self) -> None:
        credits = attribute(conversion(), [touch(2), touch(0)], model="time_decay", half_life=timedelta(days=1))
        assert [c.credit for c in credits] == pytest.approx([0.2, 0.8])

    def test_very_old_touches_do_not_underflow(self) -> None:
        touches = [touch(10_000), touch(10_007)]
        credits = attribute(conversion(), touches, model="time_decay", window=timedelta(days=20_000))
        assert [c.credit for c in credits] == pytest.approx([1 / 3, 2 / 3])

    def test_equal_ages_split_evenly(self) -> None:
        credits = attribute(conversion(), [touch(3, "a"), touch(3, "b")], model="time_decay")
        assert [c.credit for c in credits] == pytest.approx([0.5, 0.5])


class TestCreditsSumToOne:
    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.parametrize("days_before", [[1], [3, 1], [9, 4, 2], [29, 20, 11, 6, 0.5], [0, 0, 0, 0]])
    def test_credits_sum_to_one_and_revenue_to_the_conversion(self, model: str, days_before: list[float]) -> None:
        credits = attribute(conversion(123.45), [touch(d) for d in days_before], model=model)  # type: ignore[arg-type]
        assert len(credits) == len(days_before)
        assert sum(c.credit for c in credits) == pytest.approx(1.0)
        assert sum(c.revenue for c in credits) == pytest.approx(123.45)
        assert all(c.credit >= 0 for c in credits)
