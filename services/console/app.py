"""The console: `create_app(settings)`; run with `uvicorn --factory services.console.app:create_app`."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from fastapi import FastAPI

from services.console import api, forward_api, internal_api, keys_api, people, people_api, sessions
from services.console.config import EMAIL, FORWARDED, Settings, get_settings
from services.console.deps import Console
from services.console.mail import SmtpConfig
from services.console.models import outbox
from services.console.passwords import Passwords
from services.console.proxy import Forwarder
from services.console.sessions import LoginPolicy, SessionPolicy
from services.console.web import web_router
from shared.config import UnsafeSettings
from shared.runtime import Runtime, ServiceSpec, create_service_app
from shared.usertokens import UserTokenSigner

SWEEP_SECONDS = 300.0


def _smtp(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_username, password,
                      settings.smtp_starttls, settings.mail_from)  # fmt: skip


def _console(settings: Settings) -> Console:
    """The console's shared parts, built when it starts."""
    forwarder = Forwarder({name: settings.service_url(name) for name in FORWARDED},
                          connect_timeout=settings.forward_connect_timeout_seconds,
                          read_timeout=settings.forward_read_timeout_seconds,
                          max_body=settings.forward_max_body_bytes)  # fmt: skip
    return Console(
        settings=settings,
        passwords=Passwords(
            time_cost=settings.password_time_cost,
            memory_kib=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
        ),  # fmt: skip
        signer=UserTokenSigner(settings.signing_key_pem(), ttl_seconds=settings.token_ttl_seconds),
        forwarder=forwarder,
        login_policy=LoginPolicy(
            settings.lockout_failures_per_account,
            settings.lockout_failures_per_address,
            timedelta(minutes=settings.lockout_minutes),
            settings.login_attempts_per_minute,
        ),  # fmt: skip
        session_policy=SessionPolicy(
            timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_absolute_hours)
        ),  # fmt: skip
        smtp=_smtp(settings),
        trusted_proxies=tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies),
    )


async def _admin_from_settings(runtime: Runtime, settings: Settings, console: Console) -> None:
    """`TESSERA_CONSOLE_ADMIN_EMAIL` / `_PASSWORD`: an admin made at start unless one exists."""
    if not (settings.admin_email and settings.admin_password):
        return
    email = settings.admin_email.strip().lower()
    if not EMAIL.match(email):
        raise UnsafeSettings("TESSERA_CONSOLE_ADMIN_EMAIL is not an e-mail address")
    async with runtime.sessions() as session:
        password = settings.admin_password.get_secret_value()
        await people.ensure_admin(session, console.passwords, email=email, name=settings.admin_name, password=password)
        await session.commit()


async def _sweep(runtime: Runtime, console: Console) -> None:
    """Delete ended sessions and login attempts that no longer count."""
    keep = max(console.login_policy.lockout, sessions.RATE_WINDOW)
    async with runtime.sessions() as session:
        await sessions.prune(session, policy=console.session_policy, keep_attempts=keep)
        await session.commit()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the console app; connections open in the lifespan."""
    settings = settings or get_settings()

    async def start(runtime: Runtime) -> None:
        console = runtime.extras["console"] = _console(settings)
        await _admin_from_settings(runtime, settings, console)
        runtime.every(SWEEP_SECONDS, lambda: _sweep(runtime, console), "session-sweep")

    async def stop(runtime: Runtime) -> None:
        if "console" in runtime.extras:
            await runtime.extras["console"].forwarder.aclose()

    routers = [api.router, people_api.router, keys_api.router, internal_api.router, forward_api.router,
               web_router(settings.web_dir)]  # fmt: skip
    spec = ServiceSpec(name="console", title="Tessera console", routers=routers, outbox=outbox, kafka=False,
                       on_startup=[start], on_shutdown=[stop])  # fmt: skip
    return create_service_app(settings, spec)
