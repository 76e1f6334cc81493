"""People and the audit log: invitations (mailed, single use, expiring), roles, API keys, who did what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.console.models import Invitation
from shared.db import utcnow
from tests.campaigns.smtp_sink import Sink, smtp_sink
from tests.conftest import BACKENDS, CONSOLE_ADMIN_EMAIL
from tests.console.conftest import (
    PASSWORD,
    Browser,
    ConsoleUnderTest,
    add_user,
    console_running,
    console_settings,
    mark,
    with_admin,
)  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
async def mailing_console(
    request: pytest.FixtureRequest, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ConsoleUnderTest, Sink]]:
    """A console that mails invitations to an SMTP sink, with a public URL of its own."""
    url = await fresh_database(request.param, "console_mail")
    with smtp_sink() as (sink, port):
        overrides = with_admin(smtp_host="127.0.0.1", smtp_port=port, public_url="https://console.example.com")
        settings = console_settings(database_url=url, data_dir=tmp_path_factory.mktemp("mail"), **overrides)
        async with console_running(settings) as running:
            yield running, sink


async def invite(admin: Browser, role: str = "analyst") -> tuple[str, str]:
    """A new invitation's e-mail address and token."""
    email = f"{role}-{mark()}@example.com"
    response = await admin.post("/api/invitations", json={"email": email, "role": role})
    assert response.status_code == 201, response.text
    return email, response.json()["link"].rsplit("/", 1)[1]


class TestInvitations:
    async def test_an_invitation_is_mailed_and_returned(self, mailing_console: tuple[ConsoleUnderTest, Sink]) -> None:
        console, sink = mailing_console
        admin = await console.admin()
        email = f"new-{mark()}@example.com"
        made = await admin.post("/api/invitations", json={"email": email.upper(), "role": "marketer"})
        body = made.json()
        assert made.status_code == 201 and body["email"] == email and body["mailed"] is True
        assert (
            body["link"].startswith("https://console.example.com/invite/") and body["created_by"] == CONSOLE_ADMIN_EMAIL
        )
        assert timedelta(hours=71) < _parse(body["expires_at"]) - utcnow() <= timedelta(hours=72)
        [message] = sink.to(email)
        assert body["link"] in message.get_content()  # type: ignore[attr-defined]
        listed = {i["id"]: i for i in (await admin.get("/api/invitations")).json()}
        assert listed[body["id"]]["link"] is None and listed[body["id"]]["mailed"] is True

    async def test_without_smtp_the_link_is_only_returned(self, console: ConsoleUnderTest) -> None:
        made = await (await console.admin()).post(
            "/api/invitations", json={"email": "x@example.com", "role": "analyst"}
        )
        assert made.status_code == 201 and made.json()["mailed"] is False and "/invite/" in made.json()["link"]

    async def test_the_token_is_stored_hashed(self, console: ConsoleUnderTest) -> None:
        _, token = await invite(await console.admin())
        async with console.database() as session:
            hashes = (await session.scalars(select(Invitation.token_hash))).all()
        assert token not in hashes and all(len(h) == 64 for h in hashes)

    async def test_an_invitation_works_once(self, console: ConsoleUnderTest) -> None:
        email, token = await invite(await console.admin(), "marketer")
        info = await console.browser().get(f"/api/invitations/{token}/info")
        assert info.json() == {"email": email, "role": "marketer", "valid": True, "reason": None}
        first = await console.browser().post(
            f"/api/invitations/{token}/accept", json={"name": "M", "password": PASSWORD}
        )
        assert first.status_code == 200 and first.json()["role"] == "marketer" and first.json()["email"] == email
        again = await console.browser().post(
            f"/api/invitations/{token}/accept", json={"name": "N", "password": PASSWORD}
        )
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert (await console.browser().get(f"/api/invitations/{token}/info")).json()["reason"] == "used"

    async def test_an_expired_invitation_is_refused(self, console: ConsoleUnderTest) -> None:
        _, token = await invite(await console.admin())
        async with console.database() as session:  # its 72 hours pass
            for row in (await session.scalars(select(Invitation).where(Invitation.accepted_at.is_(None)))).all():
                row.expires_at = utcnow() - timedelta(seconds=1)
        assert (await console.browser().get(f"/api/invitations/{token}/info")).json()["reason"] == "expired"
        late = await console.browser().post(
            f"/api/invitations/{token}/accept", json={"name": "L", "password": PASSWORD}
        )
        assert late.status_code == 409 and "not used in time" in late.json()["error"]["message"]

    async def test_a_withdrawn_or_unknown_link_is_404(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        _, token = await invite(admin)
        [row] = [i for i in (await admin.get("/api/invitations")).json() if i["accepted_at"] is None][:1]
        assert (await admin.delete(f"/api/invitations/{row['id']}")).status_code == 204
        for unknown in (token, "no-such-token"):
            answer = await console.browser().get(f"/api/invitations/{unknown}/info")
            assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"

    async def test_a_user_cannot_be_invited_twice(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        taken = await admin.post("/api/invitations", json={"email": CONSOLE_ADMIN_EMAIL, "role": "analyst"})
        assert taken.status_code == 409 and taken.json()["error"]["fields"] == [{"field": "email", "reason": "taken"}]

    async def test_only_admins_manage_people(self, console: ConsoleUnderTest) -> None:
        marketer = await add_user(console, await console.admin(), "marketer")
        for method, url in (("GET", "/api/users"), ("POST", "/api/invitations"), ("GET", "/api/api-keys"),
                            ("GET", "/api/audit")):  # fmt: skip
            refused = await marketer.request(method, url, json={"email": "a@example.com", "role": "analyst"})
            assert refused.status_code == 403 and "admin role" in refused.json()["error"]["message"], url


class TestUsers:
    async def test_an_admin_changes_a_role_and_it_holds_at_once(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        analyst = await add_user(console, admin, "analyst")
        changed = await admin.patch(f"/api/users/{analyst.me['id']}", json={"role": "admin", "name": "Promoted"})
        assert changed.status_code == 200 and (changed.json()["role"], changed.json()["name"]) == ("admin", "Promoted")
        assert (await analyst.get("/api/users")).status_code == 200
        listed = {u["id"]: u for u in (await admin.get("/api/users")).json()}
        assert listed[analyst.me["id"]]["last_login_at"] is not None

    async def test_the_last_active_admin_stays_one(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        others = [u for u in (await admin.get("/api/users")).json() if u["role"] == "admin" and u["active"]]
        for other in others:
            if other["id"] != admin.me["id"]:
                assert (await admin.patch(f"/api/users/{other['id']}", json={"role": "analyst"})).status_code == 200
        for change in ({"role": "marketer"}, {"active": False}):
            refused = await admin.patch(f"/api/users/{admin.me['id']}", json=change)
            assert refused.status_code == 409 and "last active admin" in refused.json()["error"]["message"]

    async def test_unknown_users_and_fields(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        assert (await admin.patch("/api/users/nobody", json={"name": "X"})).status_code == 404
        unknown = await admin.patch(f"/api/users/{admin.me['id']}", json={"password_hash": "x"})
        assert unknown.status_code == 422


class TestApiKeys:
    async def test_a_key_is_shown_once_and_kept_hashed(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        made = await admin.post("/api/api-keys", json={"name": "crm sync", "role": "marketer"})
        body = made.json()
        assert made.status_code == 201 and body["key"].startswith("tsk_") and body["hint"] == body["key"][:8] + "…"
        listed = {k["id"]: k for k in (await admin.get("/api/api-keys")).json()}
        assert "key" not in listed[body["id"]] and listed[body["id"]]["created_by"] == CONSOLE_ADMIN_EMAIL
        assert (await admin.delete(f"/api/api-keys/{body['id']}")).status_code == 204
        assert (await admin.get("/api/api-keys")).json()[0]["revoked_at"] is not None
        assert (await admin.delete("/api/api-keys/nope")).status_code == 404

    async def test_the_internal_api_needs_the_internal_secret(self, console: ConsoleUnderTest) -> None:
        browser = console.browser()
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = await browser.http.post("/internal/keys/verify", json={"sha256": "0" * 64}, headers=headers)
            assert refused.status_code == 401


class TestAudit:
    async def test_every_kind_of_change_is_recorded(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        await console.browser().login(CONSOLE_ADMIN_EMAIL, "a wrong password")
        user = await add_user(console, admin, "analyst")
        await admin.patch(f"/api/users/{user.me['id']}", json={"role": "marketer", "name": "Renamed"})
        await user.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "y" * 14})
        await admin.patch(f"/api/users/{user.me['id']}", json={"active": False})
        key = (await admin.post("/api/api-keys", json={"name": "k", "role": "analyst"})).json()
        await admin.delete(f"/api/api-keys/{key['id']}")
        await admin.post("/api/auth/logout")
        admin = await console.admin()
        actions = {entry["action"] for entry in await _all_entries(admin)}
        assert {"setup", "login", "login_failed", "logout", "invitation_created", "invitation_accepted", "role_changed",
                "user_updated", "user_deactivated", "password_changed", "api_key_created",
                "api_key_revoked"} <= actions  # fmt: skip

    async def test_a_failed_login_keeps_no_password_and_only_the_network(self, console: ConsoleUnderTest) -> None:
        email = f"who-{mark()}@example.com"
        await console.browser("203.0.113.77").login(email, "hunter2-secret-password")
        admin = await console.admin()
        [entry] = (await admin.get("/api/audit", params={"actor": email})).json()["items"]
        assert entry["action"] == "login_failed" and entry["ip"] == "203.0.113.0"
        assert entry["detail"] == {"reason": "unknown_email"} and "hunter2" not in str(entry)

    async def test_filters_and_cursor_paging(self, console: ConsoleUnderTest) -> None:
        admin = await console.admin()
        for _ in range(5):
            await admin.post("/api/api-keys", json={"name": "paged", "role": "analyst"})
        first = (await admin.get("/api/audit", params={"action": "api_key_created", "limit": 2})).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        second = (await admin.get("/api/audit", params={"action": "api_key_created", "limit": 2,
                                                          "cursor": first["next_cursor"]})).json()  # fmt: skip
        ids = [e["id"] for e in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
        entry = first["items"][0]
        by_object = (
            await admin.get("/api/audit", params={"object_type": "api_key", "object_id": entry["object_id"]})
        ).json()
        assert [e["id"] for e in by_object["items"]] == [entry["id"]]
        later = (await admin.get("/api/audit", params={"since": entry["at"], "action": "api_key_created"})).json()
        assert entry["id"] in [e["id"] for e in later["items"]]
        assert (await admin.get("/api/audit", params={"cursor": "not-a-number"})).status_code == 422


async def _all_entries(admin: Browser) -> list[dict[str, Any]]:
    entries, cursor = [], None
    while True:
        page = (await admin.get("/api/audit", params={"limit": 500} | ({"cursor": cursor} if cursor else {}))).json()
        entries += page["items"]
        if not (cursor := page["next_cursor"]):
            return entries


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
