"""`tessera up`: the broker, the four services and the console as child processes, supervised in the foreground."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.auth import generate_key
from shared.bus import ensure_topics
from shared.events import ALL_TOPICS
from shared.usertokens import load_or_create_signing_key, public_key_pem
from tessera.broker import die_with_parent, log_file, port_is_free, start_broker, stop_process
from tessera.drain import Report, drain

SERVICES = {"tracking": 8001, "profiles": 8002, "segmentation": 8003, "campaigns": 8004, "console": 8000}
FORWARDED = ("tracking", "profiles", "segmentation", "campaigns")  # the services behind the console
# Campaigns settings fields that name another service of the stack.
CAMPAIGNS_PEERS = {"PROFILES_URL": "profiles", "SEGMENTATION_URL": "segmentation", "TRACKING_PUBLIC_URL": "tracking"}
REPLICATED = ("tracking", "profiles", "segmentation", "campaigns")  # the console stays one process
PARTITIONS_ALONE, PARTITIONS_REPLICATED = 3, 6


class StackError(RuntimeError):
    """A one-line reason the stack could not start."""


@dataclass
class StackConfig:
    """Where everything listens and lives."""

    data_dir: Path
    host: str = "127.0.0.1"
    broker_port: int = 9092
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    ready_timeout: float = 60.0
    drain_timeout: float = 60.0  # longest wait at a clean stop for consumers and outboxes to catch up
    workers: dict[str, int] = field(default_factory=dict)  # processes per service (uvicorn workers); 1 if absent
    topic_partitions: int | None = None  # None: 3 for one process per service, 6 with replicas

    @classmethod
    def from_env(cls, replicas: int | None = None) -> StackConfig:
        """Ports, data directory and workers from `TESSERA_*` variables (`replicas` sets every replicated
        service's workers), else the defaults."""
        ports = {name: int(os.environ.get(f"TESSERA_{name.upper()}_PORT", port)) for name, port in SERVICES.items()}
        workers = {name: replicas or int(os.environ.get(f"TESSERA_{name.upper()}_WORKERS", 1)) for name in REPLICATED}
        partitions = os.environ.get("TESSERA_TOPIC_PARTITIONS")
        return cls(
            data_dir=Path(os.environ.get("TESSERA_DATA_DIR", "./var")),
            broker_port=int(os.environ.get("TESSERA_BROKER_PORT", 9092)),
            drain_timeout=float(os.environ.get("TESSERA_DRAIN_TIMEOUT_SECONDS", 60)),
            ports=ports,
            workers=workers,
            topic_partitions=int(partitions) if partitions else None,
            # Replicas start one after another (migrations take a lock) and a group rebalances as each joins.
            ready_timeout=float(os.environ.get("TESSERA_READY_TIMEOUT_SECONDS", 60 * max(workers.values()))),
        )

    def workers_of(self, service: str) -> int:
        """How many processes serve `service`."""
        return self.workers.get(service, 1) if service in REPLICATED else 1

    def partitions(self) -> int:
        """Partitions per topic: enough for every replica of a consumer group to get some."""
        replicated = any(self.workers_of(name) > 1 for name in self.ports)
        return self.topic_partitions or (PARTITIONS_REPLICATED if replicated else PARTITIONS_ALONE)

    def url(self, service: str) -> str:
        """Base URL of a service."""
        return f"http://{self.host}:{self.ports[service]}"


def load_keys(data_dir: Path) -> dict[str, str]:
    """Admin API key, default write key, link secret, the console's internal secret and its one-time setup token:
    from the environment, else generated once and kept."""
    path = data_dir / "keys.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    made = {"admin_api_key": lambda: generate_key("tsk"), "write_key": lambda: generate_key("twk"),
            "link_secret": lambda: secrets.token_hex(32), "console_internal_secret": lambda: secrets.token_hex(32),
            "console_setup_token": lambda: secrets.token_urlsafe(32)}  # fmt: skip
    keys = {
        name: os.environ.get(f"TESSERA_{name.upper()}") or stored.get(name) or make() for name, make in made.items()
    }
    if keys != stored:
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(keys, indent=2))
    return keys


def _write_private(path: Path, text: str) -> None:
    # Created owner-only: a write followed by chmod would leave the secrets readable for a moment.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(text)
    path.chmod(0o600)  # a file made by an older version keeps its mode through O_CREAT


def service_env(config: StackConfig, keys: dict[str, str], name: str) -> dict[str, str]:
    """The environment of one service process."""
    env = dict(os.environ)
    env.update(
        TESSERA_DATA_DIR=str(config.data_dir.resolve()),
        TESSERA_KAFKA_BOOTSTRAP_SERVERS=f"{config.host}:{config.broker_port}",
        TESSERA_ADMIN_API_KEY=keys["admin_api_key"],
        TESSERA_WRITE_KEY=keys["write_key"],
        TESSERA_LINK_SECRET=keys["link_secret"],
        TESSERA_TOPIC_PARTITIONS=str(config.partitions()),
    )
    env[f"TESSERA_{name.upper()}_HOST"] = config.host
    env[f"TESSERA_{name.upper()}_PORT"] = str(config.ports[name])
    if name == "campaigns":
        env.update(campaigns_peers(config, env))
    if name == "segmentation":  # asked before a fit whether profiles still has changes on their way
        env.setdefault("TESSERA_SEGMENTATION_PROFILES_URL", config.url("profiles"))
    if "console" in config.ports:
        env.update(console_env(config, keys, name, env))
    return env


def check_replicas(config: StackConfig, env: dict[str, str]) -> None:
    """Refuse several processes of a service on SQLite: its file takes one writer, and `try_lock` across
    processes needs PostgreSQL's advisory locks."""
    for name in config.ports:
        if config.workers_of(name) < 1:
            raise StackError(f"TESSERA_{name.upper()}_WORKERS must be at least 1")
        url = env.get(f"TESSERA_{name.upper()}_DATABASE_URL") or env.get("TESSERA_DATABASE_URL") or "sqlite"
        if (workers := config.workers_of(name)) > 1 and not url.startswith("postgresql"):
            raise StackError(
                f"{workers} replicas of {name} need PostgreSQL: set TESSERA_{name.upper()}_DATABASE_URL to a "
                "postgresql+asyncpg:// URL (one database per service), or run one replica on SQLite"
            )


def console_env(config: StackConfig, keys: dict[str, str], name: str, env: dict[str, str]) -> dict[str, str]:
    """The console's internal secret for every process; the services also get its URL and public key, the console
    its setup token and the services' URLs (a variable set already is kept)."""
    values = {"TESSERA_CONSOLE_INTERNAL_SECRET": keys.get("console_internal_secret", "")}
    if name != "console":
        return values | {"TESSERA_CONSOLE_URL": config.url("console"),
                         "TESSERA_CONSOLE_PUBLIC_KEY": keys.get("console_public_key", "")}  # fmt: skip
    values["TESSERA_CONSOLE_SETUP_TOKEN"] = keys.get("console_setup_token", "")
    for service in FORWARDED:
        if service in config.ports and f"TESSERA_CONSOLE_{service.upper()}_URL" not in env:
            values[f"TESSERA_CONSOLE_{service.upper()}_URL"] = config.url(service)
    return values


def console_public_key(data_dir: Path) -> str:
    """The public half of the key the console signs user tokens with (`TESSERA_CONSOLE_SIGNING_KEY`, else the one
    generated once into the data directory, which the console reads too)."""
    private = os.environ.get("TESSERA_CONSOLE_SIGNING_KEY") or load_or_create_signing_key(
        data_dir / "console-signing-key.pem"
    )
    return public_key_pem(private)


def campaigns_peers(config: StackConfig, env: dict[str, str]) -> dict[str, str]:
    """The other services' URLs for campaigns, on this stack; a field set by either of its variables is kept."""
    urls = {}
    for suffix, service in CAMPAIGNS_PEERS.items():
        # `TESSERA_TRACKING_PUBLIC_URL` (tracking's public URL) is also campaigns' common fallback for this field.
        if not {f"TESSERA_CAMPAIGNS_{suffix}", f"TESSERA_{suffix}"} & set(env):
            urls[f"TESSERA_CAMPAIGNS_{suffix}"] = config.url(service)
    return urls


class Stack:
    """Starts, watches and stops the children; the broker starts first and stops last."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.broker: subprocess.Popen[bytes] | None = None
        self.services: dict[str, subprocess.Popen[bytes]] = {}
        self.was_ready = False  # a stack that never got ready has nothing of anyone's to drain
        self.keys: dict[str, str] = {}

    def check_ports(self) -> None:
        """Fail fast, with the port named, when one is taken."""
        wanted = {"broker": self.config.broker_port, **self.config.ports}
        for name, port in wanted.items():
            if not port_is_free(self.config.host, port):
                raise StackError(f"port {port} ({name}) is already in use; set TESSERA_{name.upper()}_PORT")

    def start(self, names: list[str] | None = None) -> None:
        """Start the broker, then the services (all, or the ones named); wait until every /ready answers."""
        self.check_ports()
        check_replicas(self.config, dict(os.environ))
        self.keys = load_keys(self.config.data_dir)
        self.keys["console_public_key"] = console_public_key(self.config.data_dir)
        self.start_broker()
        for name in names or list(self.config.ports):
            self.services[name] = self.spawn(name)
        self.write_state()
        self.wait_ready()
        self.was_ready = True

    def start_broker(self) -> None:
        """Start the broker on its port with Tessera's topics. Again after `stop_broker` it comes back empty (memory
        storage), and running services are held (SIGSTOP) until the topics exist: tansu corrupts a topic that a
        client recreates implicitly (a produce or fetch from stale metadata), so they must find it created."""
        held = [process for process in self.services.values() if process.poll() is None]
        for process in held:
            process.send_signal(signal.SIGSTOP)
        try:
            broker_log = log_file(self.config.data_dir, "broker")
            self.broker = start_broker(self.config.host, self.config.broker_port, broker_log)
            address = f"{self.config.host}:{self.config.broker_port}"
            asyncio.run(ensure_topics(address, ALL_TOPICS, partitions=self.config.partitions()))
        except Exception as exc:
            raise StackError(f"the broker did not start: {exc}") from exc
        finally:
            for process in held:
                process.send_signal(signal.SIGCONT)

    def stop_broker(self) -> None:
        """Stop the broker alone; the services keep running and reconnect once it is back."""
        if self.broker is not None:
            stop_process(self.broker)

    def kill(self, name: str) -> None:
        """SIGKILL one service (no shutdown hooks run) and reap it; `restart` brings it back."""
        process = self.services[name]
        process.kill()
        process.wait()

    def worker_pids(self, name: str) -> list[int]:
        """The worker processes of a service started with several workers (its uvicorn supervisor's children)."""
        pid = self.services[name].pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children if b"spawn_main" in _cmdline(int(child))]

    def restart(self, name: str) -> None:
        """Start a service again (after it stopped or was killed) and wait until it is ready."""
        self.services[name] = self.spawn(name)
        self.write_state()
        self.wait_ready()

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start one service process."""
        command = [sys.executable, "-m", "uvicorn", f"services.{name}.app:create_app", "--factory",
                   "--host", self.config.host, "--port", str(self.config.ports[name]), "--no-access-log",
                   "--timeout-graceful-shutdown", "10"]  # fmt: skip
        if (workers := self.config.workers_of(name)) > 1:  # one port, N processes, each with its own consumers
            command += ["--workers", str(workers)]
        log = log_file(self.config.data_dir, name)
        env = service_env(self.config, self.keys, name)
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent)

    def wait_ready(self) -> None:
        """Poll every /ready until all answer 200; a child that dies fails the start."""
        deadline = time.monotonic() + self.config.ready_timeout
        pending = set(self.services)
        with httpx.Client(timeout=2) as client:
            while pending:
                for name in sorted(pending):
                    self.check_alive(name)
                    try:
                        if client.get(f"{self.config.url(name)}/ready").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise StackError(f"not ready after {self.config.ready_timeout:.0f} s: {', '.join(sorted(pending))}")
                time.sleep(0.2)

    def check_alive(self, name: str) -> None:
        """Raise with the last log line if a service has exited."""
        process = self.services[name]
        if process.poll() is not None:
            raise StackError(f"{name} exited with code {process.returncode}: {self.last_log_line(name)}")

    def last_log_line(self, name: str) -> str:
        """The last non-empty line a child logged (for one-line errors)."""
        path = self.config.data_dir / "logs" / f"{name}.log"
        lines = (
            [line for line in path.read_text(errors="replace").splitlines() if line.strip()] if path.exists() else []
        )
        return lines[-1][-300:] if lines else "no output"

    def write_state(self) -> None:
        """Record pids and URLs for `tessera status`."""
        state = {
            "pid": os.getpid(),
            "broker": {"pid": self.broker.pid if self.broker else None, "port": self.config.broker_port},
            "services": {n: {"pid": p.pid, "url": self.config.url(n)} for n, p in self.services.items()},
        }
        (self.config.data_dir / "stack.json").write_text(json.dumps(state, indent=2))

    def stop(self, *, report: Report | None = None) -> dict[str, str]:
        """Stop cleanly: tracking first (no new events; it flushes its spool to the broker), then wait until every
        consumer group applied what the broker holds and every outbox is empty (`report` gets progress lines), then
        the other services, the broker last. Return what was still pending when the drain gave up."""
        left: dict[str, str] = {}
        if report is not None and self.was_ready and self.broker is not None and self.broker.poll() is None:
            self._stop_services(["tracking"])
            alive = {n: self.config.url(n) for n, p in self.services.items() if p.poll() is None}
            left = drain(alive, self.keys.get("admin_api_key", ""), timeout=self.config.drain_timeout, report=report)
        self._stop_services(list(self.services))
        if self.broker is not None:
            stop_process(self.broker)
        (self.config.data_dir / "stack.json").unlink(missing_ok=True)
        return left

    def _stop_services(self, names: list[str]) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        running = [self.services[n] for n in names if n in self.services and self.services[n].poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            stop_process(process, timeout=15)

    def watch(self) -> None:
        """Block until a child dies (raise) or a signal stops us."""
        while True:
            for name in self.services:
                self.check_alive(name)
            if self.broker is not None and self.broker.poll() is not None:
                raise StackError(f"the broker exited with code {self.broker.returncode}")
            time.sleep(0.5)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone in between
        return b""


async def fetch_status(urls: dict[str, str]) -> dict[str, str]:
    """`ready`, or why not, for each service URL."""

    async def one(client: httpx.AsyncClient, url: str) -> str:
        try:
            response = await client.get(f"{url}/ready")
        except httpx.HTTPError as exc:
            return f"down ({type(exc).__name__})"
        return "ready" if response.status_code == 200 else f"not ready ({response.status_code})"

    async with httpx.AsyncClient(timeout=2) as client:
        results = await asyncio.gather(*(one(client, url) for url in urls.values()))
    return dict(zip(urls, results, strict=True))
