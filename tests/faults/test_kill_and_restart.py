"""Under a steady load on tracking's `/v1/batch`: SIGKILL and restart each service, stop and start the broker;
afterwards every event tracking answered 200 for is in profiles exactly once (orders, revenue, event count), none
was dead-lettered, and nothing is left in flight. Batches whose answers were "lost" in tracking's kill are sent
again and land on the topic twice: profiles must skip the second copy.

What a restart of the embedded broker (tansu, memory storage) keeps, and what this test therefore asserts:

- It keeps nothing itself: the topics come back empty, offsets start again at 0, consumer groups have no committed
  offsets. Only the services' own disks survive it. (`Stack.start_broker` recreates the topics before the running
  services may touch the new broker; see there why.)
- Survives: every event profiles applied before the stop (its database, with the ids of applied messages), and
  every event tracking acknowledged while the broker was away (its spool, committed before the 200, replayed in
  order once the broker is back). Asserted: the spool holds exactly the events acknowledged during the outage,
  it drains after the broker's return, and profiles then has all of them, and later ones too, through consumers
  that were never restarted and must rejoin their groups and read the new topics from the beginning.
- Lost, by design of a memory broker: an event tracking acknowledged because the broker had (acks=all) but that
  no consumer had read before the broker stopped. It lived only in the broker's memory. The same holds for the
  messages between services (`profile.upserted.v1`, segment changes): outbox rows are deleted once relayed.
  With Apache Kafka (docker compose) they are on the broker's disk. So the test pauses the load and waits until
  profiles has applied everything acknowledged so far before it stops the broker: "nothing acknowledged is lost"
  holds for the embedded broker only across the window it can cover, and that window is what is asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from shared.events import EVENTS, EVENTS_REJECTED
from tessera.broker import free_port
from tessera.stack import Stack, StackConfig
from tests.builders import auth
from tests.faults.load import (
    Load,
    missing_events,
    profile_differences,
    published_again,
    rejections,
    spooled,
    uncommitted,
)
from tests.helpers import wait_for

SERVICES = ("tracking", "profiles", "segmentation", "campaigns")
STEP = 150  # events acknowledged between two faults, so each one lands in a flowing stream


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The broker and the four services as real processes on free ports, with their own data dir."""
    monkeypatch.setenv("TESSERA_LOG_LEVEL", "WARNING")
    for key in ("TESSERA_ADMIN_API_KEY", "TESSERA_WRITE_KEY"):
        monkeypatch.delenv(key, raising=False)  # generated into the data dir: `stack.keys`
    config = StackConfig(data_dir=tmp_path_factory.mktemp("faults"), broker_port=free_port(),
                         ports={name: free_port() for name in SERVICES})  # fmt: skip
    stack = Stack(config)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


async def test_every_acknowledged_event_is_in_profiles_once_after_kills_and_a_broker_restart(stack: Stack) -> None:
    load = Load(stack.config.url("tracking"), stack.keys["write_key"])
    async with asyncio.timeout(300):  # every wait has its own deadline; this one says where a hang would be
        load.start()
        try:
            await load.acknowledged_more(STEP)
            for name in SERVICES:
                await kill_and_restart(stack, load, name)
            await restart_broker(stack, load)
            load.phase = "broker back"
            await load.acknowledged_more(STEP)
            await load.pause()
            await assert_profiles_match(stack, load)  # the spooled events, and those sent to the new broker
            load.phase = "broker back, later"
            load.resume()
            await load.acknowledged_more(STEP)  # and the consumers keep going on the new broker, batch after batch
        finally:
            await load.stop()
        assert load.failures, "the load never met tracking's outage"
        await assert_profiles_match(stack, load)


async def kill_and_restart(stack: Stack, load: Load, name: str) -> None:
    """SIGKILL one service mid-stream; events keep being acknowledged while it is down (unless it is tracking)."""
    load.phase = f"before killing {name}"
    await load.acknowledged_more(STEP)
    load.phase = f"{name} killed"
    stack.kill(name)
    unanswered = load.last_batches(3)  # as if their answers had been lost in the kill
    if name != "tracking":
        await load.acknowledged_more(STEP)
    await asyncio.to_thread(stack.restart, name)
    if name == "tracking":
        # The client sends them again. Tracking's memory of recent messageIds died with it, so they go on the
        # topic a second time: profiles must count them once.
        await load.acknowledged_more(STEP)  # the originals are no longer in the newest record batches
        bootstrap = f"{stack.config.host}:{stack.config.broker_port}"
        again = await published_again(bootstrap, EVENTS, lambda: load.resend(unanswered))
        expected = sum(len(batch) for batch in unanswered)
        assert len(again) == expected and set(again.values()) == {1}, f"resent events not published again: {again}"


async def restart_broker(stack: Stack, load: Load) -> None:
    """Stop the broker once profiles has everything acknowledged; what is acknowledged meanwhile is spooled."""
    await load.pause()
    await assert_profiles_match(stack, load)
    await asyncio.to_thread(stack.stop_broker)
    before = load.ledger.events
    load.phase = "broker down"
    load.resume()
    await load.acknowledged_more(STEP)
    await load.pause()
    assert spooled(stack.config.data_dir) == load.ledger.events - before, "acknowledged during the outage, not spooled"
    await asyncio.to_thread(stack.start_broker)
    load.phase = "broker restarted, spool draining"
    load.resume()
    await wait_for(lambda: _spool_drained(stack), timeout=60, interval=0.1)
    await asyncio.to_thread(stack.wait_ready)  # every service reconnected to the new broker


async def _spool_drained(stack: Stack) -> bool:
    return spooled(stack.config.data_dir) == 0


async def assert_profiles_match(stack: Stack, load: Load, timeout: float = 60) -> None:
    """With the load paused or stopped: wait until nothing is in flight (spool empty, profiles' group committed the
    whole topic) and the profiles hold exactly the ledger. Nothing can change them after that, so equality is final."""
    bootstrap = f"{stack.config.host}:{stack.config.broker_port}"
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=stack.config.url("profiles"), timeout=10,
                                 headers=auth(stack.keys["admin_api_key"])) as client:  # fmt: skip
        while True:
            spool, lag = spooled(stack.config.data_dir), await uncommitted(bootstrap, "profiles", EVENTS)
            differences = await profile_differences(client, load)
            if spool == lag == 0 and not differences:
                # A duplicate must be skipped as already applied, not dead-lettered by a constraint that caught it.
                rejected = await rejections(bootstrap, EVENTS_REJECTED, load.run)
                assert not rejected, f"{len(rejected)} acknowledged events were rejected: {rejected[:10]}"
                return
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
    shown = "\n  ".join(differences[:20]) + (f"\n  … and {len(differences) - 20} more" if len(differences) > 20 else "")
    lag_text = "unknown (topic not listed, or still growing)" if lag is None else lag
    missing = await missing_events(bootstrap, EVENTS, stack.config.data_dir, load)
    pytest.fail(
        f"after {timeout:.0f} s: {len(differences)} of {load.users} users differ from what tracking acknowledged "
        f"({load.ledger.events} events; spooled {spool}; profiles' uncommitted messages {lag_text}; "
        f"client failures {dict(load.failures)}; logs in {stack.config.data_dir / 'logs'}).\n{missing}\n  {shown}"
    )
