"""`tessera up` as a subprocess on free ports, for end-to-end tests (the console with an admin from the environment,
unless `console_admin=False`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tessera.broker import free_port
from tests.conftest import ADMIN_KEY, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, WRITE_KEY

SERVICES = ("tracking", "profiles", "segmentation", "campaigns")  # the console is apart: `stack["console"]`


@contextmanager
def tessera_up(data_dir: Path, *, console_admin: bool = True, **extra_env: str) -> Iterator[dict[str, Any]]:
    """The embedded stack; yields its URLs, the console's URL, process, data dir and broker address; killed afterwards
    if alive."""
    ports = {name: free_port() for name in (*SERVICES, "console")}
    admin = {
        "TESSERA_CONSOLE_ADMIN_EMAIL": CONSOLE_ADMIN_EMAIL,
        "TESSERA_CONSOLE_ADMIN_PASSWORD": CONSOLE_ADMIN_PASSWORD,
    }
    env = {**os.environ, "TESSERA_DATA_DIR": str(data_dir), "TESSERA_BROKER_PORT": str(free_port()),
           "TESSERA_ADMIN_API_KEY": ADMIN_KEY, "TESSERA_WRITE_KEY": WRITE_KEY, **(admin if console_admin else {}),
           **extra_env}  # fmt: skip
    env.update({f"TESSERA_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera.cli", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    line = process.stdout.readline().decode() if process.stdout else ""  # "READY <urls>" once all /ready answer
    if not line.startswith("READY"):
        process.kill()
        raise AssertionError(f"tessera up did not get ready: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    urls = {n: f"http://127.0.0.1:{p}" for n, p in ports.items() if n != "console"}
    try:
        yield {
            "process": process,
            "urls": urls,
            "console": f"http://127.0.0.1:{ports['console']}",
            "data_dir": data_dir,
            "broker": f"127.0.0.1:{env['TESSERA_BROKER_PORT']}",
        }
    finally:
        if process.poll() is None:
            process.kill()
