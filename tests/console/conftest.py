"""The console under test: its app on each backend, browsers (a cookie jar and the CSRF token each) from chosen client
addresses, and apps served on real ports for the tests about the path between the console and the services."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.app import create_app
from services.console.config import Settings
from shared.usertokens import generate_signing_key, public_key_pem
from tests.conftest import BACKENDS, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, LINK_SECRET
from tests.helpers import wait_for

SIGNING_KEY = generate_signing_key()
PUBLIC_KEY = public_key_pem(SIGNING_KEY)
INTERNAL_SECRET = "console-test-internal-secret"
SETUP_TOKEN = "console-test-setup-token"
PASSWORD = "a-password-long-enough"


def console_settings(*, database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Console settings for a test: cheap argon2, a test signing key and secrets, generous login limits (the tests
    about limits set their own), no web build."""
    values: dict[str, Any] = {
        "database_url": database_url, "data_dir": data_dir, "link_secret": SecretStr(LINK_SECRET),
        "signing_key": SecretStr(SIGNING_KEY), "setup_token": SecretStr(SETUP_TOKEN),
        "console_internal_secret": SecretStr(INTERNAL_SECRET), "password_time_cost": 1, "password_memory_kib": 1024,
        "password_parallelism": 1, "lockout_failures_per_address": 10_000, "login_attempts_per_minute": 10_000,
        "web_dir": data_dir / "no-web-build", "log_json": True,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)


def with_admin(**overrides: Any) -> dict[str, Any]:
    """Settings overrides that create the test admin at start."""
    return {"admin_email": CONSOLE_ADMIN_EMAIL, "admin_password": SecretStr(CONSOLE_ADMIN_PASSWORD)} | overrides


@dataclass
class Browser:
    """One person's browser: its cookie jar and the CSRF token of its session, sent with every unsafe request."""

    http: httpx.AsyncClient
    csrf: str | None = None
    me: dict[str, Any] = field(default_factory=dict)

    async def login(self, email: str, password: str, **headers: str) -> httpx.Response:
        """Log in; on success the CSRF token is kept."""
        response = await self.http.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)
        self._keep(response)
        return response

    def _keep(self, response: httpx.Response) -> None:
        """A response that opened or describes a session gives its user and CSRF token."""
        if response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and "csrf_token" in body:
                self.me, self.csrf = body, body["csrf_token"]

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """A request with the session's CSRF token on unsafe methods."""
        headers = dict(options.pop("headers", {}))
        if method.upper() in ("POST", "PUT", "PATCH", "DELETE") and self.csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        response = await self.http.request(method, url, headers=headers, **options)
        if url.startswith("/api/auth/") or url.endswith("/accept"):
            self._keep(response)
        return response

    async def get(self, url: str, **options: Any) -> httpx.Response:
        return await self.request("GET", url, **options)

    async def post(self, url: str, **options: Any) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def patch(self, url: str, **options: Any) -> httpx.Response:
        return await self.request("PATCH", url, **options)

    async def delete(self, url: str, **options: Any) -> httpx.Response:
        return await self.request("DELETE", url, **options)


@dataclass
class ConsoleUnderTest:
    """A running console app; browsers reach it in process, each from a client address of its own choosing."""

    app: FastAPI
    base_url: str = "http://console.test"
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def browser(self, ip: str = "127.0.0.1") -> Browser:
        """A new browser (empty cookie jar) at this client address."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        client = httpx.AsyncClient(transport=transport, base_url=self.base_url)
        self.clients.append(client)
        return Browser(client)

    async def admin(self, ip: str = "127.0.0.1") -> Browser:
        """A browser logged in as the test admin."""
        browser = self.browser(ip)
        assert (await browser.login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)).status_code == 200
        return browser

    @asynccontextmanager
    async def database(self) -> AsyncIterator[AsyncSession]:
        """A session on the console's database, committed at the end (to move stored times)."""
        async with self.app.state.runtime.sessions() as session:
            yield session
            await session.commit()

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@asynccontextmanager
async def console_running(settings: Settings) -> AsyncIterator[ConsoleUnderTest]:
    """The console's lifespan around the block."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        under_test = ConsoleUnderTest(app)
        try:
            yield under_test
        finally:
            await under_test.close()


@pytest.fixture(scope="module", params=BACKENDS)
async def console(
    request: pytest.FixtureRequest, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ConsoleUnderTest]:
    """A console with the test admin made from its settings, on each backend."""
    url = await fresh_database(request.param, "console")
    settings = console_settings(database_url=url, data_dir=tmp_path_factory.mktemp("console"), **with_admin())
    async with console_running(settings) as running:
        yield running


def mark() -> str:
    """A short unique marker for e-mail addresses and names."""
    return uuid.uuid4().hex[:10]


async def add_user(console: ConsoleUnderTest, admin: Browser, role: str, *, ip: str = "127.0.0.1") -> Browser:
    """A new user of a role, invited by `admin` and logged in through the invitation."""
    email = f"{role}-{mark()}@example.com"
    invited = await admin.post("/api/invitations", json={"email": email, "role": role})
    assert invited.status_code == 201, invited.text
    token = invited.json()["link"].rsplit("/", 1)[1]
    browser = console.browser(ip)
    accepted = await browser.post(f"/api/invitations/{token}/accept", json={"name": role.title(), "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    return browser


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """An app served by uvicorn on 127.0.0.1:`port` (lifespan included) for the block; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return server.started

    await wait_for(started, timeout=60)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


# The Chromium tests' session fixtures, shared by their modules (imported last: they use this module's constants).
from tests.console.chromium import chromium  # noqa: E402
from tests.console.stack import customers, owner, stack  # noqa: E402

__all__ = ["chromium", "customers", "owner", "stack"]
