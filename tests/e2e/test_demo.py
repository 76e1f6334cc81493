"""`tessera demo` end to end on free ports: a small run exits 0, reports how well the clusters recover the planted
personas and draws its five charts; a port in use is one clear line and a non-zero exit."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from tessera.broker import free_port
from tests.conftest import ADMIN_KEY, WRITE_KEY

SERVICES = ("tracking", "profiles", "segmentation", "campaigns", "console")
CHARTS = ("segments.png", "clusters.png", "uplift.png", "sentiment.png", "funnel.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(data_dir: Path, **ports: int) -> dict[str, str]:
    """Free ports for the broker and every service (unless given), the test keys, a data directory of its own."""
    env = {**os.environ, "TESSERA_DATA_DIR": str(data_dir), "TESSERA_BROKER_PORT": str(free_port()),
           "TESSERA_ADMIN_API_KEY": ADMIN_KEY, "TESSERA_WRITE_KEY": WRITE_KEY}  # fmt: skip
    env.update({f"TESSERA_{name.upper()}_PORT": str(ports.get(name) or free_port()) for name in SERVICES})
    return env


def _demo(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "tessera.cli", "demo", *args]
    return subprocess.run(command, env=env, capture_output=True, timeout=timeout)


def test_a_small_demo_runs_through_the_platform_and_draws_its_charts(tmp_path: Path) -> None:
    out = tmp_path / "charts"
    result = _demo(_env(tmp_path / "data"), "--customers", "150", "--seed", "1", "--out", str(out), timeout=240)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    summary = result.stdout.decode()
    found = re.search(r"Adjusted Rand index.*?: ([0-9.]+)", summary)
    assert found, summary[-3000:]
    assert float(found.group(1)) >= 0.7  # the clusters recover the planted personas
    assert "Win-back campaign" in summary and "Uplift" in summary
    for name in CHARTS:
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _demo(_env(tmp_path, profiles=port), "--customers", "50", "--out", str(tmp_path), timeout=60)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert lines == [f"tessera demo: port {port} (profiles) is already in use; set TESSERA_PROFILES_PORT"]
