"""Campaign jobs keep their work until it is done, with real profiles and segmentation services, a real broker and
SMTP sink, and two campaigns replicas on one database: triggered sends survive a mail server that refuses us, two
schedulers send a due campaign or an A/B winner once, and an interrupted winner send resumes mailing nobody twice."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from services.campaigns import service, surveys
from services.campaigns.app import create_app
from services.campaigns.clients import PeerServices
from services.campaigns.config import Settings
from services.campaigns.eligibility import email_of
from services.campaigns.jobs import run_due
from services.campaigns.mailer import SENDER_REFUSED
from services.campaigns.models import Campaign, Exposure, TriggerRequest
from services.profiles.app import create_app as create_profiles
from services.profiles.config import Settings as ProfilesSettings
from services.segmentation.app import create_app as create_segmentation
from services.segmentation.config import Settings as SegmentationSettings
from shared.db import utcnow
from shared.events import EVENTS, SegmentEntered
from shared.runtime import Runtime
from shared.tokens import verify_token
from tessera.broker import free_port
from tests.builders import auth, service_settings
from tests.campaigns.smtp_sink import Sink, html_of, smtp_sink
from tests.conftest import ADMIN_KEY, BACKENDS, LINK_SECRET, running_broker
from tests.helpers import wait_for
from tests.profiles.builders import identify

PEOPLE = 24
CHUNK = 5  # several chunks per run, so a run can stop part-way
ADMIN = auth(ADMIN_KEY)
PEERS = {"profiles_url": "http://profiles", "segmentation_url": "http://segmentation"}


@dataclass
class Peers:
    """Profiles and segmentation, serving PEOPLE profiles (with email consent) that are all in one segment."""

    client: httpx.AsyncClient
    segment_id: str
    emails: dict[str, str]  # profile id → address


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: its profiles stay out of other modules' services."""
    with running_broker(tmp_path_factory, "jobs-broker") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
async def peers(own_broker: str, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Peers]:
    """Real profiles and segmentation apps (SQLite) fed through the broker, reached in process over HTTP."""
    apps = [create(service_settings(cls, broker=own_broker, database_url=await fresh_database("sqlite", name),
                                    data_dir=tmp_path_factory.mktemp(name), consumer_group=f"{name}-{uuid.uuid4().hex[:6]}"))
            for create, cls, name in ((create_profiles, ProfilesSettings, "profiles"),
                                      (create_segmentation, SegmentationSettings, "segmentation"))]  # fmt: skip
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        mounts = {
            "http://profiles": httpx.ASGITransport(app=apps[0]),
            "http://segmentation": httpx.ASGITransport(app=apps[1]),
        }
        client = await stack.enter_async_context(httpx.AsyncClient(mounts=mounts, headers=ADMIN, timeout=30))
        yield await _audience(client, own_broker)


async def _audience(client: httpx.AsyncClient, broker: str) -> Peers:
    m = uuid.uuid4().hex[:8]
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    for i in range(PEOPLE):
        value = identify(f"job-{m}-{i}", at=utcnow(), email=f"job-{m}-{i}@example.com", first_name=f"N{i}", cohort=m,
                         consent={"email": True})  # fmt: skip
        await producer.send_and_wait(EVENTS, orjson.dumps(value), key=value["userId"].encode())
    await producer.stop()
    definition = {"trait": "cohort", "op": "eq", "value": m}

    async def replicated() -> bool:
        found = await client.post("http://segmentation/v1/segments/preview", json={"definition": definition})
        return found.json().get("count") == PEOPLE

    await wait_for(replicated, timeout=60)
    segment = (await client.post("http://segmentation/v1/segments", json={"name": m, "definition": definition})).json()
    members = (
        await client.get(f"http://segmentation/v1/segments/{segment['id']}/members", params={"limit": 1000})
    ).json()
    ids = [item["profile_id"] for item in members["items"]]
    profiles = (await client.post("http://profiles/v1/profiles/batch", json={"ids": ids})).json()["items"]
    assert len(profiles) == PEOPLE
    return Peers(client, segment["id"], {p["id"]: email_of(p) or "" for p in profiles})


@pytest.fixture(scope="module")
def mail_server() -> Iterator[tuple[Sink, int]]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def sink(mail_server: tuple[Sink, int]) -> Sink:
    """The module's SMTP sink, emptied and taking mail."""
    server = mail_server[0]
    server.messages.clear()
    server.refuse_sender, server.hold_at = False, None
    server.holding.clear()
    server.go_on.clear()
    return server


@pytest.fixture(scope="module", params=BACKENDS)
async def replicas(
    request: pytest.FixtureRequest, fresh_database: Any, own_broker: str, peers: Peers,
    mail_server: tuple[Sink, int], tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Runtime, Runtime]]:  # fmt: skip
    """Two campaigns processes on one database (each its own engine and connections), scheduler left to the tests."""
    url = await fresh_database(request.param, "jobs")
    apps = [create_app(service_settings(Settings, broker=own_broker, database_url=url, data_dir=tmp_path_factory.mktemp("cj"),
                                        run_consumers=False, schedule_check_seconds=0, smtp_port=mail_server[1],
                                        smtp_concurrency=1, send_chunk_size=CHUNK, **PEERS)) for _ in range(2)]  # fmt: skip
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        runtimes = tuple(app.state.runtime for app in apps)
        for runtime in runtimes:
            runtime.extras["peers"] = PeerServices(peers.client, **PEERS)
        await copy_memberships(runtimes[0], peers)
        yield runtimes  # type: ignore[misc]


async def copy_memberships(runtime: Runtime, peers: Peers) -> None:
    """Campaigns' copy of the segment's memberships, as its consumer keeps it from `tessera.segments.v1`."""
    entered = [SegmentEntered(segment_id=peers.segment_id, profile_id=p, occurred_at=utcnow()) for p in peers.emails]
    async with runtime.sessions() as session:
        await service.apply_segment_messages(session, [m.model_dump(mode="json") for m in entered])
        await session.commit()


async def create_campaign(runtime: Runtime, peers: Peers, **overrides: Any) -> str:
    """A launched email campaign to the peers' segment."""
    fields = {"name": "c", "channel": "email", "goal_event": "Order Completed", "target_segments": [peers.segment_id],
              "exclude_segments": [], "holdout_percent": 0.0, "schedule": {"type": "now"}, "frequency_cap": None,
              "attribution": {"model": "last_touch", "window_days": 7}, "ab_test": None, "webhook_url": None,
              "variants": [{"name": "A", "weight": 1.0, "subject": "Hi {{ first_name }}", "body": "<p>a</p>"},
                           {"name": "B", "weight": 1.0, "subject": "Yo {{ first_name }}", "body": "<p>b</p>"}]} | overrides  # fmt: skip
    async with runtime.sessions() as session:
        campaign = await service.create_campaign(session, fields)
        await service.launch(session, campaign.id)
        await session.commit()
    return campaign.id


async def change(runtime: Runtime, campaign_id: str, **values: Any) -> Campaign:
    """The campaign, after setting `values` on it (committed)."""
    async with runtime.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        for key, value in values.items():
            setattr(campaign, key, value)
        await session.commit()
    return campaign


async def outcomes(runtime: Runtime, campaign_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(Exposure.profile_id, Exposure.outcome).where(Exposure.campaign_id == campaign_id)
        )
        return {str(pid): str(outcome) for pid, outcome in rows.all()}


async def queued(runtime: Runtime, campaign_id: str) -> int:
    async with runtime.sessions() as session:
        query = select(func.count()).select_from(TriggerRequest).where(TriggerRequest.campaign_id == campaign_id)
        return int(await session.scalar(query) or 0)


async def enter_segment(runtime: Runtime, peers: Peers) -> None:
    """Everyone enters the segment, as `tessera.segments.v1` tells campaigns' consumer: queued for triggered sends."""
    entered = [SegmentEntered(segment_id=peers.segment_id, profile_id=p, occurred_at=utcnow()) for p in peers.emails]
    async with runtime.sessions() as session:
        await service.queue_triggers(session, entered)  # for every active triggered campaign of the module
        await session.commit()


def mail_count(sink: Sink, peers: Peers) -> Counter[str]:
    """Messages per address of the audience (every address present, 0 when it got none)."""
    counts = Counter(dict.fromkeys(peers.emails.values(), 0))
    counts.update(m["To"] for m in sink.messages if m["To"] in counts)
    return counts


class TestTriggeredSends:
    async def test_a_refusing_mail_server_keeps_every_request_and_the_next_look_mails_each_once(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        runtime = replicas[0]
        campaign_id = await create_campaign(runtime, peers, schedule={"type": "on_entry"})
        await enter_segment(runtime, peers)
        sink.refuse_sender = True
        await run_due(runtime)
        refused = await change(runtime, campaign_id)
        assert (refused.status, refused.last_error) == ("active", SENDER_REFUSED)
        assert await queued(runtime, campaign_id) == PEOPLE and await outcomes(runtime, campaign_id) == {}
        assert sink.messages == []
        sink.refuse_sender = False
        await run_due(runtime)  # the next look, with nobody relaunching anything
        assert set(mail_count(sink, peers).values()) == {1}
        assert await outcomes(runtime, campaign_id) == dict.fromkeys(peers.emails, "sent")
        assert await queued(runtime, campaign_id) == 0 and (await change(runtime, campaign_id)).last_error is None

    async def test_a_look_that_fails_leaves_the_requests_queued(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        runtime = replicas[0]
        campaign_id = await create_campaign(runtime, peers, schedule={"type": "on_entry"})
        await enter_segment(runtime, peers)
        nowhere = f"http://127.0.0.1:{free_port()}"
        runtime.extras["peers"] = PeerServices(httpx.AsyncClient(), profiles_url=nowhere, segmentation_url=nowhere)
        try:
            await run_due(runtime)  # profiles cannot be reached: nothing can be sent
        finally:
            await runtime.extras["peers"].client.aclose()
            runtime.extras["peers"] = PeerServices(peers.client, **PEERS)
        assert await queued(runtime, campaign_id) == PEOPLE and "ConnectError" in (
            (await change(runtime, campaign_id)).last_error or ""
        )
        await run_due(runtime)
        assert set(mail_count(sink, peers).values()) == {1} and await queued(runtime, campaign_id) == 0


class TestTwoSchedulers:
    """Two replicas look at the same moment: each piece of work is done by one of them, once."""

    async def test_a_due_scheduled_campaign_mails_everyone_once(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        later = (utcnow() + timedelta(hours=1)).isoformat()
        campaign_id = await create_campaign(replicas[0], peers, schedule={"type": "at", "at": later})
        assert (await change(replicas[0], campaign_id)).status == "scheduled"
        await change(
            replicas[0], campaign_id, schedule={"type": "at", "at": (utcnow() - timedelta(seconds=1)).isoformat()}
        )
        await asyncio.gather(run_due(replicas[0]), run_due(replicas[1]))
        assert set(mail_count(sink, peers).values()) == {1}
        done = await change(replicas[0], campaign_id)
        assert (done.status, done.last_error, done.progress["sent"]) == ("completed", None, PEOPLE)

    async def test_a_due_ab_winner_mails_everyone_once(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        campaign_id = await ab_test_over(replicas[0], peers)
        await asyncio.gather(run_due(replicas[0]), run_due(replicas[1]))
        assert set(mail_count(sink, peers).values()) == {1}
        done = await change(replicas[0], campaign_id)
        assert (done.status, done.last_error, done.progress["sent"]) == ("completed", None, PEOPLE)
        assert set((await outcomes(replicas[0], campaign_id)).values()) == {"sent"}


async def ab_test_over(runtime: Runtime, peers: Peers) -> str:
    """An A/B campaign whose test share was mailed and whose test is over."""
    campaign_id = await create_campaign(
        runtime, peers, ab_test={"test_percent": 30, "wait_hours": 1, "metric": "open_rate"}
    )
    await run_due(runtime)
    tested = await change(runtime, campaign_id, test_ends_at=utcnow() - timedelta(seconds=1))
    assert tested.status == "testing" and 0 < tested.progress["waiting"] < PEOPLE
    return campaign_id


def holding(sink: Sink) -> Any:
    async def check() -> bool:
        return sink.holding.is_set()

    return check


class TestAnInterruptedWinnerSend:
    async def test_resumes_mailing_nobody_twice(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        campaign_id = await ab_test_over(replicas[0], peers)
        tested = len(sink.messages)
        sink.hold_at = tested + 2  # the third winner mail is in flight when the process dies
        winner = asyncio.create_task(run_due(replicas[0]))
        await wait_for(holding(sink))
        winner.cancel()  # the process dies; its mail in flight is taken afterwards
        sink.go_on.set()
        with contextlib.suppress(asyncio.CancelledError):
            await winner
        await asyncio.gather(run_due(replicas[0]), run_due(replicas[1]))  # it restarts, and the other replica looks too
        counts = mail_count(sink, peers)
        assert max(counts.values()) == 1
        found = await outcomes(replicas[0], campaign_id)
        unknown = {p for p, o in found.items() if o == "unknown"}  # the chunk in flight: never sent again
        assert set(found.values()) == {"sent", "unknown"} and len(unknown) == CHUNK
        assert all(counts[address] == 1 for p, address in peers.emails.items() if p not in unknown)
        assert (await change(replicas[0], campaign_id)).status == "completed"


class TestSurveyMail:
    async def test_each_recipient_gets_signed_answer_links_of_their_own(
        self, replicas: tuple[Runtime, Runtime], peers: Peers, sink: Sink
    ) -> None:
        async with replicas[0].sessions() as session:
            survey = await surveys.create_survey(session, {"name": "CSAT", "kind": "csat", "question": "Happy?"})
            await session.commit()
        body = f'<p>How did we do?</p>{{{{ survey_links("{survey.id}") }}}}'
        past = (utcnow() - timedelta(seconds=1)).isoformat()
        campaign_id = await create_campaign(replicas[0], peers, schedule={"type": "at", "at": past},
                                            variants=[{"name": "A", "weight": 1.0, "subject": "Hi", "body": body}])  # fmt: skip
        await run_due(replicas[0])
        by_address = {m["To"]: html_of(m) for m in sink.messages}
        for profile_id, address in peers.emails.items():
            tokens = re.findall(r'href="[^"]*/v1/s/([^"]+)"', by_address[address])
            payloads = [verify_token(t, LINK_SECRET) for t in tokens]
            assert [p["n"] for p in payloads] == [1, 2, 3, 4, 5]
            assert {(p["s"], p["q"], p["p"], p["c"]) for p in payloads} == {(survey.id, "csat", profile_id,
                                                                            campaign_id)}  # fmt: skip
