"""Issue 7's reports through the real path: events posted to tracking → Kafka → profiles / campaigns → REST."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.builders import auth
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.e2e.stack import tessera_up
from tests.helpers import wait_for

ADMIN = auth(ADMIN_KEY)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The embedded stack."""
    with tessera_up(tmp_path_factory.mktemp("engagement"), TESSERA_LOG_LEVEL="WARNING") as running:
        yield running


async def _send(client: httpx.AsyncClient, url: str, events: list[dict[str, Any]]) -> None:
    response = await client.post(f"{url}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": events})
    assert response.status_code == 200, response.text


def _track(user: str, event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, "properties": properties}


async def _until(client: httpx.AsyncClient, method: str, url: str, ready: Any, **kwargs: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = (await client.request(method, url, headers=ADMIN, **kwargs)).json()
        return body if ready(body) else None

    return await wait_for(check, timeout=40)


async def test_feedback_funnel_paths_influencer_and_contest_reports(stack: dict[str, Any]) -> None:
    urls, m = stack["urls"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as client:
        code = f"ADA{m}".upper()
        made = await client.post(f"{urls['campaigns']}/v1/influencers", headers=ADMIN,
                                 json={"name": "Ada", "platform": "instagram", "handle": f"ada{m}", "referral_codes": [code]})  # fmt: skip
        assert made.status_code == 201, made.text
        buyers = [f"b-{m}-{i}" for i in range(3)]
        start = datetime.now(UTC) - timedelta(minutes=10)
        events = [
            {"type": "page", "userId": u, "properties": {"path": f"/{m}"}, "timestamp": start.isoformat()}
            for u in buyers
        ]
        events += [
            _track(u, f"Viewed {m}") | {"timestamp": (start + timedelta(minutes=1)).isoformat()} for u in buyers[:2]
        ]
        events += [_track(buyers[0], "Order Completed", order_id=f"o-{m}", revenue=80.0, referral_code=code)
                   | {"timestamp": (start + timedelta(minutes=2)).isoformat()}]  # fmt: skip
        events += [
            _track(
                buyers[1],
                "Review Submitted",
                text="Terrible quality, the zipper broke",
                rating=1,
                product_id=f"bag-{m}",
            )
        ]
        events += [_track(u, "Contest Entered", contest_id=f"c-{m}") for u in buyers]
        await _send(client, urls["tracking"], events)

        feedback = await _until(client, "GET", f"{urls['profiles']}/v1/feedback", lambda b: len(b["items"]) == 1,
                                params={"product": f"bag-{m}"})  # fmt: skip
        assert feedback["items"][0]["label"] == "negative"
        terms = (
            await client.get(f"{urls['profiles']}/v1/feedback/terms", params={"product": f"bag-{m}"}, headers=ADMIN)
        ).json()
        assert "zipper" in {t["term"] for t in terms["products"][0]["terms"]}
        funnel = await _until(client, "POST", f"{urls['profiles']}/v1/journeys/funnel", lambda b: b["steps"][-1]["people"] == 1,
                              json={"steps": [{"page": f"/{m}"}, {"event": f"Viewed {m}"}, {"event": "Order Completed"}],
                                    "window_hours": 24})  # fmt: skip
        assert [s["people"] for s in funnel["steps"]] == [3, 2, 1]
        paths = (await client.get(f"{urls['profiles']}/v1/journeys/paths", headers=ADMIN)).json()
        assert paths["converting_people"] >= 1 and paths["paths"]
        report = await _until(client, "GET", f"{urls['campaigns']}/v1/influencers/{made.json()['id']}/report",
                              lambda b: b.get("orders") == 1)  # fmt: skip
        assert report["revenue"] == 80.0
        contest = await _until(client, "GET", f"{urls['campaigns']}/v1/social/contests/c-{m}", lambda b: b.get("participants") == 3,
                               params={"reach": 30})  # fmt: skip
        assert contest["participation_rate"] == pytest.approx(0.1)
