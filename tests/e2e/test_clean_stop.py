"""A clean stop of `tessera up` loses nothing: events acknowledged a moment before Ctrl-C are in profiles after the
next start, although the embedded broker keeps records only in memory."""

from __future__ import annotations

import signal
import sqlite3
import uuid

import httpx
import pytest

from tests.conftest import WRITE_KEY
from tests.e2e.stack import tessera_up

BATCHES, PER_BATCH = 30, 100


def _events(m: str, batch: int) -> list[dict[str, object]]:
    return [{"type": "track", "userId": f"stop-{m}-{batch}-{i}", "event": "Product Viewed"} for i in range(PER_BATCH)]


def _applied(data_dir: object, m: str) -> int:
    with sqlite3.connect(f"file:{data_dir}/profiles.db?mode=ro", uri=True) as db:
        query = "SELECT count(*) FROM identities WHERE kind = 'user_id' AND value LIKE ?"
        return int(db.execute(query, (f"stop-{m}-%",)).fetchone()[0])


def test_ctrl_c_right_after_acknowledged_events_loses_none(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir, m = tmp_path_factory.mktemp("clean-stop"), uuid.uuid4().hex[:8]
    with tessera_up(data_dir) as stack:
        with httpx.Client(timeout=30) as client:
            for batch in range(BATCHES):
                response = client.post(f"{stack['urls']['tracking']}/v1/batch", auth=(WRITE_KEY, ""),
                                       json={"batch": _events(m, batch)})  # fmt: skip
                assert response.status_code == 200, response.text
        stack["process"].send_signal(signal.SIGINT)  # at once: most events are still on the broker only
        assert stack["process"].wait(timeout=120) == 0, stack["process"].stderr.read().decode()[-2000:]
    assert _applied(data_dir, m) == BATCHES * PER_BATCH
    with tessera_up(data_dir):  # the next start finds them too (and nothing is applied twice)
        assert _applied(data_dir, m) == BATCHES * PER_BATCH
