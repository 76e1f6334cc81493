"""Replica equivalence: one recorded stream with the hard interleavings, applied by one process of each service and
by three (PostgreSQL, six partitions per topic), gives the same profiles, segment members and campaign mail, and
nothing is rejected. `TESSERA_REPLICA_TEST_EVENTS` sets the stream's length (the issue asks ≥ 50,000 by hand)."""

from __future__ import annotations

import json
import os
import random
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text

from services.campaigns.consumer import HANDLERS as CAMPAIGNS_HANDLERS
from services.profiles.consumer import HANDLERS as PROFILES_HANDLERS
from services.segmentation.consumer import HANDLERS as SEGMENTATION_HANDLERS
from shared.db import make_engine
from shared.events import ALL_TOPICS
from tests.builders import auth
from tests.campaigns.smtp_sink import smtp_sink
from tests.conftest import ADMIN_KEY, POSTGRES_URL, WRITE_KEY
from tests.e2e.stack import SERVICES, tessera_up
from tests.helpers import TopicReader, audience_copied, wait_for

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="TESSERA_TEST_POSTGRES_URL is not set")
EVENTS = int(os.environ.get("TESSERA_REPLICA_TEST_EVENTS", 800))  # small in the suite; 50,000 by hand
ADMIN = auth(ADMIN_KEY)
RICH = {"computed": "revenue", "op": "gte", "value": 40}  # the segment a campaign mails
SETTLE_SECONDS = 600
GROUPS = {"profiles": list(PROFILES_HANDLERS), "segmentation": list(SEGMENTATION_HANDLERS),
          "campaigns": list(CAMPAIGNS_HANDLERS)}  # fmt: skip


def person(i: int) -> list[dict[str, Any]]:
    """One person's events in their order; four shapes: browse then identify, alias, two devices merging with an
    order racing the merge, orders by anonymous id before the sign-in."""
    anon, other, user = f"a{i}", f"b{i}", f"u{i}"
    traits = {"email": f"p{i}@example.com", "first_name": f"P{i}", "consent": {"email": True}}
    events = [_page(anon, f"{i}-p{n}") for n in range(3)]
    shape = i % 4
    if shape == 0:
        events.append({"type": "identify", "userId": user, "anonymousId": anon, "traits": traits})
    elif shape == 1:
        events += [{"type": "alias", "previousId": anon, "userId": user}, {"type": "identify", "userId": user,
                   "traits": traits}]  # fmt: skip
    elif shape == 2:
        events += [_page(other, f"{i}-q{n}") for n in range(2)]
        events += [{"type": "identify", "userId": user, "anonymousId": anon, "traits": traits},
                   _order({"anonymousId": other}, f"{i}-race", 25.0),
                   {"type": "identify", "userId": user, "anonymousId": other}]  # fmt: skip
    else:
        events += [_order({"anonymousId": anon}, f"{i}-anon", 15.0),
                   {"type": "identify", "userId": user, "anonymousId": anon, "traits": traits}]  # fmt: skip
    events += [_order({"userId": user}, f"{i}-o{n}", 10.0 * (n + 1)) for n in range(i % 3 + 1)]
    return [{**e, "messageId": f"m-{i}-{n}"} for n, e in enumerate(events)]


def _page(anon: str, path: str) -> dict[str, Any]:
    return {"type": "page", "anonymousId": anon, "properties": {"path": f"/{path}"}}


def _order(who: dict[str, str], order_id: str, revenue: float) -> dict[str, Any]:
    return {"type": "track", **who, "event": "Order Completed",
            "properties": {"order_id": order_id, "revenue": revenue}}  # fmt: skip


def recorded_stream(events: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """The stream in two parts around an erasure: people's events interleaved at random (each one's in order); the
    erased people's all in the first part, one more event of theirs in the second (dropped: suppressed)."""
    rng = random.Random(16)
    people = list(range(max(events // 10, 20)))
    erased = people[7::50]
    queues = {i: person(i) for i in people}
    order = [i for i in people if i not in erased for _ in queues[i]]
    rng.shuffle(order)
    cut = len(order) * 6 // 10
    first = order[:cut] + [i for i in erased for _ in queues[i]]
    rng.shuffle(first)
    cursors = dict.fromkeys(people, 0)

    def take(i: int) -> dict[str, Any]:
        cursors[i] += 1
        return queues[i][cursors[i] - 1]

    before = [take(i) for i in first]
    after = [take(i) for i in order[cut:]] + [_page(f"a{i}", "late") | {"userId": f"u{i}"} for i in erased]
    return before, after, erased


async def _post(client: httpx.AsyncClient, url: str, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 200):
        response = await client.post(
            f"{url}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": events[start : start + 200]}
        )
        assert response.status_code == 200, response.text


@asynccontextmanager
async def databases(tag: str) -> AsyncIterator[dict[str, str]]:
    """One fresh PostgreSQL database per service, dropped afterwards."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names = {s: f"tessera_rep_{tag}_{s}" for s in SERVICES}
    async with admin.connect() as connection:
        for name in names.values():
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield {s: POSTGRES_URL.rsplit("/", 1)[0] + f"/{n}" for s, n in names.items()}
    finally:
        async with admin.connect() as connection:
            for name in names.values():
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _rows(url: str, query: str) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(query))).all())
    finally:
        await engine.dispose()


async def committed_everywhere(broker: str, urls: dict[str, str]) -> dict[str, list[int]] | None:
    """Every consumer group's committed offsets when each reached every partition's end and every outbox is empty,
    else None."""
    for url in urls.values():
        if (await _rows(url, "SELECT count(*) FROM outbox"))[0][0]:
            return None
    ends_reader = AIOKafkaConsumer(bootstrap_servers=broker)
    await ends_reader.start()
    try:
        found = {}
        for group, topics in GROUPS.items():
            partitions = [
                TopicPartition(t, p) for t in topics for p in sorted(ends_reader.partitions_for_topic(t) or ())
            ]
            ends = await ends_reader.end_offsets(partitions)
            done = await _committed(broker, group, partitions)
            if any(done[i] < ends[tp] for i, tp in enumerate(partitions)):
                return None
            found[group] = done
        return found
    finally:
        await ends_reader.stop()


async def _committed(broker: str, group: str, partitions: list[TopicPartition]) -> list[int]:
    probe = AIOKafkaConsumer(bootstrap_servers=broker, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        return [await probe.committed(tp) or 0 for tp in partitions]
    finally:
        await probe.stop()


async def settled(broker: str, urls: dict[str, str]) -> None:
    """Wait until the pipeline is quiet and unchanged twice in a row (a relay may be between two services in one
    look; a broker may report a partition's end below its last records, so offsets must also stand still)."""
    looks: list[Any] = []

    async def still() -> bool:
        looks.append(await committed_everywhere(broker, urls))
        return len(looks) >= 2 and looks[-1] is not None and looks[-1] == looks[-2]

    await wait_for(still, timeout=SETTLE_SECONDS, interval=1.0)


async def people_of(profiles_url: str) -> dict[str, tuple[str, ...]]:
    """profile id → its identities, the run-independent name of a person."""
    found: dict[str, list[str]] = {}
    for kind, value, profile_id in await _rows(profiles_url, "SELECT kind, value, profile_id FROM identities"):
        found.setdefault(profile_id, []).append(f"{kind}:{value}")
    return {profile_id: tuple(sorted(values)) for profile_id, values in found.items()}


async def snapshot(databases: dict[str, str], segment_id: str) -> dict[str, Any]:
    """What must not depend on the number of replicas, named by identities rather than generated ids."""
    people = await people_of(databases["profiles"])
    live = await _rows(databases["profiles"], "SELECT id, computed FROM profiles WHERE merged_into IS NULL")
    profiles = sorted((people.get(pid, ()), c.get("orders", 0), round(c.get("revenue", 0.0), 2)) for pid, c in live)
    members = await _rows(databases["segmentation"],
                          f"SELECT profile_id FROM segment_memberships WHERE segment_id = '{segment_id}'")  # fmt: skip
    copy = await _rows(
        databases["campaigns"], f"SELECT profile_id FROM segment_members WHERE segment_id = '{segment_id}'"
    )
    return {"profiles": profiles, "members": sorted(people.get(m, ("?", m)) for (m,) in members),
            "campaigns_copy": sorted(people.get(m, ("?", m)) for (m,) in copy)}  # fmt: skip


async def erase(client: httpx.AsyncClient, urls: dict[str, str], profiles_db: str, erased: list[int]) -> None:
    """Erase people once all their events are applied, while the others' are still on their way."""
    users = {f"user_id:u{i}" for i in erased}

    async def applied() -> dict[str, str] | None:
        people = await people_of(profiles_db)
        ids = {p: next(i for i in ident if i in users) for p, ident in people.items() if users & set(ident)}
        rows = await _rows(profiles_db, "SELECT id, computed FROM profiles WHERE merged_into IS NULL")
        done = {
            pid for pid, c in rows if pid in ids and c.get("orders", 0) == _orders(int(ids[pid][len("user_id:u") :]))
        }
        return {p: u for p, u in ids.items() if p in done} if len(done) == len(users) else None

    for profile_id in await wait_for(applied, timeout=SETTLE_SECONDS, interval=0.5):
        response = await client.delete(f"{urls['profiles']}/v1/profiles/{profile_id}", headers=ADMIN)
        assert response.status_code == 204, response.text


def _orders(i: int) -> int:
    return sum(1 for e in person(i) if e.get("event") == "Order Completed")


def kill_one_worker(data_dir: Path, service: str) -> None:
    """SIGKILL one worker process of a service (its uvicorn supervisor starts another)."""
    import json

    supervisor = json.loads((data_dir / "stack.json").read_text())["services"][service]["pid"]
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert workers, f"no worker processes under {service}"
    os.kill(workers[0], signal.SIGKILL)


async def run(tmp_path: Path, workers: int, *, kill: str | None = None) -> tuple[dict[str, Any], list[str], float]:
    """Apply the recorded stream on a fresh stack with `workers` processes per service; its snapshot, the mail sent
    and the seconds it took."""
    before, after, erased = recorded_stream(EVENTS)
    tag = f"{workers}{kill or ''}_{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    async with databases(tag) as urls:
        env = {f"TESSERA_{s.upper()}_DATABASE_URL": url for s, url in urls.items()}
        env |= {f"TESSERA_{s.upper()}_WORKERS": str(workers) for s in SERVICES}
        with smtp_sink() as (sink, port):
            env |= {"TESSERA_CAMPAIGNS_SMTP_PORT": str(port), "TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS": "1",
                    "TESSERA_LOG_LEVEL": "WARNING", "TESSERA_READY_TIMEOUT_SECONDS": "300"}  # fmt: skip
            with tessera_up(tmp_path / tag, console_admin=False, **env) as stack:
                result = await _drive(stack, urls, before, after, erased, kill)
                recipients = [str(message["To"]) for message in sink.messages]
    return result, recipients, time.monotonic() - started


async def _drive(stack: dict[str, Any], urls: dict[str, str], before: list[dict[str, Any]],
                 after: list[dict[str, Any]], erased: list[int], kill: str | None) -> dict[str, Any]:  # fmt: skip
    service = stack["urls"]
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(f"{service['segmentation']}/v1/segments", headers=ADMIN,
                                    json={"name": "rich", "definition": RICH})  # fmt: skip
        assert created.status_code == 201, created.text
        segment_id = created.json()["id"]
        await _post(client, service["tracking"], before[: len(before) // 2])
        if kill:
            kill_one_worker(stack["data_dir"], kill)
        await _post(client, service["tracking"], before[len(before) // 2 :])
        await erase(client, service, urls["profiles"], erased)
        await _post(client, service["tracking"], after)
        await settled(stack["broker"], urls)
        result = await snapshot(urls, segment_id)
        await _mail(client, service, segment_id, len(result["members"]))
        await settled(stack["broker"], urls)
    await _nothing_rejected(stack["broker"])
    return result


async def _mail(client: httpx.AsyncClient, urls: dict[str, str], segment_id: str, size: int) -> None:
    """A campaign to the segment, launched once its copy in campaigns is whole; wait until it completed."""
    await audience_copied(client, urls["campaigns"], segment_id, size, ADMIN)
    campaign = (await client.post(f"{urls['campaigns']}/v1/campaigns", headers=ADMIN, json={
        "name": "Replicas", "target_segments": [segment_id], "holdout_percent": 0,
        "variants": [{"name": "A", "subject": "Hi {{ first_name }}", "body": "<p>Hello</p>"}]})).json()  # fmt: skip
    launched = await client.post(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}/launch", headers=ADMIN)
    assert launched.status_code == 200, launched.text

    async def completed() -> bool:
        body = (await client.get(f"{urls['campaigns']}/v1/campaigns/{campaign['id']}", headers=ADMIN)).json()
        return bool(body["status"] == "completed")

    await wait_for(completed, timeout=SETTLE_SECONDS, interval=0.5)


async def _nothing_rejected(broker: str) -> None:
    for topic in [t for t in ALL_TOPICS if t.endswith(".rejected.v1")]:
        async with TopicReader(broker, topic) as reader:
            for _ in range(3):
                await reader.poll()
            assert reader.values == [], f"{topic}: {reader.values[:3]}"


def _expected_recipients(result: dict[str, Any]) -> list[str]:
    return sorted(i[len("email:") :] for member in result["members"] for i in member if i.startswith("email:"))


_BASELINE: list[tuple[dict[str, Any], list[str], float]] = []  # one process per service: run once per module


async def baseline(tmp_path: Path) -> tuple[dict[str, Any], list[str], float]:
    if not _BASELINE:
        _BASELINE.append(await run(tmp_path, 1))
    return _BASELINE[0]


async def test_three_replicas_give_what_one_gives(tmp_path: Path) -> None:
    one, mail_one, seconds_one = await baseline(tmp_path)
    three, mail_three, seconds_three = await run(tmp_path, 3)
    print(f"{EVENTS} events: 1 replica {seconds_one:.0f} s, 3 replicas {seconds_three:.0f} s")
    for name, result in (("one", one), ("three", three)):  # for a look at a difference
        (tmp_path / f"{name}.json").write_text(json.dumps(result, indent=1))
    assert one == three
    erased = {f"user_id:u{i}" for i in recorded_stream(EVENTS)[2]}
    assert [p for p in one["profiles"] if erased & set(p[0]) or not p[0]] == []
    assert len(one["profiles"]) == max(EVENTS // 10, 20) - len(erased)
    assert sorted(mail_one) == sorted(mail_three) == _expected_recipients(one)  # each recipient exactly once


async def test_a_profiles_replica_killed_mid_stream_changes_nothing(tmp_path: Path) -> None:
    one, mail_one, _ = await baseline(tmp_path)
    killed, mail_killed, _ = await run(tmp_path, 3, kill="profiles")
    assert killed == one
    assert sorted(mail_killed) == sorted(mail_one)
