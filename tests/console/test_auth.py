"""Logging in: the first admin, sessions and their timeouts, CSRF, lockout and rate limits, passwords."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from services.console.models import LoginAttempt, User, UserSession
from shared.db import utcnow
from tests.conftest import BACKENDS, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD
from tests.console.conftest import (
    PASSWORD,
    SETUP_TOKEN,
    ConsoleUnderTest,
    add_user,
    console_running,
    console_settings,
    mark,
    with_admin,
)  # fmt: skip

WRONG = {"error": {"code": "unauthorized", "message": "E-mail or password is wrong.", "fields": []}}


@pytest.fixture(params=BACKENDS)
async def empty_console(
    request: pytest.FixtureRequest, fresh_database: Any, tmp_path: Path
) -> AsyncIterator[ConsoleUnderTest]:
    """A console nobody can log in to yet."""
    url = await fresh_database(request.param, "console_setup")
    async with console_running(console_settings(database_url=url, data_dir=tmp_path)) as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
async def strict_console(
    request: pytest.FixtureRequest, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ConsoleUnderTest]:
    """A console with tight login limits: 5 failures per account, 8 per address, 12 attempts a minute."""
    url = await fresh_database(request.param, "console_strict")
    limits = {"lockout_failures_per_account": 5, "lockout_failures_per_address": 8, "login_attempts_per_minute": 12}
    settings = console_settings(database_url=url, data_dir=tmp_path_factory.mktemp("strict"), **with_admin(**limits))
    async with console_running(settings) as running:
        yield running


class TestFirstAdmin:
    async def test_the_setup_token_makes_the_first_admin_once(self, empty_console: ConsoleUnderTest) -> None:
        browser = empty_console.browser()
        assert (await browser.get("/api/auth/status")).json() == {"needs_setup": True}
        body = {"token": SETUP_TOKEN, "email": " First@Example.com ", "name": "First", "password": PASSWORD}
        made = await browser.post("/api/auth/setup", json=body)
        assert (
            made.status_code == 200 and made.json()["role"] == "admin" and made.json()["email"] == "first@example.com"
        )
        assert "tessera_session" in made.cookies
        assert (await browser.get("/api/auth/me")).json()["email"] == "first@example.com"
        assert (await browser.get("/api/auth/status")).json() == {"needs_setup": False}
        again = await empty_console.browser().post("/api/auth/setup", json=body | {"email": "second@example.com"})
        assert again.status_code == 403 and again.json()["error"]["code"] == "forbidden"

    async def test_a_wrong_setup_token_is_refused(self, empty_console: ConsoleUnderTest) -> None:
        body = {"token": "guessed", "email": "x@example.com", "name": "X", "password": PASSWORD}
        refused = await empty_console.browser().post("/api/auth/setup", json=body)
        assert refused.status_code == 403
        assert (await empty_console.browser().get("/api/auth/status")).json() == {"needs_setup": True}

    async def test_a_short_password_is_422_naming_password(self, empty_console: ConsoleUnderTest) -> None:
        body = {"token": SETUP_TOKEN, "email": "x@example.com", "name": "X", "password": "short"}
        refused = await empty_console.browser().post("/api/auth/setup", json=body)
        assert refused.status_code == 422
        assert [f["field"] for f in refused.json()["error"]["fields"]] == ["body.password"]

    async def test_the_admin_from_the_settings_can_log_in(self, console: ConsoleUnderTest) -> None:
        browser = console.browser()
        assert (await browser.login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)).json()["role"] == "admin"
        assert (await browser.get("/api/auth/status")).json() == {"needs_setup": False}
        body = {"token": SETUP_TOKEN, "email": f"{mark()}@example.com", "name": "Late", "password": PASSWORD}
        assert (await console.browser().post("/api/auth/setup", json=body)).status_code == 403

    def test_no_default_password_exists(self, tmp_path: Path) -> None:
        from shared.config import UnsafeSettings

        with pytest.raises(UnsafeSettings, match="TESSERA_CONSOLE_ADMIN_PASSWORD"):
            console_settings(database_url="sqlite://", data_dir=tmp_path, admin_email="a@example.com").check_secrets()


class TestLogin:
    async def test_login_me_and_logout(self, console: ConsoleUnderTest) -> None:
        browser = await console.admin()
        me = await browser.get("/api/auth/me")
        assert me.status_code == 200 and set(me.json()) == {"id", "email", "name", "role", "csrf_token", "expires_at"}
        assert (await browser.post("/api/auth/logout")).status_code == 204
        after = await browser.get("/api/auth/me")
        assert after.status_code == 401 and after.json()["error"]["code"] == "unauthorized"

    async def test_the_cookie_is_http_only_and_same_site_lax(self, console: ConsoleUnderTest) -> None:
        response = await console.browser().login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie

    async def test_the_cookie_is_secure_over_https(self, console: ConsoleUnderTest) -> None:
        browser = console.browser()
        response = await browser.http.post("https://console.test/api/auth/login",
                                           json={"email": CONSOLE_ADMIN_EMAIL, "password": CONSOLE_ADMIN_PASSWORD})  # fmt: skip
        assert response.status_code == 200 and "; secure" in response.headers["set-cookie"].lower()

    async def test_wrong_password_and_unknown_email_get_the_same_answer(self, console: ConsoleUnderTest) -> None:
        wrong = await console.browser().login(CONSOLE_ADMIN_EMAIL, "not-the-password")
        unknown = await console.browser().login(f"nobody-{mark()}@example.com", "not-the-password")
        assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (401, WRONG)

    async def test_a_login_from_another_site_is_refused(self, console: ConsoleUnderTest) -> None:
        body = {"email": CONSOLE_ADMIN_EMAIL, "password": CONSOLE_ADMIN_PASSWORD}
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = await console.browser().http.post("/api/auth/login", json=body, headers=headers)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf", headers
        same = await console.browser().login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, Origin=console.base_url,
                                             **{"Sec-Fetch-Site": "same-origin"})  # fmt: skip
        assert same.status_code == 200

    async def test_an_allowed_origin_may_log_in(self, tmp_path: Path) -> None:
        settings = console_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", data_dir=tmp_path,
                                    **with_admin(allowed_origins=["http://localhost:5173"]))  # fmt: skip
        async with console_running(settings) as running:
            dev = await running.browser().login(
                CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, Origin="http://localhost:5173"
            )
            other = await running.browser().login(
                CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, Origin="http://localhost:5174"
            )
        assert (dev.status_code, other.status_code) == (200, 403)

    async def test_a_stored_hash_with_old_parameters_is_redone_at_login(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        browser = await add_user(console, admin, "analyst")
        email = browser.me["email"]
        old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
        async with console.database() as session:
            await session.execute(update(User).where(User.email == email).values(password_hash=old))
        assert (await console.browser().login(email, PASSWORD)).status_code == 200
        async with console.database() as session:
            stored = await session.scalar(select(User.password_hash).where(User.email == email))
        assert stored != old and "m=1024,t=1,p=1" in stored


class TestCsrf:
    async def test_an_unsafe_request_without_the_token_is_403(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        for token in (None, "not-the-token"):
            headers = {"X-CSRF-Token": token} if token else {}
            refused = await admin.http.post("/api/invitations", json={"email": "x@example.com", "role": "analyst"},
                                            headers=headers)  # fmt: skip
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
        forwarded = await admin.http.post("/api/profiles/v1/profiles/batch", json={"ids": []})
        assert forwarded.status_code == 403 and forwarded.json()["error"]["code"] == "csrf"
        assert (await admin.http.post("/api/auth/logout")).status_code == 403
        assert (await admin.get("/api/auth/me")).status_code == 200  # the session survived

    async def test_reads_need_no_token(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        assert (await admin.http.get("/api/users")).status_code == 200


class TestSessions:
    async def test_an_idle_session_ends(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        await _move_session(console, admin.me["id"], last_seen_at=utcnow() - timedelta(minutes=31))
        ended = await admin.get("/api/auth/me")
        assert ended.status_code == 401 and "ended" in ended.json()["error"]["message"]

    async def test_use_keeps_a_session_alive(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        await _move_session(console, admin.me["id"], last_seen_at=utcnow() - timedelta(minutes=29))
        assert (await admin.get("/api/auth/me")).status_code == 200
        await _move_session(console, admin.me["id"], shift=timedelta(minutes=-29))  # 29 minutes after that request
        assert (await admin.get("/api/auth/me")).status_code == 200

    async def test_a_session_ends_after_its_absolute_lifetime_even_in_use(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        await _move_session(console, admin.me["id"], expires_at=utcnow() - timedelta(seconds=1))
        assert (await admin.get("/api/auth/me")).status_code == 401

    async def test_the_absolute_lifetime_is_12_hours(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        async with console.database() as session:
            row = (await session.scalars(select(UserSession).where(UserSession.user_id == admin.me["id"]))).all()[-1]
        assert row.expires_at - row.created_at == timedelta(hours=12)

    async def test_a_deactivated_users_sessions_end_at_once(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        marketer = await add_user(console, admin, "marketer")
        assert (await marketer.get("/api/auth/me")).status_code == 200
        changed = await admin.patch(f"/api/users/{marketer.me['id']}", json={"active": False})
        assert changed.status_code == 200 and changed.json()["active"] is False
        assert (await marketer.get("/api/auth/me")).status_code == 401
        relogin = await console.browser().login(marketer.me["email"], PASSWORD)
        assert (relogin.status_code, relogin.json()) == (401, WRONG)


async def _move_session(console: ConsoleUnderTest, user_id: str, *, shift: timedelta | None = None,
                        **values: Any) -> None:  # fmt: skip
    """Change the stored times of a user's sessions (how tests move the clock)."""
    async with console.database() as session:
        for row in (await session.scalars(select(UserSession).where(UserSession.user_id == user_id))).all():
            for name, value in ({"last_seen_at": row.last_seen_at + shift} if shift else values).items():
                setattr(row, name, value)


class TestLockout:
    async def test_five_failures_lock_the_account_from_every_address(self, strict_console: ConsoleUnderTest) -> None:
        admin = await strict_console.admin()
        user = await add_user(strict_console, admin, "analyst")
        email = user.me["email"]
        for attempt in range(5):
            assert (await strict_console.browser(f"198.51.100.{attempt}").login(email, "wrong")).status_code == 401
        locked = await strict_console.browser("203.0.113.9").login(email, PASSWORD)
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "rate_limited"
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
        async with strict_console.database() as session:  # the lockout's 15 minutes pass
            for row in (await session.scalars(select(LoginAttempt))).all():
                row.at -= timedelta(minutes=15)
        assert (await strict_console.browser("203.0.113.9").login(email, PASSWORD)).status_code == 200

    async def test_a_login_clears_the_accounts_failures(self, strict_console: ConsoleUnderTest) -> None:
        admin = await strict_console.admin("192.0.2.50")
        email = (await add_user(strict_console, admin, "analyst", ip="192.0.2.50")).me["email"]
        for round_ in range(2):
            for _ in range(4):
                assert (await strict_console.browser(f"192.0.2.{60 + round_}").login(email, "wrong")).status_code == 401
            assert (await strict_console.browser("192.0.2.70").login(email, PASSWORD)).status_code == 200

    async def test_failures_from_one_address_lock_that_address(self, strict_console: ConsoleUnderTest) -> None:
        for _ in range(8):
            failed = await strict_console.browser("198.18.0.1").login(f"{mark()}@example.com", "wrong")
            assert failed.status_code == 401
        locked = await strict_console.browser("198.18.0.1").login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        elsewhere = await strict_console.browser("198.18.0.2").login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)
        assert elsewhere.status_code == 200

    async def test_attempts_per_minute_are_limited_even_when_they_succeed(
        self, strict_console: ConsoleUnderTest
    ) -> None:
        for _ in range(12):
            assert (
                await strict_console.browser("198.18.1.1").login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)
            ).status_code == 200
        limited = await strict_console.browser("198.18.1.1").login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)
        assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60

    async def test_the_counts_are_in_the_database_and_hold_no_addresses(self, strict_console: ConsoleUnderTest) -> None:
        await strict_console.browser("198.18.2.1").login("counted@example.com", "wrong")
        async with strict_console.database() as session:
            rows = (await session.scalars(select(LoginAttempt))).all()
        text = " ".join(f"{r.account} {r.address}" for r in rows)
        assert rows and "198.18.2.1" not in text and "counted@example.com" not in text


class TestPassword:
    async def test_change_password_ends_the_other_sessions(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        user = await add_user(console, admin, "marketer")
        other = console.browser()
        assert (await other.login(user.me["email"], PASSWORD)).status_code == 200
        changed = await user.post("/api/auth/password",
                                  json={"current_password": PASSWORD, "new_password": "another-long-password"})  # fmt: skip
        assert changed.status_code == 204
        assert (await user.get("/api/auth/me")).status_code == 200 and (
            await other.get("/api/auth/me")
        ).status_code == 401
        assert (await console.browser().login(user.me["email"], "another-long-password")).status_code == 200

    async def test_a_wrong_current_password_is_422(self, console: ConsoleUnderTest) -> None:
        user = await add_user(console, await console.admin(), "analyst")
        refused = await user.post("/api/auth/password", json={"current_password": "not-it", "new_password": "x" * 12})
        assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "current_password"
