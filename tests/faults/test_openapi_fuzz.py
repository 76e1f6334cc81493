"""schemathesis against the OpenAPI of all four services on `tessera up`: no 5xx, every 4xx in the shared error
shape (a check of ours, `schemathesis_hooks.py`), with a bounded number of examples and a fixed seed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.e2e.stack import SERVICES, tessera_up

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The embedded stack for fuzzing."""
    with tessera_up(tmp_path_factory.mktemp("fuzz"), TESSERA_LOG_LEVEL="WARNING") as running:
        yield running


@pytest.mark.parametrize("service", SERVICES)
def test_no_input_gets_a_5xx_and_every_4xx_has_the_error_shape(stack: dict[str, Any], service: str) -> None:
    command = [str(SCHEMATHESIS), "run", f"{stack['urls'][service]}/openapi.json",
               "-H", f"Authorization: Bearer {ADMIN_KEY}", "-H", f"X-Write-Key: {WRITE_KEY}",
               "--checks", "not_a_server_error,shared_error_shape", "--max-examples", "8",
               "--phases", "examples,fuzzing", "--seed", "20261123", "--no-color"]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.faults.schemathesis_hooks"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-6000:]
