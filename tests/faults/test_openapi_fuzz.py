"""schemathesis against the OpenAPI of all four services and the console on `tessera up`: no 5xx, every 4xx in the
shared error shape (a check of ours, `schemathesis_hooks.py`), with a bounded number of examples and a fixed seed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, WRITE_KEY
from tests.e2e.stack import SERVICES, tessera_up

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The embedded stack for fuzzing."""
    with tessera_up(tmp_path_factory.mktemp("fuzz"), TESSERA_LOG_LEVEL="WARNING") as running:
        yield running


def fuzz(url: str, *headers: str, options: tuple[str, ...] = ()) -> None:
    """Run schemathesis on an OpenAPI document with our checks; fail with its report."""
    command = [str(SCHEMATHESIS), "run", f"{url}/openapi.json", *[arg for h in headers for arg in ("-H", h)],
               "--checks", "not_a_server_error,shared_error_shape", "--max-examples", "8",
               "--phases", "examples,fuzzing", "--seed", "20261123", "--no-color", *options]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.faults.schemathesis_hooks"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-6000:]


@pytest.mark.parametrize("service", SERVICES)
def test_no_input_gets_a_5xx_and_every_4xx_has_the_error_shape(stack: dict[str, Any], service: str) -> None:
    fuzz(stack["urls"][service], f"Authorization: Bearer {ADMIN_KEY}", f"X-Write-Key: {WRITE_KEY}")


def test_the_console_gets_no_5xx_and_every_4xx_has_the_error_shape(stack: dict[str, Any]) -> None:
    """As a logged-in admin (cookie and CSRF token); logging out is left out so the session lasts the run."""
    with httpx.Client(base_url=stack["console"]) as client:
        me = client.post("/api/auth/login", json={"email": CONSOLE_ADMIN_EMAIL, "password": CONSOLE_ADMIN_PASSWORD})
        assert me.status_code == 200, me.text
        cookie = f"tessera_session={me.cookies['tessera_session']}"
    fuzz(stack["console"], f"Cookie: {cookie}", f"X-CSRF-Token: {me.json()['csrf_token']}",
         f"Authorization: Bearer {ADMIN_KEY}", options=("--exclude-path", "/api/auth/logout"))  # fmt: skip
