"""Rule segments over the real broker: backfill, real-time entered/exited, preview, validation."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx

from services.profiles.engagement import add, published
from services.segmentation.segments.jobs import sweep_once
from shared.db import utcnow
from shared.events import SEGMENTS
from tests.helpers import TopicReader, wait_for
from tests.segmentation import response_keys as keys
from tests.segmentation.builders import ANALYST, MARKETER, count_matching, features_of, publish_profiles, ready


async def test_backfill_then_real_time_entered_and_exited(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:8]
    big, small = f"big{m}", f"small{m}"
    await publish_profiles(broker, (big, {"city": m}, {"orders": 5}), (small, {"city": m}, {"orders": 1}))
    await wait_for(lambda: count_matching(segmentation, {"trait": "city", "op": "eq", "value": m}, 2), timeout=60)
    definition = {"and": [{"trait": "city", "op": "eq", "value": m}, {"computed": "orders", "op": "gte", "value": 3}]}
    created = await segmentation.post(
        "/v1/segments", json={"name": "Loyal", "definition": definition}, headers=MARKETER
    )
    assert created.status_code == 201 and created.json()["status"] == "building"
    segment = await wait_for(lambda: ready(segmentation, created.json()["id"]))
    assert segment["size"] == 1 and segment["last_computed_at"]
    members = (await segmentation.get(f"/v1/segments/{segment['id']}/members", headers=ANALYST)).json()["items"]
    assert [x["profile_id"] for x in members] == [big]

    await publish_profiles(broker, (small, {"city": m}, {"orders": 4}), (big, {"city": m}, {"orders": 2}))
    async with TopicReader(broker, SEGMENTS) as reader:
        found = await reader.wait_until(lambda v: v.get("segment_id") == segment["id"], count=3)
    moves = [(v["type"], v["profile_id"]) for v in found]
    assert moves == [("segment.entered.v1", big), ("segment.entered.v1", small), ("segment.exited.v1", big)] or sorted(
        moves[1:]
    ) == sorted([("segment.entered.v1", small), ("segment.exited.v1", big)])
    memberships = (await segmentation.get(f"/v1/profiles/{small}/segments", headers=ANALYST)).json()
    assert [x["segment_id"] for x in memberships["current"]] == [segment["id"]]
    past = (await segmentation.get(f"/v1/profiles/{big}/segments", headers=ANALYST)).json()["past"]
    assert [x["segment_id"] for x in past] == [segment["id"]] and past[0]["exited_at"] >= past[0]["entered_at"]
    history = (await segmentation.get(f"/v1/segments/{segment['id']}/history", headers=ANALYST)).json()
    assert [h["size"] for h in history] == [1]


async def test_sweep_drops_members_whose_events_leave_the_window(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:8]
    six_days_ago = (utcnow() - timedelta(days=6)).date().isoformat()
    counts = {"daily_counts": {"Product Viewed": {six_days_ago: 2}}}
    await publish_profiles(broker, (f"w{m}", {"tag": m}, counts))
    await wait_for(lambda: features_of(segmentation, f"w{m}", "daily_counts", counts["daily_counts"]), timeout=60)
    definition = {"and": [{"trait": "tag", "op": "eq", "value": m},
                          {"event": "Product Viewed", "at_least": 1, "within_days": 7}]}  # fmt: skip
    created = (
        await segmentation.post("/v1/segments", json={"name": "Recent", "definition": definition}, headers=MARKETER)
    ).json()
    assert (await wait_for(lambda: ready(segmentation, created["id"])))["size"] == 1
    runtime = segmentation._transport.app.state.runtime  # type: ignore[attr-defined]
    await sweep_once(runtime, today=utcnow().date() + timedelta(days=2))  # the views are now 8 days old
    after = (await segmentation.get(f"/v1/segments/{created['id']}", headers=ANALYST)).json()
    assert after["size"] == 0
    history = (await segmentation.get(f"/v1/segments/{created['id']}/history", headers=ANALYST)).json()
    assert [h["size"] for h in history] == [1, 0]


async def test_preview_counts_without_saving(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:8]
    await publish_profiles(broker, *[(f"p{m}{i}", {"plan": m}, {"orders": i}) for i in range(4)])
    await wait_for(lambda: count_matching(segmentation, {"trait": "plan", "op": "eq", "value": m}, 4), timeout=60)
    definition = {
        "and": [{"trait": "plan", "op": "eq", "value": m}, {"computed": "orders", "op": "between", "value": [1, 2]}]
    }
    body = (await segmentation.post("/v1/segments/preview", json={"definition": definition}, headers=ANALYST)).json()
    assert body == {"count": 2, "sample": sorted([f"p{m}1", f"p{m}2"])}


async def test_invalid_definitions_get_422_naming_the_node(segmentation: httpx.AsyncClient) -> None:
    bad = {
        "and": [
            {"trait": "city", "op": "eq", "value": "x"},
            {"or": [{"computed": "orders", "op": "bogus", "value": 1}]},
        ]
    }
    response = await segmentation.post("/v1/segments", json={"name": "x", "definition": bad}, headers=MARKETER)
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"].startswith(
        "definition.and[1].or[0]"
    )
    unknown = await segmentation.post(
        "/v1/segments", json={"name": "x", "definition": {"segment": "nope"}}, headers=MARKETER
    )
    assert unknown.status_code == 422


async def test_membership_cycles_are_refused(segmentation: httpx.AsyncClient) -> None:
    first = (await segmentation.post("/v1/segments", json={"name": "a", "definition": {"trait": "x", "op": "exists"}},
                                     headers=MARKETER)).json()  # fmt: skip
    second = (await segmentation.post("/v1/segments", json={"name": "b", "definition": {"segment": first["id"]}},
                                      headers=MARKETER)).json()  # fmt: skip
    cycle = await segmentation.patch(f"/v1/segments/{first['id']}", json={"definition": {"segment": second["id"]}},
                                     headers=MARKETER)  # fmt: skip
    assert cycle.status_code == 422 and "cycle" in cycle.json()["error"]["fields"][0]["reason"]
    assert (await segmentation.post("/v1/segments", json={"name": "a", "definition": {"trait": "x", "op": "exists"}},
                                    headers=ANALYST)).status_code == 403  # fmt: skip


async def test_rfm_summary_names_the_best_customers_champions(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:6]
    now = utcnow()
    profiles = [(f"r{m}{i}", {"rfm": m}, {"orders": 1 + i, "revenue": 20.0 * (1 + i) ** 2,
                                  "last_order_at": (now - timedelta(days=200 - 10 * i)).isoformat()}) for i in range(20)]  # fmt: skip
    await publish_profiles(broker, *profiles)
    await wait_for(lambda: count_matching(segmentation, {"trait": "rfm", "op": "eq", "value": m}, 20), timeout=60)
    body = (await segmentation.get("/v1/rfm/summary", headers=ANALYST)).json()
    names = {s["segment"]: s for s in body["segments"]}
    assert body["customers"] >= 20 and "Champions" in names
    assert sum(s["customers"] for s in body["segments"]) == body["customers"]
    assert sum(c["customers"] for c in body["cells"]) == body["customers"]  # the 5 x 5 R x FM grid
    assert all(1 <= c["r"] <= 5 and 1 <= c["fm"] <= 5 for c in body["cells"])
    assert set(body) == keys.RFM_SUMMARY and all(set(s) == keys.RFM_SEGMENT for s in body["segments"])
    assert all(set(c) == keys.RFM_CELL_COUNT for c in body["cells"])


async def test_explain_shows_each_node_with_the_actual_values(segmentation: httpx.AsyncClient, broker: str) -> None:
    m, today = uuid.uuid4().hex[:8], utcnow().date()
    counts = {"daily_counts": {"Order Completed": {today.isoformat(): 2, (today - timedelta(days=40)).isoformat(): 5}}}
    await publish_profiles(broker, (f"x{m}", {"city": m, "plan": "pro"}, counts), (f"y{m}", {"city": m}, {}))
    await wait_for(lambda: count_matching(segmentation, {"trait": "city", "op": "eq", "value": m}, 2), timeout=60)
    definition = {"and": [{"trait": "city", "op": "eq", "value": m},
                          {"or": [{"event": "Order Completed", "at_least": 2, "within_days": 30},
                                  {"not": {"trait": "plan", "op": "exists"}}]}]}  # fmt: skip
    created = (await segmentation.post("/v1/segments", json={"name": "E", "definition": definition},
                                       headers=MARKETER)).json()  # fmt: skip
    await wait_for(lambda: ready(segmentation, created["id"]))
    url = f"/v1/segments/{created['id']}/explain"
    member = (await segmentation.get(url, params={"profile_id": f"x{m}"}, headers=ANALYST)).json()
    assert member["member"] is True and member["matches"] is True
    behaviour = member["tree"]["children"][1]["children"][0]
    assert behaviour["path"] == "definition.and[1].or[0]" and behaviour["kind"] == "event" and behaviour["result"]
    assert behaviour["count"] == 2 and behaviour["daily_counts"] == {today.isoformat(): 2}  # day 40 is outside
    negated = member["tree"]["children"][1]["children"][1]
    assert negated["result"] is False and negated["children"][0]["actual"] == "pro"
    other = (await segmentation.get(url, params={"profile_id": f"y{m}"}, headers=ANALYST)).json()
    assert other["member"] is True and other["tree"]["children"][1]["children"][0]["count"] == 0
    missing = await segmentation.get(url, params={"profile_id": "nobody"}, headers=ANALYST)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_catalogue_of_trait_keys_values_and_event_names(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:8]
    counts = {"daily_counts": {f"Catalogued {m}": {utcnow().date().isoformat(): 1}}}
    await publish_profiles(broker, *[(f"k{m}{i}", {f"tier_{m}": "gold" if i else "silver"}, counts) for i in range(3)])
    await wait_for(lambda: count_matching(segmentation, {"trait": f"tier_{m}", "op": "exists"}, 3), timeout=60)
    keys = (await segmentation.get("/v1/traits/keys", params={"prefix": f"tier_{m}"}, headers=ANALYST)).json()
    [key] = keys["traits"]
    assert (key["key"], key["profiles"], sorted(key["examples"])) == (f"tier_{m}", 3, ["gold", "silver"])
    assert {k["key"] for k in keys["computed"]} == set() and keys["sampled_profiles"] >= 3
    values = (await segmentation.get("/v1/traits/values", params={"key": f"tier_{m}"}, headers=ANALYST)).json()
    assert values["values"] == [{"value": "gold", "profiles": 2}, {"value": "silver", "profiles": 1}]
    names = (await segmentation.get("/v1/events/names", headers=ANALYST)).json()["names"]
    assert {"name": f"Catalogued {m}", "profiles": 3} in names


async def test_membership_changes_newest_first_with_a_cursor(segmentation: httpx.AsyncClient, broker: str) -> None:
    m = uuid.uuid4().hex[:8]
    await publish_profiles(broker, *[(f"c{m}{i}", {"club": m}, {"orders": 5}) for i in range(3)])
    await wait_for(lambda: count_matching(segmentation, {"trait": "club", "op": "eq", "value": m}, 3), timeout=60)
    definition = {"and": [{"trait": "club", "op": "eq", "value": m}, {"computed": "orders", "op": "gte", "value": 3}]}
    created = (await segmentation.post("/v1/segments", json={"name": "C", "definition": definition},
                                       headers=MARKETER)).json()  # fmt: skip
    await wait_for(lambda: ready(segmentation, created["id"]))
    await publish_profiles(broker, (f"c{m}0", {"club": m}, {"orders": 1}))  # leaves
    params = {"segment_id": created["id"], "limit": 2}

    async def four() -> list[dict[str, object]] | None:
        first = (await segmentation.get("/v1/segment-changes", params=params, headers=ANALYST)).json()
        if not first["next_cursor"]:
            return None
        rest = (await segmentation.get("/v1/segment-changes", params=params | {"cursor": first["next_cursor"]},
                                       headers=ANALYST)).json()  # fmt: skip
        items = first["items"] + rest["items"]
        return items if len(items) == 4 else None

    items = await wait_for(four, timeout=30)
    assert (items[0]["change"], items[0]["profile_id"]) == ("exited", f"c{m}0")
    assert sorted(i["change"] for i in items) == ["entered", "entered", "entered", "exited"]
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    bad = await segmentation.get("/v1/segment-changes", params={"cursor": "%%%"}, headers=ANALYST)
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "cursor"


async def test_the_report_decays_published_engagement_to_its_own_time(
    segmentation: httpx.AsyncClient, broker: str
) -> None:
    m = uuid.uuid4().hex[:8]
    week_ago, month_ago = utcnow() - timedelta(days=7), utcnow() - timedelta(days=30)
    states = {
        f"e{m}a": add(add(None, 10.0, month_ago, 14.0), 1.0, week_ago, 14.0),
        f"e{m}b": add(None, 3.0, week_ago, 14.0),
    }
    await publish_profiles(broker, *[(pid, {"band": m}, {"engagement": published({"engagement": s}, 14.0)})
                                     for pid, s in states.items()])  # fmt: skip
    await wait_for(lambda: count_matching(segmentation, {"trait": "band", "op": "eq", "value": m}, 2), timeout=60)
    created = await segmentation.post("/v1/segments", headers=MARKETER,
                                      json={"name": "Band", "definition": {"trait": "band", "op": "eq", "value": m}})  # fmt: skip
    segment = await wait_for(lambda: ready(segmentation, created.json()["id"]))
    whole = (await segmentation.get(f"/v1/segments/{segment['id']}/report", headers=ANALYST)).json()
    assert set(whole) == keys.SEGMENT_REPORT and set(whole["freshness"]) == keys.FRESHNESS
    report = whole["engagement"]
    assert set(report) == keys.ENGAGEMENT and all(set(b) == keys.BIN for b in report["bins"])
    at = datetime.fromisoformat(report["as_of"])

    def decayed(weight: float, when: datetime) -> float:  # from scratch: weight · 2^(−age / half-life)
        return weight * 0.5 ** ((at - when).total_seconds() / 86_400 / 14)

    expected = [decayed(10.0, month_ago) + decayed(1.0, week_ago), decayed(3.0, week_ago)]
    assert report["scored_members"] == 2
    assert abs(report["mean"] - sum(expected) / 2) < 1e-9 and abs(report["max"] - max(expected)) < 1e-9
