"""What a running service owns (engine, producer, outbox relay, consumers) and its FastAPI factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import keyring_for
from shared.bus import Bus, EventBuffer, ensure_topics
from shared.config import ServiceSettings
from shared.consuming import ConsumerWorker, Handler
from shared.db import make_engine, make_session_factory, migrate, ping, try_lock
from shared.errors import install_error_handlers
from shared.events import ALL_TOPICS
from shared.logging import configure_logging
from shared.observability import Check, NotReady, health_router, install_request_metrics
from shared.outbox import OutboxRelay
from shared.pipeline import pipeline_router
from shared.supervision import TaskHealth, every, supervise
from shared.uow import Work, unit_of_work

log = structlog.get_logger(__name__)
Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass
class Runtime:
    """The connections and background tasks of one service process."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    outbox: Table
    relay: OutboxRelay
    workers: list[ConsumerWorker] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    health: dict[str, TaskHealth] = field(default_factory=dict)
    # What the service holds that has not reached the broker besides its outbox (tracking's spool): name → counter.
    held: dict[str, Callable[[Runtime], Awaitable[int]]] = field(default_factory=dict)

    def work(self) -> AbstractAsyncContextManager[Work]:
        """A unit of work on this service's database: data and events committed together, the relay woken after."""
        return unit_of_work(self.sessions, self.outbox, self.relay.notify)

    def supervise(self, make: Callable[[], Awaitable[Any]], name: str) -> None:
        """Run a long-lived loop that is restarted with backoff whenever it fails or ends, and shown in `/ready`."""
        self.health[name] = TaskHealth(name)
        self.spawn(supervise(make, self.health[name]), name)

    def every(self, seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
        """Run `job` every `seconds` (sweeps, schedulers); a failed round never ends the loop."""
        self.health[name] = health = TaskHealth(name)
        self.spawn(supervise(lambda: every(seconds, job, health), health), name)

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        """Run a background task owned by the service; it is cancelled on shutdown."""
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
        self.tasks.append(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        if task in self.tasks:
            self.tasks.remove(task)


@dataclass(frozen=True)
class ServiceSpec:
    """What distinguishes one service: its routers, outbox table, topic handlers and hooks. A service that neither
    produces nor consumes (the console) sets `kafka=False`: it never connects to the broker, its `/ready` does not
    depend on it, and its outbox stays empty."""

    name: str
    title: str
    routers: Sequence[APIRouter]
    outbox: Table
    handlers: dict[str, Handler] = field(default_factory=dict)
    on_startup: Sequence[Hook] = ()
    on_shutdown: Sequence[Hook] = ()
    kafka: bool = True


def new_bus(settings: ServiceSettings) -> Bus:
    """The service's producer, not yet connected."""
    return Bus(
        settings.kafka_bootstrap_servers,
        client_id=f"tessera-{settings.service_name}",
        idempotent=settings.kafka_idempotent_producer,
        compression=None if settings.kafka_compression == "none" else settings.kafka_compression,
    )


async def start_bus(settings: ServiceSettings, *, wait_seconds: float = 30.0) -> Bus:
    """Connect a producer, retrying while the broker comes up."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        bus = new_bus(settings)
        try:
            await bus.start()
            return bus
        except Exception:
            await bus.stop()
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def open_runtime(settings: ServiceSettings, spec: ServiceSpec) -> Runtime:
    """Open the database (migrated), the producer, the outbox relay and the consumers."""
    engine = make_engine(settings.resolved_database_url())
    if settings.run_migrations:
        await migrate(engine, spec.name)
    sessions = make_session_factory(engine)
    # Without Kafka the producer is never connected and the relay never runs (nothing is ever staged).
    bus = await start_bus(settings) if spec.kafka else new_bus(settings)
    if spec.kafka:
        await ensure_topics(settings.kafka_bootstrap_servers, ALL_TOPICS, partitions=settings.topic_partitions)
    relay = OutboxRelay(sessions, spec.outbox, bus, leader=lambda: try_lock(engine, f"outbox-relay:{spec.name}"))
    runtime = Runtime(settings, engine, sessions, bus, spec.outbox, relay)
    if spec.kafka:
        runtime.supervise(relay.run, "outbox-relay")
    if spec.handlers and settings.run_consumers and spec.kafka:
        worker = ConsumerWorker(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.consumer_group or settings.service_name,
            handlers=spec.handlers,
            session_factory=sessions,
            outbox=spec.outbox,
            on_committed=relay.notify,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        )
        runtime.workers.append(worker)
        runtime.supervise(worker.run, "consumer")
    return runtime


async def close_runtime(runtime: Runtime) -> None:
    """Cancel background tasks, relay what is left, disconnect."""
    for task in runtime.tasks:
        task.cancel()
    if runtime.tasks:
        _, stuck = await asyncio.wait(runtime.tasks, timeout=10)  # a stop must never hang on a task
        for task in stuck:
            log.error("task_did_not_stop", task=task.get_name())
    if runtime.relay.leading:  # a standby relaying now could send one key's messages out of order
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await runtime.relay.relay_once()
    await runtime.bus.stop()
    await runtime.engine.dispose()


def create_service_app(settings: ServiceSettings, spec: ServiceSpec) -> FastAPI:
    """The FastAPI app of one service; nothing connects until the lifespan starts."""
    settings.check_secrets()  # before anything starts: the traceback's last line is the reason, for `tessera up`
    configure_logging(settings.log_level, json=settings.log_json, service=spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, spec)
        app.state.runtime = runtime
        for hook in spec.on_startup:
            await hook(runtime)
        log.info("service_started", port=settings.port)
        try:
            yield
        finally:
            for hook in spec.on_shutdown:
                await hook(runtime)
            await close_runtime(runtime)
            await keyring.aclose()

    app = FastAPI(title=spec.title, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.keyring = keyring = keyring_for(settings)
    install_error_handlers(app)
    install_request_metrics(app, spec.name)

    async def check_database() -> None:
        await ping(app.state.runtime.engine)

    async def check_broker() -> None:
        await app.state.runtime.bus.ping()

    checks = {"database": check_database, "broker": check_broker, "consumers": _consumers_check(app),
              "tasks": _tasks_check(app)}  # fmt: skip
    if not spec.kafka:
        checks = {"database": check_database, "tasks": _tasks_check(app)}
    app.include_router(health_router(spec.name, checks))
    app.include_router(pipeline_router(spec.name))
    for router in spec.routers:
        app.include_router(router)
    return app


def _consumers_check(app: FastAPI) -> Check:
    async def check() -> dict[str, Any]:
        """Ready means ready to consume: every consumer has joined its group; lag and lost records as detail."""
        workers: list[ConsumerWorker] = app.state.runtime.workers
        waiting = [w.group_id for w in workers if not w.joined]
        if waiting:
            raise NotReady(f"not yet assigned in group {', '.join(waiting)}")
        return {"consumers": [await w.status() for w in workers]}

    return check


def _tasks_check(app: FastAPI) -> Check:
    async def check() -> dict[str, Any]:
        """Every supervised loop is running (not waiting to be restarted after a failure)."""
        health: dict[str, TaskHealth] = app.state.runtime.health
        down = [f"{h.name} ({h.last_error})" for h in health.values() if h.state != "running"]
        if down:
            raise NotReady(f"restarting: {', '.join(down)}")
        return {"tasks": {name: h.as_dict() for name, h in health.items()}}

    return check


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A request's unit of work: its events go to the outbox, then one commit before the response."""
    async with request.app.state.runtime.work() as work:
        yield work.session


def events_of(session: AsyncSession) -> EventBuffer:
    """The event buffer bound to a request's session."""
    buffer: EventBuffer = session.info.setdefault("events", EventBuffer())
    return buffer
