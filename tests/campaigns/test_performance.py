"""Segment performance against goals: the answer keeps every figure the report computes, typed for clients."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.performance import segments_performance
from services.campaigns.schemas import SegmentsPerformance
from tests.campaigns.test_delivery import make_campaign


class Segmentation:
    """Segmentation's list of segments, two with a goal."""

    async def segments(self) -> list[dict[str, Any]]:
        return [
            {"id": "s-goal", "name": "Loyal", "goal": {"metric": "conversion_rate", "min": 0.03}},
            {"id": "s-cap", "name": "Lapsed", "goal": {"metric": "open_rate", "max": 0.9}},
            {"id": "s-none", "name": "Everyone", "goal": None},
        ]


async def test_segments_with_goals_and_the_campaigns_that_targeted_them(session: AsyncSession) -> None:
    launched = await make_campaign(session, name="Spring", target_segments=["s-goal"])
    launched.status = "running"
    await make_campaign(session, name="Draft", target_segments=["s-goal"])
    report = await segments_performance(session, Segmentation())
    typed = SegmentsPerformance.model_validate(report).model_dump(mode="json")
    [loyal, lapsed] = typed["segments"]
    assert loyal["goal"] == {"metric": "conversion_rate", "min": 0.03, "max": None}
    assert loyal["campaigns"] == [
        {"campaign_id": launched.id, "name": "Spring", "recipients": 0, "value": None, "met": None}
    ]
    assert loyal["met"] is None and lapsed == {
        "segment_id": "s-cap", "name": "Lapsed", "goal": {"metric": "open_rate", "min": None, "max": 0.9},
        "campaigns": [], "met": None,
    }  # fmt: skip
    for raw, read in zip(report["segments"], typed["segments"], strict=True):
        assert {k: v for k, v in raw.items() if k != "goal"} == {k: v for k, v in read.items() if k != "goal"}
