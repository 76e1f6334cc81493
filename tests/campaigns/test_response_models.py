"""The routes that answered untyped dicts now have response models: a real call still answers every key it did."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns import service
from services.campaigns.models import AudienceExport, Exposure, SegmentMember
from services.campaigns.results import campaign_results
from shared.db import make_engine, utcnow
from tests.campaigns.test_api import ANALYST, campaigns_app, create
from tests.conftest import BACKENDS


def shape(value: Any) -> Any:
    """The keys of every object in a JSON value, nested as the value is."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


@pytest.fixture(scope="module", params=BACKENDS)
async def database(request: pytest.FixtureRequest, fresh_database: Any) -> str:
    return str(await fresh_database(request.param, "campaigns"))


@pytest.fixture(scope="module")
async def api(database: str, broker: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = campaigns_app(broker, database, tmp_path_factory.mktemp("rm"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


@pytest.fixture
async def session(database: str, api: httpx.AsyncClient) -> AsyncIterator[AsyncSession]:
    engine = make_engine(database)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
    await engine.dispose()


async def sent_campaign(api: httpx.AsyncClient, session: AsyncSession) -> dict[str, Any]:
    """A campaign with a holdout, two variants, sends, a held-out profile, a skip and an audience export."""
    variants = [{"name": "A", "body": "<p>a</p>"}, {"name": "B", "body": "<p>b</p>"}]
    segment = f"s-{uuid.uuid4().hex[:8]}"
    campaign = await create(api, holdout_percent=20, variants=variants, target_segments=[segment])
    ids = [v["id"] for v in campaign["variants"]]
    at = utcnow() - timedelta(hours=1)
    rows = [Exposure(campaign_id=campaign["id"], profile_id=f"p{i}", segment_id=segment, channel="email", at=at,
                     outcome=("sent", "sent", "held_out", "skipped")[i % 4], variant_id=ids[i % 2] if i % 4 < 2 else None,
                     reason="no_consent" if i % 4 == 3 else None) for i in range(12)]  # fmt: skip
    session.add_all([*rows, SegmentMember(segment_id=segment, profile_id="p1", entered_at=at)])
    session.add(AudienceExport(campaign_id=campaign["id"], platform="google_ads", rows=[["a", "b"]], added=1,
                               removed=[["c", ""]], pushed="failed", push_error="503"))  # fmt: skip
    await session.commit()
    return campaign


class TestSameKeysAsBefore:
    async def test_results_by_variant_and_by_segment(self, api: httpx.AsyncClient, session: AsyncSession) -> None:
        campaign = await sent_campaign(api, session)
        stored = await service.get_campaign(session, campaign["id"])
        for by in ("variant", "segment"):
            answer = await api.get(f"/v1/campaigns/{campaign['id']}/results", params={"by": by}, headers=ANALYST)
            assert answer.status_code == 200, answer.text
            assert shape(answer.json()) == shape(await campaign_results(session, stored, by=by))
        answer = (await api.get(f"/v1/campaigns/{campaign['id']}/results", headers=ANALYST)).json()
        assert set(answer["versus_holdout"]) >= {"conversion_rate", "revenue_per_user"}  # the typed parts, not a reason
        assert set(answer["between_variants"][0]["bayesian"]) >= {"chance_to_win", "risk_control"}

    async def test_exposures_exports_and_audience_size(self, api: httpx.AsyncClient, session: AsyncSession) -> None:
        campaign = await sent_campaign(api, session)
        page = (await api.get(f"/v1/campaigns/{campaign['id']}/exposures?limit=5", headers=ANALYST)).json()
        assert set(page) == {"items", "next_cursor"} and page["next_cursor"] is not None
        assert {tuple(sorted(item)) for item in page["items"]} == {
            ("at", "outcome", "profile_id", "reason", "segment_id", "variant_id")
        }
        exports = (await api.get(f"/v1/campaigns/{campaign['id']}/exports", headers=ANALYST)).json()
        assert exports == [{"id": exports[0]["id"], "created_at": exports[0]["created_at"], "rows": 1, "added": 1,
                            "removed": 1, "pushed": "failed", "push_error": "503"}]  # fmt: skip
        segment = campaign["target_segments"][0]
        size = (await api.get(f"/v1/audiences/{segment}/size", headers=ANALYST)).json()
        assert size == {"segment_id": segment, "size": 1}
