"""How far behind a service is: its consumers' lag per topic and the newest record they applied, what waits in its
outbox (and anything else it holds that has not reached the broker), its background loops, and lost records."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from shared.auth import require_role
from shared.db import utcnow

if TYPE_CHECKING:
    from shared.runtime import Runtime


class TopicProgress(BaseModel):
    """One consumed topic: partitions held, records not yet applied, and the newest record time applied."""

    partitions: int
    lag: int
    newest_applied_at: datetime | None


class LostRecords(BaseModel):
    """Records the broker no longer has although this consumer had committed past them (it came back empty)."""

    topic: str
    partition: int
    committed: int
    broker_has: int
    detected_at: datetime


class ConsumerProgress(BaseModel):
    """One consumer group of this process."""

    group: str
    joined: bool
    topics: dict[str, TopicProgress]
    lost_records: list[LostRecords]


class TaskState(BaseModel):
    """A supervised background loop."""

    state: str
    restarts: int
    last_error: str | None


class PipelineRead(BaseModel):
    """What this service has not passed on yet; `pending` sums it (0: everything it was given is applied and sent)."""

    service: str
    pending: int
    consumers: list[ConsumerProgress]
    outbox_pending: int
    held: dict[str, int]
    tasks: dict[str, TaskState]
    checked_at: datetime


async def pipeline_status(runtime: Runtime, service: str) -> PipelineRead:
    """The pipeline state of a running service (asks the broker for the partitions' ends)."""
    consumers = [ConsumerProgress.model_validate(await worker.status()) for worker in runtime.workers]
    async with runtime.sessions() as session:
        outbox = int(await session.scalar(select(func.count()).select_from(runtime.outbox)) or 0)
    held = {name: await count(runtime) for name, count in runtime.held.items()}
    lag = sum(t.lag for c in consumers for t in c.topics.values())
    return PipelineRead(
        service=service, pending=lag + outbox + sum(held.values()), consumers=consumers, outbox_pending=outbox,
        held=held, tasks={name: TaskState(**h.as_dict()) for name, h in runtime.health.items()}, checked_at=utcnow(),
    )  # fmt: skip


def pipeline_router(service: str) -> APIRouter:
    """`GET /v1/pipeline` for analysts and admins."""
    router = APIRouter(prefix="/v1", tags=["pipeline"], dependencies=[Depends(require_role("analyst"))])

    @router.get("/pipeline", response_model=PipelineRead)
    async def get_pipeline(request: Request) -> Any:
        """Consumers' lag per topic, newest applied record, outbox and other held events, background loops."""
        return await pipeline_status(request.app.state.runtime, service)

    return router
