"""`tessera up` fails fast with a one-line reason and a non-zero exit."""

import os
import socket
import subprocess
import sys

from tessera.broker import free_port


def test_port_in_use_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "TESSERA_DATA_DIR": str(tmp_path), "TESSERA_BROKER_PORT": str(free_port()),
               "TESSERA_PROFILES_PORT": str(port)}  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "tessera.cli", "up"], env=env, capture_output=True, timeout=60)
    assert result.returncode == 1
    assert f"port {port} (profiles) is already in use" in result.stderr.decode()


def test_the_published_link_secret_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ports = {f"TESSERA_{name.upper()}_PORT": str(free_port()) for name in ("tracking", "profiles", "segmentation",
                                                                             "campaigns", "console")}  # fmt: skip
    env = {**os.environ, "TESSERA_DATA_DIR": str(tmp_path), "TESSERA_BROKER_PORT": str(free_port()),
           "TESSERA_LINK_SECRET": "tessera-dev-link-secret", **ports}  # fmt: skip
    env.pop("TESSERA_ENV", None)
    result = subprocess.run([sys.executable, "-m", "tessera.cli", "up"], env=env, capture_output=True, timeout=90)
    assert result.returncode == 1
    [line] = [line for line in result.stderr.decode().splitlines() if "tessera up:" in line]
    assert "exited with code 1" in line and "TESSERA_LINK_SECRET" in line
