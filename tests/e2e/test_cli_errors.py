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
